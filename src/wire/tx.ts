/**
 * Transactions: their wire form (with and without BIP 144 witness data),
 * sizes, and the txid and wtxid hashes.
 *
 * @module
 */
import { defaultHasher, type Hasher } from "../hash/hasher.ts";
import { MessageError } from "./errors.ts";
import { MAX_MESSAGE_PAYLOAD, type MessageEncoding } from "./protocol.ts";
import type { Reader } from "./reader.ts";
import { writeTx } from "./txwrite.ts";
import { Writer } from "./writer.ts";

/** The largest signature or public key script the decoder accepts (32 MiB). */
export const MAX_SCRIPT_SIZE: number = MAX_MESSAGE_PAYLOAD;

/**
 * The most inputs a transaction may declare: 32 MiB over the 41-byte
 * minimum input, plus one (soterd's `maxTxInPerMessage`).
 */
export const MAX_TX_IN_PER_MESSAGE: number = Math.floor(MAX_MESSAGE_PAYLOAD / 41) + 1;

/**
 * The most outputs a transaction may declare: 32 MiB over the 9-byte
 * minimum output, plus one (soterd's `maxTxOutPerMessage`).
 */
export const MAX_TX_OUT_PER_MESSAGE: number = Math.floor(MAX_MESSAGE_PAYLOAD / 9) + 1;

/** The most witness items one input may declare (soterd's `maxWitnessItemsPerInput`). */
export const MAX_WITNESS_ITEMS_PER_INPUT = 500_000;

/** The largest witness item the decoder accepts, in bytes (soterd's `maxWitnessItemSize`). */
export const MAX_WITNESS_ITEM_SIZE = 11_000;

/** A reference to an output of an earlier transaction. */
export interface OutPoint {
  /** The txid of the transaction holding the output, 32 bytes in wire order. */
  hash: Uint8Array;
  /** The output's index (uint32; 0xffffffff in a coinbase). */
  index: number;
}

/** A transaction input. */
export interface TxIn {
  /** The output being spent. */
  previousOutPoint: OutPoint;
  /** The signature script. */
  signatureScript: Uint8Array;
  /**
   * The witness stack, one byte string per item. Empty for an input without
   * witness data, and always empty after decoding with the base encoding.
   */
  witness: Uint8Array[];
  /** The sequence number (uint32). */
  sequence: number;
}

/** A transaction output. */
export interface TxOut {
  /** The amount (int64). */
  value: bigint;
  /** The public key script. */
  pkScript: Uint8Array;
}

/**
 * A transaction. Decoded byte fields (hashes, scripts, witness items) are
 * views into the decoded buffer, not copies.
 */
export interface Tx {
  /** The transaction version (int32). */
  version: number;
  /** The inputs. */
  txIn: TxIn[];
  /** The outputs. */
  txOut: TxOut[];
  /** The lock time (uint32). */
  lockTime: number;
}

// The witness stacks of a witness transaction are read after its outputs;
// until then its inputs hold this placeholder, which readTx replaces with a
// fresh array for every input before it returns (it is never handed out).
const NOT_READ_YET: Uint8Array[] = [];

function tooMany(r: Reader, field: string, n: number, max: number): never {
  throw new MessageError(
    "too-many-entries",
    `Cannot decode ${r.what}: ${field} count ${n} exceeds ${max}`,
    { command: r.what },
  );
}

