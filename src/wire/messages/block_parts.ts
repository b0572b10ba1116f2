/**
 * Decoding a block from the chunks it arrived in, without joining them into
 * one buffer first.
 *
 * A block is the one message that routinely spans many socket chunks, and
 * joining a 1.5 MB block means writing it into memory the process has not
 * touched lately, which costs more than decoding it (the kernel faults the
 * pages in). Here the header and sub-headers are read from the first bytes,
 * each transaction that lies within one chunk is scanned where it is, and
 * only a transaction that straddles two chunks is copied, into a buffer of
 * its own size.
 *
 * @module
 */
import { readBlockHeader } from "../blockheader.ts";
import { readParentSubHeader } from "../parentsubheader.ts";
import { MessageError } from "../errors.ts";
import type { MessageEncoding } from "../protocol.ts";
import { Reader } from "../reader.ts";
import { SCAN_INCOMPLETE, scanTx } from "../txscan.ts";
import { readVerificationSubHeader } from "../verificationsubheader.ts";
import { type BlockMessage, lazyBlock, MAX_TX_PER_BLOCK, type TxRun } from "./block.ts";

/** The first bytes taken for the header, the sub-headers and the count (doubled while they do not fit). */
const PREFIX = 2048;
/** The least taken for a transaction that straddles chunks (doubled while it does not fit). */
const JOINT = 1024;
/**
 * A transaction the quick scan cannot walk that starts at least this far
 * from its part's end is read where it is (an uncommon shape, such as a
 * script of 253 bytes or more); nearer the end, it is taken to straddle
 * parts and read from a copy. So a block of uncommon transactions costs no
 * copy but of those near a part's end (at most a few kilobytes a part),
 * and a common one straddling parts costs no error thrown and caught.
 */
const NEAR_END = 1024;

/**
 * Decodes the `block` payload made of `parts`, in order, `length` bytes in
 * all. Byte fields and transactions are views of the parts (or of the copy
 * of a transaction that straddles two), so the parts must stay unchanged.
 *
 * Anything that does not decode here (a malformed block, above all) is
 * left to the one-buffer decoder, which reports it with the exact error of
 * soterd's order: this returns `undefined` and the caller joins the parts.
 *
 * @param parts The payload's bytes, in order.
 * @param length Their total length.
 * @param encoding Whether witness data may be present.
 * @returns The block, or `undefined` to decode the joined parts instead.
 */
export function decodeBlockParts(
  parts: readonly Uint8Array[],
  length: number,
  encoding: MessageEncoding,
): BlockMessage | undefined {
  const at = new PartCursor(parts, length);
  // The header, sub-headers and transaction count.
  let r: Reader;
  let head: Omit<BlockMessage, "command" | "transactions"> & { count: number };
  for (let n = Math.min(PREFIX, length);; n = Math.min(n * 2, length)) {
    // Always a copy: the header's byte fields are views of it, and a view of
    // a chunk would let code that looks past the header into the chunk's
    // memory (see `blockPayload`) take what follows in the chunk for the
    // block.
    r = new Reader(at.peek(n, true), "block");
    try {
      head = {
        header: readBlockHeader(r),
        parents: readParentSubHeader(r),
        verification: readVerificationSubHeader(r),
        count: r.count(MAX_TX_PER_BLOCK, "transaction"),
      };
      break;
    } catch (err) {
      if (n === length || !cutShort(err)) return undefined;
    }
  }
  at.skip(r.pos);
  const txStart = at.consumed;
  const { count } = head;
  const runs: TxRun[] = [];
  let done = 0;
  let found = 0;
  while (done < count) {
    // As many whole transactions as the current part holds, where they are.
    const buf = at.part;
    const start = at.offset;
    const pr = new Reader(buf, "block");
    pr.pos = start;
    let n = 0;
    for (; done + n < count; n++) {
      let f = scanTx(pr, encoding, true);
      if (f === SCAN_INCOMPLETE) {
        if (buf.length - pr.pos < NEAR_END) break;
        const from = pr.pos;
        try {
          f = scanTx(pr, encoding);
        } catch {
          // A large transaction that straddles parts, or a malformed one.
          pr.pos = from;
          break;
        }
      }
      found |= f;
    }
    const end = pr.pos;
    if (n > 0) {
      runs.push({ buf, start, end, count: n });
      done += n;
      at.skip(end - start);
      if (done === count) break;
    }
    // The next one straddles parts (or is malformed): read from a copy of
    // its bytes across the parts, at most about twice its size.
    for (let size = Math.min(Math.max(JOINT, 2 * (buf.length - end)), at.left);; size = Math.min(size * 2, at.left)) {
      const joint = new Reader(at.peek(size), "block");
      try {
        found |= scanTx(joint, encoding);
      } catch (err) {
        if (size === at.left || !cutShort(err)) return undefined;
        continue;
      }
      runs.push({ buf: joint.buf, start: 0, end: joint.pos, count: 1 });
      done++;
      at.skip(joint.pos);
      break;
    }
  }
  return lazyBlock(head.header, head.parents, head.verification, {
    runs,
    what: "block",
    count,
    bytes: at.consumed - txStart,
    encoding,
    found,
    txs: undefined,
  });
}

/**
 * Whether `err` says the bytes in hand ended too soon, so that more of them
 * may read. Any other error ends decoding from the parts at once: the
 * one-buffer decoder reports it.
 */
function cutShort(err: unknown): boolean {
  return err instanceof MessageError && err.kind === "truncated";
}

/** A position in a sequence of parts. */
class PartCursor {
  readonly #parts: readonly Uint8Array[];
  #index = 0;
  /** The offset in the current part. */
  offset = 0;
  /** Bytes after the position. */
  left: number;
  /** Bytes before the position. */
  consumed = 0;

  constructor(parts: readonly Uint8Array[], length: number) {
    this.#parts = parts;
    this.left = length;
    this.#settle();
  }

  /** The part the position is in (empty at the end). */
  get part(): Uint8Array {
    return this.#parts[this.#index] ?? EMPTY;
  }

  /** The next `n` bytes: a view when they lie in one part (unless `copy`), a copy otherwise. */
  peek(n: number, copy = false): Uint8Array {
    const part = this.part;
    if (!copy && part.length - this.offset >= n) return part.subarray(this.offset, this.offset + n);
    const out = new Uint8Array(n);
    let filled = 0;
    for (let i = this.#index, from = this.offset; filled < n; i++, from = 0) {
      const p = this.#parts[i]!;
      const take = Math.min(n - filled, p.length - from);
      out.set(p.subarray(from, from + take), filled);
      filled += take;
    }
    return out;
  }

  /** Moves the position `n` bytes on. */
  skip(n: number): void {
    this.left -= n;
    this.consumed += n;
    this.offset += n;
    this.#settle();
  }

  /** Moves from the end of a part to the start of the next. */
  #settle(): void {
    const parts = this.#parts;
    while (this.#index < parts.length && this.offset >= parts[this.#index]!.length) {
      this.offset -= parts[this.#index]!.length;
      this.#index++;
    }
  }
}

const EMPTY = new Uint8Array(0);
