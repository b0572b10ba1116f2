/**
 * Inventory vectors: soter's 40-byte form with a block height.
 *
 * @module
 */
import type { Reader } from "./reader.ts";
import type { Writer } from "./writer.ts";

/** The largest number of inventory vectors in `inv`, `getdata` or `notfound`. */
export const MAX_INV_PER_MSG = 50_000;
/**
 * The size soterd still uses per entry when computing the maximum payload
 * (Bitcoin's 36 bytes), although entries are 40 bytes on the wire.
 */
export const MAX_INV_VECT_PAYLOAD = 36;
/** Size of one inventory vector on the wire. */
export const INV_VECT_SIZE = 40;
/** Bit set on witness variants of inventory types. */
export const INV_WITNESS_FLAG = 1 << 30;

/** Inventory types. */
export const InvType = {
  /** An error entry; ignored. */
  ERROR: 0,
  /** A transaction. */
  TX: 1,
  /** A block. */
  BLOCK: 2,
  /** A filtered (merkle) block. */
  FILTERED_BLOCK: 3,
  /** A block with witness data. */
  WITNESS_BLOCK: 2 | INV_WITNESS_FLAG,
  /** A transaction with witness data. */
  WITNESS_TX: 1 | INV_WITNESS_FLAG,
  /** A filtered block with witness data. */
  FILTERED_WITNESS_BLOCK: 3 | INV_WITNESS_FLAG,
} as const;

const INV_NAMES: ReadonlyMap<number, string> = new Map([
  [0, "ERROR"],
  [1, "MSG_TX"],
  [2, "MSG_BLOCK"],
  [3, "MSG_FILTERED_BLOCK"],
  [2 | INV_WITNESS_FLAG, "MSG_WITNESS_BLOCK"],
  [1 | INV_WITNESS_FLAG, "MSG_WITNESS_TX"],
  [3 | INV_WITNESS_FLAG, "MSG_FILTERED_WITNESS_BLOCK"],
]);

/**
 * Names an inventory type as soterd prints it.
 *
 * @param type The inventory type.
 * @returns e.g. `MSG_BLOCK` or `Unknown InvType (9)`.
 */
export function invTypeName(type: number): string {
  return INV_NAMES.get(type) ?? `Unknown InvType (${type})`;
}

/** One inventory entry: what it is, its hash and (soter) its height. */
export interface InvVect {
  /** An {@linkcode InvType} value (uint32). */
  type: number;
  /** The object's hash in wire order. */
  hash: Uint8Array;
  /** The block height (int32); soterd fills it for blocks, 0 otherwise. */
  height: number;
}

/**
 * Reads one inventory vector.
 *
 * @param r The reader.
 * @returns The entry; its hash is a view into the input.
 */
export function readInvVect(r: Reader): InvVect {
  const pos = r.pos;
  if (r.end - pos >= INV_VECT_SIZE) {
    // All 40 bytes are there: read them without a bounds check per field.
    const view = r.view;
    r.pos = pos + INV_VECT_SIZE;
    return {
      type: view.getUint32(pos, true),
      hash: r.viewAt(pos + 4, 32),
      height: view.getInt32(pos + 36, true),
    };
  }
  // Field by field, so that truncation is reported at the field it hits.
  const type = r.u32();
  const hash = r.hash();
  return { type, hash, height: r.i32() };
}

/**
 * Writes one inventory vector.
 *
 * @param w The writer.
 * @param iv The entry.
 */
export function writeInvVect(w: Writer, iv: InvVect): void {
  w.u32(iv.type);
  w.hash(iv.hash, "inventory hash");
  w.i32(iv.height);
}
