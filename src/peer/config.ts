/**
 * The peer's configuration, its listeners, soterd's defaults, and the
 * validation soterd applies to a user agent.
 *
 * @module
 */
import { type ChainParams, DEFAULT_NETWORK } from "../chain/params.ts";
import { defaultHasher, type Hasher } from "../hash/hasher.ts";
import type { MessageError } from "../wire/errors.ts";
import type { Command, Message, MessageOf } from "../wire/message.ts";
import type { RejectMessage } from "../wire/messages/reject.ts";
import type { VersionMessage } from "../wire/messages/version.ts";
import type { NetAddress } from "../wire/netaddress.ts";
import { FEE_FILTER_VERSION, type MessageEncoding, MULTIPLE_ADDRESS_VERSION } from "../wire/protocol.ts";
import { addUserAgent, DEFAULT_USER_AGENT, formatSemVer, parseSemVer, type SemVer } from "../wire/useragent.ts";
import { type Clock, systemClock } from "./clock.ts";
import { ConfigError } from "./errors.ts";
import { type LruSet, sharedSentNonces } from "./lru.ts";
import type { Peer } from "./peer.ts";
import { cryptoRandom, type RandomSource } from "./random.ts";

/** The newest protocol version the peer speaks (soterd's `MaxProtocolVersion`). */
export const MAX_PROTOCOL_VERSION: number = FEE_FILTER_VERSION;
/** The oldest protocol version a remote may advertise (soterd's `MinAcceptableProtocolVersion`). */
export const MIN_ACCEPTABLE_PROTOCOL_VERSION: number = MULTIPLE_ADDRESS_VERSION;
/** Default time between two inventory trickles, in milliseconds. */
export const DEFAULT_TRICKLE_INTERVAL = 10_000;
/** Default time between two pings, in milliseconds (2 minutes). */
export const DEFAULT_PING_INTERVAL = 120_000;
/** Default time allowed for the `version` exchange, in milliseconds. */
export const DEFAULT_HANDSHAKE_TIMEOUT = 30_000;
/** Default time without any message before disconnecting, in milliseconds (5 minutes). */
export const DEFAULT_IDLE_TIMEOUT = 300_000;
/** Default time between two checks for stalled responses, in milliseconds. */
export const DEFAULT_STALL_TICK_INTERVAL = 15_000;
/**
 * Default time a request waits for its response, in milliseconds;
 * `getheaders` waits three times as long.
 */
export const DEFAULT_STALL_RESPONSE_TIMEOUT = 30_000;
/** The most inventory vectors in one trickled `inv`. */
export const MAX_INV_TRICKLE_SIZE = 1000;
/** How many inventory vectors the peer remembers the remote knows. */
export const MAX_KNOWN_INVENTORY = 1000;
/**
 * Default bound of the output queue, in encoded bytes not yet taken by the
 * connection (see {@linkcode PeerConfig.maxQueueBytes}).
 */
export const DEFAULT_MAX_QUEUE_BYTES: number = 16 * 1024 * 1024;
/**
 * What each queued message counts against `maxQueueBytes` beyond its
 * encoded size: about what holding it costs (the message, its frame, its
 * promise). Without it, 16 MiB of 32-byte `pong`s, half a million entries,
 * held some 250 MB.
 */
export const QUEUE_ENTRY_OVERHEAD = 512;
/**
 * The most inventory vectors waiting for the next trickle; more are
 * dropped.
 */
export const MAX_PENDING_INVENTORY = 50_000;

/** What {@linkcode PeerConfig.newestBlock} returns. */
export interface NewestBlock {
  /** The block hash, 32 bytes in wire order. */
  hash: Uint8Array;
  /** The block height (int32), sent as `lastBlock` in `version`. */
  height: number;
}

/**
 * A listener for one command. It runs before the peer reads the next
 * message; when it returns a promise, reading waits for it (and the time
 * does not count against the remote's response deadlines). A listener that
 * throws or rejects disconnects the peer with `listener-error`.
 *
 * `payload` holds the exact bytes the message was decoded from (soterd
 * passes them to `OnBlock`), e.g. to relay or store a block without
 * re-encoding it; byte fields of `msg` are views into it.
 */
export type MessageListener<M> = (peer: Peer, msg: M, payload: Uint8Array) => void | Promise<void>;

/**
 * The `version` listener. Returning a `reject` message refuses the remote:
 * the reject is sent (when the negotiated protocol version allows one) and
 * the peer disconnects with `version-rejected`.
 */
