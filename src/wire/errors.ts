/**
 * Typed errors raised by the wire codec.
 *
 * @module
 */

/**
 * What went wrong while reading or writing a message.
 *
 * The decode kinds mirror the failures of soterd's `wire` package:
 * - `bad-magic`: the frame belongs to another network.
 * - `unknown-command`: the command is not one of the 31 soter commands.
 * - `invalid-command`: the command bytes are not valid UTF-8.
 * - `oversize-length`: the header declares more than 32 MiB.
 * - `payload-too-long`: the header declares more than the command allows.
 * - `checksum`: the payload does not hash to the header's checksum.
 * - `truncated`: the input ended inside a frame or a field.
 * - `non-canonical-varint`: a varint uses more bytes than its value needs.
 * - `too-many-entries`: a count exceeds its protocol limit.
 * - `too-large`: a byte string exceeds its protocol limit.
 * - `headers-with-txs`: a `headers` entry carries a transaction count.
 * - `bad-witness-flag`: a witness transaction's flag byte is not 0x01.
 * - `user-agent-too-long`: a `version` user agent exceeds 256 bytes.
 * - `pver-too-low`: the command does not exist at the protocol version.
 * - `invalid-value`: a value cannot be encoded (wrong length, out of range).
 */
export type MessageErrorKind =
  | "bad-magic"
  | "unknown-command"
  | "invalid-command"
  | "oversize-length"
  | "payload-too-long"
  | "checksum"
  | "truncated"
  | "non-canonical-varint"
  | "too-many-entries"
  | "too-large"
  | "headers-with-txs"
  | "bad-witness-flag"
  | "user-agent-too-long"
  | "pver-too-low"
  | "invalid-value";

/** Options accepted by {@linkcode MessageError}. */
export interface MessageErrorOptions {
  /** The command being read or written, when known. */
  command?: string;
  /** The underlying error, if any. */
  cause?: unknown;
}

/**
 * The one error type of the wire codec: malformed input, a limit exceeded,
 * or a value that cannot be encoded. I/O failures are never reported as
 * `MessageError`.
 *
 * @example Telling a checksum failure apart
 * ```ts
 * import { decodeMessage, MessageError } from "@soter/peer";
 * try {
 *   decodeMessage(new Uint8Array(3), { magic: 0x12141c16 });
 * } catch (err) {
 *   if (err instanceof MessageError) console.log(err.kind); // "truncated"
 * }
 * ```
 */
export class MessageError extends Error {
  /** What went wrong, as a stable machine-readable kind. */
  readonly kind: MessageErrorKind;
  /** The command being read or written, when known. */
  readonly command: string | undefined;

  /**
   * Creates an error of the given kind.
   *
   * @param kind The kind of failure.
   * @param message A sentence for a person: what, where and which limit.
   * @param options The command involved and an optional cause.
   */
  constructor(
    kind: MessageErrorKind,
    message: string,
    options: MessageErrorOptions = {},
  ) {
    super(
      message,
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.name = "MessageError";
    this.kind = kind;
    this.command = options.command;
  }
}
