/**
 * What the sync keeps per peer: its requests in flight, its window, its
 * measured throughput and the deadline that follows from it, its locator
 * cursor, and its stalls.
 *
 * @module
 */
import type { TimerId } from "../peer/clock.ts";
import type { Peer } from "../peer/peer.ts";

/** A block announced and not yet received. */
export interface Want {
  /** Its hash, wire order. */
  readonly hash: Uint8Array;
  /** Its hash, display hex. */
  readonly hex: string;
  /** The height first announced (orders the queue). */
  readonly height: number;
  /** Order of announcement, for ties. */
  readonly seq: number;
  /** Who announced it, at which height. */
  readonly announcers: Map<PeerSlot, number>;
  /** Peers that failed to deliver it (stalled, notfound, bad block). */
  readonly tried: Set<PeerSlot>;
  /** The peer asked for it now, if any. */
  asked: PeerSlot | undefined;
  /** Whether it waits in the queue. */
  queued: boolean;
  /** How many generations of unannounced parents led to it (0: announced). */
  chase: number;
  /** For a parent nobody announced: the peer that served its child, and the child. */
  blame: { readonly slot: PeerSlot; readonly child: string } | undefined;
}

/** Smoothing of the throughput estimate (weight of the newest sample). */
const RATE_WEIGHT = 0.25;
/** A deadline is this many times the time the next block should take. */
const DEADLINE_FACTOR = 4;

/** One peer in the sync. */
export class PeerSlot {
  /** The peer. */
  readonly peer: Peer;
  /** Its address. */
  readonly addr: string;
  /** Requests in flight, oldest first. */
  readonly inFlight = new Map<string, Want>();
  /** The most requests in flight now (grows on delivery, halves on a stall). */
  window: number;
  /** Measured throughput, bytes per ms (undefined until the first block). */
  rate: number | undefined;
  /** Average block size delivered, bytes. */
  avgSize = 0;
  /** When its current wait started: the last delivery, or the request that ended idleness. */
  mark = 0;
  /** The deadline timer of its oldest request. */
  timer: TimerId | undefined;
  /** The locator height of its next `getblocks`. */
  cursor: number;
  /** Whether a `getblocks` waits for its `inv`. */
  invPending = false;
  /** The timer of that wait. */
  invTimer: TimerId | undefined;
  /** Whether its last `inv` answer was short: it has nothing more above `cursor`. */
  exhausted = false;
  /** Stalls so far. */
  stalls = 0;
  /** Whether it still takes part. */
  alive = true;
  /** Blocks delivered. */
  delivered = 0;
  /** A random number ordering peers of equal throughput. */
  key = 0;
  /** Stops reading its messages. */
  stop: () => void = () => {};

  /**
   * Creates a slot.
   *
   * @param peer The peer.
   * @param window The initial window.
   * @param cursor The first locator height.
   */
  constructor(peer: Peer, window: number, cursor: number) {
    this.peer = peer;
    this.addr = peer.addr;
    this.window = window;
    this.cursor = cursor;
  }

  /**
   * Records a delivery: updates throughput, block size and window.
   *
   * @param bytes The block's size.
   * @param now The time.
   * @param maxWindow The largest window.
   */
  recordDelivery(bytes: number, now: number, maxWindow: number): void {
    const dt = Math.max(1, now - this.mark);
    const sample = bytes / dt;
    this.rate = this.rate === undefined ? sample : this.rate + RATE_WEIGHT * (sample - this.rate);
    this.avgSize = this.avgSize === 0 ? bytes : this.avgSize + RATE_WEIGHT * (bytes - this.avgSize);
    this.mark = now;
    this.delivered++;
    if (this.window < maxWindow) this.window++;
  }

  /**
   * How long the next block may take: a multiple of what its size takes at
   * the measured throughput, within bounds.
   *
   * @param min The shortest deadline.
   * @param max The longest.
   * @returns Milliseconds.
   */
  timeout(min: number, max: number): number {
    if (this.rate === undefined || this.rate <= 0) return min;
    return Math.min(max, Math.max(min, DEADLINE_FACTOR * this.avgSize / this.rate));
  }

  /**
   * Takes the answer to its `getblocks`: a full one moves the cursor to
   * just below its last height (a height cut by the limit is asked again),
   * a short one means the peer has nothing more.
   *
   * @param full Whether the answer held the most blocks allowed.
   * @param max The greatest height in it (-1 for none).
   * @returns `true` when the peer has walked to its end.
   */
  answered(full: boolean, max: number): boolean {
    if (full) {
      this.cursor = max - 1 > this.cursor ? max - 1 : max;
      return false;
    }
    this.exhausted = true;
    if (max > this.cursor) this.cursor = max;
    return true;
  }
}
