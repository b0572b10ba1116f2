/**
 * SHA-256 through `node:crypto` (provided by Node, Deno and Bun), mixed
 * with the plain TypeScript hash where that is faster.
 *
 * A native call has a fixed cost that the TypeScript hash (~190 MB/s) beats
 * on short inputs, and that cost differs by runtime, so inputs shorter than
 * a per-runtime threshold stay in TypeScript.
 *
 * Measured on our machine (2 vCPU, µs per call, median of 9 runs of 25 ms,
 * one-shot `crypto.hash`; TS = src/hash/sha256.ts; one run, so rank the
 * options, do not quote the figures):
 *
 * | runtime   | sha256 80 B TS / native | 256 B     | 512 B     | 1 KiB     | 1 MiB native | double 80 B TS / native |
 * | --------- | ----------------------- | --------- | --------- | --------- | ------------ | ----------------------- |
 * | Deno 2.9  | 2.3 / 3.7               | 3.7 / 3.8 | 5.5 / 4.1 | 6.8 / 4.6 | 1.8 GB/s     | 4.2 / 5.6 (TS inner)    |
 * | Node 20   | 1.25 / 0.85             | 2.4 / 1.0 |           |           | 1.8 GB/s     | 1.8 / 1.7               |
 * | Bun 1.4   | 1.2 / 0.25              | 2.3 / 0.35 |          |           | 1.8 GB/s     | 1.6 / 1.0               |
 *
 * Node breaks even at 48 bytes (0.79 / 0.78), Deno between 320 and 512
 * bytes; Bun's native call costs less than TS hashing an empty input. Hence:
 * Bun always native; Node native from 64 bytes; Deno native from 512
 * bytes, with the 32-byte second pass of a double hash in TS (a native call
 * costs Deno more than hashing 32 bytes). The 32-byte digest Buffer owns its
 * ArrayBuffer in all three runtimes; it is returned as a plain Uint8Array by
 * a view on Deno and by a copy elsewhere, whichever measured faster.
 *
 * On Bun, `Bun.SHA256.hash(data, into)` (the same BoringSSL, writing into a
 * given array) costs less a call than `crypto.hash`, which allocates a
 * Buffer: a double hash of 80 / 375 / 1,000 bytes took 0.20 / 0.36 / 0.74
 * µs against 0.37 / 0.52 / 0.92 (Bun 1.4.5, median of 7, one run), and the
 * same from 162 KB up. So Bun hashes through it, a call a frame (its
 * WebAssembly lanes are slower than that, see `lanes` below).
 *
 * @module
 */
import * as crypto from "node:crypto";
import type { Hasher } from "../hash/hasher.ts";
import { frameChecksums } from "../hash/multibuffer.ts";
import { doubleSha256 as tsDouble, sha256 as tsSha256 } from "../hash/sha256.ts";

interface Tuning {
  /** Inputs of at least this many bytes are hashed natively. */
  threshold: number;
  /** Whether the second pass of a double hash (32 bytes) is native. */
  nativeInner: boolean;
  /**
   * Whether small frames' checksums run four at a time in WebAssembly SIMD
   * lanes (`frameChecksums`). Measured by bench/multibuffer.ts on the
   * payloads under 1 KiB of soterd's mixed stream (same run, CPU clock,
   * median of 7 passes): lanes 2.7x (2.3-3.0) as fast as a call a frame on
   * Deno, 2.2x (1.8-4.0) on Node, 0.34x (0.28-0.97) on Bun, whose native
   * call is cheap and whose WebAssembly SIMD is slower.
   */
  lanes: boolean;
}

const TUNING: Record<"deno" | "bun" | "node", Tuning> = {
  deno: { threshold: 512, nativeInner: false, lanes: true },
  node: { threshold: 64, nativeInner: true, lanes: true },
  bun: { threshold: 0, nativeInner: true, lanes: false },
};

const runtime = "Bun" in globalThis ? "bun" : "Deno" in globalThis ? "deno" : "node";
const { threshold, nativeInner, lanes } = TUNING[runtime];

type OneShot = (alg: string, data: Uint8Array, enc: "buffer") => Uint8Array;
// `crypto.hash` (Node >= 20.12) skips the Hash object; fall back without it.
const oneShot = (crypto as unknown as { hash?: OneShot }).hash;

const viewDigest = runtime === "deno";

/** SHA-256 by node:crypto, as a plain Uint8Array (not a Buffer). */
function native(data: Uint8Array): Uint8Array<ArrayBuffer> {
  const digest: Uint8Array = oneShot
    ? oneShot("sha256", data, "buffer")
    : crypto.createHash("sha256").update(data).digest();
  return viewDigest ? new Uint8Array(digest.buffer as ArrayBuffer, digest.byteOffset, 32) : new Uint8Array(digest);
}

/** `Bun.SHA256`, the one part of Bun's API used here. */
interface BunSha256 {
  hash(data: Uint8Array, into: Uint8Array): Uint8Array;
}
const bunSha256 = runtime === "bun" ? (globalThis as unknown as { Bun: { SHA256: BunSha256 } }).Bun.SHA256 : undefined;

/**
 * The fastest synchronous SHA-256 of the runtime it runs in: on Bun,
 * `Bun.SHA256` writing into a given array; elsewhere `node:crypto` for
 * inputs at or above a per-runtime size threshold, the TypeScript hash
 * below it, and the checksums of a chunk's small frames four at a time in
 * WebAssembly SIMD lanes. The `./deno`, `./bun` and `./node` entry points
 * install it as the default hasher when imported.
 *
 * @example Hashing a block header
 * ```ts
 * import { nativeHasher } from "@soter/peer/deno";
 * const hash = nativeHasher.doubleSha256(new Uint8Array(80));
 * console.log(hash.length); // 32
 * ```
 */
export const nativeHasher: Hasher = bunSha256 !== undefined ? bunHasher(bunSha256) : {
  sha256(data: Uint8Array): Uint8Array<ArrayBuffer> {
    return data.byteLength >= threshold ? native(data) : tsSha256(data);
  },
  doubleSha256,
  doubleSha256Parts,
  ...(lanes ? { frameChecksums: laneFrameChecksums } : {}),
};

function laneFrameChecksums(payloads: readonly Uint8Array[], count: number, out: Int32Array): void {
  frameChecksums(payloads, count, out, doubleSha256);
}

function doubleSha256(data: Uint8Array): Uint8Array<ArrayBuffer> {
  if (data.byteLength < threshold) return tsDouble(data);
  const once = native(data);
  return nativeInner ? native(once) : tsSha256(once);
}

/** The double SHA-256 of the concatenation of `parts`, by one native hash object fed part by part. */
function doubleSha256Parts(parts: readonly Uint8Array[]): Uint8Array<ArrayBuffer> {
  const h = crypto.createHash("sha256");
  for (let i = 0; i < parts.length; i++) h.update(parts[i]!);
  const once = new Uint8Array(h.digest());
  return nativeInner || bunSha256 !== undefined ? native(once) : tsSha256(once);
}

/** The hasher on Bun: every hash into an array of ours, the first pass of a double hash into a scratch one. */
function bunHasher(sha: BunSha256): Hasher {
  const first = new Uint8Array(32);
  return {
    sha256(data: Uint8Array): Uint8Array<ArrayBuffer> {
      const out = new Uint8Array(32);
      sha.hash(data, out);
      return out;
    },
    doubleSha256(data: Uint8Array): Uint8Array<ArrayBuffer> {
      const out = new Uint8Array(32);
      sha.hash(data, first);
      sha.hash(first, out);
      return out;
    },
    doubleSha256Parts,
  };
}
