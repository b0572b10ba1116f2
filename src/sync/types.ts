/**
 * The shapes `DagSync` works with: where its peers come from, its options,
 * what it yields, its progress, and its error.
 *
 * @module
 */
import type { ChainParams } from "../chain/params.ts";
import type { Hasher } from "../hash/hasher.ts";
import type { Clock } from "../peer/clock.ts";
import type { Peer } from "../peer/peer.ts";
import type { RandomSource } from "../peer/random.ts";
import type { BlockMessage } from "../wire/messages/block.ts";
import type { BlockStore } from "./store.ts";
import type { BlockVerificationError } from "./verify.ts";

/**
 * An event of a {@linkcode SyncPeerSource}: the sync attaches a peer on
 * `peer-joined` and lets it go on `peer-left`; it ignores other events.
 */
export interface SyncPeerEvent {
  /** `"peer-joined"`, `"peer-left"`, or anything else (ignored). */
  readonly type: string;
  /** The peer concerned. */
  readonly peer?: Peer;
}

/**
 * Where the sync gets its peers when they come and go: the `Pool`
 * satisfies it as is. Bad peers are reported back through it.
 */
export interface SyncPeerSource {
  /** The peers connected and handshaken now. */
  peers(): Peer[];
  /** Peers joining and leaving from now on. */
  events(): AsyncIterableIterator<SyncPeerEvent>;
  /** Raises a peer's ban score (it disconnects and bans at the threshold). */
  misbehaving(peer: Peer, points: number, reason: string): void;
  /** Disconnects and bans a peer. */
  ban(peer: Peer, reason: string): void;
}

/** One block as the sync yields it: every parent was yielded before. */
export interface SyncedBlock {
  /** Its hash, wire order. */
  readonly hash: Uint8Array;
  /** Its hash as soterd prints it. */
  readonly hex: string;
  /** Its height: one more than its highest parent's. */
  readonly height: number;
  /** The decoded block (byte fields are views into `payload`). */
  readonly block: BlockMessage;
  /** The exact bytes it came in, to store or relay. */
  readonly payload: Uint8Array;
  /** The address of the peer that served it. */
  readonly from: string;
}

/** Options of `DagSync`. */
export interface DagSyncOptions {
  /** The network: its genesis is the root, its proof-of-work limit bounds `bits`. */
  network: ChainParams;
  /** A plain list of peers (handshaken or handshaking), or a pool. */
  peers: readonly Peer[] | SyncPeerSource;
  /**
   * The block store to resume from and write to: the sync skips what it
   * holds, starts asking at its checkpoint, and adds each block before
   * yielding it.
   */
  store?: BlockStore;
  /** The time source; default the system clock. */
  clock?: Clock;
  /** The random source (peer order); default `crypto.getRandomValues`. */
  random?: RandomSource;
  /** The SHA-256 provider; default the process default. */
  hasher?: Hasher;
  /** The most blocks in flight from one peer (default 64). */
  window?: number;
  /**
   * The most bytes of blocks held between download and consumer:
   * out-of-order blocks waiting for a parent and blocks waiting to be
   * taken (default 32 MiB). Requests stop while it is reached.
   */
  maxBufferBytes?: number;
  /** The shortest time a peer gets to deliver its next block, in ms (default 5000). */
  minBlockTimeout?: number;
  /** The longest, however slow the peer measured (default 120000). */
  maxBlockTimeout?: number;
  /** How long a peer gets to answer `getblocks`, in ms (default 30000). */
  invTimeout?: number;
  /** Stalls after which a peer is dropped (default 3). */
  maxStalls?: number;
  /** Ban score points per stall, with a pool (default 20). */
  stallPoints?: number;
  /** How long to wait for a usable peer before failing, in ms (default 30000). */
  peerWaitTimeout?: number;
  /** Called for each bad block, after its peer is banned. */
  onInvalidBlock?: (err: BlockVerificationError) => void;
  /** Stops the sync; the iteration ends. */
  signal?: AbortSignal;
}

/** A snapshot of a sync's progress. */
export interface SyncProgress {
  /** The greatest height yielded (or stored before). */
  readonly height: number;
  /** The greatest height any peer announced. */
  readonly bestHeight: number;
  /** Blocks yielded in this run. */
  readonly blocks: number;
  /** Their bytes. */
  readonly bytes: number;
  /** Peers syncing now. */
  readonly peers: number;
  /** Blocks announced and not yet yielded. */
  readonly pending: number;
  /** Blocks asked for and not yet received. */
  readonly inFlight: number;
  /** Bytes held between download and consumer. */
  readonly bufferedBytes: number;
  /** Bad blocks met (their peers were banned). */
  readonly invalid: number;
  /** Peers dropped for stalling. */
  readonly stalledPeers: number;
  /** Blocks asked again from another peer after a timeout or a bad answer. */
  readonly rerequested: number;
  /** Milliseconds since the sync started. */
  readonly elapsedMs: number;
}

/**
 * Why a sync failed:
 * - `no-peers`: no usable peer for `peerWaitTimeout` while blocks were
 *   still to fetch.
 * - `storage`: the block store failed; see `cause`.
 */
export type SyncErrorKind = "no-peers" | "storage";

/**
 * The sync could not go on. Bad blocks and bad peers do not raise it (the
 * peers are banned and the blocks asked elsewhere).
 */
export class SyncError extends Error {
  /** Why. */
  readonly kind: SyncErrorKind;

  /**
   * Makes an error.
   *
   * @param kind Why.
   * @param message What happened and what to do.
   * @param options The underlying error.
   */
  constructor(kind: SyncErrorKind, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "SyncError";
    this.kind = kind;
  }
}
