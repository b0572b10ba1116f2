/**
 * `merkleblock`: a block header with a partial merkle tree of the
 * transactions that match a bloom filter (BIP 37).
 *
 * @module
 */
import { type MessageCodec, pverTooLow, tooLargeToEncode, tooManyToEncode } from "../codec.ts";
import { type BlockHeader, readBlockHeader, writeBlockHeader } from "../blockheader.ts";
import { BIP0037_VERSION } from "../protocol.ts";
import { MAX_BLOCK_PAYLOAD, MAX_TX_PER_BLOCK } from "./block.ts";

/**
 * The most flag bytes a `merkleblock` may carry:
 * {@linkcode MAX_TX_PER_BLOCK} / 8 (soterd's `maxFlagsPerMerkleBlock`).
 */
export const MAX_FLAGS_PER_MERKLE_BLOCK: number = Math.floor(MAX_TX_PER_BLOCK / 8);

/**
 * `merkleblock`: sent instead of `block` to a peer with a bloom filter
 * loaded. Exists from protocol version 70001 (BIP 37).
 */
export interface MerkleBlockMessage {
  /** The command. */
  command: "merkleblock";
  /** The block's 80-byte header. */
  header: BlockHeader;
  /** The number of transactions in the block (uint32). */
  transactions: number;
  /**
   * The hashes of the partial merkle tree, 32 bytes each in wire order
   * (views into the decoded buffer).
   */
  hashes: Uint8Array[];
  /** The partial merkle tree's flag bits, packed into bytes. */
  flags: Uint8Array;
}

/** Codec of `merkleblock`. Its payload limit is soterd's `MaxBlockPayload`. */
export const merkleblockCodec: MessageCodec<MerkleBlockMessage> = {
  command: "merkleblock",
  maxPayloadLength: () => MAX_BLOCK_PAYLOAD,
  decode(r, pver) {
    if (pver < BIP0037_VERSION) pverTooLow("merkleblock", pver, "decode");
    const header = readBlockHeader(r);
    const transactions = r.u32();
    const count = r.count(MAX_TX_PER_BLOCK, "hash");
    const hashes: Uint8Array[] = [];
    for (let i = 0; i < count; i++) hashes.push(r.hash());
    const flags = r.varBytes(MAX_FLAGS_PER_MERKLE_BLOCK, "flags");
    return { command: "merkleblock", header, transactions, hashes, flags };
  },
  encode(w, msg, pver) {
    if (pver < BIP0037_VERSION) pverTooLow("merkleblock", pver, "encode");
    const hashes = msg.hashes;
    if (hashes.length > MAX_TX_PER_BLOCK) {
      tooManyToEncode("merkleblock", "hash", hashes.length, MAX_TX_PER_BLOCK);
    }
    if (msg.flags.length > MAX_FLAGS_PER_MERKLE_BLOCK) {
      tooLargeToEncode(
        "merkleblock",
        "flags",
        msg.flags.length,
        MAX_FLAGS_PER_MERKLE_BLOCK,
      );
    }
    writeBlockHeader(w, msg.header);
    w.u32(msg.transactions);
    w.varInt(hashes.length);
    for (let i = 0; i < hashes.length; i++) w.hash(hashes[i]!);
    w.varBytes(msg.flags);
  },
};
