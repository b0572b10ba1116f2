/**
 * The `version` handshake without I/O: our `version` message and soterd's
 * checks of the remote's, in soterd's order, with soterd's reject codes
 * and texts.
 *
 * @module
 */
import { bytesEqual, hashToHex, ZERO_HASH } from "../wire/hex.ts";
import { ipFromString } from "../wire/ip.ts";
import { RejectCode, type RejectMessage } from "../wire/messages/reject.ts";
import type { VersionMessage } from "../wire/messages/version.ts";
import type { NetAddress } from "../wire/netaddress.ts";
import { ServiceFlag } from "../wire/protocol.ts";
import { formatSemVer, parseUserAgentSemVers } from "../wire/useragent.ts";
import { MIN_ACCEPTABLE_PROTOCOL_VERSION, type ResolvedConfig } from "./config.ts";
import type { NetAddr } from "./conn.ts";
import { ConfigError, type DisconnectReason } from "./errors.ts";
import type { LruSet } from "./lru.ts";

/** The reason soterd gives when the first message is not `version`. */
export const VERSION_FIRST_REASON = "a version message must precede all others";

/**
 * Makes a `reject` message; the hash is used only for `tx` and `block`
 * (zero when missing), as soterd's `PushRejectMsg` does.
 *
 * @param cmd The rejected command.
 * @param code A {@linkcode RejectCode}.
 * @param reason Details for a person.
 * @param hash The rejected block or transaction, for `tx` and `block`.
 * @returns The message.
 */
export function makeReject(
  cmd: string,
  code: number,
  reason: string,
  hash?: Uint8Array,
): RejectMessage {
  const carries = cmd === "tx" || cmd === "block";
  return {
    command: "reject",
    cmd,
    code,
    reason,
    hash: carries && hash !== undefined ? hash : new Uint8Array(32),
  };
}

/** The outcome of a check of the remote's `version`. */
export interface VersionRefusal {
  /** Why the peer disconnects. */
  readonly reason: DisconnectReason;
  /** A sentence for a person. */
  readonly message: string;
  /** The `reject` soterd sends first, if any. */
  readonly reject?: RejectMessage;
}

/**
 * Formats an address the way Go's `net.JoinHostPort` does.
 *
 * @param addr The address.
 * @returns `host:port`, or `[host]:port` for IPv6.
 */
export function formatAddr(addr: NetAddr): string {
  return addr.hostname.includes(":") ? `[${addr.hostname}]:${addr.port}` : `${addr.hostname}:${addr.port}`;
}

/**
 * Splits `host:port` (or `[v6]:port`) as Go's `net.SplitHostPort` does.
 *
 * @param address The address.
 * @returns The host and port, or `undefined` when malformed.
 */
export function splitHostPort(address: string): { host: string; port: number } | undefined {
  let host: string;
  let portText: string;
  if (address.startsWith("[")) {
    const end = address.indexOf("]");
    if (end < 0 || address[end + 1] !== ":") return undefined;
    host = address.slice(1, end);
    portText = address.slice(end + 2);
  } else {
    const colon = address.lastIndexOf(":");
    if (colon < 0) return undefined;
    host = address.slice(0, colon);
    if (host.includes(":")) return undefined;
    portText = address.slice(colon + 1);
  }
  if (!/^[0-9]{1,5}$/.test(portText)) return undefined;
  const port = Number(portText);
  if (port > 0xffff) return undefined;
  return { host, port };
}

/**
 * Makes a network address of a host and port; a host that is not an IP
 * address gives all zeros, as Go's `net.ParseIP` returning nil does.
 *
 * @param host An IP address (or a name).
 * @param port The port.
 * @param services The service bits.
 * @returns The address.
 */
export function hostNetAddress(host: string, port: number, services: bigint): NetAddress {
  let ip: Uint8Array;
  try {
    ip = ipFromString(host);
  } catch {
    ip = new Uint8Array(16);
  }
  return { timestamp: 0, services, ip, port };
}

/**
 * Makes the network address of an outbound peer's `host:port`, through
 * the configuration's `hostToNetAddress` when given.
 *
 * @param address The remote's `host:port` (or `[v6]:port`).
 * @param cfg The resolved configuration.
 * @returns The address.
 * @throws {ConfigError} for a malformed address or a failing `hostToNetAddress`.
 */
export function outboundNetAddress(address: string, cfg: ResolvedConfig): NetAddress {
  const hp = splitHostPort(address);
  if (hp === undefined) {
    throw new ConfigError(`Invalid peer address: ${JSON.stringify(address)} is not host:port`);
  }
  if (cfg.hostToNetAddress === undefined) return hostNetAddress(hp.host, hp.port, cfg.services);
  try {
    return cfg.hostToNetAddress(hp.host, hp.port, cfg.services);
  } catch (err) {
    const text = err instanceof Error ? err.message : String(err);
    throw new ConfigError(`Cannot resolve peer address ${address}: ${text}`, { cause: err });
  }
}

