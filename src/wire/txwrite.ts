/**
 * Writing transactions: their size in each encoding and their bytes, with
 * byte stores for the common shapes and the `Writer`'s checked methods for
 * the rest.
 *
 * @module
 */
import type { MessageEncoding } from "./protocol.ts";
import type { Tx } from "./tx.ts";
import { varIntSize, type Writer } from "./writer.ts";

/**
 * Tells whether any input of `tx` carries witness data.
 *
 * @param tx The transaction.
 * @returns `true` when some input has a non-empty witness stack.
 */
export function txHasWitness(tx: Tx): boolean {
  const txIn = tx.txIn;
  for (let i = 0; i < txIn.length; i++) {
    if (txIn[i]!.witness.length !== 0) return true;
  }
  return false;
}

/**
 * Writes a transaction as soterd's `MsgTx.SotoEncode` does. The marker and
 * flag bytes and the witness stacks are written only with the `"witness"`
 * encoding and only when some input has witness data. Like soterd, the
 * encoder does not apply the decoder's count and size limits.
 *
 * @param w The writer.
 * @param tx The transaction.
 * @param encoding `"witness"` to include witness data, `"base"` to strip it.
 * @throws {MessageError} `invalid-value` when a hash is not 32 bytes or a
 * number is out of range.
 */
export function writeTx(w: Writer, tx: Tx, encoding: MessageEncoding): void {
  // writeTx runs once per transaction of every block, so a transaction whose
  // fields are all in range and whose counts and lengths take a one-byte
  // varint is written by byte stores (writeTxAt), once there is room for it:
  // first in the room the writer has, else after making room for its exact
  // size. Anything else goes through the Writer's checked methods, which
  // throw exactly their errors.
  if (writeIfRoom(w, tx, encoding)) return;
  w.ensure(sizeOf(tx, encoding));
  if (!writeIfRoom(w, tx, encoding)) writeTxChecked(w, tx, encoding === "witness" && txHasWitness(tx));
}

/**
 * Writes transactions one after another as {@linkcode writeTx} does, but
 * computes no size while the writer has room: the first time a
 * transaction does not fit, it reserves what all the rest need at once (a
 * block encoded into a reused buffer never sizes its transactions; into a
 * new one, the buffer grows once, to its exact size).
 *
 * @param w The writer.
 * @param txs The transactions.
 * @param encoding `"witness"` to include witness data, `"base"` to strip it.
 * @throws {MessageError} as `writeTx` does.
 */
export function writeTxs(w: Writer, txs: readonly Tx[], encoding: MessageEncoding): void {
  let i = 0;
  while (i < txs.length && writeIfRoom(w, txs[i]!, encoding)) i++;
  if (i === txs.length) return;
  let rest = 0;
  for (let j = i; j < txs.length; j++) rest += sizeOf(txs[j]!, encoding);
  w.ensure(rest);
  for (; i < txs.length; i++) writeTx(w, txs[i]!, encoding);
}

/**
 * Writes `tx` at the writer's position if the writer has room for it: by
 * byte stores, or through the checked methods when a field is off their
 * path. Returns false, the position unmoved, when there is no room.
 */
function writeIfRoom(w: Writer, tx: Tx, encoding: MessageEncoding): boolean {
  const witness = encoding === "witness" && txHasWitness(tx);
  const end = tryWriteTxAt(w, tx, witness);
  if (end === NO_ROOM) return false;
  if (end >= 0) w.pos = end;
  else writeTxChecked(w, tx, witness);
  return true;
}

/** The size of `tx`, or 0 when it is too malformed to size (its write then reports it). */
function sizeOf(tx: Tx, encoding: MessageEncoding): number {
  try {
    return txSerializeSize(tx, encoding);
  } catch {
    return 0;
  }
}

/** Writes `tx` at the writer's position through its checked methods (the path off `writeTxAt`'s). */
function writeTxChecked(w: Writer, tx: Tx, witness: boolean): void {
  const txIn = tx.txIn;
  const txOut = tx.txOut;
  w.i32(tx.version);
  if (witness) {
    w.u8(0x00); // marker
    w.u8(0x01); // flag
  }
  w.varInt(txIn.length);
  for (let i = 0; i < txIn.length; i++) {
    const input = txIn[i]!;
    w.hash(input.previousOutPoint?.hash, "previous outpoint hash");
    w.u32(input.previousOutPoint.index);
    w.varBytes(input.signatureScript);
    w.u32(input.sequence);
  }
  w.varInt(txOut.length);
  for (let i = 0; i < txOut.length; i++) {
    w.i64(txOut[i]!.value);
    w.varBytes(txOut[i]!.pkScript);
  }
  if (witness) {
    for (let i = 0; i < txIn.length; i++) {
      const stack = txIn[i]!.witness;
      w.varInt(stack.length);
      for (let j = 0; j < stack.length; j++) w.varBytes(stack[j]!);
    }
  }
  w.u32(tx.lockTime);
}

/** What {@linkcode tryWriteTxAt} returns when the writer's buffer is too small. */
const NO_ROOM = -2;

/**
 * Writes `tx` at the writer's position with {@linkcode writeTxAt}, without
 * moving it, and returns where the transaction ends; or -1 when a field is
 * off the fast path, or `NO_ROOM`.
 */
