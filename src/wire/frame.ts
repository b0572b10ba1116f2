/**
 * Frames: the 24-byte header (magic, command, length, checksum) around a
 * payload, and whole-message encoding and decoding of single buffers.
 *
 * @module
 */
import { defaultHasher, type Hasher } from "../hash/hasher.ts";
import { checksumError } from "./_internal.ts";
import { MessageError } from "./errors.ts";
import { CODECS, type Command, isCommand, type Message } from "./message.ts";
import { MAX_MESSAGE_PAYLOAD, type MessageEncoding, networkName, PROTOCOL_VERSION } from "./protocol.ts";
import { Reader } from "./reader.ts";
import { Writer } from "./writer.ts";

/** Size of a frame header. */
export const MESSAGE_HEADER_SIZE = 24;
/** Size of the NUL-padded command field. */
export const COMMAND_SIZE = 12;

/** Options of every encode and decode call. */
export interface CodecOptions {
  /** The network magic frames carry, e.g. `SIMNET.magic`. */
  magic: number;
  /** The protocol version; defaults to {@linkcode PROTOCOL_VERSION}. */
  pver?: number;
  /** Transaction encoding; defaults to `"witness"`. */
  encoding?: MessageEncoding;
  /** SHA-256 provider for checksums; defaults to {@linkcode defaultHasher}. */
  hasher?: Hasher;
}

/** A parsed frame header. */
export interface FrameHeader {
  /** The network magic (uint32). */
  magic: number;
  /** The command with trailing NULs removed (invalid UTF-8 as U+FFFD). */
  command: string;
  /** Whether the command bytes are valid UTF-8; soterd refuses them otherwise. */
  utf8: boolean;
  /** The declared payload length. */
  length: number;
  /** The first four bytes of the payload's double SHA-256. */
  checksum: Uint8Array;
}

const fatalUtf8 = new TextDecoder("utf-8", { fatal: true });
const lossyUtf8 = new TextDecoder();

/**
 * Reads the 24 header bytes at `offset` without checking anything.
 *
 * @param buf Bytes holding at least a header at `offset`.
 * @param offset Where the header starts.
 * @returns The header; `checksum` is a view into `buf`.
 */
export function parseFrameHeader(buf: Uint8Array, offset = 0): FrameHeader {
  const view = new DataView(buf.buffer, buf.byteOffset + offset, MESSAGE_HEADER_SIZE);
  let end = offset + 16;
  while (end > offset + 4 && buf[end - 1] === 0) end--;
  let command = "";
  let utf8 = true;
  for (let i = offset + 4; i < end; i++) {
    const c = buf[i]!;
    if (c >= 0x80) {
      const raw = buf.subarray(offset + 4, end);
      try {
        command = fatalUtf8.decode(raw);
      } catch {
        utf8 = false;
        command = lossyUtf8.decode(raw);
      }
      break;
    }
    command += String.fromCharCode(c);
  }
  return {
    magic: view.getUint32(0, true),
    command,
    utf8,
    length: view.getUint32(16, true),
    checksum: buf.subarray(offset + 20, offset + 24),
  };
}

/**
 * Applies soterd's header checks in soterd's order: declared length above
 * 32 MiB, wrong magic, invalid UTF-8 command, unknown command, length above
 * the command's maximum at `pver`.
 *
 * @param h The parsed header.
 * @param magic The expected network magic.
 * @param pver The protocol version in use.
 * @returns The command, known to be valid.
 * @throws {MessageError} on the first failed check.
 */
export function checkFrameHeader(h: FrameHeader, magic: number, pver: number): Command {
  if (h.length > MAX_MESSAGE_PAYLOAD) {
    throw new MessageError(
      "oversize-length",
      `Cannot read frame: header declares ${h.length} bytes, more than the ${MAX_MESSAGE_PAYLOAD} any message may have`,
    );
  }
  if (h.magic !== magic) {
    throw new MessageError(
      "bad-magic",
      `Cannot read frame: magic 0x${h.magic.toString(16).padStart(8, "0")} (${
        networkName(h.magic)
      }) is not this network's 0x${magic.toString(16).padStart(8, "0")} (${networkName(magic)})`,
    );
  }
  const command = h.command;
  if (!h.utf8) {
    throw new MessageError(
      "invalid-command",
      `Cannot read frame: command ${JSON.stringify(command)} is not valid UTF-8`,
    );
  }
  if (!isCommand(command)) {
    throw new MessageError(
      "unknown-command",
      `Cannot read frame: unknown command ${JSON.stringify(command)}`,
      { command },
    );
  }
  const max = CODECS[command].maxPayloadLength(pver);
  if (h.length > max) {
    throw new MessageError(
      "payload-too-long",
      `Cannot read ${command}: header declares ${h.length} bytes, more than the ${max} allowed at protocol version ${pver}`,
      { command },
    );
  }
  return command;
}