export type VersionListener = (
  peer: Peer,
  msg: VersionMessage,
) => RejectMessage | undefined | void | Promise<RejectMessage | undefined | void>;

/**
 * Called for every frame read, with its size, the message, or the error
 * that made it unreadable (then `bytes` is 0 and `msg` undefined: unlike
 * soterd, which passes the bytes it consumed, a bad frame counts as no
 * bytes, in `bytesReceived` too). The end of the stream is not reported
 * here (see {@linkcode Peer.disconnected}).
 */
export type ReadListener = (
  peer: Peer,
  bytes: number,
  msg: Message | undefined,
  err: MessageError | undefined,
) => void;

/**
 * Called after every message written, with its size, or with the error
 * that stopped it.
 */
export type WriteListener = (
  peer: Peer,
  bytes: number,
  msg: Message,
  err: Error | undefined,
) => void;

/**
 * Callbacks for received messages, one per command, plus `onRead` and
 * `onWrite`. Listeners run one at a time, in the order messages arrive.
 * The peer answers `ping`, records `pong`, `verack` and `sendheaders`, and
 * refuses a second `version` itself; their listeners are still called
 * (except for a refused `version` or `verack`).
 */
export interface PeerListeners {
  /** A `version` arrived (during the handshake); may refuse it. */
  onVersion?: VersionListener;
  /** A `verack` arrived. */
  onVerAck?: MessageListener<MessageOf<"verack">>;
  /** A `getaddr` arrived. */
  onGetAddr?: MessageListener<MessageOf<"getaddr">>;
  /** A `getaddrcache` arrived. */
  onGetAddrCache?: MessageListener<MessageOf<"getaddrcache">>;
  /** An `addr` arrived. */
  onAddr?: MessageListener<MessageOf<"addr">>;
  /** An `addrcache` arrived. */
  onAddrCache?: MessageListener<MessageOf<"addrcache">>;
  /** A `ping` arrived (the peer has already queued the `pong`). */
  onPing?: MessageListener<MessageOf<"ping">>;
  /** A `pong` arrived. */
  onPong?: MessageListener<MessageOf<"pong">>;
  /** An `alert` arrived. */
  onAlert?: MessageListener<MessageOf<"alert">>;
  /** A `mempool` arrived. */
  onMemPool?: MessageListener<MessageOf<"mempool">>;
  /** A `tx` arrived. */
  onTx?: MessageListener<MessageOf<"tx">>;
  /** A `block` arrived. */
  onBlock?: MessageListener<MessageOf<"block">>;
  /** A `cfilter` arrived. */
  onCFilter?: MessageListener<MessageOf<"cfilter">>;
  /** A `cfheaders` arrived. */
  onCFHeaders?: MessageListener<MessageOf<"cfheaders">>;
  /** A `cfcheckpt` arrived. */
  onCFCheckpt?: MessageListener<MessageOf<"cfcheckpt">>;
  /** An `inv` arrived. */
  onInv?: MessageListener<MessageOf<"inv">>;
  /** A `headers` arrived. */
  onHeaders?: MessageListener<MessageOf<"headers">>;
  /** A `notfound` arrived. */
  onNotFound?: MessageListener<MessageOf<"notfound">>;
  /** A `getdata` arrived. */
  onGetData?: MessageListener<MessageOf<"getdata">>;
  /** A `getblocks` arrived. */
  onGetBlocks?: MessageListener<MessageOf<"getblocks">>;
  /** A `getheaders` arrived. */
  onGetHeaders?: MessageListener<MessageOf<"getheaders">>;
  /** A `getcfilters` arrived. */
  onGetCFilters?: MessageListener<MessageOf<"getcfilters">>;
  /** A `getcfheaders` arrived. */
  onGetCFHeaders?: MessageListener<MessageOf<"getcfheaders">>;
  /** A `getcfcheckpt` arrived. */
  onGetCFCheckpt?: MessageListener<MessageOf<"getcfcheckpt">>;
  /** A `feefilter` arrived. */
  onFeeFilter?: MessageListener<MessageOf<"feefilter">>;
  /** A `filteradd` arrived (only when we signal `NODE_BLOOM`). */
  onFilterAdd?: MessageListener<MessageOf<"filteradd">>;
  /** A `filterclear` arrived (only when we signal `NODE_BLOOM`). */
  onFilterClear?: MessageListener<MessageOf<"filterclear">>;
  /** A `filterload` arrived (only when we signal `NODE_BLOOM`). */
  onFilterLoad?: MessageListener<MessageOf<"filterload">>;
  /** A `merkleblock` arrived. */
  onMerkleBlock?: MessageListener<MessageOf<"merkleblock">>;
  /** A `reject` arrived. */
  onReject?: MessageListener<MessageOf<"reject">>;
  /** A `sendheaders` arrived. */
  onSendHeaders?: MessageListener<MessageOf<"sendheaders">>;
  /** Any frame was read (or failed to be). */
  onRead?: ReadListener;
  /** Any message was written (or failed to be). */
  onWrite?: WriteListener;
}

