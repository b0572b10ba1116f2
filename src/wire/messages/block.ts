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
import { readTx, type Tx, txSerializeSize, writeTxs } from "../tx.ts";
import { SCAN_NOT_CANONICAL, SCAN_WITNESS, scanTx } from "../txscan.ts";
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
 *
 * Encoding a decoded block whose `transactions` were never read (nor
 * replaced) copies the transactions' decoded bytes instead of building and
 * writing the objects: a relay forwards a block at the cost of a copy. The
 * header and sub-headers are always written from their objects. Once
 * `transactions` has been read, the encoder writes the objects, which the
 * reader may have changed.
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
  const n = BLOCK_HEADER_SIZE + 8 + PARENT_SIZE * block.parents.parents.length +
    8 + CYCLE_NONCE_SIZE * block.verification.cycleNonces.length;
  const raw = untouched(block, encoding);
  if (raw !== undefined) return n + varIntSize(raw.count) + raw.bytes;
  const txs = block.transactions;
  let size = n + varIntSize(txs.length);
  for (let i = 0; i < txs.length; i++) size += txSerializeSize(txs[i]!, encoding);
  return size;
}

/** Whole transactions scanned in one buffer: `count` of them from `start` to `end`. */
export interface TxRun {
  readonly buf: Uint8Array;
  readonly start: number;
  readonly end: number;
  readonly count: number;
}

/**
 * The transactions of a decoded block, kept as scanned: `count` of them,
 * `bytes` long, in one run (a block decoded from one buffer) or several (a
 * block decoded from the chunks it arrived in); `txs` once built or
 * replaced, only when the block cannot take them as a data property.
 */
export interface ScannedTxs {
  readonly runs: readonly TxRun[];
  readonly what: string;
  readonly count: number;
  readonly bytes: number;
  readonly encoding: MessageEncoding;
  /** What the scan found, `SCAN_*` bits of all the transactions. */
  readonly found: number;
  txs: Tx[] | undefined;
}

// The getter of a decoded block's `transactions`, to its scanned state: the
// encoder recognises an untouched decoded block by its own property's getter,
// so a block whose transactions were read or assigned (the property is then
// data), a copy of it, or a block whose property was redefined, is written
// from its objects.
const scanned = new WeakMap<() => Tx[], ScannedTxs>();

/**
 * The scanned transactions of `block` if they were never built nor replaced
 * and writing them with `encoding` gives their very bytes.
 */
function untouched(block: Omit<BlockMessage, "command">, encoding: MessageEncoding): ScannedTxs | undefined {
  const get = Object.getOwnPropertyDescriptor(block, "transactions")?.get;
  const s = get === undefined ? undefined : scanned.get(get as () => Tx[]);
  if (s === undefined || s.txs !== undefined || (s.found & SCAN_NOT_CANONICAL) !== 0) return undefined;
  // Witness data is dropped by the base encoding.
  return encoding === s.encoding || (s.found & SCAN_WITNESS) === 0 ? s : undefined;
}

/**
 * Makes `transactions` a data property of `block` holding `txs`; false when
 * the block does not allow it (frozen or sealed), whose accessor then keeps
 * them.
 */
function becomeData(block: object, txs: Tx[]): boolean {
  const d = Object.getOwnPropertyDescriptor(block, "transactions");
  if (d?.configurable !== true) return false;
  Object.defineProperty(block, "transactions", { value: txs, writable: true, enumerable: true, configurable: true });
  return true;
}

/** Builds the transactions (already scanned) of `s`. */
function readTransactions(s: ScannedTxs): Tx[] {
  const transactions: Tx[] = new Array(s.count);
  let i = 0;
  for (const run of s.runs) {
    const r = new Reader(run.buf, s.what);
    r.pos = run.start;
    for (const last = i + run.count; i < last; i++) transactions[i] = readTx(r, s.encoding);
  }
  return transactions;
}

/**
 * A decoded block whose transactions, already scanned, are built on first
 * access.
 *
 * @param header The header read.
 * @param parents The parent sub-header read.
 * @param verification The verification sub-header read.
 * @param s Where the scanned transactions are.
 * @returns The block.
 */
export function lazyBlock(
  header: BlockHeader,
  parents: ParentSubHeader,
  verification: VerificationSubHeader,
  s: ScannedTxs,
): BlockMessage {
  // The accessors refer to neither the block nor its built transactions:
  // V8 keeps the accessor functions of objects its property loads have
  // seen until its next full collection, and an accessor holding the
  // transactions kept every block read since then alive, promoted through
  // every scavenge (5x slower reading on V8). Once read or assigned, the
  // transactions become a plain data property of the block instead.
  const block: BlockMessage = {
    command: "block",
    header,
    parents,
    verification,
    get transactions(): Tx[] {
      if (s.txs !== undefined) return s.txs;
      const txs = readTransactions(s);
      if (!becomeData(this, txs)) s.txs = txs;
      return txs;
    },
    set transactions(txs: Tx[]) {
      if (!becomeData(this, txs)) s.txs = txs;
    },
  };
  scanned.set(Object.getOwnPropertyDescriptor(block, "transactions")!.get!, s);
  return block;
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
    let found = 0;
    for (let i = 0; i < count; i++) found |= scanTx(r, encoding);
    const run = { buf: r.buf, start, end: r.pos, count };
    const bytes = r.pos - start;
    return lazyBlock(header, parents, verification, {
      runs: [run],
      what: r.what,
      count,
      bytes,
      encoding,
      found,
      txs: undefined,
    });
  },
  encode(w, msg, _pver, encoding) {
    writeBlockHeader(w, msg.header);
    writeParentSubHeader(w, msg.parents);
    writeVerificationSubHeader(w, msg.verification);
    const raw = untouched(msg, encoding);
    if (raw !== undefined) {
      w.varInt(raw.count);
      // One reservation for all the runs: a new buffer grows once, to its exact size.
      w.ensure(raw.bytes);
      for (const run of raw.runs) w.bytes(run.buf.subarray(run.start, run.end));
      return;
    }
    const txs = msg.transactions;
    w.varInt(txs.length);
    writeTxs(w, txs, encoding);
  },
};