/**
 * Reads a transaction as soterd's `MsgTx.SotoDecode` does.
 *
 * With the `"witness"` encoding an input count of 0 is taken as the BIP 144
 * marker: the next byte must be the flag 0x01, then the real input count
 * follows and, after the outputs, one witness stack per input. With the
 * `"base"` encoding there is never witness data. Inputs, outputs and
 * witness items are read one by one, so a forged count fails with
 * `truncated` when the bytes run out instead of allocating for it.
 *
 * @param r The reader.
 * @param encoding Whether witness data may be present.
 * @returns The transaction; its byte fields are views into the reader's buffer.
 * @throws {MessageError} `truncated`; `non-canonical-varint`;
 * `bad-witness-flag` (flag byte not 0x01); `too-many-entries` (more than
 * {@linkcode MAX_TX_IN_PER_MESSAGE} inputs, {@linkcode MAX_TX_OUT_PER_MESSAGE}
 * outputs or {@linkcode MAX_WITNESS_ITEMS_PER_INPUT} witness items);
 * `too-large` (a script over 32 MiB or a witness item over
 * {@linkcode MAX_WITNESS_ITEM_SIZE} bytes).
 *
 * @example Decoding a transaction without inputs or outputs
 * ```ts
 * import { Reader, readTx } from "@soter/peer";
 * const bytes = new Uint8Array([1, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
 * const tx = readTx(new Reader(bytes), "base");
 * console.log(tx.version, tx.txIn.length); // 1 0
 * ```
 */
export function readTx(r: Reader, encoding: MessageEncoding): Tx {
  // readTx runs once per transaction of every block, so the Reader's calls
  // are inlined by hand: the cursor lives in `pos`, views are made with
  // `r.viewAt`, and each input, output and witness item takes a
  // fast path when its varint is one byte and all its bytes are present.
  // Otherwise the cursor is written back (`r.pos = pos`) and the Reader's
  // own methods read that element, so every error is exactly theirs.
  const buf = r.buf;
  const view = r.view;
  const end = r.end;
  let pos = r.pos;

  if (end - pos < 4) {
    r.pos = pos;
    r.truncated(4);
  }
  const version = view.getInt32(pos, true);
  pos += 4;
  let count: number;
  if (pos < end && buf[pos]! < 0xfd) count = buf[pos++]!;
  else {
    r.pos = pos;
    count = r.varInt();
    pos = r.pos;
  }
  let witness = false;
  if (count === 0 && encoding === "witness") {
    r.pos = pos;
    const flag = r.u8();
    if (flag !== 0x01) {
      throw new MessageError(
        "bad-witness-flag",
        `Cannot decode ${r.what}: witness marker is followed by flag byte 0x${
          flag.toString(16).padStart(2, "0")
        }, expected 0x01`,
        { command: r.what },
      );
    }
    witness = true;
    count = r.varInt();
    pos = r.pos;
  }
  if (count > MAX_TX_IN_PER_MESSAGE) {
    r.pos = pos;
    tooMany(r, "input", count, MAX_TX_IN_PER_MESSAGE);
  }
  // Arrays of their exact size (a push-grown array reserves 17 slots), but
  // only for counts the remaining bytes can hold: a forged count still
  // fails with `truncated` without allocating for it.
  const txIn: TxIn[] = count * 41 <= end - pos ? new Array(count) : [];
  for (let i = 0; i < count; i++) {
    // Hash, index, script length, script and sequence.
    const len = end - pos >= 41 ? buf[pos + 36]! : 0xff;
    if (len < 0xfd && end - pos >= 41 + len) {
      txIn[i] = {
        previousOutPoint: { hash: r.viewAt(pos, 32), index: view.getUint32(pos + 32, true) },
        signatureScript: r.viewAt(pos + 37, len),
        witness: witness ? NOT_READ_YET : [],
        sequence: view.getUint32(pos + 37 + len, true),
      };
      pos += 41 + len;
    } else {
      r.pos = pos;
      const hash = r.hash();
      const index = r.u32();
      const signatureScript = r.varBytes(MAX_SCRIPT_SIZE, "signature script");
      txIn[i] = {
        previousOutPoint: { hash, index },
        signatureScript,
        witness: witness ? NOT_READ_YET : [],
        sequence: r.u32(),
      };
      pos = r.pos;
    }
  }

  if (pos < end && buf[pos]! < 0xfd) count = buf[pos++]!;
  else {
    r.pos = pos;
    count = r.varInt();
    pos = r.pos;
  }
  if (count > MAX_TX_OUT_PER_MESSAGE) {
    r.pos = pos;
    tooMany(r, "output", count, MAX_TX_OUT_PER_MESSAGE);
  }
  const txOut: TxOut[] = count * 9 <= end - pos ? new Array(count) : [];
  for (let i = 0; i < count; i++) {
    // Value, script length and script.
    const len = end - pos >= 9 ? buf[pos + 8]! : 0xff;
    if (len < 0xfd && end - pos >= 9 + len) {
      txOut[i] = {
        value: view.getBigInt64(pos, true),
        pkScript: r.viewAt(pos + 9, len),
      };
      pos += 9 + len;
    } else {
      r.pos = pos;
      const value = r.i64();
      txOut[i] = { value, pkScript: r.varBytes(MAX_SCRIPT_SIZE, "pk script") };
      pos = r.pos;
    }
  }

  if (witness) {
    for (let i = 0; i < txIn.length; i++) {
      let items: number;
      if (pos < end && buf[pos]! < 0xfd) items = buf[pos++]!;
      else {
        r.pos = pos;
        items = r.varInt();
        pos = r.pos;
      }
      if (items > MAX_WITNESS_ITEMS_PER_INPUT) {
        r.pos = pos;
        tooMany(r, "witness item", items, MAX_WITNESS_ITEMS_PER_INPUT);
      }
      const stack: Uint8Array[] = items <= end - pos ? new Array(items) : [];
      for (let j = 0; j < items; j++) {
        // 0xfd > MAX_WITNESS_ITEM_SIZE is not possible, so a one-byte
        // length is always within the limit.
        const len = pos < end ? buf[pos]! : 0xff;
        if (len < 0xfd && end - pos > len) {
          stack[j] = r.viewAt(pos + 1, len);
          pos += 1 + len;
        } else {
          r.pos = pos;
          stack[j] = r.varBytes(MAX_WITNESS_ITEM_SIZE, "witness item");
          pos = r.pos;
        }
      }
      txIn[i]!.witness = stack;
    }
  }

  if (end - pos < 4) {
    r.pos = pos;
    r.truncated(4);
  }
  const lockTime = view.getUint32(pos, true);
  r.pos = pos + 4;
  return { version, txIn, txOut, lockTime };
}

