/**
 * `block`: a whole block, with soter's parent and verification sub-headers
 * between the 80-byte header and the transactions.
 *
 * @module
 */
import type { MessageCodec } from "../codec.ts";
import { BLOCK_HEADER_SIZE, type BlockHeader, readBlockHeader, writeBlockHeader } from "../blockheader.ts";
import { PARENT_SIZE, type ParentSubHeader, readParentSubHeader, writeParentSubHeader } from "../parentsubheader.ts";
import type { MessageEncoding } from "../protocol.ts";
import { Reader } from "../reader.ts";
import { readTx, type Tx, txSerializeSize, writeTx } from "../tx.ts";
import { scanTx } from "../txscan.ts";
import {
  CYCLE_NONCE_SIZE,
  readVerificationSubHeader,
  type VerificationSubHeader,
  writeVerificationSubHeader,
} from "../verificationsubheader.ts";
import { varIntSize } from "../writer.ts";

/**
 * The largest `block` (and `tx`, `merkleblock`) payload soterd accepts, in
 * bytes (soterd's `MaxBlockPayload`).
 */
export const MAX_BLOCK_PAYLOAD = 4_000_000;

/**
 * The most transactions a block may declare: {@linkcode MAX_BLOCK_PAYLOAD}
 * over the 10-byte minimum transaction, plus one (soterd's `maxTxPerBlock`).
 */
export const MAX_TX_PER_BLOCK: number = Math.floor(MAX_BLOCK_PAYLOAD / 10) + 1;

/**
 * `block`: a block in answer to `getdata`. Its hash is that of `header`
 * alone (see `blockHash`).
 *
 * A decoded block's `transactions` are built on first access: decoding
 * checks every transaction's counts, lengths and limits (so a malformed
 * block still fails to decode, with the same error), and a relay or an
 * indexer that reads only the header never pays for the objects. Like the
 * byte fields, they are read from the decoded bytes, which must therefore
 * stay unchanged until then.
 */
export interface BlockMessage {
  /** The command. */
  command: "block";
  /** The 80-byte header. */
  header: BlockHeader;
  /** The DAG parents. */
  parents: ParentSubHeader;
  /** The proof-of-work cycle nonces. */
  verification: VerificationSubHeader;
  /** The transactions, the coinbase first. */
  transactions: Tx[];
}

/**
 * Returns how many bytes the payload of `block` takes in an encoding
 * (soterd's `SerializeSize` for `"witness"`, `SerializeSizeStripped` for
 * `"base"`).
 *
 * @param block The block.
 * @param encoding The encoding; `"witness"` when omitted.
 * @returns The size in bytes.
 */
export function blockSerializeSize(
  block: Omit<BlockMessage, "command">,
  encoding: MessageEncoding = "witness",
): number {
  const txs = block.transactions;
  let n = BLOCK_HEADER_SIZE + 8 + PARENT_SIZE * block.parents.parents.length +
    8 + CYCLE_NONCE_SIZE * block.verification.cycleNonces.length +
    varIntSize(txs.length);
  for (let i = 0; i < txs.length; i++) n += txSerializeSize(txs[i]!, encoding);
  return n;
}

/** Reads the `count` transactions (already scanned) that start at `start` in `buf`. */
function readTransactions(
  buf: Uint8Array,
  what: string,
  start: number,
  count: number,
  encoding: MessageEncoding,
): Tx[] {
  const r = new Reader(buf, what);
  r.pos = start;
  const transactions: Tx[] = new Array(count);
  for (let i = 0; i < count; i++) transactions[i] = readTx(r, encoding);
  return transactions;
}

/** Codec of `block`. */
export const blockCodec: MessageCodec<BlockMessage> = {
  command: "block",
  maxPayloadLength: () => MAX_BLOCK_PAYLOAD,
  decode(r, _pver, encoding) {
    const header = readBlockHeader(r);
    const parents = readParentSubHeader(r);
    const verification = readVerificationSubHeader(r);
    const count = r.count(MAX_TX_PER_BLOCK, "transaction");
    const start = r.pos;
    for (let i = 0; i < count; i++) scanTx(r, encoding);
    const { buf, what } = r;
    let transactions: Tx[] | undefined;
    return {
      command: "block",
      header,
      parents,
      verification,
      get transactions(): Tx[] {
        return transactions ??= readTransactions(buf, what, start, count, encoding);
      },
      set transactions(txs: Tx[]) {
        transactions = txs;
      },
    };
  },
  encode(w, msg, _pver, encoding) {
    // Reserving the exact size up front spares the buffer's regrowth (and
    // lets encodePayload hand a large buffer over without a copy). A
    // malformed block is left to the writes below to report.
    let size = 0;
    try {
      size = blockSerializeSize(msg, encoding);
    } catch { /* reported below */ }
    if (size > 0) w.ensure(size);
    writeBlockHeader(w, msg.header);
    writeParentSubHeader(w, msg.parents);
    writeVerificationSubHeader(w, msg.verification);
    const txs = msg.transactions;
    w.varInt(txs.length);
    for (let i = 0; i < txs.length; i++) writeTx(w, txs[i]!, encoding);
  },
};
