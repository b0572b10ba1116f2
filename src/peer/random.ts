/**
 * The peer's injectable random source and the few draws it makes from it:
 * nonces and shuffles.
 *
 * @module
 */

/**
 * Fills `bytes` with random bytes, like `crypto.getRandomValues`. The peer
 * draws `version` and `ping` nonces and the addresses `pushAddrMsg` picks
 * from it.
 */
export type RandomSource = (bytes: Uint8Array) => void;

/**
 * The default random source: the Web Crypto `getRandomValues`.
 *
 * @param bytes The array to fill.
 *
 * @example
 * ```ts
 * import { cryptoRandom } from "@soter/peer";
 * const b = new Uint8Array(8);
 * cryptoRandom(b);
 * console.log(b.length); // 8
 * ```
 */
export function cryptoRandom(bytes: Uint8Array): void {
  crypto.getRandomValues(bytes as Uint8Array<ArrayBuffer>);
}

/**
 * Draws a random unsigned 64-bit integer.
 *
 * @param random The source.
 * @returns A value in [0, 2^64).
 */
export function randomU64(random: RandomSource): bigint {
  const b = new Uint8Array(8);
  random(b);
  return new DataView(b.buffer).getBigUint64(0, true);
}

/**
 * Draws a uniformly distributed integer in [0, n).
 *
 * @param random The source.
 * @param n The bound, 1 to 2^32.
 * @returns An integer below `n`.
 */
export function randomBelow(random: RandomSource, n: number): number {
  if (n <= 1) return 0;
  const b = new Uint8Array(4);
  const view = new DataView(b.buffer);
  // Rejection sampling keeps the draw unbiased.
  const limit = 2 ** 32 - (2 ** 32 % n);
  let v = 0;
  // A broken source that keeps returning large values ends with a bias.
  for (let tries = 0; tries < 64; tries++) {
    random(b);
    v = view.getUint32(0, true);
    if (v < limit) break;
  }
  return v % n;
}
