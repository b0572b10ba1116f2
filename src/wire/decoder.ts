/**
 * A push-based (sans-IO) frame decoder: feed it bytes in any chunking, take
 * out whole messages.
 *
 * @module
 */
import { defaultHasher, type Hasher } from "../hash/hasher.ts";
import { checksumError } from "./_internal.ts";
import type { MessageCodec } from "./codec.ts";
import { MessageError } from "./errors.ts";
import {
  checkFrameHeader,
  type CodecOptions,
  COMMAND_SIZE,
  type DecodedFrame,
  type FrameHeader,
  MESSAGE_HEADER_SIZE,
  parseFrameHeader,
} from "./frame.ts";
import { GatheredFrame, joinParts, PayloadParts } from "./gather.ts";
import { CODECS, type Command, COMMANDS, type Message } from "./message.ts";
import { decodeBlockParts } from "./messages/block_parts.ts";
import { MAX_MESSAGE_PAYLOAD, type MessageEncoding, PROTOCOL_VERSION } from "./protocol.ts";
import { Reader } from "./reader.ts";

const EMPTY = new Uint8Array(0);

/**
 * Frames with payloads under this size have their checksums computed in
 * batches, up to `BATCH_FRAMES` at once, when the hasher can (`frameChecksums`).
 */
const SMALL_FRAME = 1024;
const BATCH_FRAMES = 64;

/**
 * The arrays of a batch, shared by every decoder of the thread (an idle
 * peer's decoder holds none); the decoder that batched last owns them, and
 * another finding them taken batches again from where it is.
 */
const BATCH = {
  owner: undefined as object | undefined,
  at: new Int32Array(BATCH_FRAMES),
  sums: new Int32Array(BATCH_FRAMES),
  payloads: new Array<Uint8Array>(BATCH_FRAMES).fill(EMPTY),
};
/** A known command as its 12 NUL-padded header bytes, read as three uint32. */
interface KnownCommand {
  w1: number;
  w2: number;
  command: Command;
  codec: MessageCodec<Message>;
}

/**
 * The 31 commands by the first four bytes of their header field, for a
 * header fast path that compares three integers instead of building the
 * command string, checking it and looking its codec up by name.
 */
const KNOWN_COMMANDS: ReadonlyMap<number, readonly KnownCommand[]> = (() => {
  const map = new Map<number, KnownCommand[]>();
  for (const command of COMMANDS) {
    const b = new Uint8Array(COMMAND_SIZE);
    for (let i = 0; i < command.length; i++) b[i] = command.charCodeAt(i);
    const w0 = u32le(b, 0);
    const known = { w1: u32le(b, 4), w2: u32le(b, 8), command, codec: CODECS[command] as MessageCodec<Message> };
    const list = map.get(w0);
    if (list === undefined) map.set(w0, [known]);
    else list.push(known);
  }
  return map;
})();

/** Reads a little-endian uint32 as a signed 32-bit integer. */
function u32le(b: Uint8Array, at: number): number {
  return b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24);
}

