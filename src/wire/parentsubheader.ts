/**
 * The parent sub-header of a soter block: the DAG parents the block builds
 * on. It follows the 80-byte header in a `block` message.
 *
 * @module
 */
import type { Reader } from "./reader.ts";
import type { Writer } from "./writer.ts";

/** The most parents a block may name (soterd's `maxParents`; the decoder does not enforce it). */
export const MAX_PARENTS = 8;

/** The size in bytes of one serialized parent: a hash and 32 bytes of data. */
export const PARENT_SIZE = 64;

/**
 * The largest parent sub-header soterd plans for: version, count and
 * {@linkcode MAX_PARENTS} parents (soterd's `MaxParentSubHeaderPayload`).
 */
export const MAX_PARENT_SUB_HEADER_PAYLOAD: number = 4 + 4 + PARENT_SIZE * MAX_PARENTS;

/** One parent of a block. */
export interface Parent {
  /** The parent block's hash, 32 bytes in wire order. */
  hash: Uint8Array;
  /** 32 bytes of metadata in wire order (a placeholder in soterd, usually zero). */
  data: Uint8Array;
}

/** The parent sub-header: a version and the list of parents. */
export interface ParentSubHeader {
  /** The sub-header version (int32). */
  version: number;
  /**
   * The parent count as read from the wire (int32; a negative count reads
   * as no parents but is kept here). The encoder ignores it and writes
   * `parents.length`.
   */
  size: number;
  /** The parents, in wire order. */
  parents: Parent[];
}

/**
 * Reads a parent sub-header: int32 version, int32 count, then count times a
 * 32-byte hash and 32 bytes of data. A negative count gives no parents; more
 * than {@linkcode MAX_PARENTS} are accepted, as by soterd. Parents are read
 * one by one, so a forged count fails with `truncated` as soon as the bytes
 * run out instead of allocating for it. Hashes and data are views.
 *
 * @param r The reader.
 * @returns The sub-header.
 * @throws {MessageError} `truncated` when the input ends early.
 */
export function readParentSubHeader(r: Reader): ParentSubHeader {
  const version = r.i32();
  const size = r.i32();
  // An array of its exact size when the bytes for all parents are there
  // (then a forged count cannot make it allocate more than the input).
  const parents: Parent[] = size > 0 && size * PARENT_SIZE <= r.remaining ? new Array(size) : [];
  for (let i = 0; i < size; i++) {
    const hash = r.hash();
    parents[i] = { hash, data: r.bytes(32) };
  }
  return { version, size, parents };
}

/**
 * Writes a parent sub-header. The count written is `parents.length`,
 * whatever `size` says, as soterd does.
 *
 * @param w The writer.
 * @param p The sub-header.
 * @throws {MessageError} `invalid-value` when a hash or data is not 32 bytes.
 */
export function writeParentSubHeader(w: Writer, p: ParentSubHeader): void {
  const parents = p.parents;
  w.i32(p.version);
  w.i32(parents.length);
  for (let i = 0; i < parents.length; i++) {
    const parent = parents[i]!;
    w.hash(parent.hash, "parent hash");
    w.hash(parent.data, "parent data");
  }
}
