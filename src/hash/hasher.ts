/**
 * The small synchronous hashing interface the core depends on, and the
 * process-wide default.
 *
 * @module
 */
import { frameChecksums } from "./multibuffer.ts";
import { doubleSha256, doubleSha256Parts, sha256 } from "./sha256.ts";

/**
 * A synchronous SHA-256 provider. The core only ever calls these two
 * functions, so a runtime's native hashing can be plugged in (the `./node`,
 * `./deno` and `./bun` entry points export one built on `node:crypto`).
 *
 * @example A hasher that counts the bytes it hashes
 * ```ts
 * import { type Hasher, jsHasher } from "@soter/peer";
 * let hashed = 0;
 * const counting: Hasher = {
 *   sha256: (d) => (hashed += d.length, jsHasher.sha256(d)),
 *   doubleSha256: (d) => (hashed += d.length, jsHasher.doubleSha256(d)),
 * };
 * counting.doubleSha256(new Uint8Array(80));
 * console.log(hashed); // 80
 * ```
 */
export interface Hasher {
  /** Returns the 32-byte SHA-256 digest of `data`. */
  sha256(data: Uint8Array): Uint8Array;
  /** Returns the 32-byte SHA-256 digest of the SHA-256 digest of `data`. */
  doubleSha256(data: Uint8Array): Uint8Array;
  /**
   * Optional: the frame checksums of many payloads at once. Writes the first
   * 4 bytes of the double SHA-256 of `payloads[i]`, read as a little-endian
   * int32, into `out[i]` for every `i` below `count`. The frame decoder
   * uses it for the small frames of a chunk (payloads under 1 KiB) when the
   * hasher has it, and calls `doubleSha256` frame by frame otherwise.
   */
  frameChecksums?(payloads: readonly Uint8Array[], count: number, out: Int32Array): void;
  /**
   * Optional: the double SHA-256 of the concatenation of `parts`, without
   * joining them. The frame decoder uses it for a block that arrived in
   * several chunks, which it then decodes from those chunks as they are;
   * without it, such a block is first copied into one buffer.
   */
  doubleSha256Parts?(parts: readonly Uint8Array[]): Uint8Array;
}

/**
 * The plain TypeScript hasher: works everywhere, no native code. Its frame
 * checksums run four payloads at a time in WebAssembly SIMD lanes where
 * WebAssembly is available.
 */
export const jsHasher: Hasher = {
  sha256,
  doubleSha256,
  doubleSha256Parts,
  frameChecksums: (payloads, count, out) => frameChecksums(payloads, count, out, doubleSha256),
};

let current: Hasher = jsHasher;

/**
 * Returns the hasher the codec uses when none is passed explicitly.
 *
 * @returns The current default hasher.
 */
export function defaultHasher(): Hasher {
  return current;
}

/**
 * Replaces the process-wide default hasher, e.g. with a native one.
 *
 * @param hasher The hasher to use from now on.
 *
 * @example
 * ```ts
 * import { jsHasher, setDefaultHasher } from "@soter/peer";
 * setDefaultHasher(jsHasher);
 * ```
 */
export function setDefaultHasher(hasher: Hasher): void {
  current = hasher;
}
