/**
 * The shape every message codec has.
 *
 * @module
 */
import { MessageError } from "./errors.ts";
import type { MessageEncoding } from "./protocol.ts";
import type { Reader } from "./reader.ts";
import type { Writer } from "./writer.ts";

/**
 * Reads and writes the payload of one command. Codecs are stateless;
 * `decode` reads from the reader's position and `encode` appends.
 */
export interface MessageCodec<M> {
  /** The command name on the wire (at most 12 ASCII bytes). */
  readonly command: string;
  /**
   * The largest payload soterd accepts for this command at `pver`, checked
   * against a frame header before the payload is buffered.
   */
  maxPayloadLength(pver: number): number;
  /** Reads the payload. Throws {@linkcode MessageError} on bad input. */
  decode(r: Reader, pver: number, encoding: MessageEncoding): M;
  /** Writes the payload. Throws {@linkcode MessageError} on bad values. */
  encode(w: Writer, msg: M, pver: number, encoding: MessageEncoding): void;
}

/**
 * Throws the `pver-too-low` error soterd raises when a command does not
 * exist at the negotiated protocol version.
 *
 * @param command The command.
 * @param pver The protocol version in use.
 * @param direction Whether decoding or encoding failed.
 */
export function pverTooLow(
  command: string,
  pver: number,
  direction: "decode" | "encode",
): never {
  throw new MessageError(
    "pver-too-low",
    `Cannot ${direction} ${command}: the message does not exist at protocol version ${pver}`,
    { command },
  );
}

/**
 * Throws a `too-many-entries` error for an encoder given too many items.
 *
 * @param command The command.
 * @param field What is counted.
 * @param count How many were given.
 * @param max The limit.
 */
export function tooManyToEncode(
  command: string,
  field: string,
  count: number,
  max: number,
): never {
  throw new MessageError(
    "too-many-entries",
    `Cannot encode ${command}: ${field} count ${count} exceeds ${max}`,
    { command },
  );
}

/**
 * Throws a `too-large` error for an encoder given too many bytes.
 *
 * @param command The command.
 * @param field The field.
 * @param size Its size in bytes.
 * @param max The limit.
 */
export function tooLargeToEncode(
  command: string,
  field: string,
  size: number,
  max: number,
): never {
  throw new MessageError(
    "too-large",
    `Cannot encode ${command}: ${field} is ${size} bytes, more than the ${max} allowed`,
    { command },
  );
}
