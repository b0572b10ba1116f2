/**
 * A push-based (sans-IO) frame decoder: feed it bytes in any chunking, take
 * out whole messages.
 *
 * @module
 */
import { defaultHasher, type Hasher } from "../hash/hasher.ts";
import { MessageError } from "./errors.ts";
import {
  checkFrameHeader,
  type CodecOptions,
  type DecodedFrame,
  decodePayload,
  type FrameHeader,
  MESSAGE_HEADER_SIZE,
  parseFrameHeader,
  verifyChecksum,
} from "./frame.ts";
import type { Command } from "./message.ts";
import { type MessageEncoding, PROTOCOL_VERSION } from "./protocol.ts";

const EMPTY = new Uint8Array(0);

/**
 * Decodes a byte stream into messages. It keeps only the unconsumed tail of
 * what it was given: chunks that hold whole frames are decoded in place,
 * and a frame that spans chunks is copied once into a buffer of its exact
 * size, allocated only after the header passed every check (magic, command,
 * the command's maximum payload at the protocol version).
 *
 * After a bad frame whose length is known (wrong magic, unknown command,
 * payload too long, bad checksum, malformed payload), `next()` throws once
 * and the decoder skips that frame, so a caller that wants to carry on can.
 * A header declaring more than 32 MiB leaves the stream unreadable: every
 * later call throws the same error.
 *
 * @example Feeding bytes one at a time
 * ```ts
 * import { encodeMessage, FrameDecoder } from "@soter/peer";
 * const opts = { magic: 0x12141c16 };
 * const frame = encodeMessage({ command: "ping", nonce: 9n }, opts);
 * const dec = new FrameDecoder(opts);
 * for (const b of frame) dec.push(new Uint8Array([b]));
 * console.log(dec.next()?.message); // { command: "ping", nonce: 9n }
 * ```
 */
export class FrameDecoder {
  /** The expected network magic. */
  magic: number;
  /** The protocol version used to check limits and decode; may change after a handshake. */
  pver: number;
  /** The transaction encoding; may change after a handshake. */
  encoding: MessageEncoding;
  /** The SHA-256 provider for checksums. */
  hasher: Hasher;

  #queue: Uint8Array[] = [];
  #chunk: Uint8Array = EMPTY;
  #off = 0;
  #buffered = 0;
  #header = new Uint8Array(MESSAGE_HEADER_SIZE);
  #headerFill = 0;
  #pending: { header: FrameHeader; command: Command } | undefined;
  #payload: Uint8Array | undefined;
  #payloadFill = 0;
  #skip = 0;
  #fatal: MessageError | undefined;

  /**
   * Creates a decoder.
   *
   * @param options Network magic, protocol version, encoding and hasher.
   */
  constructor(options: CodecOptions) {
    this.magic = options.magic;
    this.pver = options.pver ?? PROTOCOL_VERSION;
    this.encoding = options.encoding ?? "witness";
    this.hasher = options.hasher ?? defaultHasher();
  }

  /** Bytes given but not yet decoded or skipped. */
  get buffered(): number {
    return this.#buffered + this.#headerFill + this.#payloadFill;
  }

  /**
   * Tells whether the decoder stopped between frames: nothing of a partial
   * frame is held, so ending the stream here loses nothing.
   */
  get idle(): boolean {
    return this.buffered === 0 && this.#pending === undefined && this.#skip === 0;
  }

  /**
   * Adds bytes. The decoder keeps a reference to `chunk` until it is
   * consumed, so the caller must not reuse its memory before then.
   *
   * @param chunk The next bytes of the stream.
   */
  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    if (this.#off >= this.#chunk.length && this.#queue.length === 0) {
      this.#chunk = chunk;
      this.#off = 0;
    } else {
      this.#queue.push(chunk);
    }
    this.#buffered += chunk.length;
  }

  #advance(): boolean {
    while (this.#off >= this.#chunk.length) {
      const next = this.#queue.shift();
      if (next === undefined) {
        this.#chunk = EMPTY;
        this.#off = 0;
        return false;
      }
      this.#chunk = next;
      this.#off = 0;
    }
    return true;
  }

  #take(n: number): Uint8Array {
    const start = this.#off;
    const take = Math.min(n, this.#chunk.length - start);
    this.#off = start + take;
    this.#buffered -= take;
    return this.#chunk.subarray(start, start + take);
  }

  /**
   * Returns the next whole message, or `undefined` when more bytes are
   * needed.
   *
   * @returns The message and the frame's size, or `undefined`.
   * @throws {MessageError} for a bad frame (which is then skipped).
   */
  next(): DecodedFrame | undefined {
    if (this.#fatal) throw this.#fatal;
    while (this.#skip > 0) {
      if (!this.#advance()) return undefined;
      this.#skip -= this.#take(this.#skip).length;
    }
    let pending = this.#pending;
    if (pending === undefined) {
      let header: FrameHeader;
      if (this.#headerFill === 0 && this.#advance() && this.#chunk.length - this.#off >= MESSAGE_HEADER_SIZE) {
        header = parseFrameHeader(this.#chunk, this.#off);
        this.#take(MESSAGE_HEADER_SIZE);
      } else {
        while (this.#headerFill < MESSAGE_HEADER_SIZE) {
          if (!this.#advance()) return undefined;
          const part = this.#take(MESSAGE_HEADER_SIZE - this.#headerFill);
          this.#header.set(part, this.#headerFill);
          this.#headerFill += part.length;
        }
        this.#headerFill = 0;
        header = parseFrameHeader(this.#header.slice(), 0);
      }
      let command: Command;
      try {
        command = checkFrameHeader(header, this.magic, this.pver);
      } catch (err) {
        if ((err as MessageError).kind === "oversize-length") this.#fatal = err as MessageError;
        else this.#skip = header.length;
        throw err;
      }
      pending = { header, command };
      this.#pending = pending;
    }
    const length = pending.header.length;
    let payload: Uint8Array;
    if (this.#payload === undefined && this.#advance() && this.#chunk.length - this.#off >= length) {
      payload = this.#take(length);
    } else if (length === 0) {
      payload = EMPTY;
    } else {
      if (this.#payload === undefined) {
        this.#payload = new Uint8Array(length);
        this.#payloadFill = 0;
      }
      const buf = this.#payload;
      while (this.#payloadFill < length) {
        if (!this.#advance()) return undefined;
        const part = this.#take(length - this.#payloadFill);
        buf.set(part, this.#payloadFill);
        this.#payloadFill += part.length;
      }
      payload = buf;
      this.#payload = undefined;
      this.#payloadFill = 0;
    }
    this.#pending = undefined;
    verifyChecksum(pending.header, payload, this.hasher);
    const message = decodePayload(pending.command, payload, this.pver, this.encoding);
    return { message, bytes: MESSAGE_HEADER_SIZE + length };
  }

  /**
   * Throws a `truncated` error if the stream ended inside a frame.
   *
   * @throws {MessageError} `truncated` when a partial frame is buffered.
   */
  end(): void {
    if (this.#fatal) return;
    if (this.#pending !== undefined || this.buffered > 0) {
      const what = this.#pending?.command ?? "frame";
      throw new MessageError(
        "truncated",
        `Cannot read ${what}: the stream ended inside a frame with ${this.buffered} bytes unread`,
        this.#pending ? { command: this.#pending.command } : {},
      );
    }
  }
}
