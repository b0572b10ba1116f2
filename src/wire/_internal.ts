/**
 * Helpers shared by the wire modules but not part of the public API (not
 * exported from `mod.ts`).
 *
 * @module
 */
import { MessageError } from "./errors.ts";

/**
 * Returned by `Reader.viewAt` for every empty byte field (scripts, witness
 * items) instead of a zero-length view per field. Sharing it is safe: an
 * empty `Uint8Array` has no element to write, and being frozen it takes no
 * new properties.
 */
export const EMPTY_BYTES: Uint8Array<ArrayBuffer> = Object.freeze(new Uint8Array(0));

/**
 * Builds the `checksum` error of a frame whose payload does not match its
 * header.
 *
 * @param command The frame's command.
 * @param sum The payload's double SHA-256 (at least its first 4 bytes).
 * @param checksum The 4 checksum bytes of the header.
 * @returns The error.
 */
export function checksumError(command: string, sum: Uint8Array, checksum: ArrayLike<number>): MessageError {
  return new MessageError(
    "checksum",
    `Cannot read ${command}: payload checksum is [${Array.from(sum.subarray(0, 4)).join(" ")}] but the header says [${
      Array.from(checksum).join(" ")
    }]`,
    { command },
  );
}
