/**
 * The pool's options, soterd's defaults, and their validation.
 *
 * @module
 */
import type { ChainParams } from "../chain/params.ts";
import type { Conn, ConnectOptions, Listener, ListenOptions } from "../adapters/types.ts";
import { type Clock, systemClock } from "../peer/clock.ts";
import type { PeerConfig } from "../peer/config.ts";
import { ConfigError } from "../peer/errors.ts";
import { cryptoRandom, type RandomSource } from "../peer/random.ts";
import type { Storage } from "../storage/storage.ts";
import { splitHostPort } from "../peer/handshake.ts";
import { AddrManager } from "./addrmgr.ts";
import { parseIpNetwork } from "./bans.ts";
import {
  DEFAULT_DIAL_TIMEOUT,
  DEFAULT_MAX_FAILED_ATTEMPTS,
  DEFAULT_MAX_RETRY_INTERVAL,
  DEFAULT_RETRY_INTERVAL,
  DEFAULT_TARGET_OUTBOUND,
} from "./connmgr.ts";
import {
  DEFAULT_INBOUND_PER_ADDRESS,
  DEFAULT_INBOUND_PER_GROUP,
  DEFAULT_RATE_LIMIT_PENALTY,
  DEFAULT_RATE_LIMITS,
} from "./ratelimit.ts";
import type { RateLimit } from "./window.ts";

/** soterd's `defaultMaxPeers`: inbound and outbound peers in all. */
export const DEFAULT_MAX_PEERS = 125;
/** soterd's `defaultBanThreshold`: a score above it bans. */
export const DEFAULT_BAN_THRESHOLD = 100;
/** soterd's `defaultBanDuration`: 24 hours, in milliseconds. */
export const DEFAULT_BAN_DURATION: number = 24 * 60 * 60 * 1000;
/** Default time a {@linkcode Pool.request} waits for each peer's answer (soterd's stall timeout, 30 s). */
export const DEFAULT_REQUEST_TIMEOUT = 30_000;
/** Default number of other peers a {@linkcode Pool.request} tries after the first. */
export const DEFAULT_REQUEST_RETRIES = 2;

/**
 * Everything a {@linkcode Pool} can be told. Only `network` and `connect`
 * are required; every other field has soterd's default.
 */
