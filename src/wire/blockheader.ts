/**
 * The 80-byte block header shared by `block`, `headers` and `merkleblock`,
 * and the block hash computed from it.
 *
 * @module
 */
import { defaultHasher, type Hasher } from "../hash/hasher.ts";
import type { Reader } from "./reader.ts";
import { Writer } from "./writer.ts";

/** The size in bytes of a serialized block header (soterd's `MaxBlockHeaderPayload`). */
export const BLOCK_HEADER_SIZE = 80;

/**
 * A block header as it travels on the wire. Unlike Bitcoin, `prevBlock` is
 * not the hash of one parent: soterd stores there the double SHA-256 of the
 * sorted parent hashes. The parents themselves live in the block's
 * parent sub-header, which is not part of the header.
 */
export interface BlockHeader {
  /** The block version (int32; not the protocol version). */
  version: number;
  /** 32 bytes in wire order (display order is reversed). */
  prevBlock: Uint8Array;
  /** The merkle root of the block's transactions, 32 bytes in wire order. */
  merkleRoot: Uint8Array;
  /** The block time in unix seconds (uint32, so it ends in 2106). */
  timestamp: number;
  /** The difficulty target in compact form (uint32). */
  bits: number;
  /** The proof-of-work nonce (uint32). */
  nonce: number;
}

/**
 * Reads an 80-byte block header. The two hashes are views into the
 * reader's buffer.
 *
 * @param r The reader, positioned at the header.
 * @returns The header.
 * @throws {MessageError} `truncated` when fewer than 80 bytes remain.
 *
 * @example
 * ```ts
 * import { readBlockHeader, Reader } from "@soter/peer";
 * const header = readBlockHeader(new Reader(new Uint8Array(80)));
 * console.log(header.version); // 0
 * ```
 */
export function readBlockHeader(r: Reader): BlockHeader {
  const pos = r.pos;
  if (r.end - pos >= BLOCK_HEADER_SIZE) {
    // All 80 bytes are there: read them without a bounds check per field.
    const view = r.view;
    r.pos = pos + BLOCK_HEADER_SIZE;
    return {
      version: view.getInt32(pos, true),
      prevBlock: r.viewAt(pos + 4, 32),
      merkleRoot: r.viewAt(pos + 36, 32),
      timestamp: view.getUint32(pos + 68, true),
      bits: view.getUint32(pos + 72, true),
      nonce: view.getUint32(pos + 76, true),
    };
  }
  // Field by field, so that truncation is reported at the field it hits.
  return {
    version: r.i32(),
    prevBlock: r.hash(),
    merkleRoot: r.hash(),
    timestamp: r.u32(),
    bits: r.u32(),
    nonce: r.u32(),
  };
}

/**
 * Writes an 80-byte block header.
 *
 * @param w The writer.
 * @param h The header.
 * @throws {MessageError} `invalid-value` when a hash is not 32 bytes or a
 * number is out of range.
 */
export function writeBlockHeader(w: Writer, h: BlockHeader): void {
  w.i32(h.version);
  w.hash(h.prevBlock, "prevBlock");
  w.hash(h.merkleRoot, "merkleRoot");
  w.u32(h.timestamp);
  w.u32(h.bits);
  w.u32(h.nonce);
}

/**
 * Serializes a block header into a fresh 80-byte array.
 *
 * @param h The header.
 * @returns The 80 bytes.
 */
export function blockHeaderBytes(h: BlockHeader): Uint8Array<ArrayBuffer> {
  const w = new Writer(BLOCK_HEADER_SIZE, "block header");
  writeBlockHeader(w, h);
  return w.buf;
}

// Reused by blockHash: the hasher is synchronous, so one buffer serves all
// calls and hashing a header allocates only the digest.
const scratch = new Writer(BLOCK_HEADER_SIZE, "block header");

/**
 * Computes a block's hash: the double SHA-256 of its 80-byte header only
 * (the parent and verification sub-headers are not hashed).
 *
 * @param header The header.
 * @param hasher The SHA-256 provider; the process default when omitted.
 * @returns The 32-byte hash in wire order (print it with `hashToHex`).
 *
 * @example The simnet genesis hash
 * ```ts
 * import { blockHash, hashFromHex, hashToHex } from "@soter/peer";
 * const hash = blockHash({
 *   version: 1,
 *   prevBlock: new Uint8Array(32),
 *   merkleRoot: hashFromHex(
 *     "4a5e1e4baab89f3a32518a88c31bc87f618f76673e2cc77ab2127b7afdeda33b",
 *   ),
 *   timestamp: 1543863094,
 *   bits: 0x207fffff,
 *   nonce: 2,
 * });
 * console.log(hashToHex(hash));
 * // "5f2694c9f5d5808adf308c62995154d29596c36c554b15d3d95cdd6bebaf6cb2"
 * ```
 */
export function blockHash(
  header: BlockHeader,
  hasher: Hasher = defaultHasher(),
): Uint8Array {
  scratch.pos = 0;
  writeBlockHeader(scratch, header);
  return hasher.doubleSha256(scratch.buf);
}
