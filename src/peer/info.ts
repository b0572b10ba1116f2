/**
 * `PeerInfo`: what can be read of a peer — who the remote is, what the
 * handshake negotiated, and the connection's counters — apart from what a
 * peer does. Every {@linkcode Peer} is a `PeerInfo`.
 *
 * @module
 */
import type { NetAddress } from "../wire/netaddress.ts";
import type { NetAddr } from "./conn.ts";
import type { Session } from "./session.ts";
import type { PeerStats } from "./stats.ts";

let bind: (info: PeerInfo, session: Session) => void;

/**
 * Ties a peer's read-only view to its session; called once by the `Peer`
 * constructor.
 *
 * @param info The peer.
 * @param session Its session.
 */
export function bindSession(info: PeerInfo, session: Session): void {
  bind(info, session);
}

/**
 * The read-only side of a {@linkcode Peer}: identity, what the handshake
 * negotiated, and the connection's statistics, as soterd's peer exposes
 * them. Every `Peer` is one; take a `PeerInfo` where a function only reads
 * (a logger, a table of peers), so it cannot send or disconnect.
 *
 * @example Logging peers without the power to touch them
 * ```ts
 * import { Peer, type PeerInfo } from "@soter/peer";
 * function describe(p: PeerInfo): string {
 *   return `${p} ${p.userAgent || "(no version yet)"} sent ${p.bytesSent} B`;
 * }
 * console.log(describe(Peer.outbound("127.0.0.1:18555"))); // 127.0.0.1:18555 (outbound) (no version yet) sent 0 B
 * ```
 */
export abstract class PeerInfo {
  #s!: Session;

  static {
    bind = (info, session) => {
      info.#s = session;
    };
  }

  /** The peer's id, assigned when the remote's `version` is accepted (0 before). */
  get id(): number {
    return this.#s.state.id;
  }

  /** The remote's address, `host:port`. */
  get addr(): string {
    return this.#s.addr;
  }

  /** Whether the remote opened the connection. */
  get inbound(): boolean {
    return this.#s.inbound;
  }

  /** The remote's network address as sent in our `version`. */
  get na(): NetAddress | undefined {
    return this.#s.na;
  }

  /** The services the remote advertised (ours until its `version`). */
  get services(): bigint {
    return this.#s.state.services;
  }

  /** The remote's user agent. */
  get userAgent(): string {
    return this.#s.state.userAgent;
  }

  /** The negotiated protocol version: the lower of ours and the remote's. */
  get protocolVersion(): number {
    return this.#s.state.pver;
  }

  /** Whether the remote's `version` has been read. */
  get versionKnown(): boolean {
    return this.#s.state.versionKnown;
  }

  /** Whether the remote's `verack` has been read. */
  get verAckReceived(): boolean {
    return this.#s.state.verAckReceived;
  }

  /** Whether the remote sent `sendheaders` (it wants headers, not block inventory). */
  get wantsHeaders(): boolean {
    return this.#s.state.sendHeadersPreferred;
  }

  /** Whether the remote signals `NODE_WITNESS`, so its transactions are read with witness data. */
  get witnessEnabled(): boolean {
    return this.#s.state.witnessEnabled;
  }

  /** The height the remote reported in its `version`. */
  get startingHeight(): number {
    return this.#s.state.startingHeight;
  }

  /** The highest block height known for the remote. */
  get maxBlockHeight(): number {
    return this.#s.state.maxBlockHeight;
  }

  /** The remote's clock minus ours, in seconds, from its `version`. */
  get timeOffset(): number {
    return this.#s.state.timeOffset;
  }

  /** The hash of the last block the remote announced, if recorded. */
  get lastAnnouncedBlock(): Uint8Array | undefined {
    return this.#s.state.lastAnnouncedBlock;
  }

  /** The nonce of our unanswered ping (0n when none). */
  get lastPingNonce(): bigint {
    return this.#s.state.lastPingNonce;
  }

  /** When our last ping was taken for writing (ms since the epoch, 0 for never), as soterd's `lastPingTime`. */
  get lastPingTime(): number {
    return this.#s.state.lastPingTime;
  }

  /** The round trip of the last answered ping, in microseconds. */
  get lastPingMicros(): number {
    return this.#s.state.lastPingMicros;
  }

  /** When a message was last written (ms since the epoch, 0 for never). */
  get lastSend(): number {
    return this.#s.state.lastSend;
  }

  /** When a message was last read (ms since the epoch, 0 for never). */
  get lastRecv(): number {
    return this.#s.state.lastRecv;
  }

  /** Bytes written, frame headers included (a failed write counts none). */
  get bytesSent(): number {
    return this.#s.state.bytesSent;
  }

  /**
   * Bytes of the frames read, headers included. A frame that fails to
   * decode counts none (soterd counts the bytes it consumed).
   */
  get bytesReceived(): number {
    return this.#s.state.bytesRecv;
  }

  /** When the connection was associated (ms since the epoch, 0 before). */
  get timeConnected(): number {
    return this.#s.state.timeConnected;
  }

  /** Whether a connection is associated and the peer has not disconnected. */
  get connected(): boolean {
    return this.#s.conn !== undefined && this.#s.phase !== "closed";
  }

  /** Encoded bytes queued and not yet taken by the connection. */
  get queuedBytes(): number {
    return this.#s.queue.bytes;
  }

  /** The connection's local address, while connected. */
  get localAddr(): NetAddr | undefined {
    return this.connected ? this.#s.conn?.localAddr : undefined;
  }

  /** The connection's remote address, while connected. */
  get remoteAddr(): NetAddr | undefined {
    return this.connected ? this.#s.conn?.remoteAddr : undefined;
  }

  /**
   * Returns the peer's flags and counters at this moment.
   *
   * @returns A snapshot with every field of soterd's `StatsSnap`.
   *
   * @example
   * ```ts
   * import { Peer } from "@soter/peer";
   * const stats = Peer.inbound().statsSnapshot();
   * console.log(stats.bytesSent, stats.inbound); // 0 true
   * ```
   */
  statsSnapshot(): PeerStats {
    return this.#s.state.snapshot(this.#s.addr, this.#s.inbound);
  }

  /**
   * Names the peer as soterd's logs do.
   *
   * @returns `address (inbound)` or `address (outbound)`.
   */
  toString(): string {
    return this.#s.toString();
  }
}