export interface PoolOptions {
  /** The network. */
  network: ChainParams;
  /** Opens a TCP connection: an adapter's `connect`, or the simulator's. */
  connect: (host: string, port: number, options?: ConnectOptions) => Promise<Conn>;
  /** Binds a listener: an adapter's `listen`, or the simulator's. Needed only with `listen`. */
  listenFn?: (options: ListenOptions) => Promise<Listener>;
  /**
   * Where to accept inbound peers (each `{ hostname, port }`); default
   * none: the pool only dials out.
   */
  listen?: readonly ListenOptions[];
  /** The time source; default the system clock. */
  clock?: Clock;
  /** The random source; default `crypto.getRandomValues`. */
  random?: RandomSource;
  /**
   * Where bans (`bans.json`) and the address book (`peers.json`) are kept;
   * default nowhere (they last as long as the pool).
   */
  storage?: Storage;
  /**
   * The address book outbound addresses come from and learned addresses
   * go to. Default: one the pool makes (with `clock`, `random`, `storage`
   * and `allowUnroutable`), loads at start and saves at stop; one you
   * give is yours to start and stop.
   */
  addrManager?: AddrManager;
  /**
   * Keep local and private addresses (a test network on one machine or a
   * LAN), and count each such address as a group of its own for the
   * one-outbound-per-group rule (all loopback addresses share soterd's
   * group `local`). Default `false`, as soterd.
   */
  allowUnroutable?: boolean;
  /**
   * Also ask outbound peers for `getaddrcache` when the address book needs
   * addresses. soterd ignores `getaddr` on simnet but answers
   * `getaddrcache`; yet soterd 4.2.0 crashes (a nil-pointer panic in its
   * `addrcache` reply) once it knows an IPv6 address or peer, so this is
   * off by default: turn it on only for nodes known to survive it.
   */
  askAddrCache?: boolean;
  /** Outbound peers to keep (soterd: 8, lowered to `maxPeers` if above it). */
  targetOutbound?: number;
  /** Peers in all, inbound and outbound (soterd `--maxpeers`: 125). */
  maxPeers?: number;
  /**
   * Peers to stay connected to besides the others (soterd `--addpeer`);
   * dialled again with a growing delay whenever they fail or leave.
   */
  addPeers?: readonly string[];
  /**
   * Connect only to these peers (soterd `--connect`): permanent, and no
   * address is taken from the address book.
   */
  connectPeers?: readonly string[];
  /** Base delay before dialling again, in milliseconds (soterd: 5 s). */
  retryInterval?: number;
  /** Longest delay before dialling a permanent peer again (soterd: 5 min). */
  maxRetryInterval?: number;
  /** Failures in a row after which new addresses are tried once per retry interval (soterd: 25). */
  maxFailedAttempts?: number;
  /** Time allowed to establish a TCP connection, in milliseconds (soterd: 30 s). */
  dialTimeout?: number;
  /** Outbound peers allowed per address group (soterd: 1). Raise it only on test networks. */
  maxOutboundPerGroup?: number;
  /**
   * Dial addresses whatever their port: soterd first skips addresses not
   * on the network's default port (for 50 picks) and addresses tried in
   * the last 10 minutes (for 30 picks); `true` skips neither filter.
   * Default `false`.
   */
  anyPort?: boolean;
  /** Ban score above which a peer is banned (soterd `--banthreshold`: 100). */
  banThreshold?: number;
  /** How long a ban lasts, in milliseconds (soterd `--banduration`: 24 h). */
  banDuration?: number;
  /** Never score nor ban (soterd `--nobanning`). */
  disableBanning?: boolean;
  /**
   * Networks and addresses never scored nor banned, and exempt from the
   * inbound limits (soterd `--whitelist`), e.g. `["192.168.1.0/24", "::1"]`.
   */
  whitelist?: readonly string[];
  /**
   * Per-peer limits by command, merged over {@linkcode DEFAULT_RATE_LIMITS};
   * `null` removes a command's limit.
   */
  rateLimits?: Readonly<Partial<Record<string, RateLimit | null>>>;
  /** Transient ban-score points per message over its limit (default 10). */
  rateLimitPenalty?: number;
  /** Inbound connections allowed from one IP address (default 10 a minute); `null` for no limit. */
  inboundPerAddress?: RateLimit | null;
  /** Inbound connections allowed from one address group (default 30 a minute); `null` for no limit. */
  inboundPerGroup?: RateLimit | null;
  /**
   * The configuration of every peer (user agent, services, timeouts,
   * listeners). The pool sets `network`, `clock`, `random` and `signal`,
   * and calls its own listeners before yours.
   */
  peer?: Omit<PeerConfig, "network" | "clock" | "random" | "signal">;
  /** Where to report what the pool does, one line per event; default nowhere. */
  log?: (line: string) => void;
}

/** The options with every default filled in. */
export interface ResolvedPoolOptions {
  readonly network: ChainParams;
  readonly connect: PoolOptions["connect"];
  readonly listenFn: PoolOptions["listenFn"];
  readonly listen: readonly ListenOptions[];
  readonly clock: Clock;
  readonly random: RandomSource;
  readonly storage: Storage | undefined;
  readonly addrManager: AddrManager;
  readonly ownAddrManager: boolean;
  readonly allowUnroutable: boolean;
  readonly askAddrCache: boolean;
  readonly targetOutbound: number;
  readonly maxPeers: number;
  readonly addPeers: readonly string[];
  readonly connectPeers: readonly string[];
  readonly retryInterval: number;
  readonly maxRetryInterval: number;
  readonly maxFailedAttempts: number;
  readonly dialTimeout: number;
  readonly maxOutboundPerGroup: number;
  readonly anyPort: boolean;
  readonly banThreshold: number;
  readonly banDuration: number;
  readonly disableBanning: boolean;
  readonly whitelist: readonly string[];
  readonly rateLimits: Readonly<Partial<Record<string, RateLimit>>>;
  readonly rateLimitPenalty: number;
  readonly inboundPerAddress: RateLimit | null;
  readonly inboundPerGroup: RateLimit | null;
  readonly peer: NonNullable<PoolOptions["peer"]>;
  readonly log: (line: string) => void;
}

function positive(name: string, value: number | undefined, fallback: number, integer = false): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value))) {
    throw new ConfigError(`Invalid ${name}: ${value} is not a positive ${integer ? "integer" : "number"}`);
  }
  return value;
}

function limit(name: string, value: RateLimit | null | undefined, fallback: RateLimit | null): RateLimit | null {
  if (value === undefined) return fallback;
  if (value === null) return null;
  positive(`${name} limit`, value.limit, 1);
  positive(`${name} window`, value.window, 1);
  return { limit: value.limit, window: value.window };
}

/**
 * Checks a peer address given by the user.
 *
 * @param addr `host:port` or `[v6]:port`.
 * @throws {ConfigError} When it is not.
 */
