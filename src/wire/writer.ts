/**
 * A growable buffer that writes soter wire primitives.
 *
 * @module
 */
import { MessageError } from "./errors.ts";

const textEncoder = new TextEncoder();
const U64_MAX = 0xffff_ffff_ffff_ffffn;
const I64_MIN = -0x8000_0000_0000_0000n;
const I64_MAX = 0x7fff_ffff_ffff_ffffn;

/**
 * Writes little-endian integers, varints, hashes and byte strings into a
 * buffer that grows as needed. Out-of-range values throw
 * {@linkcode MessageError} of kind `invalid-value` instead of wrapping.
 *
 * @example Writing a varint and reading the bytes back
 * ```ts
 * import { Writer } from "@soter/peer";
 * const w = new Writer();
 * w.varInt(300);
 * console.log(w.finish()); // Uint8Array(3) [ 253, 44, 1 ]
 * ```
 */
export class Writer {
  /** The buffer being written; only bytes before {@linkcode Writer.pos} are valid. */
  buf: Uint8Array<ArrayBuffer>;
  /** A view over {@linkcode Writer.buf}. */
  view: DataView<ArrayBuffer>;
  /** Offset of the next byte to write. */
  pos: number;
  /** What is being encoded, used in error messages. */
  what: string;

  /**
   * Creates a writer.
   *
   * @param capacity The initial capacity in bytes.
   * @param what What is being encoded, for error messages.
   */
  constructor(capacity = 256, what = "message") {
    this.buf = new Uint8Array(capacity);
    this.view = new DataView(this.buf.buffer);
    this.pos = 0;
    this.what = what;
  }

