/**
 * soterd's dynamic ban score: a persistent part that only grows and a
 * transient part that decays with a 60-second half-life, read on an
 * injected clock.
 *
 * @module
 */
import type { Clock } from "../peer/clock.ts";

/** Seconds after which the transient part has decayed to half (soterd's `Halflife`). */
export const BAN_SCORE_HALF_LIFE = 60;

/**
 * Seconds after which the transient part counts as zero whatever its value
 * (soterd's `Lifetime`, 30 minutes).
 */
export const BAN_SCORE_LIFETIME = 1800;

const LAMBDA = Math.LN2 / BAN_SCORE_HALF_LIFE;

/**
 * The factor the transient part is multiplied by after `seconds`.
 *
 * @param seconds Whole seconds elapsed.
 * @returns `e^(-λ·seconds)` with λ = ln 2 / 60.
 */
export function decayFactor(seconds: number): number {
  return Math.exp(-seconds * LAMBDA);
}

/**
 * A ban score as soterd keeps one per peer: `persistent + transient`, the
 * transient part decaying exponentially (half every 60 s, gone after
 * 30 minutes without an increase). The persistent part models additive
 * policies ("100 points for a bloom command we do not serve"); the
 * transient part lets bursts (a flood of `mempool` requests, a peer over
 * its rate limits) reach the threshold while the same requests spread
 * over time do not.
 *
 * Time is read in whole seconds from the clock, as soterd reads
 * `time.Now().Unix()`, so the figures match soterd's to the point.
 *
 * @example Two minutes halve a burst twice
 * ```ts
 * import { DynamicBanScore, ManualClock } from "@soter/peer";
 * const clock = new ManualClock();
 * const score = new DynamicBanScore(clock);
 * console.log(score.increase(0, 80)); // 80
 * await clock.advance(120_000);
 * console.log(score.value()); // 20
 * ```
 */
export class DynamicBanScore {
  readonly #clock: Clock;
  #lastUnix = 0;
  #transient = 0;
  #persistent = 0;

  /**
   * Creates a zero score.
   *
   * @param clock The time source.
   */
  constructor(clock: Clock) {
    this.#clock = clock;
  }

  #nowUnix(): number {
    return Math.floor(this.#clock.now() / 1000);
  }

  /**
   * Reads the score now.
   *
   * @returns The persistent part plus the decayed transient part, rounded down.
   */
  value(): number {
    const dt = this.#nowUnix() - this.#lastUnix;
    if (this.#transient < 1 || dt < 0 || dt > BAN_SCORE_LIFETIME) return this.#persistent;
    return this.#persistent + Math.floor(this.#transient * decayFactor(dt));
  }

  /** The persistent part. */
  get persistent(): number {
    return this.#persistent;
  }

  /**
   * Raises the score.
   *
   * @param persistent Points that never decay.
   * @param transient Points that decay with a 60 s half-life.
   * @returns The score after the increase.
   */
  increase(persistent: number, transient: number): number {
    this.#persistent += Math.max(0, Math.floor(persistent));
    const now = this.#nowUnix();
    const add = Math.max(0, Math.floor(transient));
    if (add > 0) {
      const dt = now - this.#lastUnix;
      if (dt > BAN_SCORE_LIFETIME) this.#transient = 0;
      else if (this.#transient > 1 && dt > 0) this.#transient *= decayFactor(dt);
      this.#transient += add;
      this.#lastUnix = now;
    }
    // soterd returns the transient part as last stored, not decayed, when
    // only the persistent part grows: a score of 80 a minute old plus 59
    // persistent points read 139 there, 99 here.
    return this.value();
  }

  /** Sets both parts to zero. */
  reset(): void {
    this.#persistent = 0;
    this.#transient = 0;
    this.#lastUnix = 0;
  }

  /**
   * Tells whether the score can be forgotten: nothing persistent and the
   * transient part decayed below one point.
   *
   * @returns `true` when the score reads 0 and will stay 0.
   */
  isZero(): boolean {
    return this.#persistent === 0 && this.value() === 0;
  }

  /**
   * Describes the score as soterd's `String` does.
   *
   * @returns `persistent P + transient T at S = V as of now`.
   */
  toString(): string {
    return `persistent ${this.#persistent} + transient ${this.#transient} at ${this.#lastUnix} = ${this.value()} as of now`;
  }
}