function tryWriteTxAt(w: Writer, tx: Tx, witness: boolean): number {
  const buf = w.buf;
  let end: number;
  try {
    end = writeTxAt(buf, w.view, w.pos, tx, witness);
  } catch (err) {
    // `set` past the end of the buffer; anything else (not a transaction)
    // is left to the checked path to report.
    return err instanceof RangeError ? NO_ROOM : -1;
  }
  return end > buf.length ? NO_ROOM : end;
}

/**
 * Writes `tx` at `pos` of `buf` (and `view`, over the same bytes) when all
 * its fields are on the fast path, and returns where it ends; returns -1,
 * having written some bytes, when one is not. Byte stores past the end of
 * `buf` are dropped (the return value then exceeds its length) and a longer
 * field throws a `RangeError`: the room is the caller's to check.
 *
 * @param buf The buffer.
 * @param view A view over `buf`'s bytes.
 * @param pos Where to write.
 * @param tx The transaction.
 * @param witness Whether to write the marker, the flag and the witness data.
 * @returns The offset after the transaction, or -1.
 */
export function writeTxAt(buf: Uint8Array, view: DataView, pos: number, tx: Tx, witness: boolean): number {
  const txIn = tx.txIn;
  const txOut = tx.txOut;
  const nIn = txIn.length;
  const nOut = txOut.length;
  const version = tx.version;
  if ((version | 0) !== version || nIn >= 0xfd || nOut >= 0xfd) return -1;
  pos = u32At(buf, pos, version);
  if (witness) {
    buf[pos++] = 0x00; // marker
    buf[pos++] = 0x01; // flag
  }
  buf[pos++] = nIn;
  for (let i = 0; i < nIn; i++) {
    const input = txIn[i]!;
    const outPoint = input.previousOutPoint;
    const hash = outPoint.hash;
    const index = outPoint.index;
    const script = input.signatureScript;
    const sequence = input.sequence;
    const len = script.length;
    if (hash?.length !== 32 || index >>> 0 !== index || len >= 0xfd || sequence >>> 0 !== sequence) return -1;
    buf.set(hash, pos);
    pos = u32At(buf, pos + 32, index);
    buf[pos++] = len;
    pos = put(buf, pos, script, len);
    pos = u32At(buf, pos, sequence);
  }
  buf[pos++] = nOut;
  for (let i = 0; i < nOut; i++) {
    const output = txOut[i]!;
    const value = output.value;
    const script = output.pkScript;
    const len = script.length;
    if (typeof value !== "bigint" || value < I64_MIN || value > I64_MAX || len >= 0xfd) return -1;
    view.setBigInt64(pos, value, true);
    buf[pos + 8] = len;
    pos = put(buf, pos + 9, script, len);
  }
  if (witness) {
    for (let i = 0; i < nIn; i++) {
      const stack = txIn[i]!.witness;
      const items = stack.length;
      if (items >= 0xfd) return -1;
      buf[pos++] = items;
      for (let j = 0; j < items; j++) {
        const item = stack[j]!;
        const len = item.length;
        if (len >= 0xfd) return -1;
        buf[pos++] = len;
        pos = put(buf, pos, item, len);
      }
    }
  }
  const lockTime = tx.lockTime;
  if (lockTime >>> 0 !== lockTime) return -1;
  return u32At(buf, pos, lockTime);
}

const I64_MIN = -0x8000_0000_0000_0000n;
const I64_MAX = 0x7fff_ffff_ffff_ffffn;

/** Stores `v` (an int32 or a uint32) little-endian at `pos`; returns the next position. */
function u32At(buf: Uint8Array, pos: number, v: number): number {
  buf[pos] = v;
  buf[pos + 1] = v >>> 8;
  buf[pos + 2] = v >>> 16;
  buf[pos + 3] = v >>> 24;
  return pos + 4;
}

/**
 * Copies `n` bytes of `src` to `pos` and returns the next position: short
 * fields byte by byte (a `set` call costs more than the loop for them),
 * longer ones by `set`.
 */
function put(buf: Uint8Array, pos: number, src: Uint8Array, n: number): number {
  if (n > 16) buf.set(src, pos);
  else for (let i = 0; i < n; i++) buf[pos + i] = src[i]!;
  return pos + n;
}

/**
 * Returns how many bytes `writeTx` writes for `tx`: soterd's
 * `SerializeSize` with the `"witness"` encoding and `SerializeSizeStripped`
 * with `"base"`.
 *
 * @param tx The transaction.
 * @param encoding The encoding; `"witness"` when omitted.
 * @returns The size in bytes.
 */
export function txSerializeSize(
  tx: Tx,
  encoding: MessageEncoding = "witness",
): number {
  const txIn = tx.txIn;
  const txOut = tx.txOut;
  let n = 8 + varIntSize(txIn.length) + varIntSize(txOut.length);
  for (let i = 0; i < txIn.length; i++) {
    const len = txIn[i]!.signatureScript.length;
    n += 40 + varIntSize(len) + len;
  }
  for (let i = 0; i < txOut.length; i++) {
    const len = txOut[i]!.pkScript.length;
    n += 8 + varIntSize(len) + len;
  }
  if (encoding === "witness" && txHasWitness(tx)) {
    n += 2;
    for (let i = 0; i < txIn.length; i++) {
      const stack = txIn[i]!.witness;
      n += varIntSize(stack.length);
      for (let j = 0; j < stack.length; j++) {
        const len = stack[j]!.length;
        n += varIntSize(len) + len;
      }
    }
  }
  return n;
}
