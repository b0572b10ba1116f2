/**
 * The peer's timers on one clock timer: the handshake deadline, the idle
 * timeout, the ping interval, the stall tick, the inventory trickle, and
 * the deadline for writing a last `reject`. Each has a due time; the
 * clock holds a single timer for the earliest, so an idle peer costs one
 * runtime timer, not five. The stall tick and the trickle are armed only
 * while they have work (a response awaited, inventory waiting), on the
 * grid an always-running ticker would follow, so an idle peer wakes only
 * for its pings and idle checks.
 *
 * @module
 */
import type { Clock, TimerId } from "./clock.ts";

/** The peer's timers, by slot. */
export const Slot = {
  /** The handshake must end by then. */
  Handshake: 0,
  /** Check whether the remote has been silent too long. */
  Idle: 1,
  /** Send a ping. */
  Ping: 2,
  /** Look for missed response deadlines. */
  Stall: 3,
  /** Send the waiting inventory. */
  Trickle: 4,
  /** Stop waiting for a last `reject` to be written. */
  RejectGuard: 5,
} as const;

/** A timer slot. */
export type Slot = typeof Slot[keyof typeof Slot];

const SLOTS = 6;

/** Whom {@linkcode PeerTimers} calls when a slot is due. */
export interface TimerHost {
  /**
   * A slot is due (and no longer set). It may set slots again.
   *
   * @param slot The slot.
   */
  onTimer(slot: Slot): void;
}

/**
 * Due times by slot, multiplexed onto one timer of a {@linkcode Clock}.
 * Slots due at the same time run in slot order; a slot runs once per
 * setting.
 */
export class PeerTimers {
  readonly #clock: Clock;
  readonly #host: TimerHost;
  /** Due times in ms since the epoch; `Infinity` when not set. */
  readonly #due: number[] = new Array<number>(SLOTS).fill(Infinity);
  #timer: TimerId | undefined;
  /** When the clock timer fires (`Infinity` when none is set). */
  #armedAt = Infinity;
  #firing = false;
  #stopped = false;
  /** Where the grid of ticks starts, once started. */
  #tickOrigin: number | undefined;

  /**
   * Creates the timers; none is set.
   *
   * @param clock The clock.
   * @param host What runs when a slot is due.
   */
  constructor(clock: Clock, host: TimerHost) {
    this.#clock = clock;
    this.#host = host;
  }

  /**
   * Sets a slot to run `delayMs` from now (replacing an earlier setting).
   *
   * @param slot The slot.
   * @param delayMs The delay in milliseconds.
   */
  set(slot: Slot, delayMs: number): void {
    if (this.#stopped) return;
    const due = this.#clock.now() + delayMs;
    this.#due[slot] = due;
    if (!this.#firing && due < this.#armedAt) this.#arm(due);
  }

  /**
   * Starts the grid of {@linkcode PeerTimers.setTick}: ticks fall at
   * `origin` plus whole periods. Before it starts, `setTick` sets nothing.
   *
   * @param origin The grid's start, in ms since the epoch.
   */
  startTicks(origin: number): void {
    this.#tickOrigin = origin;
  }

  /**
   * Sets a slot, unless it is set already, to the next tick after now of a
   * grid with period `intervalMs` (see {@linkcode PeerTimers.startTicks}):
   * a ticker that is only armed while it has work fires at the times an
   * always-running ticker started with the grid would, without the empty
   * ticks in between.
   *
   * @param slot The slot.
   * @param intervalMs The grid's period in milliseconds.
   */
  setTick(slot: Slot, intervalMs: number): void {
    const origin = this.#tickOrigin;
    if (origin === undefined || this.#due[slot] !== Infinity) return;
    const now = this.#clock.now();
    const ticks = Math.floor(Math.max(0, now - origin) / intervalMs) + 1;
    this.set(slot, origin + ticks * intervalMs - now);
  }

  /**
   * Clears a slot.
   *
   * @param slot The slot.
   */
  clear(slot: Slot): void {
    this.#due[slot] = Infinity;
  }

  /** Whether a slot is set. */
  isSet(slot: Slot): boolean {
    return this.#due[slot] !== Infinity;
  }

  /** Clears every slot and the clock timer; later settings are ignored. */
  stop(): void {
    this.#stopped = true;
    this.#due.fill(Infinity);
    if (this.#timer !== undefined) {
      this.#clock.clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    this.#armedAt = Infinity;
  }

  #arm(due: number): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#armedAt = due;
    this.#timer = this.#clock.setTimeout(this.#fire, Math.max(0, due - this.#clock.now()));
  }

  readonly #fire = (): void => {
    this.#timer = undefined;
    this.#armedAt = Infinity;
    if (this.#stopped) return;
    this.#firing = true;
    try {
      const now = this.#clock.now();
      // A slot that sets itself due again at once waits for the next firing.
      for (let runs = 0; runs < 2 * SLOTS; runs++) {
        let slot = -1;
        let best = Infinity;
        for (let i = 0; i < SLOTS; i++) {
          const due = this.#due[i]!;
          if (due <= now && due < best) {
            best = due;
            slot = i;
          }
        }
        if (slot < 0 || this.#stopped) break;
        this.#due[slot] = Infinity;
        this.#host.onTimer(slot as Slot);
      }
    } finally {
      this.#firing = false;
    }
    if (this.#stopped) return;
    let next = Infinity;
    for (const due of this.#due) next = Math.min(next, due);
    if (next !== Infinity) this.#arm(next);
  };
}
