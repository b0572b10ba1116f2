/**
 * The small synchronous hashing interface the core depends on, and the
 * process-wide default.
 *
 * @module
 */
import { doubleSha256, sha256 } from "./sha256.ts";

/**
 * A synchronous SHA-256 provider. The core only ever calls these two
 * functions, so a runtime's native hashing can be plugged in (the `./node`,
 * `./deno` and `./bun` entry points export one built on `node:crypto`).
 *
 * @example A hasher built on node:crypto
 * ```ts ignore
 * import { createHash } from "node:crypto";
 * import type { Hasher } from "@soter/peer";
 * const sha = (d: Uint8Array) => new Uint8Array(createHash("sha256").update(d).digest());
 * const hasher: Hasher = { sha256: sha, doubleSha256: (d) => sha(sha(d)) };
 * ```
 */
export interface Hasher {
  /** Returns the 32-byte SHA-256 digest of `data`. */
  sha256(data: Uint8Array): Uint8Array;
  /** Returns the 32-byte SHA-256 digest of the SHA-256 digest of `data`. */
  doubleSha256(data: Uint8Array): Uint8Array;
}

/** The plain TypeScript hasher: works everywhere, no native code. */
export const jsHasher: Hasher = { sha256, doubleSha256 };

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
