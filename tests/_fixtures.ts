// Sample chain data shared by the codec tests: Bitcoin's block one (as in
// soterd's msgblock, msgheaders and msgmerkleblock tests) and a coinbase
// transaction builder. Not a test file (the leading `_`). The builders
// return fresh objects, which a test may change.
import { makeBlock, makeTx, prng } from "../bench/fixtures.ts";
import type { BlockHeader } from "../src/wire/blockheader.ts";
import type { BlockMessage } from "../src/wire/messages/block.ts";
import { fromHex } from "../src/wire/hex.ts";
import type { Tx, TxOut } from "../src/wire/tx.ts";

/** Bitcoin's (and soter mainnet's) genesis block hash, in wire order. */
export const MAINNET_GENESIS_WIRE = "6fe28c0ab6f1b372c1a6a246ae63f74f931e8365e15a089c68d6190000000000";
/** The genesis block's merkle root, in wire order. */
export const GENESIS_MERKLE_WIRE = "3ba3edfd7a7b12b27ac72c3e67768f617fc81bc3888a51323a9fb8aa4b1e5e4a";
/** Block one's merkle root (the txid of its only transaction), in wire order. */
export const BLOCK_ONE_MERKLE_WIRE = "982051fd1e4ba744bbbe680e1fee14677ba1a3c3540bf7b1cdb606e857233e0e";

/** Block one's 80-byte header, in hex. */
export const BLOCK_ONE_HEADER_HEX = "01000000" + MAINNET_GENESIS_WIRE + BLOCK_ONE_MERKLE_WIRE +
  "61bc6649" + "ffff001d" + "01e36299";

/** Block one's header (the bytes of {@linkcode BLOCK_ONE_HEADER_HEX}). */
export function blockOneHeader(): BlockHeader {
  return {
    version: 1,
    prevBlock: fromHex(MAINNET_GENESIS_WIRE),
    merkleRoot: fromHex(BLOCK_ONE_MERKLE_WIRE),
    timestamp: 0x4966bc61,
    bits: 0x1d00ffff,
    nonce: 0x9962e301,
  };
}

/**
 * A version-1 coinbase transaction: one input spending the null outpoint
 * with `signatureScript`, no witness, final sequence, lock time 0.
 */
export function coinbaseTx(signatureScript: Uint8Array, txOut: TxOut[]): Tx {
  return {
    version: 1,
    txIn: [{
      previousOutPoint: { hash: new Uint8Array(32), index: 0xffffffff },
      signatureScript,
      witness: [],
      sequence: 0xffffffff,
    }],
    txOut,
    lockTime: 0,
  };
}

/**
 * A block of `count` generated transactions and one more, with shapes off
 * the transaction scan's fast path (3-byte lengths): the second
 * transaction's script of `scriptLength` bytes, a 300-byte witness item in
 * the third, and a 253-byte output script in the last.
 */
export function offPathBlock(seed: number, count: number, scriptLength = 300): BlockMessage {
  const rand = prng(seed);
  const block = makeBlock(rand, count);
  block.transactions[1]!.txIn[0]!.signatureScript = new Uint8Array(scriptLength).fill(1);
  block.transactions[2]!.txIn[0]!.witness = [new Uint8Array(300).fill(2)];
  block.transactions.push(makeTx(rand, false));
  block.transactions[count]!.txOut[1]!.pkScript = new Uint8Array(253).fill(3);
  return block;
}