/**
 * Decodes a payload (soterd's `SotoDecode`). Bytes after the message are
 * ignored, as soterd does.
 *
 * @param command The command.
 * @param payload The payload bytes; byte fields of the result are views into it.
 * @param pver The protocol version.
 * @param encoding The transaction encoding.
 * @returns The message.
 * @throws {MessageError} on malformed input.
 */
export function decodePayload<C extends Command>(
  command: C,
  payload: Uint8Array,
  pver: number = PROTOCOL_VERSION,
  encoding: MessageEncoding = "witness",
): Extract<Message, { command: C }> {
  const codec = CODECS[command];
  if (codec === undefined) {
    throw new MessageError("unknown-command", `Cannot decode payload: unknown command ${JSON.stringify(command)}`);
  }
  return codec.decode(new Reader(payload, command), pver, encoding) as Extract<Message, { command: C }>;
}

let scratch: Writer | undefined;
const SCRATCH_KEEP = 1 << 20;

/**
 * The bytes `w` holds. A buffer too large to be kept as the scratch writer
 * and filled exactly (a block whose size was reserved up front) is handed
 * over as it is; anything else is copied out.
 */
function output(w: Writer): Uint8Array<ArrayBuffer> {
  return w.pos > SCRATCH_KEEP && w.pos === w.buf.length ? w.buf : w.buf.slice(0, w.pos);
}

function withScratch<T>(what: string, reserve: number, fn: (w: Writer) => T): T {
  const w = scratch ?? new Writer(4096);
  scratch = undefined; // re-entrant calls get their own writer
  w.pos = reserve;
  w.what = what;
  try {
    return fn(w);
  } finally {
    if (w.buf.length <= SCRATCH_KEEP) scratch = w;
  }
}

/**
 * Encodes a message's payload (soterd's `SotoEncode`).
 *
 * @param msg The message.
 * @param pver The protocol version.
 * @param encoding The transaction encoding.
 * @returns The payload bytes.
 * @throws {MessageError} when a value cannot be encoded.
 */
export function encodePayload(
  msg: Message,
  pver: number = PROTOCOL_VERSION,
  encoding: MessageEncoding = "witness",
): Uint8Array<ArrayBuffer> {
  const codec = CODECS[msg.command] as { encode(w: Writer, m: Message, p: number, e: MessageEncoding): void };
  if (codec === undefined) {
    throw new MessageError("unknown-command", `Cannot encode: unknown command ${JSON.stringify(msg.command)}`);
  }
  return withScratch(msg.command, 0, (w) => {
    codec.encode(w, msg, pver, encoding);
    return output(w);
  });
}

/**
 * Encodes a whole frame: header and payload, refusing payloads above the
 * command's maximum as soterd's `WriteMessage` does.
 *
 * @param msg The message.
 * @param options Network magic, protocol version, encoding and hasher.
 * @returns The frame bytes.
 * @throws {MessageError} when a value cannot be encoded or the payload is too long.
 *
 * @example A ping frame on simnet
 * ```ts
 * import { encodeMessage } from "@soter/peer";
 * const frame = encodeMessage({ command: "ping", nonce: 1n }, { magic: 0x12141c16 });
 * console.log(frame.length); // 32
 * ```
 */
export function encodeMessage(msg: Message, options: CodecOptions): Uint8Array<ArrayBuffer> {
  return withScratch(msg.command, 0, (w) => {
    writeMessage(w, msg, options);
    return output(w);
  });
}

/**
 * Writes a whole frame at `w.pos`, as {@linkcode encodeMessage} encodes it
 * (same checks, same errors), so that a caller batching frames (the peer's
 * output) can write them into one buffer without a copy each. On an error
 * `w.pos` is left where it was.
 *
 * @param w The writer; the frame starts at its position.
 * @param msg The message.
 * @param options Network magic, protocol version, encoding and hasher.
 * @returns The frame: a view of `w.buf` (which may have grown).
 * @throws {MessageError} when a value cannot be encoded or the payload is too long.
 */
export function writeMessage(w: Writer, msg: Message, options: CodecOptions): Uint8Array<ArrayBuffer> {
  const pver = options.pver ?? PROTOCOL_VERSION;
  const encoding = options.encoding ?? "witness";
  const command = msg.command;
  const codec = CODECS[command] as {
    encode(w: Writer, m: Message, p: number, e: MessageEncoding): void;
    maxPayloadLength(p: number): number;
  };
  if (codec === undefined) {
    throw new MessageError("unknown-command", `Cannot encode: unknown command ${JSON.stringify(command)}`);
  }
  const start = w.pos;
  try {
    w.ensure(MESSAGE_HEADER_SIZE);
    w.pos = start + MESSAGE_HEADER_SIZE;
    w.what = command;
    codec.encode(w, msg, pver, encoding);
    const length = w.pos - start - MESSAGE_HEADER_SIZE;
    if (length > MAX_MESSAGE_PAYLOAD) {
      throw new MessageError(
        "payload-too-long",
        `Cannot encode ${command}: payload is ${length} bytes, more than the ${MAX_MESSAGE_PAYLOAD} any message may have`,
        { command },
      );
    }
    const max = codec.maxPayloadLength(pver);
    if (length > max) {
      throw new MessageError(
        "payload-too-long",
        `Cannot encode ${command}: payload is ${length} bytes, more than the ${max} allowed at protocol version ${pver}`,
        { command },
      );
    }
    const frame = w.buf.subarray(start, w.pos);
    writeFrameHeader(frame, options.magic, command, length, options.hasher ?? defaultHasher());
    return frame;
  } catch (err) {
    w.pos = start;
    throw err;
  }
}

