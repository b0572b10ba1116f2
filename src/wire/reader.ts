/**
 * A cursor over one `Uint8Array` that reads soter wire primitives.
 *
 * @module
 */
import { MAX_MESSAGE_PAYLOAD } from "./protocol.ts";
import { EMPTY_BYTES } from "./_internal.ts";
import { MessageError } from "./errors.ts";

const textDecoder = new TextDecoder("utf-8", { ignoreBOM: true });

/**
 * Reads little-endian integers, varints, hashes and byte strings from a
 * buffer, throwing {@linkcode MessageError} on truncation or a
 * non-canonical varint. Byte strings and hashes are returned as views into
 * the buffer, not copies.
 *
 * @example Reading a varint-prefixed string
 * ```ts
 * import { Reader } from "@soter/peer";
 * const r = new Reader(new Uint8Array([2, 0x68, 0x69]));
 * console.log(r.varString()); // "hi"
 * ```
 */
export class Reader {
  /** The bytes being read. */
  readonly buf: Uint8Array;
  /** A view over {@linkcode Reader.buf} for multi-byte reads. */
  readonly view: DataView;
  // For viewAt: the buffer under `buf` and where `buf` starts in it (the
  // `buffer` getter is slow on V8), and whether `buf` is a plain Uint8Array
  // rather than a subclass such as Node's Buffer.
  readonly #ab: ArrayBufferLike;
  readonly #off: number;
  readonly #plain: boolean;
  /** Offset of the next byte to read. */
  pos: number;
  /** Offset one past the last readable byte. */
  readonly end: number;
  /** What is being decoded, used in error messages (e.g. `"tx"`). */
  what: string;

  /**
   * Creates a reader over `buf`.
   *
   * @param buf The bytes to read.
   * @param what What is being decoded, for error messages.
   */
  constructor(buf: Uint8Array, what = "message") {
    const ab = buf.buffer;
    const off = buf.byteOffset;
    this.buf = buf;
    this.view = new DataView(ab, off, buf.byteLength);
    this.#ab = ab;
    this.#off = off;
    this.#plain = buf.constructor === Uint8Array;
    this.pos = 0;
    this.end = buf.byteLength;
    this.what = what;
  }

  /** Number of bytes not read yet. */
  get remaining(): number {
    return this.end - this.pos;
  }

  /**
   * Throws a `truncated` error unless `n` more bytes are available.
   *
   * @param n The number of bytes the next element needs.
   */
  need(n: number): void {
    if (this.end - this.pos < n) this.truncated(n);
  }

  /**
   * Throws the `truncated` error for an element of `n` bytes.
   *
   * @param n The number of bytes the element needed.
   */
  truncated(n: number): never {
    const left = this.end - this.pos;
    throw new MessageError(
      "truncated",
      `Cannot decode ${this.what}: input ends ${
        left === 0 ? "at" : "inside"
      } an element at byte ${this.pos}, which needs ${n} bytes but ${left} remain`,
      { command: this.what },
    );
  }

  /** Reads one byte. */
  u8(): number {
    if (this.pos >= this.end) this.truncated(1);
    return this.buf[this.pos++]!;
  }

  /** Reads a byte as a boolean: any non-zero value is `true`, as in soterd. */
  bool(): boolean {
    return this.u8() !== 0;
  }

  /** Reads a little-endian uint16. */
  u16(): number {
    if (this.end - this.pos < 2) this.truncated(2);
    const v = this.view.getUint16(this.pos, true);
    this.pos += 2;
    return v;
  }

  /** Reads a big-endian uint16 (the port of a network address). */
  u16be(): number {
    if (this.end - this.pos < 2) this.truncated(2);
    const v = this.view.getUint16(this.pos, false);
    this.pos += 2;
    return v;
  }

  /** Reads a little-endian uint32. */
  u32(): number {
    if (this.end - this.pos < 4) this.truncated(4);
    const v = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }

  /** Reads a little-endian int32. */
  i32(): number {
    if (this.end - this.pos < 4) this.truncated(4);
    const v = this.view.getInt32(this.pos, true);
    this.pos += 4;
    return v;
  }

  /** Reads a little-endian uint64 as a `bigint`. */
  u64(): bigint {
    if (this.end - this.pos < 8) this.truncated(8);
    const v = this.view.getBigUint64(this.pos, true);
    this.pos += 8;
    return v;
  }

  /** Reads a little-endian int64 as a `bigint`. */
  i64(): bigint {
    if (this.end - this.pos < 8) this.truncated(8);
    const v = this.view.getBigInt64(this.pos, true);
    this.pos += 8;
    return v;
  }

