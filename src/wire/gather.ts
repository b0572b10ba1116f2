/**
 * The parts of a payload that spans chunks, gathered as they arrive.
 *
 * @module
 */
import { type DecodedFrame, MESSAGE_HEADER_SIZE } from "./frame.ts";
import type { Message } from "./message.ts";

/**
 * Parts of at least this many bytes are kept as they are (views of the
 * chunks given); shorter ones are copied into buffers of `SMALL_PARTS`
 * bytes, so that a remote sending a byte at a time costs a byte a byte, not
 * an object.
 */
const MIN_PIECE = 4096;
const SMALL_PARTS = 16 * 1024;

/**
 * A payload that spans chunks, as the parts that arrived: nothing is held
 * beyond what the remote sent (a header alone must not make us hold the
 * 32 MiB it may declare), and nothing is copied but short parts.
 */
export class PayloadParts {
  #pieces: Uint8Array[] = [];
  #small: Uint8Array | undefined;
  #smallFill = 0;
  /** Bytes gathered so far. */
  filled = 0;

  /**
   * Keeps the next part.
   *
   * @param part Bytes of the payload, following those kept so far.
   * @param length The payload's whole length (sizes the buffer of short parts).
   */
  add(part: Uint8Array, length: number): void {
    const n = part.length;
    if (n >= MIN_PIECE) {
      this.#flushSmall();
      this.#pieces.push(part);
    } else {
      let small = this.#small;
      if (small === undefined || small.length - this.#smallFill < n) {
        this.#flushSmall();
        small = this.#small = new Uint8Array(Math.min(SMALL_PARTS, length - this.filled));
      }
      small.set(part, this.#smallFill);
      this.#smallFill += n;
    }
    this.filled += n;
  }

  /**
   * Hands the parts over, in order, and starts again empty.
   *
   * @returns The parts gathered.
   */
  take(): Uint8Array[] {
    this.#flushSmall();
    const pieces = this.#pieces;
    this.#pieces = [];
    this.filled = 0;
    return pieces;
  }

  #flushSmall(): void {
    if (this.#smallFill > 0) this.#pieces.push(this.#small!.subarray(0, this.#smallFill));
    this.#small = undefined;
    this.#smallFill = 0;
  }
}

/**
 * The parts in one buffer of `length` bytes (the one part as it is if there
 * is only one).
 *
 * @param parts The bytes, in order.
 * @param length Their total length.
 * @returns One buffer holding them.
 */
export function joinParts(parts: readonly Uint8Array[], length: number): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(length);
  for (let i = 0, at = 0; i < parts.length; i++) {
    out.set(parts[i]!, at);
    at += parts[i]!.length;
  }
  return out;
}

/**
 * A frame decoded from the parts its payload arrived in: `payload` joins
 * them into one buffer when it is first read, so that a program that never
 * reads it never pays for the copy.
 */
export class GatheredFrame implements DecodedFrame {
  /** The message. */
  readonly message: Message;
  /** Bytes the frame took on the wire, header included. */
  readonly bytes: number;
  #parts: readonly Uint8Array[] | undefined;
  #payload: Uint8Array | undefined;

  /**
   * @param message The message decoded from the parts.
   * @param bytes The frame's size, header included.
   * @param parts The payload's parts, in order.
   */
  constructor(message: Message, bytes: number, parts: readonly Uint8Array[]) {
    this.message = message;
    this.bytes = bytes;
    this.#parts = parts;
  }

  /** The payload, joined on first read. */
  get payload(): Uint8Array {
    if (this.#payload === undefined) {
      this.#payload = joinParts(this.#parts!, this.bytes - MESSAGE_HEADER_SIZE);
      this.#parts = undefined;
    }
    return this.#payload;
  }
}