/** The listener of each command, by name. */
export const LISTENER_NAMES: { readonly [C in Command]: keyof PeerListeners } = {
  version: "onVersion",
  verack: "onVerAck",
  getaddr: "onGetAddr",
  getaddrcache: "onGetAddrCache",
  addr: "onAddr",
  addrcache: "onAddrCache",
  getblocks: "onGetBlocks",
  inv: "onInv",
  getdata: "onGetData",
  notfound: "onNotFound",
  block: "onBlock",
  tx: "onTx",
  getheaders: "onGetHeaders",
  headers: "onHeaders",
  ping: "onPing",
  pong: "onPong",
  alert: "onAlert",
  mempool: "onMemPool",
  filteradd: "onFilterAdd",
  filterclear: "onFilterClear",
  filterload: "onFilterLoad",
  merkleblock: "onMerkleBlock",
  reject: "onReject",
  sendheaders: "onSendHeaders",
  feefilter: "onFeeFilter",
  getcfilters: "onGetCFilters",
  getcfheaders: "onGetCFHeaders",
  getcfcheckpt: "onGetCFCheckpt",
  cfilter: "onCFilter",
  cfheaders: "onCFHeaders",
  cfcheckpt: "onCFCheckpt",
};

/**
 * Everything a {@linkcode Peer} can be told. Every field is optional; the
 * defaults are soterd's.
 */
export interface PeerConfig {
  /** The network; default testnet1. */
  network?: ChainParams;
  /**
   * Our software's name in the user agent, e.g. `"myapp"`. It is highly
   * recommended; without it the user agent is just `/soterwire:0.6.0/` and
   * the same-name major version check is skipped. Must not contain `/`,
   * `:`, `(` or `)`.
   */
  userAgentName?: string;
  /** Our software's semantic version, e.g. `"1.2.0"`; default `"0.0.0"`. */
  userAgentVersion?: string;
  /** User agent comments; none may contain `/`, `:`, `(` or `)` (as soterd checks). */
  userAgentComments?: readonly string[];
  /** The services we advertise (a {@linkcode ServiceFlag} mask); default none. */
  services?: bigint;
  /** The newest protocol version we advertise and use; default 70013. */
  protocolVersion?: number;
  /** Ask the remote not to announce transactions (BIP 37 relay flag). */
  disableRelayTx?: boolean;
  /** Milliseconds between inventory trickles; default 10 s. Zero or negative means the default. */
  trickleInterval?: number;
  /**
   * Tells the peer our newest block, whose height goes into `version`.
   * Without it the height is 0. If it throws, the peer disconnects with
   * `newest-block-error` before sending `version`.
   */
  newestBlock?: () => NewestBlock | Promise<NewestBlock>;
  /**
   * Turns the host of an outbound address into a network address (for
   * example resolving a name); without it the host must be an IP address,
   * else the address is sent as all zeros.
   */
  hostToNetAddress?: (host: string, port: number, services: bigint) => NetAddress;
  /**
   * Connections go through a proxy: the `addrYou` of our `version` is
   * then 0.0.0.0 port 0, so the proxy's address does not leak.
   */
  proxy?: boolean;
  /** Message callbacks. */
  listeners?: PeerListeners;
  /** Milliseconds allowed for the `version` exchange; default 30 s. */
  handshakeTimeout?: number;
  /** Milliseconds without a received message before disconnecting; default 5 min. */
  idleTimeout?: number;
  /** Milliseconds between pings; default 2 min. */
  pingInterval?: number;
  /** Milliseconds between checks for stalled responses; default 15 s. */
  stallTickInterval?: number;
  /**
   * Milliseconds a request waits for its response; default 30 s
   * (`getheaders`: 3x). Our `version` waits this long for the remote's
   * `verack` after the handshake (soterd sets no such deadline), and time
   * spent in our listeners is never counted (soterd forgives it for one
   * stall tick only). It also bounds how long the peer waits to write a
   * `reject` before disconnecting.
   */
  stallResponseTimeout?: number;
  /**
   * The bound of the output queue: encoded bytes queued and not yet taken
   * by the connection, plus {@linkcode QUEUE_ENTRY_OVERHEAD} (512) per
   * message, so that a flood of small messages is bounded in memory too
   * (16 MiB hold some 30,000 `pong`s). A message that would go beyond it
   * while others are waiting disconnects the peer with `send-queue-full`
   * (a remote that does not read is not kept); a message alone in the
   * queue is always accepted. Default 16 MiB.
   */
  maxQueueBytes?: number;
  /** The time source; default {@linkcode systemClock}. */
  clock?: Clock;
  /** The random source for nonces and address picks; default `crypto.getRandomValues`. */
  random?: RandomSource;
  /**
   * Nonces of our sent `version` messages, for self-connection detection.
   * Default: one set shared by all peers of the process, as in soterd.
   * Give peers that must not recognise each other separate sets.
   */
  sentNonces?: LruSet<bigint>;
  /** The SHA-256 provider for frame checksums; default {@linkcode defaultHasher}. */
  hasher?: Hasher;
  /** Aborting it disconnects the peer with `aborted`. */
  signal?: AbortSignal;
}

