/**
 * The simulator's random numbers: xoshiro128** seeded through splitmix32,
 * split into independent named streams so that adding a host or a link
 * does not change what the others draw.
 *
 * @module
 */
import type { RandomSource } from "../peer/random.ts";

/** One step of splitmix32: a good 32-bit mixer, used to seed and to derive streams. */
function mix32(x: number): number {
  let z = (x + 0x9e3779b9) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
  z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
  return (z ^ (z >>> 15)) >>> 0;
}

/** FNV-1a over a label's UTF-16 code units: stream names to numbers. */
function labelHash(label: string | number): number {
  const text = String(label);
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  }
  return h >>> 0;
}

/**
 * A seeded pseudo-random generator (xoshiro128**, period 2^128 - 1): fast,
 * well studied, and the same sequence in every runtime. Not for secrets.
 *
 * {@linkcode SimRandom.fork} derives an independent stream from the seed
 * and a label without drawing from this one, so each simulated host and
 * link gets its own stream and the draws of one never shift another's.
 *
 * @example Same seed, same numbers
 * ```ts
 * import { SimRandom } from "@soter/peer";
 * const a = new SimRandom(7);
 * const b = new SimRandom(7);
 * console.log(a.u32() === b.u32(), a.fork("host 1").below(10) === b.fork("host 1").below(10)); // true true
 * ```
 */
export class SimRandom {
  /** The words this stream was seeded with, for deriving forks. */
  readonly #root: readonly [number, number, number, number];
  #s0: number;
  #s1: number;
  #s2: number;
  #s3: number;

  /**
   * Seeds a generator.
   *
   * @param seed Any integer (its low 53 bits count) or text.
   */
  constructor(seed: number | string) {
    let x: number;
    if (typeof seed === "string") {
      x = labelHash(seed);
    } else {
      const n = Math.trunc(Number.isFinite(seed) ? seed : 0);
      x = mix32((n >>> 0) ^ mix32(Math.floor(n / 2 ** 32) >>> 0));
    }
    this.#root = SimRandom.#expand(x);
    [this.#s0, this.#s1, this.#s2, this.#s3] = this.#root;
  }

  static #expand(x: number): [number, number, number, number] {
    const a = mix32(x);
    const b = mix32(a ^ 0x5bd1e995);
    const c = mix32(b ^ 0x27d4eb2f);
    const d = mix32(c ^ 0x165667b1);
    // xoshiro must not start from all zeros.
    return [a, b, c, (a | b | c | d) === 0 ? 1 : d];
  }

  /**
   * Derives an independent stream named `label`. The same seed and label
   * always give the same stream, whatever was drawn from this one.
   *
   * @param label The stream's name, e.g. `"host 12"`.
   * @returns A new generator.
   */
  fork(label: string | number): SimRandom {
    const [a, b, c, d] = this.#root;
    const h = labelHash(label);
    return new SimRandom(mix32(a ^ h) ^ mix32(b + h) ^ mix32(c ^ (h >>> 7)) ^ d);
  }

  /**
   * Draws 32 random bits.
   *
   * @returns An integer in [0, 2^32).
   */
  u32(): number {
    const s1 = this.#s1;
    const m = Math.imul(s1, 5);
    const result = Math.imul((m << 7) | (m >>> 25), 9) >>> 0;
    const t = s1 << 9;
    this.#s2 ^= this.#s0;
    this.#s3 ^= s1;
    this.#s1 ^= this.#s2;
    this.#s0 ^= this.#s3;
    this.#s2 ^= t;
    this.#s3 = (this.#s3 << 11) | (this.#s3 >>> 21);
    return result;
  }

  /**
   * Draws a number in [0, 1) with 32 bits of precision.
   *
   * @returns The number.
   */
  float(): number {
    return this.u32() / 2 ** 32;
  }

  /**
   * Draws an integer in [0, n) without bias.
   *
   * @param n The bound, 1 to 2^32.
   * @returns The integer (0 when `n` is 1 or less).
   */
  below(n: number): number {
    if (n <= 1) return 0;
    const limit = 2 ** 32 - (2 ** 32 % n);
    let v = this.u32();
    while (v >= limit) v = this.u32();
    return v % n;
  }

  /**
   * Draws an integer in [lo, hi].
   *
   * @param lo The smallest value.
   * @param hi The largest value.
   * @returns The integer.
   */
  between(lo: number, hi: number): number {
    return lo + this.below(hi - lo + 1);
  }

  /**
   * Returns `true` with probability `p`.
   *
   * @param p The probability, 0 to 1.
   * @returns The outcome.
   */
  chance(p: number): boolean {
    return p > 0 && this.float() < p;
  }

  /**
   * Picks an element.
   *
   * @param items A non-empty list.
   * @returns One of its elements.
   */
  pick<T>(items: readonly T[]): T {
    return items[this.below(items.length)]!;
  }

  /**
   * Shuffles a list in place (Fisher-Yates).
   *
   * @param items The list.
   * @returns The same list.
   */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.below(i + 1);
      const t = items[i]!;
      items[i] = items[j]!;
      items[j] = t;
    }
    return items;
  }

  /**
   * Fills `bytes` with random bytes: a {@linkcode RandomSource}.
   *
   * @param bytes The array to fill.
   */
  fill(bytes: Uint8Array): void {
    let i = 0;
    for (; i + 4 <= bytes.length; i += 4) {
      const v = this.u32();
      bytes[i] = v;
      bytes[i + 1] = v >>> 8;
      bytes[i + 2] = v >>> 16;
      bytes[i + 3] = v >>> 24;
    }
    if (i < bytes.length) {
      let v = this.u32();
      for (; i < bytes.length; i++, v >>>= 8) bytes[i] = v;
    }
  }

  /** This generator as a {@linkcode RandomSource} for a `Peer`. */
  get source(): RandomSource {
    return (bytes) => this.fill(bytes);
  }
}
