/**
 * Hex helpers, including the byte-reversed display order of hashes.
 *
 * @module
 */
import { MessageError } from "./errors.ts";

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

/**
 * Encodes bytes as lowercase hex in their own order.
 *
 * @param bytes The bytes.
 * @returns Lowercase hex, two characters a byte.
 */
export function toHex(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i++) s += HEX[bytes[i]!];
  return s;
}

/**
 * Decodes hex (either case) into bytes.
 *
 * @param hex An even number of hex digits.
 * @returns The bytes.
 * @throws {MessageError} `invalid-value` when `hex` is not valid hex.
 */
export function fromHex(hex: string): Uint8Array<ArrayBuffer> {
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) {
    throw new MessageError("invalid-value", `Invalid hex string: "${hex.length > 80 ? hex.slice(0, 80) + "…" : hex}"`);
  }
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) {
    out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  }
  return out;
}

/**
 * Formats a 32-byte hash as soterd prints it: the bytes reversed, in hex
 * (`chainhash.Hash.String()`).
 *
 * @param hash A hash in wire order.
 * @returns 64 hex digits in display order.
 *
 * @example
 * ```ts
 * import { hashFromHex, hashToHex } from "@soter/peer";
 * const id = "5f2694c9f5d5808adf308c62995154d29596c36c554b15d3d95cdd6bebaf6cb2";
 * console.log(hashToHex(hashFromHex(id)) === id); // true
 * ```
 */
export function hashToHex(hash: Uint8Array): string {
  let s = "";
  for (let i = hash.length - 1; i >= 0; i--) s += HEX[hash[i]!];
  return s;
}

/**
 * Parses a hash in display order (as printed by soterd) into wire order.
 *
 * @param hex 64 hex digits in display order.
 * @returns The 32-byte hash in wire order.
 * @throws {MessageError} `invalid-value` when `hex` is not 64 hex digits.
 */
export function hashFromHex(hex: string): Uint8Array<ArrayBuffer> {
  if (hex.length !== 64) {
    throw new MessageError("invalid-value", `Invalid hash string: expected 64 hex digits, got ${hex.length}`);
  }
  return fromHex(hex).reverse();
}

/**
 * Tells whether two byte arrays hold the same bytes.
 *
 * @param a The first array.
 * @param b The second array.
 * @returns `true` when equal.
 */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The all-zero hash. Treat it as read-only. */
export const ZERO_HASH: Uint8Array<ArrayBuffer> = new Uint8Array(32);