/** `0.0.0.0` IPv4-mapped, what soterd sends as `addrYou` behind a proxy. */
function unroutable(): Uint8Array {
  const ip = new Uint8Array(16);
  ip[10] = 0xff;
  ip[11] = 0xff;
  return ip;
}

/**
 * Builds our `version`, as soterd's `localVersionMsg`: our services and
 * maximum protocol version, `addrYou` with `NODE_NETWORK` (0.0.0.0 port 0
 * behind a proxy), `addrMe` with only our services, a fresh nonce, our
 * user agent, the network's genesis hash and our height.
 *
 * @param cfg The resolved configuration.
 * @param theirs The remote's address.
 * @param nonce The nonce (already recorded as sent).
 * @param height Our newest block height.
 * @param nowMs The current time in milliseconds.
 * @returns The message.
 */
export function buildLocalVersion(
  cfg: ResolvedConfig,
  theirs: NetAddress,
  nonce: bigint,
  height: number,
  nowMs: number,
): VersionMessage {
  const you: NetAddress = cfg.proxy
    ? { timestamp: 0, services: ServiceFlag.NODE_NETWORK, ip: unroutable(), port: 0 }
    : { timestamp: 0, services: ServiceFlag.NODE_NETWORK, ip: theirs.ip, port: theirs.port };
  return {
    command: "version",
    protocolVersion: cfg.protocolVersion,
    services: cfg.services,
    timestamp: BigInt(Math.floor(nowMs / 1000)),
    addrYou: you,
    addrMe: { timestamp: 0, services: cfg.services, ip: new Uint8Array(16), port: 0 },
    nonce,
    userAgent: cfg.userAgent,
    genesisHash: cfg.network.genesisHash,
    lastBlock: height | 0,
    disableRelayTx: cfg.disableRelayTx,
  };
}

/**
 * The checks soterd makes on the remote's `version` before accepting its
 * protocol version: our own nonce (a connection to ourselves, dropped
 * without a reject), another genesis block (reject `invalid`), our own
 * user agent name with another major version (reject `invalid`).
 *
 * @param cfg The resolved configuration.
 * @param msg The remote's `version`.
 * @param sentNonces The nonces of our sent `version` messages.
 * @returns Why the remote is refused, or `undefined` to go on.
 */
export function checkRemoteVersion(
  cfg: ResolvedConfig,
  msg: VersionMessage,
  sentNonces: LruSet<bigint>,
): VersionRefusal | undefined {
  if (sentNonces.has(msg.nonce)) {
    return { reason: "self-connection", message: "Disconnecting peer connected to self" };
  }
  const theirs = msg.genesisHash.length === 32 ? msg.genesisHash : ZERO_HASH;
  const ours = cfg.network.genesisHash;
  if (!bytesEqual(theirs, ours)) {
    const text = `peer genesis block hash different from ours (${hashToHex(theirs)} != ${hashToHex(ours)})`;
    return {
      reason: "genesis-mismatch",
      message: `Peer is on another network: ${text}`,
      reject: makeReject("version", RejectCode.INVALID, text),
    };
  }
  if (cfg.userAgentName !== "") {
    const remote = parseUserAgentSemVers(msg.userAgent).get(cfg.userAgentName);
    if (remote !== undefined && remote.major !== cfg.userAgentVersion.major) {
      const text = `peer version ${formatSemVer(remote)} is incompatible with our version ${
        formatSemVer(cfg.userAgentVersion)
      }`;
      return {
        reason: "incompatible-user-agent",
        message: `Peer runs an incompatible version: ${text}`,
        reject: makeReject("version", RejectCode.INVALID, text),
      };
    }
  }
  return undefined;
}

/**
 * soterd's last check, after the `version` listener: a protocol version
 * below 209 is obsolete (the reject cannot be encoded at such a version,
 * so soterd's is never sent).
 *
 * @param msg The remote's `version`.
 * @returns Why the remote is refused, or `undefined` to go on.
 */
export function checkObsolete(msg: VersionMessage): VersionRefusal | undefined {
  if (msg.protocolVersion >>> 0 >= MIN_ACCEPTABLE_PROTOCOL_VERSION) return undefined;
  const text = `protocol version must be ${MIN_ACCEPTABLE_PROTOCOL_VERSION} or greater`;
  return {
    reason: "obsolete-version",
    message: `Peer protocol version ${msg.protocolVersion >>> 0} is obsolete: ${text}`,
    reject: makeReject("version", RejectCode.OBSOLETE, text),
  };
}