/** A configuration with every default filled in. */
export interface ResolvedConfig {
  readonly network: ChainParams;
  readonly userAgentName: string;
  readonly userAgentVersion: SemVer;
  readonly userAgent: string;
  readonly services: bigint;
  readonly protocolVersion: number;
  readonly disableRelayTx: boolean;
  readonly trickleInterval: number;
  readonly newestBlock: (() => NewestBlock | Promise<NewestBlock>) | undefined;
  readonly hostToNetAddress: ((host: string, port: number, services: bigint) => NetAddress) | undefined;
  readonly proxy: boolean;
  readonly listeners: PeerListeners;
  readonly handshakeTimeout: number;
  readonly idleTimeout: number;
  readonly pingInterval: number;
  readonly stallTickInterval: number;
  readonly stallResponseTimeout: number;
  readonly maxQueueBytes: number;
  readonly clock: Clock;
  readonly random: RandomSource;
  readonly sentNonces: LruSet<bigint>;
  readonly hasher: Hasher;
  readonly signal: AbortSignal | undefined;
}

const UA_FORBIDDEN = /[/:()]/;

function duration(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
    throw new ConfigError(`Invalid ${name}: ${value} is not a positive number of milliseconds`);
  }
  return value;
}

/** A resolution and shallow copies of what it was made from. */
type Resolution = {
  from: PeerConfig;
  listeners: PeerListeners | undefined;
  comments: readonly string[] | undefined;
  cfg: ResolvedConfig;
};

/** The last resolution of each configuration object: peers made from one unchanged object share it. */
const resolutions = new WeakMap<PeerConfig, Resolution>();

function sameEntries(a: object | undefined, b: object | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  const [x, y, keys] = [a as Record<string, unknown>, b as Record<string, unknown>, Object.keys(a)];
  return keys.length === Object.keys(b).length && keys.every((k) => Object.is(x[k], y[k]));
}

function unchanged(config: PeerConfig, r: Resolution): boolean {
  return sameEntries(config, r.from) && sameEntries(config.listeners, r.listeners) &&
    sameEntries(config.userAgentComments, r.comments) && r.cfg.hasher === (config.hasher ?? defaultHasher());
}

/**
 * Checks a configuration and fills in soterd's defaults. Resolving the
 * same object again, unchanged (its fields, listeners and comments), gives
 * the same result object.
 *
 * @param config The caller's configuration.
 * @returns The resolved configuration, with the user agent built.
 * @throws {ConfigError} for a value soterd would refuse.
 */
export function resolveConfig(config: PeerConfig = {}): ResolvedConfig {
  const last = resolutions.get(config);
  if (last !== undefined && unchanged(config, last)) return last.cfg;
  const cfg = resolve(config);
  resolutions.set(config, {
    from: { ...config },
    listeners: config.listeners && { ...config.listeners },
    comments: config.userAgentComments && [...config.userAgentComments],
    cfg,
  });
  return cfg;
}

