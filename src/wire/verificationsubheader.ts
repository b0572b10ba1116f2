/**
 * The verification sub-header of a soter block: the cuckoo-cycle nonces of
 * its proof of work. It follows the parent sub-header in a `block` message.
 *
 * @module
 */
import type { Reader } from "./reader.ts";
import type { Writer } from "./writer.ts";

/** The size in bytes of one serialized cycle nonce. */
export const CYCLE_NONCE_SIZE = 4;

/** The verification sub-header: a version and the cycle nonces. */
export interface VerificationSubHeader {
  /** The sub-header version (int32). */
  version: number;
  /**
   * The nonce count as read from the wire (int32; a negative count reads as
   * no nonces but is kept here). The encoder ignores it and writes
   * `cycleNonces.length`.
   */
  size: number;
  /** The cycle nonces (uint32 each). */
  cycleNonces: number[];
}

/**
 * Reads a verification sub-header: int32 version, int32 count, then count
 * uint32 nonces. A negative count gives no nonces. Nonces are read one by
 * one, so a forged count fails with `truncated` as soon as the bytes run out
 * instead of allocating for it.
 *
 * @param r The reader.
 * @returns The sub-header.
 * @throws {MessageError} `truncated` when the input ends early.
 */
export function readVerificationSubHeader(r: Reader): VerificationSubHeader {
  const version = r.i32();
  const size = r.i32();
  if (size > 0 && size * CYCLE_NONCE_SIZE <= r.remaining) {
    // All nonces are there: an array of its exact size, filled without a
    // bounds check per nonce.
    const cycleNonces: number[] = new Array(size);
    const view = r.view;
    const pos = r.pos;
    for (let i = 0; i < size; i++) cycleNonces[i] = view.getUint32(pos + i * CYCLE_NONCE_SIZE, true);
    r.pos = pos + size * CYCLE_NONCE_SIZE;
    return { version, size, cycleNonces };
  }
  const cycleNonces: number[] = [];
  for (let i = 0; i < size; i++) cycleNonces.push(r.u32());
  return { version, size, cycleNonces };
}

/**
 * Writes a verification sub-header. The count written is
 * `cycleNonces.length`, whatever `size` says, as soterd does.
 *
 * @param w The writer.
 * @param v The sub-header.
 * @throws {MessageError} `invalid-value` when a nonce is not a uint32.
 */
export function writeVerificationSubHeader(
  w: Writer,
  v: VerificationSubHeader,
): void {
  const nonces = v.cycleNonces;
  w.i32(v.version);
  w.i32(nonces.length);
  for (let i = 0; i < nonces.length; i++) w.u32(nonces[i]!);
}
