/**
 * Rate limits: per peer and command, and for inbound connections per
 * source address and address group.
 *
 * @module
 */
import type { Clock } from "../peer/clock.ts";
import type { Message } from "../wire/message.ts";
import { type RateLimit, SlidingWindow } from "./window.ts";

/** The commands the pool limits by default. */
export type LimitedCommand =
  | "addr"
  | "getaddr"
  | "getaddrcache"
  | "inv"
  | "getdata"
  | "getblocks"
  | "getheaders"
  | "ping";

/**
 * The default per-peer limits. soterd has none (it relies on the ban score
 * of `mempool` and `getdata` alone); these leave room for an honest soterd
 * several times over and stop a peer that floods:
 *
 * | command | limit | window | unit | an honest soterd sends |
 * |---|---|---|---|---|
 * | `addr` | 3,000 | 60 s | address | one answer to our `getaddr` (up to 2,500) and its own address now and then |
 * | `getaddr` | 3 | 60 s | message | one per connection (and answers one only) |
 * | `getaddrcache` | 10 | 60 s | message | on demand of its operator |
 * | `inv` | 50,000 | 60 s | entry | 1,000 per 10 s trickle, 500 per `getblocks` answer |
 * | `getdata` | 50,000 | 60 s | entry | what it asks while syncing from us |
 * | `getblocks` | 120 | 60 s | message | one per `inv` answer while syncing |
 * | `getheaders` | 120 | 60 s | message | as `getblocks` |
 * | `ping` | 10 | 60 s | message | one every 2 minutes |
 */
export const DEFAULT_RATE_LIMITS: { readonly [C in LimitedCommand]: RateLimit } = {
  addr: { limit: 3000, window: 60_000 },
  getaddr: { limit: 3, window: 60_000 },
  getaddrcache: { limit: 10, window: 60_000 },
  inv: { limit: 50_000, window: 60_000 },
  getdata: { limit: 50_000, window: 60_000 },
  getblocks: { limit: 120, window: 60_000 },
  getheaders: { limit: 120, window: 60_000 },
  ping: { limit: 10, window: 60_000 },
};

/** Transient ban-score points for each message that goes over its limit (default). */
export const DEFAULT_RATE_LIMIT_PENALTY = 10;

/** The default limit on inbound connections from one IP address: 10 a minute. */
export const DEFAULT_INBOUND_PER_ADDRESS: RateLimit = { limit: 10, window: 60_000 };

/** The default limit on inbound connections from one address group (a /16 for IPv4): 30 a minute. */
export const DEFAULT_INBOUND_PER_GROUP: RateLimit = { limit: 30, window: 60_000 };

/**
 * What a message counts for its command's limit: the number of entries of
 * `addr`, `inv` and `getdata` (at least 1), else 1.
 *
 * @param msg The message.
 * @returns The units.
 */
export function messageUnits(msg: Message): number {
  switch (msg.command) {
    case "addr":
      return Math.max(1, msg.addrList.length);
    case "inv":
    case "getdata":
      return Math.max(1, msg.invList.length);
    default:
      return 1;
  }
}

/**
 * The counters of one peer: one sliding window per limited command,
 * created on the first message of that command.
 */
export class PeerRateLimiter {
  readonly #limits: Readonly<Partial<Record<string, RateLimit>>>;
  readonly #clock: Clock;
  readonly #windows = new Map<string, SlidingWindow>();

  /**
   * Creates the counters of a peer.
   *
   * @param limits The limit of each command (commands without one are not counted).
   * @param clock The time source.
   */
  constructor(limits: Readonly<Partial<Record<string, RateLimit>>>, clock: Clock) {
    this.#limits = limits;
    this.#clock = clock;
  }

  /**
   * Counts a message.
   *
   * @param msg The message received.
   * @returns `true` when it stays within its command's limit (or the
   *   command has none), `false` when it goes over.
   */
  allow(msg: Message): boolean {
    const limit = this.#limits[msg.command];
    if (limit === undefined) return true;
    let w = this.#windows.get(msg.command);
    if (w === undefined) {
      w = new SlidingWindow(limit, this.#clock);
      this.#windows.set(msg.command, w);
    }
    return w.add(messageUnits(msg));
  }
}

/**
 * Counters keyed by a string (an address, a group), forgetting the idle
 * ones so an attacker cycling through keys cannot grow the map without
 * bound: at most `maxKeys` are kept, and idle counters are swept when the
 * map is full.
 */
export class KeyedRateLimiter {
  readonly #limit: RateLimit;
  readonly #clock: Clock;
  readonly #maxKeys: number;
  readonly #windows = new Map<string, SlidingWindow>();

  /**
   * Creates the counters.
   *
   * @param limit The limit each key has.
   * @param clock The time source.
   * @param maxKeys How many keys to track at most (default 10,000).
   */
  constructor(limit: RateLimit, clock: Clock, maxKeys = 10_000) {
    this.#limit = limit;
    this.#clock = clock;
    this.#maxKeys = maxKeys;
  }

  /**
   * Counts one event for `key`.
   *
   * @param key The key.
   * @returns `true` when the key stays within its limit.
   */
  allow(key: string): boolean {
    let w = this.#windows.get(key);
    if (w === undefined) {
      if (this.#windows.size >= this.#maxKeys) this.#sweep();
      w = new SlidingWindow(this.#limit, this.#clock);
      this.#windows.set(key, w);
    }
    return w.add(1);
  }

  /** How many keys are tracked. */
  get size(): number {
    return this.#windows.size;
  }

  #sweep(): void {
    for (const [k, w] of this.#windows) if (w.isIdle()) this.#windows.delete(k);
    // Still full: forget the oldest keys (a Map iterates in insertion order).
    for (const k of this.#windows.keys()) {
      if (this.#windows.size < this.#maxKeys) break;
      this.#windows.delete(k);
    }
  }
}