function resolve(config: PeerConfig): ResolvedConfig {
  const name = config.userAgentName ?? "";
  if (UA_FORBIDDEN.test(name)) {
    throw new ConfigError(
      `Invalid user agent name: ${JSON.stringify(name)} contains one of '/', ':', '(', ')'`,
    );
  }
  const versionText = config.userAgentVersion ?? "0.0.0";
  const version = parseSemVer(versionText);
  if (version === null) {
    throw new ConfigError(
      `Invalid user agent version: ${JSON.stringify(versionText)} is not a semantic version (major.minor.patch)`,
    );
  }
  const comments = config.userAgentComments ?? [];
  for (const c of comments) {
    if (UA_FORBIDDEN.test(c)) {
      throw new ConfigError(
        `Invalid user agent comment: the following characters must not appear in user agent comments: '/', ':', '(', ')': ${
          JSON.stringify(c)
        }`,
      );
    }
  }
  let userAgent = DEFAULT_USER_AGENT;
  if (name !== "") {
    try {
      userAgent = addUserAgent(DEFAULT_USER_AGENT, name, formatSemVer(version), comments);
    } catch (err) {
      throw new ConfigError(`Invalid user agent: ${(err as Error).message}`, { cause: err });
    }
  }
  const services = config.services ?? 0n;
  if (typeof services !== "bigint" || services < 0n || services > 0xffff_ffff_ffff_ffffn) {
    throw new ConfigError(`Invalid services: ${services} is not a uint64`);
  }
  let pver = config.protocolVersion ?? 0;
  if (pver === 0) pver = MAX_PROTOCOL_VERSION;
  if (!Number.isInteger(pver) || pver < 1 || pver > MAX_PROTOCOL_VERSION) {
    throw new ConfigError(
      `Invalid protocol version: ${pver} is not between 1 and ${MAX_PROTOCOL_VERSION}`,
    );
  }
  const trickle = config.trickleInterval === undefined || config.trickleInterval <= 0
    ? DEFAULT_TRICKLE_INTERVAL
    : duration("trickle interval", config.trickleInterval, DEFAULT_TRICKLE_INTERVAL);
  const maxQueueBytes = config.maxQueueBytes ?? DEFAULT_MAX_QUEUE_BYTES;
  if (!Number.isFinite(maxQueueBytes) || maxQueueBytes <= 0) {
    throw new ConfigError(`Invalid maxQueueBytes: ${maxQueueBytes} is not a positive number`);
  }
  return Object.freeze({
    network: config.network ?? DEFAULT_NETWORK,
    userAgentName: name,
    userAgentVersion: version,
    userAgent,
    services,
    protocolVersion: pver,
    disableRelayTx: config.disableRelayTx ?? false,
    trickleInterval: trickle,
    newestBlock: config.newestBlock,
    hostToNetAddress: config.hostToNetAddress,
    proxy: config.proxy ?? false,
    listeners: Object.freeze({ ...config.listeners }),
    handshakeTimeout: duration("handshake timeout", config.handshakeTimeout, DEFAULT_HANDSHAKE_TIMEOUT),
    idleTimeout: duration("idle timeout", config.idleTimeout, DEFAULT_IDLE_TIMEOUT),
    pingInterval: duration("ping interval", config.pingInterval, DEFAULT_PING_INTERVAL),
    stallTickInterval: duration("stall tick interval", config.stallTickInterval, DEFAULT_STALL_TICK_INTERVAL),
    stallResponseTimeout: duration(
      "stall response timeout",
      config.stallResponseTimeout,
      DEFAULT_STALL_RESPONSE_TIMEOUT,
    ),
    maxQueueBytes,
    clock: config.clock ?? systemClock,
    random: config.random ?? cryptoRandom,
    sentNonces: config.sentNonces ?? sharedSentNonces,
    hasher: config.hasher ?? defaultHasher(),
    signal: config.signal,
  });
}

/** Options of {@linkcode Peer.queueMessage}. */
export interface QueueMessageOptions {
  /**
   * How to encode transactions (in `tx` and `block`): `"base"` (the
   * default, as soterd's `QueueMessage`) or `"witness"`, which only a
   * remote with {@linkcode Peer.witnessEnabled} understands.
   */
  encoding?: MessageEncoding;
}

/** Options of {@linkcode Peer.messages}. */
export interface MessagesOptions {
  /**
   * How many messages may wait for the consumer before the peer stops
   * reading (default 16).
   */
  highWaterMark?: number;
}