  /**
   * Returns a view of `n` bytes of the buffer from `offset`, without moving
   * the cursor. The view has the class of {@linkcode Reader.buf} (a
   * `Buffer` for a `Buffer`); an empty view of a plain `Uint8Array` is one
   * shared, frozen empty array.
   *
   * @param offset Where the bytes start in {@linkcode Reader.buf}.
   * @param n The number of bytes.
   * @throws {RangeError} when the bytes are not all within the readable range.
   */
  viewAt(offset: number, n: number): Uint8Array {
    if (offset < 0 || n < 0 || n > this.end - offset) {
      throw new RangeError(`Cannot view ${n} bytes at ${offset} of a ${this.end}-byte reader`);
    }
    if (!this.#plain) return this.buf.subarray(offset, offset + n);
    // `new Uint8Array(buffer, offset, length)` is about twice as fast as
    // `subarray` on V8 (no species lookup) and as fast on JavaScriptCore;
    // sharing the empty array spares an allocation per empty script.
    return n === 0 ? EMPTY_BYTES : new Uint8Array(this.#ab, this.#off + offset, n);
  }

  /**
   * Reads `n` bytes and returns a view into the buffer (no copy), as
   * {@linkcode Reader.viewAt} makes it.
   *
   * @param n The number of bytes.
   */
  bytes(n: number): Uint8Array {
    if (this.end - this.pos < n) this.truncated(n);
    const start = this.pos;
    this.pos = start + n;
    return this.viewAt(start, n);
  }

  /** Reads a 32-byte hash in wire order and returns a view into the buffer. */
  hash(): Uint8Array {
    if (this.end - this.pos < 32) this.truncated(32);
    const start = this.pos;
    this.pos = start + 32;
    return this.viewAt(start, 32);
  }

  /**
   * Reads a variable-length integer, rejecting non-canonical encodings as
   * soterd does. Values above 2^53 lose precision but stay above every limit.
   */
  varInt(): number {
    if (this.pos >= this.end) this.truncated(1);
    const d = this.buf[this.pos++]!;
    if (d < 0xfd) return d;
    let v: number;
    let min: number;
    if (d === 0xfd) {
      v = this.u16();
      min = 0xfd;
    } else if (d === 0xfe) {
      v = this.u32();
      min = 0x10000;
    } else {
      if (this.end - this.pos < 8) this.truncated(8);
      v = this.view.getUint32(this.pos, true) +
        this.view.getUint32(this.pos + 4, true) * 0x1_0000_0000;
      this.pos += 8;
      min = 0x1_0000_0000;
    }
    if (v < min) {
      throw new MessageError(
        "non-canonical-varint",
        `Cannot decode ${this.what}: varint ${v} is encoded with discriminant 0x${
          d.toString(16)
        }, which must encode a value of at least ${min}`,
        { command: this.what },
      );
    }
    return v;
  }

  /**
   * Reads a varint count and checks it against `max`.
   *
   * @param max The largest count allowed.
   * @param field What is counted, for the error message.
   */
  count(max: number, field: string): number {
    const n = this.varInt();
    if (n > max) {
      throw new MessageError(
        "too-many-entries",
        `Cannot decode ${this.what}: ${field} count ${n} exceeds ${max}`,
        { command: this.what },
      );
    }
    return n;
  }

  /**
   * Reads a varint-prefixed byte string of at most `max` bytes, as a view.
   *
   * @param max The largest length allowed.
   * @param field The field's name, for the error message.
   */
  varBytes(max: number, field: string): Uint8Array {
    const n = this.varInt();
    if (n > max) {
      throw new MessageError(
        "too-large",
        `Cannot decode ${this.what}: ${field} is ${n} bytes, more than the ${max} allowed`,
        { command: this.what },
      );
    }
    return this.bytes(n);
  }

  /**
   * Reads a varint-prefixed UTF-8 string of at most 32 MiB. Invalid UTF-8
   * becomes U+FFFD.
   *
   * @param max The largest length in bytes allowed.
   * @param field The field's name, for the error message.
   */
  varString(max = MAX_MESSAGE_PAYLOAD, field = "string"): string {
    const b = this.varBytes(max, field);
    let ascii = b.length <= 64;
    if (ascii) {
      for (let i = 0; i < b.length; i++) {
        if (b[i]! >= 0x80) {
          ascii = false;
          break;
        }
      }
    }
    return ascii ? String.fromCharCode.apply(null, b as unknown as number[]) : textDecoder.decode(b);
  }
}