/**
 * Fills the first 24 bytes of `frame` (whose payload follows them) with
 * the header: magic, command, length and checksum.
 *
 * @param frame A buffer of `24 + length` bytes with the payload in place.
 * @param magic The network magic.
 * @param command The command, at most 12 ASCII bytes.
 * @param length The payload length.
 * @param hasher The SHA-256 provider.
 */
export function writeFrameHeader(
  frame: Uint8Array,
  magic: number,
  command: string,
  length: number,
  hasher: Hasher,
): void {
  if (command.length > COMMAND_SIZE) {
    throw new MessageError(
      "invalid-value",
      `Cannot encode: command ${JSON.stringify(command)} is longer than 12 bytes`,
    );
  }
  const view = new DataView(frame.buffer, frame.byteOffset, MESSAGE_HEADER_SIZE);
  view.setUint32(0, magic >>> 0, true);
  for (let i = 0; i < COMMAND_SIZE; i++) {
    frame[4 + i] = i < command.length ? command.charCodeAt(i) : 0;
  }
  view.setUint32(16, length, true);
  const sum = hasher.doubleSha256(frame.subarray(MESSAGE_HEADER_SIZE, MESSAGE_HEADER_SIZE + length));
  frame.set(sum.subarray(0, 4), 20);
}

/**
 * Verifies a payload against a header checksum.
 *
 * @param header The frame header.
 * @param payload The payload.
 * @param hasher The SHA-256 provider.
 * @throws {MessageError} `checksum` on a mismatch.
 */
export function verifyChecksum(header: FrameHeader, payload: Uint8Array, hasher: Hasher): void {
  const sum = hasher.doubleSha256(payload);
  const c = header.checksum;
  if (sum[0] !== c[0] || sum[1] !== c[1] || sum[2] !== c[2] || sum[3] !== c[3]) {
    throw checksumError(header.command, sum, c);
  }
}

/** A decoded frame. */
export interface DecodedFrame {
  /** The message. */
  message: Message;
  /** Bytes the frame took on the wire, header included. */
  bytes: number;
  /**
   * The payload the message was decoded from (a view: byte fields of the
   * message point into it), for relaying or storing the exact bytes.
   *
   * A block that arrived in several chunks is decoded from those chunks as
   * they are (when the hasher has `doubleSha256Parts`, as every hasher of
   * this package does): its byte fields point into them, and `payload`
   * joins them into one buffer when first read, so a program that never
   * reads it never pays for that copy.
   */
  readonly payload: Uint8Array;
}

/**
 * Decodes one frame from the start of `bytes` (soterd's
 * `ReadMessageWithEncodingN`), with every check in soterd's order.
 * Trailing bytes after the frame are not read.
 *
 * @param bytes The input, starting with a frame header.
 * @param options Network magic, protocol version, encoding and hasher.
 * @returns The message and the frame's size.
 * @throws {MessageError} on bad input, including `truncated` for a short buffer.
 *
 * @example Round trip
 * ```ts
 * import { decodeMessage, encodeMessage } from "@soter/peer";
 * const opts = { magic: 0x12141c16 };
 * const frame = encodeMessage({ command: "pong", nonce: 7n }, opts);
 * console.log(decodeMessage(frame, opts).message); // { command: "pong", nonce: 7n }
 * ```
 */
export function decodeMessage(bytes: Uint8Array, options: CodecOptions): DecodedFrame {
  if (bytes.length < MESSAGE_HEADER_SIZE) {
    throw new MessageError(
      "truncated",
      `Cannot read frame: ${bytes.length} bytes are fewer than the ${MESSAGE_HEADER_SIZE} of a header`,
    );
  }
  const pver = options.pver ?? PROTOCOL_VERSION;
  const header = parseFrameHeader(bytes, 0);
  const command = checkFrameHeader(header, options.magic, pver);
  const end = MESSAGE_HEADER_SIZE + header.length;
  if (bytes.length < end) {
    throw new MessageError(
      "truncated",
      `Cannot read ${command}: header declares ${header.length} payload bytes but ${
        bytes.length - MESSAGE_HEADER_SIZE
      } follow`,
      { command },
    );
  }
  const payload = bytes.subarray(MESSAGE_HEADER_SIZE, end);
  verifyChecksum(header, payload, options.hasher ?? defaultHasher());
  return { message: decodePayload(command, payload, pver, options.encoding ?? "witness"), bytes: end, payload };
}