export { txHasWitness, txSerializeSize, writeTx, writeTxs } from "./txwrite.ts";

// Reused by the hash functions (the hasher is synchronous); replaced after
// an unusually large transaction so that its buffer is not kept forever.
const SCRATCH_KEEP = 64 * 1024;
let scratch = new Writer(1024, "tx");

function hashSerialized(
  tx: Tx,
  encoding: MessageEncoding,
  hasher: Hasher,
): Uint8Array {
  const w = scratch;
  w.pos = 0;
  try {
    writeTx(w, tx, encoding);
    return hasher.doubleSha256(w.buf.subarray(0, w.pos));
  } finally {
    if (w.buf.length > SCRATCH_KEEP) scratch = new Writer(1024, "tx");
  }
}

/**
 * Computes a transaction's id (txid): the double SHA-256 of its base
 * serialization, without witness data.
 *
 * @param tx The transaction.
 * @param hasher The SHA-256 provider; the process default when omitted.
 * @returns The 32-byte txid in wire order (print it with `hashToHex`).
 *
 * @example
 * ```ts
 * import { hashToHex, txHash } from "@soter/peer";
 * const tx = { version: 1, txIn: [], txOut: [], lockTime: 0 };
 * console.log(hashToHex(txHash(tx)));
 * ```
 */
export function txHash(tx: Tx, hasher: Hasher = defaultHasher()): Uint8Array {
  return hashSerialized(tx, "base", hasher);
}

/**
 * Computes a transaction's witness id (wtxid): the double SHA-256 of its
 * witness serialization. It equals the txid when no input has witness data.
 *
 * @param tx The transaction.
 * @param hasher The SHA-256 provider; the process default when omitted.
 * @returns The 32-byte wtxid in wire order.
 */
export function txWitnessHash(
  tx: Tx,
  hasher: Hasher = defaultHasher(),
): Uint8Array {
  return hashSerialized(tx, "witness", hasher);
}
