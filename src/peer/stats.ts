/**
 * The snapshot of a peer's statistics (soterd's `StatsSnap`).
 *
 * @module
 */

/**
 * A peer's flags and counters at one moment. Times are milliseconds since
 * the Unix epoch by the peer's clock, 0 for never.
 */
export interface PeerStats {
  /** The peer's id, assigned when its `version` is accepted (0 before). */
  readonly id: number;
  /** The remote's address, `host:port`. */
  readonly addr: string;
  /** The services the remote advertised (ours before its `version`). */
  readonly services: bigint;
  /** When a message was last written. */
  readonly lastSend: number;
  /** When a message was last read. */
  readonly lastRecv: number;
  /** Bytes written, frame headers included. */
  readonly bytesSent: number;
  /** Bytes read, frame headers included. */
  readonly bytesRecv: number;
  /** When the connection was associated. */
  readonly connTime: number;
  /** The remote's clock minus ours, in seconds, from its `version`. */
  readonly timeOffset: number;
  /** The protocol version the remote advertised. */
  readonly version: number;
  /** The remote's user agent. */
  readonly userAgent: string;
  /** Whether the remote connected to us. */
  readonly inbound: boolean;
  /** The height the remote reported in its `version`. */
  readonly startingHeight: number;
  /** The highest block height known for the remote. */
  readonly lastBlock: number;
  /** The nonce of our unanswered ping, 0n when none is pending. */
  readonly lastPingNonce: bigint;
  /** When our last ping was written. */
  readonly lastPingTime: number;
  /** The round trip of the last answered ping, in microseconds. */
  readonly lastPingMicros: number;
}