  /**
   * Makes room for `n` more bytes.
   *
   * @param n The number of bytes about to be written.
   */
  ensure(n: number): void {
    const need = this.pos + n;
    if (need <= this.buf.length) return;
    // Doubling, or exactly what is needed when that is more: a caller that
    // reserves a whole message's size up front gets a buffer of that size.
    const double = this.buf.length * 2;
    const next = new Uint8Array(need > double ? need : double);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  /**
   * Throws an `invalid-value` error for a field.
   *
   * @param field The field's name.
   * @param detail What is wrong with it.
   */
  invalid(field: string, detail: string): never {
    throw new MessageError(
      "invalid-value",
      `Cannot encode ${this.what}: ${field} ${detail}`,
      { command: this.what },
    );
  }

  /**
   * Writes one byte.
   *
   * @param v An integer from 0 to 255.
   */
  u8(v: number): void {
    if ((v & 0xff) !== v) this.invalid("uint8", `${v} is out of range`);
    this.ensure(1);
    this.buf[this.pos++] = v;
  }

  /**
   * Writes a boolean as 0x01 or 0x00.
   *
   * @param v The value.
   */
  bool(v: boolean): void {
    this.ensure(1);
    this.buf[this.pos++] = v ? 1 : 0;
  }

  /**
   * Writes a little-endian uint16.
   *
   * @param v An integer from 0 to 65535.
   */
  u16(v: number): void {
    if ((v & 0xffff) !== v) this.invalid("uint16", `${v} is out of range`);
    this.ensure(2);
    this.view.setUint16(this.pos, v, true);
    this.pos += 2;
  }

  /**
   * Writes a big-endian uint16 (the port of a network address).
   *
   * @param v An integer from 0 to 65535.
   */
  u16be(v: number): void {
    if ((v & 0xffff) !== v) this.invalid("port", `${v} is out of range`);
    this.ensure(2);
    this.view.setUint16(this.pos, v, false);
    this.pos += 2;
  }

  /**
   * Writes a little-endian uint32.
   *
   * @param v An integer from 0 to 2^32-1.
   */
  u32(v: number): void {
    if (v >>> 0 !== v) this.invalid("uint32", `${v} is out of range`);
    this.ensure(4);
    this.view.setUint32(this.pos, v, true);
    this.pos += 4;
  }

  /**
   * Writes a little-endian int32.
   *
   * @param v An integer from -2^31 to 2^31-1.
   */
  i32(v: number): void {
    if ((v | 0) !== v) this.invalid("int32", `${v} is out of range`);
    this.ensure(4);
    this.view.setInt32(this.pos, v, true);
    this.pos += 4;
  }

  /**
   * Writes a little-endian uint64.
   *
   * @param v A bigint from 0 to 2^64-1.
   */
  u64(v: bigint): void {
    if (typeof v !== "bigint" || v < 0n || v > U64_MAX) {
      this.invalid("uint64", `${v} is out of range`);
    }
    this.ensure(8);
    this.view.setBigUint64(this.pos, v, true);
    this.pos += 8;
  }

  /**
   * Writes a little-endian int64.
   *
   * @param v A bigint from -2^63 to 2^63-1.
   */
  i64(v: bigint): void {
    if (typeof v !== "bigint" || v < I64_MIN || v > I64_MAX) {
      this.invalid("int64", `${v} is out of range`);
    }
    this.ensure(8);
    this.view.setBigInt64(this.pos, v, true);
    this.pos += 8;
  }

  /**
   * Writes raw bytes.
   *
   * @param b The bytes.
   */
  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  /**
   * Writes a 32-byte hash in wire order.
   *
   * @param h The hash; it must be exactly 32 bytes.
   * @param field The field's name, for the error message.
   */
  hash(h: Uint8Array, field = "hash"): void {
    if (h?.length !== 32) {
      this.invalid(field, `must be 32 bytes, got ${h?.length}`);
    }
    this.ensure(32);
    this.buf.set(h, this.pos);
    this.pos += 32;
  }

  /**
   * Writes a variable-length integer in its canonical (shortest) form.
   *
   * @param v A non-negative safe integer.
   */
  varInt(v: number): void {
    if (v < 0xfd && (v >>> 0) === v) {
      this.ensure(1);
      this.buf[this.pos++] = v;
      return;
    }
    if (!Number.isSafeInteger(v) || v < 0) {
      this.invalid("varint", `${v} is not a non-negative safe integer`);
    }
    this.ensure(9);
    if (v <= 0xffff) {
      this.buf[this.pos] = 0xfd;
      this.view.setUint16(this.pos + 1, v, true);
      this.pos += 3;
    } else if (v <= 0xffff_ffff) {
      this.buf[this.pos] = 0xfe;
      this.view.setUint32(this.pos + 1, v, true);
      this.pos += 5;
    } else {
      this.buf[this.pos] = 0xff;
      this.view.setUint32(this.pos + 1, v % 0x1_0000_0000, true);
      this.view.setUint32(this.pos + 5, Math.floor(v / 0x1_0000_0000), true);
      this.pos += 9;
    }
  }

  /**
   * Writes a varint length followed by the bytes.
   *
   * @param b The bytes.
   */
  varBytes(b: Uint8Array): void {
    this.varInt(b.length);
    this.bytes(b);
  }

  /**
   * Writes a varint byte length followed by the UTF-8 bytes of `s`.
   *
   * @param s The string.
   */
  varString(s: string): void {
    let ascii = s.length < 0xfd;
    if (ascii) {
      for (let i = 0; i < s.length; i++) {
        if (s.charCodeAt(i) >= 0x80) {
          ascii = false;
          break;
        }
      }
    }
    if (ascii) {
      this.ensure(1 + s.length);
      this.buf[this.pos++] = s.length;
      for (let i = 0; i < s.length; i++) this.buf[this.pos++] = s.charCodeAt(i);
      return;
    }
    this.varBytes(textEncoder.encode(s));
  }

  /** Returns a copy of the bytes written so far. */
  finish(): Uint8Array<ArrayBuffer> {
    return this.buf.slice(0, this.pos);
  }
}

/**
 * Returns how many bytes the canonical varint encoding of `v` takes.
 *
 * @param v A non-negative integer.
 * @returns 1, 3, 5 or 9.
 */
export function varIntSize(v: number): number {
  if (v < 0xfd) return 1;
  if (v <= 0xffff) return 3;
  if (v <= 0xffff_ffff) return 5;
  return 9;
}
