/**
 * The structural pass over a transaction: every length and offset checked,
 * nothing built. A block's transactions are scanned when it is decoded and
 * turned into objects only when they are first read.
 *
 * @module
 */
import type { MessageEncoding } from "./protocol.ts";
import type { Reader } from "./reader.ts";
import { readTx, txSerializeSize } from "./tx.ts";

/** What {@linkcode scanTx} found: the transaction has the BIP 144 marker and flag. */
export const SCAN_WITNESS = 1;
/**
 * What {@linkcode scanTx} found: the transaction's bytes are not what
 * writing it back would give (the marker and flag with every witness stack
 * empty, which soterd accepts and drops when it re-encodes).
 */
export const SCAN_NOT_CANONICAL = 2;
/**
 * What {@linkcode scanTx} returns, when asked for a quick answer, for a
 * transaction it cannot walk without building it: one that runs past the
 * reader's end, or has an uncommon shape (a count or length of three bytes
 * or more, a flag other than 0x01). The reader has not moved.
 */
export const SCAN_INCOMPLETE = -1;

/**
 * Moves `r` past one transaction, with exactly the checks and errors of
 * {@linkcode readTx}. The common shape (one-byte counts and lengths, all
 * bytes present, the witness flag 0x01) is walked here without allocating;
 * anything else is handed to `readTx` from the transaction's start, which
 * either throws its error or reads the transaction.
 *
 * With `quick`, a transaction off the common shape is not handed to
 * `readTx`: the scan returns {@linkcode SCAN_INCOMPLETE} instead, which
 * costs no error when the bytes in hand end inside a transaction.
 *
 * @param r The reader, at the transaction's first byte.
 * @param encoding Whether witness data may be present.
 * @param quick Whether to answer `SCAN_INCOMPLETE` rather than read an
 *   uncommon (or cut) transaction.
 * @returns {@linkcode SCAN_WITNESS} and {@linkcode SCAN_NOT_CANONICAL} as
 * they apply, or 0: a transaction with neither is written back by `writeTx`
 * with any encoding as the very bytes scanned.
 * @throws {MessageError} as `readTx` does.
 */
export function scanTx(r: Reader, encoding: MessageEncoding, quick = false): number {
  const buf = r.buf;
  const end = r.end;
  const start = r.pos;
  let pos = start + 4;
  let ok = pos < end;
  let inputs = ok ? buf[pos++]! : 0;
  let witness = false;
  if (ok && inputs === 0 && encoding === "witness") {
    // Marker, then the flag 0x01 and the real count.
    ok = end - pos >= 2 && buf[pos] === 0x01 && buf[pos + 1]! < 0xfd;
    inputs = ok ? buf[pos + 1]! : 0;
    pos += 2;
    witness = true;
  }
  ok &&= inputs < 0xfd;
  for (let i = 0; ok && i < inputs; i++) {
    // Hash, index, script length, script and sequence.
    const len = end - pos >= 41 ? buf[pos + 36]! : 0xff;
    ok = len < 0xfd && end - pos >= 41 + len;
    pos += 41 + len;
  }
  const outputs = ok && pos < end ? buf[pos++]! : 0xff;
  ok &&= outputs < 0xfd;
  for (let i = 0; ok && i < outputs; i++) {
    // Value, script length and script.
    const len = end - pos >= 9 ? buf[pos + 8]! : 0xff;
    ok = len < 0xfd && end - pos >= 9 + len;
    pos += 9 + len;
  }
  // Written back, a witness transaction keeps its marker only if some stack
  // has an item.
  let items = 0;
  for (let i = 0; ok && witness && i < inputs; i++) {
    const n = pos < end ? buf[pos++]! : 0xff;
    ok = n < 0xfd;
    items |= n;
    for (let j = 0; ok && j < n; j++) {
      // A one-byte length is always within the witness item limit.
      const len = pos < end ? buf[pos]! : 0xff;
      ok = len < 0xfd && end - pos > len;
      pos += 1 + len;
    }
  }
  if (ok && end - pos >= 4) {
    r.pos = pos + 4;
    return witness ? (items === 0 ? SCAN_WITNESS | SCAN_NOT_CANONICAL : SCAN_WITNESS) : 0;
  }
  r.pos = start;
  if (quick) return SCAN_INCOMPLETE;
  const tx = readTx(r, encoding);
  // Off the fast path: decoding rejects non-canonical varints, so the bytes
  // differ from the written-back form only by a dropped marker, which
  // shortens it.
  witness = encoding === "witness" && buf[start + 4] === 0;
  const same = txSerializeSize(tx, encoding) === r.pos - start;
  return (witness ? SCAN_WITNESS : 0) | (same ? 0 : SCAN_NOT_CANONICAL);
}