export function checkPeerAddress(addr: string): void {
  const hp = splitHostPort(addr);
  if (hp === undefined || hp.host === "" || hp.port === 0) {
    throw new ConfigError(`Invalid peer address: ${JSON.stringify(addr)} is not host:port (or [v6]:port)`);
  }
}

/**
 * Checks the options and fills in the defaults.
 *
 * @param o The caller's options.
 * @returns The resolved options.
 * @throws {ConfigError} For a value out of range, a malformed peer address
 *   or whitelist entry, or a missing `listenFn`.
 */
export function resolvePoolOptions(o: PoolOptions): ResolvedPoolOptions {
  if (o.network === undefined) throw new ConfigError("Invalid pool options: network is required");
  if (typeof o.connect !== "function") {
    throw new ConfigError("Invalid pool options: connect is required (an adapter's connect function)");
  }
  const listenAt = o.listen ?? [];
  if (listenAt.length > 0 && typeof o.listenFn !== "function") {
    throw new ConfigError("Invalid pool options: listen addresses need listenFn (an adapter's listen function)");
  }
  const allowUnroutable = o.allowUnroutable ?? false;
  const clock = o.clock ?? systemClock;
  const random = o.random ?? cryptoRandom;
  const addrManager = o.addrManager ?? new AddrManager({
    clock,
    random,
    allowUnroutable,
    ...(o.storage === undefined ? {} : { storage: o.storage }),
  });
  const maxPeers = positive("maxPeers", o.maxPeers, DEFAULT_MAX_PEERS, true);
  const targetOutbound = Math.min(
    maxPeers,
    positive("targetOutbound", o.targetOutbound, DEFAULT_TARGET_OUTBOUND, true),
  );
  const rateLimits: Record<string, RateLimit> = { ...DEFAULT_RATE_LIMITS };
  for (const [cmd, l] of Object.entries(o.rateLimits ?? {})) {
    const r = limit(`rate limit of ${cmd}`, l, null);
    if (r === null) delete rateLimits[cmd];
    else rateLimits[cmd] = r;
  }
  for (const addr of [...(o.addPeers ?? []), ...(o.connectPeers ?? [])]) checkPeerAddress(addr);
  for (const entry of o.whitelist ?? []) {
    try {
      parseIpNetwork(entry);
    } catch (err) {
      throw new ConfigError((err as Error).message);
    }
  }
  const penalty = o.rateLimitPenalty ?? DEFAULT_RATE_LIMIT_PENALTY;
  if (!(penalty >= 0 && Number.isFinite(penalty))) {
    throw new ConfigError(`Invalid rateLimitPenalty: ${penalty} is not a number of points`);
  }
  return {
    network: o.network,
    connect: o.connect,
    listenFn: o.listenFn,
    listen: listenAt,
    clock,
    random,
    storage: o.storage,
    addrManager,
    ownAddrManager: o.addrManager === undefined,
    allowUnroutable,
    askAddrCache: o.askAddrCache ?? false,
    targetOutbound,
    maxPeers,
    addPeers: o.addPeers ?? [],
    connectPeers: o.connectPeers ?? [],
    retryInterval: positive("retryInterval", o.retryInterval, DEFAULT_RETRY_INTERVAL),
    maxRetryInterval: positive("maxRetryInterval", o.maxRetryInterval, DEFAULT_MAX_RETRY_INTERVAL),
    maxFailedAttempts: positive("maxFailedAttempts", o.maxFailedAttempts, DEFAULT_MAX_FAILED_ATTEMPTS, true),
    dialTimeout: positive("dialTimeout", o.dialTimeout, DEFAULT_DIAL_TIMEOUT),
    maxOutboundPerGroup: positive("maxOutboundPerGroup", o.maxOutboundPerGroup, 1, true),
    anyPort: o.anyPort ?? false,
    banThreshold: positive("banThreshold", o.banThreshold, DEFAULT_BAN_THRESHOLD, true),
    banDuration: positive("banDuration", o.banDuration, DEFAULT_BAN_DURATION),
    disableBanning: o.disableBanning ?? false,
    whitelist: o.whitelist ?? [],
    rateLimits,
    rateLimitPenalty: penalty,
    inboundPerAddress: limit("inboundPerAddress", o.inboundPerAddress, DEFAULT_INBOUND_PER_ADDRESS),
    inboundPerGroup: limit("inboundPerGroup", o.inboundPerGroup, DEFAULT_INBOUND_PER_GROUP),
    peer: o.peer ?? {},
    log: o.log ?? (() => {}),
  };
}