/**
 * Decodes a byte stream into messages. It keeps only the unconsumed tail of
 * what it was given: chunks that hold whole frames are decoded in place,
 * and a frame that spans chunks is gathered, once the header passed every
 * check (magic, command, the command's maximum payload at the protocol
 * version), as the parts received, then copied into one buffer of its exact
 * size when complete: what a remote makes it hold is bounded by what it
 * sent, not by what it declared.
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
  // The frame whose header was read and checked: its command (undefined
  // between frames), codec, payload length, and checksum (the 4 header
  // bytes as a little-endian int32, copied so that the header's memory may
  // be reused once consumed).
  #command: Command | undefined;
  #codec: MessageCodec<Message> | undefined;
  #length = 0;
  #checksum = 0;
  // The parts of a payload that spans chunks (made on the first).
  #parts: PayloadParts | undefined;
  #skip = 0;
  #fatal: MessageError | undefined;
  // The checksums computed ahead for the small frames of one chunk: the
  // chunk, how far in it frames were looked at, and each payload's offset
  // and checksum, with the next one to use.
  // (Allocated on the first batch: an idle decoder holds none of it.)
  #batchChunk: Uint8Array | undefined;
  #batchEnd = 0;
  #batchCount = 0;
  #batchNext = 0;

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
    return this.#buffered + this.#headerFill + (this.#parts?.filled ?? 0);
  }

  /**
   * Tells whether the decoder stopped between frames: nothing of a partial
   * frame is held, so ending the stream here loses nothing.
   */
  get idle(): boolean {
    return this.buffered === 0 && this.#command === undefined && this.#skip === 0;
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
    if (this.#command === undefined) {
      if (this.#headerFill === 0 && this.#advance() && this.#chunk.length - this.#off >= MESSAGE_HEADER_SIZE) {
        const chunk = this.#chunk;
        const at = this.#off;
        this.#off = at + MESSAGE_HEADER_SIZE;
        this.#buffered -= MESSAGE_HEADER_SIZE;
        if (!this.#acceptKnownHeader(chunk, at)) this.#acceptHeader(parseFrameHeader(chunk, at));
      } else {
        while (this.#headerFill < MESSAGE_HEADER_SIZE) {
          if (!this.#advance()) return undefined;
          const part = this.#take(MESSAGE_HEADER_SIZE - this.#headerFill);
          this.#header.set(part, this.#headerFill);
          this.#headerFill += part.length;
        }
        this.#headerFill = 0;
        this.#acceptHeader(parseFrameHeader(this.#header, 0));
      }
    }
    const length = this.#length;
    let payload: Uint8Array = EMPTY;
    let chunk: Uint8Array | undefined;
    let start = 0;
    let parts: Uint8Array[] | undefined;
    if ((this.#parts?.filled ?? 0) === 0 && this.#advance() && this.#chunk.length - this.#off >= length) {
      chunk = this.#chunk;
      start = this.#off;
      payload = this.#take(length);
    } else if (length > 0) {
      const gathering = this.#parts ??= new PayloadParts();
      while (gathering.filled < length) {
        if (!this.#advance()) return undefined;
        gathering.add(this.#take(length - gathering.filled), length);
      }
      parts = gathering.take();
      payload = parts[0]!;
    }
    const command = this.#command!;
    const codec = this.#codec!;
    this.#command = undefined;
    this.#codec = undefined;
    if (parts !== undefined && parts.length > 1) return this.#decodeParts(command, codec, parts, length);
    this.#verify(command, this.#checksumOf(payload, chunk, start));
    return this.#decode(command, codec, payload);
  }

  /** Decodes a payload in one buffer, its checksum verified. */
  #decode(command: Command, codec: MessageCodec<Message>, payload: Uint8Array): DecodedFrame {
    const message = codec.decode(new Reader(payload, command), this.pver, this.encoding);
    return { message, bytes: MESSAGE_HEADER_SIZE + payload.length, payload };
  }

  /**
   * Checks and decodes a payload that arrived in several parts: a block
   * straight from its parts when the hasher can hash them as they are (see
   * `decodeBlockParts`), anything else from the parts joined.
   */
  #decodeParts(command: Command, codec: MessageCodec<Message>, parts: Uint8Array[], length: number): DecodedFrame {
    const hasher = this.hasher;
    if (command === "block" && hasher.doubleSha256Parts !== undefined) {
      this.#verify(command, u32le(hasher.doubleSha256Parts(parts), 0));
      const block = decodeBlockParts(parts, length, this.encoding);
      if (block !== undefined) return new GatheredFrame(block, MESSAGE_HEADER_SIZE + length, parts);
      // Malformed: the one-buffer decoder says how, with soterd's error.
      return this.#decode(command, codec, joinParts(parts, length));
    }
    const payload = joinParts(parts, length);
    this.#verify(command, u32le(hasher.doubleSha256(payload), 0));
    return this.#decode(command, codec, payload);
  }

  /** Throws the checksum error unless `sum` is the checksum the header declared. */
  #verify(command: Command, sum: number): void {
    const checksum = this.#checksum;
    if (sum !== checksum) {
      throw checksumError(command, new Uint8Array([sum, sum >>> 8, sum >>> 16, sum >>> 24]), [
        checksum & 0xff,
        (checksum >>> 8) & 0xff,
        (checksum >>> 16) & 0xff,
        checksum >>> 24,
      ]);
    }
  }

  /**
   * The header fast path: accepts the header at `at` when its command is
   * one of the 31 exactly (NUL-padded) and it passes every check. Returns
   * false otherwise, without side effects, and the caller takes the general
   * path, which throws soterd's error for it in soterd's order.
   */
  #acceptKnownHeader(chunk: Uint8Array, at: number): boolean {
    const known = this.#known(chunk, at);
    if (known === undefined) return false;
    this.#command = known.command;
    this.#codec = known.codec;
    this.#length = u32le(chunk, at + 16) >>> 0;
    this.#checksum = u32le(chunk, at + 20);
    return true;
  }

  /** The command of the header at `at` if it is known and passes every check. */
  #known(chunk: Uint8Array, at: number): KnownCommand | undefined {
    if (u32le(chunk, at) >>> 0 !== this.magic) return undefined;
    const candidates = KNOWN_COMMANDS.get(u32le(chunk, at + 4));
    if (candidates === undefined) return undefined;
    const w1 = u32le(chunk, at + 8);
    const w2 = u32le(chunk, at + 12);
    for (let i = 0; i < candidates.length; i++) {
      const known = candidates[i]!;
      if (known.w1 !== w1 || known.w2 !== w2) continue;
      const length = u32le(chunk, at + 16) >>> 0;
      if (length > MAX_MESSAGE_PAYLOAD || length > known.codec.maxPayloadLength(this.pver)) return undefined;
      return known;
    }
    return undefined;
  }

  /**
   * The checksum of the payload at `start` in `chunk` (undefined when it
   * was gathered from several chunks), as a little-endian int32: from the
   * batch of the chunk's small frames when the hasher hashes many at once,
   * by `doubleSha256` otherwise.
   */
  #checksumOf(payload: Uint8Array, chunk: Uint8Array | undefined, start: number): number {
    const many = this.hasher.frameChecksums;
    if (many !== undefined && chunk !== undefined && payload.length < SMALL_FRAME) {
      if (chunk !== this.#batchChunk || start >= this.#batchEnd || BATCH.owner !== this) {
        this.#batch(chunk, start, payload);
      }
      const at = BATCH.at;
      const count = this.#batchCount;
      let i = this.#batchNext;
      while (i < count && at[i]! < start) i++;
      if (i < count && at[i] === start) {
        this.#batchNext = i + 1;
        // The last one used: let go of the chunk.
        if (i + 1 === count) this.#batchChunk = undefined;
        return BATCH.sums[i]!;
      }
      this.#batchNext = i;
    }
    return u32le(this.hasher.doubleSha256(payload), 0);
  }

  /**
   * Hashes at once the payload at `start` and the small payloads of the
   * whole frames that follow it in `chunk` with headers that pass every
   * check (up to `BATCH_FRAMES` of them), through the hasher's
   * `frameChecksums`. Nothing is delivered before its own checksum is
   * compared, so this only computes ahead what `next()` will compare.
   */
  #batch(chunk: Uint8Array, start: number, payload: Uint8Array): void {
    const { payloads, at, sums } = BATCH;
    BATCH.owner = this;
    payloads[0] = payload;
    at[0] = start;
    let n = 1;
    let pos = start + payload.length;
    while (n < BATCH_FRAMES && chunk.length - pos >= MESSAGE_HEADER_SIZE) {
      if (this.#known(chunk, pos) === undefined) break;
      const length = u32le(chunk, pos + 16) >>> 0;
      const begin = pos + MESSAGE_HEADER_SIZE;
      if (chunk.length - begin < length) break;
      if (length < SMALL_FRAME) {
        payloads[n] = chunk.subarray(begin, begin + length);
        at[n++] = begin;
      }
      pos = begin + length;
    }
    this.#batchEnd = pos;
    this.#batchNext = 0;
    // One frame alone is hashed by doubleSha256: a call of four lanes for it
    // would cost more.
    this.#batchCount = n > 1 ? n : 0;
    this.#batchChunk = n > 1 ? chunk : undefined;
    if (n > 1) this.hasher.frameChecksums!(payloads, n, sums);
    payloads.fill(EMPTY, 0, n);
  }

  /** The general path: checks a parsed header and keeps what the payload needs. */
  #acceptHeader(header: FrameHeader): void {
    let command: Command;
    try {
      command = checkFrameHeader(header, this.magic, this.pver);
    } catch (err) {
      if ((err as MessageError).kind === "oversize-length") this.#fatal = err as MessageError;
      else this.#skip = header.length;
      throw err;
    }
    this.#command = command;
    this.#codec = CODECS[command] as MessageCodec<Message>;
    this.#length = header.length;
    this.#checksum = u32le(header.checksum, 0);
  }

  /**
   * Throws a `truncated` error if the stream ended inside a frame.
   *
   * @throws {MessageError} `truncated` when a partial frame is buffered.
   */
  end(): void {
    if (this.#fatal) return;
    if (this.#command !== undefined || this.buffered > 0) {
      const command = this.#command;
      throw new MessageError(
        "truncated",
        `Cannot read ${command ?? "frame"}: the stream ended inside a frame with ${this.buffered} bytes unread`,
        command !== undefined ? { command } : {},
      );
    }
  }
}
