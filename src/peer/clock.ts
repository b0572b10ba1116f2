/**
 * Time for the peer: a small injectable clock, the system clock, and a
 * manual clock that lets tests skip minutes in milliseconds.
 *
 * @module
 */

/** An opaque handle returned by {@linkcode Clock.setTimeout}. */
export type TimerId = unknown;

/**
 * Everything the peer needs to know about time. Every timer the peer uses
 * (handshake, idle, ping, stall, trickle) goes through this interface, so a
 * {@linkcode ManualClock} makes them deterministic.
 */
export interface Clock {
  /** The current time in milliseconds since the Unix epoch. */
  now(): number;
  /**
   * Calls `callback` once after `delayMs` milliseconds.
   *
   * @param callback What to run.
   * @param delayMs The delay in milliseconds.
   * @returns A handle for {@linkcode Clock.clearTimeout}.
   */
  setTimeout(callback: () => void, delayMs: number): TimerId;
  /**
   * Cancels a timer; a handle that already fired or was cleared is ignored.
   *
   * @param id The handle.
   */
  clearTimeout(id: TimerId): void;
}

/**
 * The real clock: `Date.now()` and the global `setTimeout`.
 *
 * @example
 * ```ts
 * import { systemClock } from "@soter/peer";
 * console.log(systemClock.now() > 0); // true
 * ```
 */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, delayMs) => globalThis.setTimeout(callback, delayMs),
  clearTimeout: (id) => globalThis.clearTimeout(id as ReturnType<typeof globalThis.setTimeout>),
};

interface ManualTimer {
  readonly seq: number;
  readonly due: number;
  readonly callback: () => void;
}

/** 2020-01-15T00:00:00Z, the date of soterd's last commit. */
const DEFAULT_START = 1_579_046_400_000;

/** Lets pending promise callbacks and stream steps run. */
function settle(): Promise<void> {
  return new Promise((resolve) => globalThis.setTimeout(resolve, 0));
}

/**
 * A clock that only moves when told to. Timers fire in order of their due
 * time during {@linkcode ManualClock.advance}, and the clock reads each
 * timer's due time while it runs, so a 2-minute ping interval or a 5-minute
 * idle timeout takes milliseconds in a test. {@linkcode ManualClock.pendingTimers}
 * shows whether anything is left scheduled.
 *
 * @example Skipping two minutes
 * ```ts
 * import { ManualClock } from "@soter/peer";
 * const clock = new ManualClock();
 * let fired = 0;
 * clock.setTimeout(() => fired++, 120_000);
 * await clock.advance(120_000);
 * console.log(fired, clock.pendingTimers); // 1 0
 * ```
 */
export class ManualClock implements Clock {
  #now: number;
  #seq = 0;
  #timers = new Map<number, ManualTimer>();

  /**
   * Creates a clock.
   *
   * @param startMs The initial time in milliseconds since the Unix epoch;
   *   defaults to 2020-01-15T00:00:00Z.
   */
  constructor(startMs: number = DEFAULT_START) {
    this.#now = startMs;
  }

  /**
   * Returns the clock's current time.
   *
   * @returns Milliseconds since the Unix epoch.
   */
  now(): number {
    return this.#now;
  }

  /**
   * Schedules `callback` at `now() + delayMs`.
   *
   * @param callback What to run.
   * @param delayMs The delay in milliseconds (negative counts as 0).
   * @returns A handle for {@linkcode ManualClock.clearTimeout}.
   */
  setTimeout(callback: () => void, delayMs: number): TimerId {
    const seq = ++this.#seq;
    const delay = Number.isFinite(delayMs) && delayMs > 0 ? delayMs : 0;
    this.#timers.set(seq, { seq, due: this.#now + delay, callback });
    return seq;
  }

  /**
   * Cancels a timer.
   *
   * @param id A handle from {@linkcode ManualClock.setTimeout}.
   */
  clearTimeout(id: TimerId): void {
    if (typeof id === "number") this.#timers.delete(id);
  }

  /** How many timers are scheduled and not yet fired or cleared. */
  get pendingTimers(): number {
    return this.#timers.size;
  }

  #nextDue(limit: number): ManualTimer | undefined {
    let best: ManualTimer | undefined;
    for (const t of this.#timers.values()) {
      if (t.due > limit) continue;
      if (best === undefined || t.due < best.due || (t.due === best.due && t.seq < best.seq)) {
        best = t;
      }
    }
    return best;
  }

  /**
   * Moves the clock forward by `ms`, firing every timer that falls due
   * (including timers scheduled by those timers) in order. After each timer,
   * and once at the end, it lets pending promise callbacks run, so work a
   * timer starts (writing a ping, closing a connection) completes before the
   * next timer fires.
   *
   * @param ms How far to move, in milliseconds.
   * @returns A promise that settles when the clock has reached its target.
   */
  async advance(ms: number): Promise<void> {
    const target = this.#now + Math.max(0, ms);
    for (;;) {
      const timer = this.#nextDue(target);
      if (timer === undefined) break;
      this.#timers.delete(timer.seq);
      if (timer.due > this.#now) this.#now = timer.due;
      timer.callback();
      await settle();
    }
    this.#now = target;
    await settle();
  }
}
