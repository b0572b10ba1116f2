/**
 * A sliding-window counter on an injected clock, the rate limiter of the
 * pool (after hsd's `SlidingWindow`, without its timer).
 *
 * @module
 */
import type { Clock } from "../peer/clock.ts";

/** A limit: at most `limit` units within any `window` milliseconds (approximately). */
export interface RateLimit {
  /** How many units (messages, or entries for `addr`, `inv` and `getdata`) a window allows. */
  limit: number;
  /** The window in milliseconds. */
  window: number;
}

/**
 * Counts units over a sliding window, approximated the way hsd does with
 * two fixed windows: the count of the current window plus the count of the
 * previous one weighted by how much of it still overlaps the sliding
 * window. It needs two numbers per counter and no timer: windows roll over
 * when the counter is read, on the injected clock, so thousands of
 * counters (a few per peer and command) cost nothing while idle.
 *
 * @example Ten pings a minute
 * ```ts
 * import { ManualClock, SlidingWindow } from "@soter/peer";
 * const clock = new ManualClock();
 * const w = new SlidingWindow({ limit: 10, window: 60_000 }, clock);
 * let allowed = 0;
 * for (let i = 0; i < 12; i++) if (w.add()) allowed++;
 * console.log(allowed); // 10
 * await clock.advance(120_000);
 * console.log(w.add()); // true
 * ```
 */
export class SlidingWindow {
  readonly #limit: number;
  readonly #window: number;
  readonly #clock: Clock;
  #start: number;
  #current = 0;
  #previous = 0;

  /**
   * Creates an empty counter; its first window starts now.
   *
   * @param limit The limit and the window.
   * @param clock The time source.
   */
  constructor(limit: RateLimit, clock: Clock) {
    this.#limit = limit.limit;
    this.#window = Math.max(1, limit.window);
    this.#clock = clock;
    this.#start = clock.now();
  }

  #roll(now: number): void {
    const elapsed = now - this.#start;
    if (elapsed < this.#window) {
      if (elapsed < 0) this.#start = now; // the clock went back: start over
      return;
    }
    const windows = Math.floor(elapsed / this.#window);
    this.#previous = windows === 1 ? this.#current : 0;
    this.#current = 0;
    this.#start += windows * this.#window;
  }

  /**
   * The estimated count over the last `window` milliseconds.
   *
   * @returns The current window's count plus the overlapping share of the previous one.
   */
  score(): number {
    const now = this.#clock.now();
    this.#roll(now);
    const weight = Math.max(0, 1 - (now - this.#start) / this.#window);
    return this.#previous * weight + this.#current;
  }

  /**
   * Counts `units` and tells whether the count stays within the limit.
   *
   * @param units How many units to count (default 1).
   * @returns `true` when the score, these units included, is at most the limit.
   */
  add(units = 1): boolean {
    this.#roll(this.#clock.now());
    this.#current += Math.max(0, units);
    return this.score() <= this.#limit;
  }

  /**
   * Tells whether the counter has emptied (nothing in either window), so
   * that a map of counters can drop it.
   *
   * @returns `true` when the score is zero.
   */
  isIdle(): boolean {
    return this.score() === 0;
  }
}
