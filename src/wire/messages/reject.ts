/**
 * `reject`: tells the remote that one of its messages was refused (BIP 61,
 * protocol version 70002 and later).
 *
 * @module
 */
import { type MessageCodec, pverTooLow } from "../codec.ts";
import { MAX_MESSAGE_PAYLOAD, REJECT_VERSION } from "../protocol.ts";

/** Why a message was rejected (uint8). Other values are accepted too. */
export const RejectCode = {
  /** The message could not be decoded. */
  MALFORMED: 0x01,
  /** The block or transaction is invalid, or the peer misbehaved. */
  INVALID: 0x10,
  /** The peer's protocol version or block version is too old. */
  OBSOLETE: 0x11,
  /** Already seen, or a repeated `version`. */
  DUPLICATE: 0x12,
  /** The transaction is not standard. */
  NONSTANDARD: 0x40,
  /** An output is below the dust limit. */
  DUST: 0x41,
  /** The fee is too low. */
  INSUFFICIENT_FEE: 0x42,
  /** The block conflicts with a checkpoint. */
  CHECKPOINT: 0x43,
} as const;

const REJECT_NAMES: ReadonlyMap<number, string> = new Map([
  [0x01, "REJECT_MALFORMED"],
  [0x10, "REJECT_INVALID"],
  [0x11, "REJECT_OBSOLETE"],
  [0x12, "REJECT_DUPLICATE"],
  [0x40, "REJECT_NONSTANDARD"],
  [0x41, "REJECT_DUST"],
  [0x42, "REJECT_INSUFFICIENTFEE"],
  [0x43, "REJECT_CHECKPOINT"],
]);

/**
 * Names a reject code as soterd prints it (`RejectCode.String()`).
 *
 * @param code A reject code.
 * @returns e.g. `REJECT_DUPLICATE`, or `Unknown RejectCode (153)`.
 *
 * @example
 * ```ts
 * import { RejectCode, rejectCodeName } from "@soter/peer";
 * console.log(rejectCodeName(RejectCode.INSUFFICIENT_FEE)); // "REJECT_INSUFFICIENTFEE"
 * ```
 */
export function rejectCodeName(code: number): string {
  return REJECT_NAMES.get(code) ?? `Unknown RejectCode (${code})`;
}

/**
 * `reject`: the command that was refused, a {@linkcode RejectCode}, a
 * reason, and for `block` and `tx` the hash of the refused object.
 */
export interface RejectMessage {
  /** The command. */
  command: "reject";
  /** The command of the rejected message, e.g. `"tx"`. */
  cmd: string;
  /** A {@linkcode RejectCode} value (uint8); unknown values are kept. */
  code: number;
  /** Details for a person. */
  reason: string;
  /**
   * The rejected block or transaction in wire order: on the wire only when
   * `cmd` is `"block"` or `"tx"`, 32 zero bytes otherwise.
   */
  hash: Uint8Array;
}

function carriesHash(cmd: string): boolean {
  return cmd === "block" || cmd === "tx";
}

/**
 * Codec of `reject`. It exists from protocol version 70002; below, both
 * directions fail with `pver-too-low` and the maximum payload is 0. The
 * command and reason may each be up to 32 MiB.
 */
export const rejectCodec: MessageCodec<RejectMessage> = {
  command: "reject",
  maxPayloadLength: (
    pver,
  ) => (pver >= REJECT_VERSION ? MAX_MESSAGE_PAYLOAD : 0),
  decode(r, pver) {
    if (pver < REJECT_VERSION) pverTooLow("reject", pver, "decode");
    const cmd = r.varString(MAX_MESSAGE_PAYLOAD, "rejected command");
    const code = r.u8();
    const reason = r.varString(MAX_MESSAGE_PAYLOAD, "reason");
    const hash = carriesHash(cmd) ? r.hash() : new Uint8Array(32);
    return { command: "reject", cmd, code, reason, hash };
  },
  encode(w, msg, pver) {
    if (pver < REJECT_VERSION) pverTooLow("reject", pver, "encode");
    w.varString(msg.cmd);
    w.u8(msg.code);
    w.varString(msg.reason);
    if (carriesHash(msg.cmd)) w.hash(msg.hash, "hash");
  },
};
