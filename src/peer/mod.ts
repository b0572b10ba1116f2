/**
 * The soter peer: a `Peer` that speaks the protocol over a {@linkcode Conn},
 * its configuration and errors, and the helpers it is tested with (an
 * in-memory connection pair and a manual clock), exported for your tests
 * too.
 *
 * @example A peer and a manual clock
 * ```ts
 * import { connPair, ManualClock, Peer, SIMNET } from "@soter/peer";
 * const clock = new ManualClock();
 * const [conn] = connPair();
 * const peer = Peer.outbound("127.0.0.1:18555", { network: SIMNET, clock });
 * peer.associateConnection(conn);
 * await clock.advance(30_000); // nobody answers: the handshake times out
 * console.log((await peer.disconnected).reason); // "handshake-timeout"
 * ```
 *
 * @module
 */
export { type Clock, ManualClock, systemClock, type TimerId } from "./clock.ts";
export {
  DEFAULT_HANDSHAKE_TIMEOUT,
  DEFAULT_IDLE_TIMEOUT,
  DEFAULT_MAX_QUEUE_BYTES,
  DEFAULT_PING_INTERVAL,
  DEFAULT_STALL_RESPONSE_TIMEOUT,
  DEFAULT_STALL_TICK_INTERVAL,
  DEFAULT_TRICKLE_INTERVAL,
  MAX_INV_TRICKLE_SIZE,
  MAX_KNOWN_INVENTORY,
  MAX_PENDING_INVENTORY,
  MAX_PROTOCOL_VERSION,
  type MessageListener,
  MIN_ACCEPTABLE_PROTOCOL_VERSION,
  type NewestBlock,
  type PeerConfig,
  type PeerListeners,
  QUEUE_ENTRY_OVERHEAD,
  type ReadListener,
  type VersionListener,
  type WriteListener,
} from "./config.ts";
export type { Conn, NetAddr } from "./conn.ts";
export { ConfigError, DisconnectError, type DisconnectReason, PeerError, type PeerErrorOptions } from "./errors.ts";
export { invKey, LruSet, MAX_SENT_NONCES, sharedSentNonces } from "./lru.ts";
export { type MessagesOptions, Peer, type QueueMessageOptions } from "./peer.ts";
export { PeerInfo } from "./info.ts";
export { connPair, type ConnPairOptions } from "./pipe.ts";
export { cryptoRandom, type RandomSource } from "./random.ts";
export type { PeerStats } from "./stats.ts";
