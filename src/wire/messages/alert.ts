/**
 * `alert`: a signed network-wide notice (Bitcoin's retired alert system,
 * still part of soterd's wire).
 *
 * @module
 */
import { MAX_MESSAGE_PAYLOAD } from "../protocol.ts";
import type { MessageCodec } from "../codec.ts";
import { MessageError } from "../errors.ts";
import { Reader } from "../reader.ts";
import { Writer } from "../writer.ts";

/** Size of an alert whose lists and strings are all empty. */
const FIXED_ALERT_SIZE = 45;
/** The largest ECDSA signature. */
const MAX_SIGNATURE_SIZE = 72;
/** The largest serialized alert that fits a message with its signature. */
const MAX_ALERT_SIZE = MAX_MESSAGE_PAYLOAD - MAX_SIGNATURE_SIZE - 9 - 1;

/**
 * The most cancelled alert IDs an alert may list (soterd's
 * `maxCountSetCancel`, 8,388,574).
 */
export const MAX_COUNT_SET_CANCEL: number = Math.floor(
  (MAX_ALERT_SIZE - FIXED_ALERT_SIZE - 9 + 1) / 4,
);
/**
 * The most sub-versions an alert may list (soterd's `maxCountSetSubVer`,
 * 131,071).
 */
export const MAX_COUNT_SET_SUB_VER: number = Math.floor(
  (MAX_ALERT_SIZE - FIXED_ALERT_SIZE - 9 + 1) / 256,
);

/** The contents of an alert, serialized inside {@linkcode AlertMessage}. */
export interface Alert {
  /** Alert format version (int32). */
  version: number;
  /** Unix time after which nodes stop relaying the alert (int64). */
  relayUntil: bigint;
  /** Unix time after which the alert no longer applies (int64). */
  expiration: bigint;
  /** A unique ID (int32). */
  id: number;
  /** Alerts with an ID up to this one are cancelled (int32). */
  cancel: number;
  /** Alert IDs cancelled in addition (int32 each). */
  setCancel: number[];
  /** The alert applies from this protocol version on (int32). */
  minVer: number;
  /** The alert applies up to this protocol version (int32). */
  maxVer: number;
  /** When not empty, the only user agents the alert applies to. */
  setSubVer: string[];
  /** Priority relative to other alerts (int32). */
  priority: number;
  /** A comment that is not displayed. */
  comment: string;
  /** The text shown to the user. */
  statusBar: string;
  /** Reserved. */
  reserved: string;
}

/**
 * `alert`: a serialized {@linkcode Alert} and its signature.
 *
 * `payload` is the alert parsed from `serializedPayload`, or `null` when it
 * does not parse (soterd ignores that error).
 */
export interface AlertMessage {
  /** The command. */
  command: "alert";
  /** The serialized alert, as signed. */
  serializedPayload: Uint8Array;
  /** The ECDSA signature of `serializedPayload`. */
  signature: Uint8Array;
  /** The parsed alert, or `null` when `serializedPayload` does not parse. */
  payload: Alert | null;
}

function writeAlert(w: Writer, alert: Alert): void {
  w.i32(alert.version);
  w.i64(alert.relayUntil);
  w.i64(alert.expiration);
  w.i32(alert.id);
  w.i32(alert.cancel);
  const setCancel = alert.setCancel;
  if (setCancel.length > MAX_COUNT_SET_CANCEL) {
    throw new MessageError(
      "too-many-entries",
      `Cannot encode alert: cancelled ID count ${setCancel.length} exceeds ${MAX_COUNT_SET_CANCEL}`,
      { command: "alert" },
    );
  }
  w.varInt(setCancel.length);
  for (let i = 0; i < setCancel.length; i++) w.i32(setCancel[i]!);
  w.i32(alert.minVer);
  w.i32(alert.maxVer);
  const setSubVer = alert.setSubVer;
  if (setSubVer.length > MAX_COUNT_SET_SUB_VER) {
    throw new MessageError(
      "too-many-entries",
      `Cannot encode alert: sub-version count ${setSubVer.length} exceeds ${MAX_COUNT_SET_SUB_VER}`,
      { command: "alert" },
    );
  }
  w.varInt(setSubVer.length);
  for (let i = 0; i < setSubVer.length; i++) w.varString(setSubVer[i]!);
  w.i32(alert.priority);
  w.varString(alert.comment);
  w.varString(alert.statusBar);
  w.varString(alert.reserved);
}

/**
 * Serializes an alert (soterd's `Alert.Serialize`).
 *
 * @param alert The alert.
 * @returns The bytes to put in {@linkcode AlertMessage.serializedPayload}.
 * @throws {MessageError} `too-many-entries` when `setCancel` or `setSubVer`
 *   exceeds its limit, `invalid-value` for a number out of range.
 *
 * @example
 * ```ts
 * import { serializeAlert } from "@soter/peer";
 * const bytes = serializeAlert({
 *   version: 1, relayUntil: 0n, expiration: 0n, id: 1, cancel: 0, setCancel: [],
 *   minVer: 0, maxVer: 0, setSubVer: [], priority: 0, comment: "", statusBar: "", reserved: "",
 * });
 * console.log(bytes.length); // 45
 * ```
 */
export function serializeAlert(alert: Alert): Uint8Array<ArrayBuffer> {
  const w = new Writer(128, "alert");
  writeAlert(w, alert);
  return w.finish();
}

/**
 * Parses a serialized alert (soterd's `NewAlertFromPayload`). As in
 * soterd, bytes after the last field are ignored.
 *
 * @param bytes The serialized alert.
 * @returns The alert; its strings and lists are new values.
 * @throws {MessageError} `truncated`, `non-canonical-varint`,
 *   `too-many-entries` or `too-large` when `bytes` is not an alert.
 *
 * @example
 * ```ts
 * import { parseAlert } from "@soter/peer";
 * console.log(parseAlert(new Uint8Array(45)).setCancel); // []
 * ```
 */
export function parseAlert(bytes: Uint8Array): Alert {
  const r = new Reader(bytes, "alert payload");
  const version = r.i32();
  const relayUntil = r.i64();
  const expiration = r.i64();
  const id = r.i32();
  const cancel = r.i32();
  // The reads stop the loops at the end of the input, whatever the count.
  const nCancel = r.count(MAX_COUNT_SET_CANCEL, "cancelled ID");
  const setCancel: number[] = [];
  for (let i = 0; i < nCancel; i++) setCancel.push(r.i32());
  const minVer = r.i32();
  const maxVer = r.i32();
  const nSubVer = r.count(MAX_COUNT_SET_SUB_VER, "sub-version");
  const setSubVer: string[] = [];
  for (let i = 0; i < nSubVer; i++) {
    setSubVer.push(r.varString(MAX_MESSAGE_PAYLOAD, "sub-version"));
  }
  const priority = r.i32();
  const comment = r.varString(MAX_MESSAGE_PAYLOAD, "comment");
  const statusBar = r.varString(MAX_MESSAGE_PAYLOAD, "status bar");
  const reserved = r.varString(MAX_MESSAGE_PAYLOAD, "reserved");
  return {
    version,
    relayUntil,
    expiration,
    id,
    cancel,
    setCancel,
    minVer,
    maxVer,
    setSubVer,
    priority,
    comment,
    statusBar,
    reserved,
  };
}

/**
 * Codec of `alert`.
 *
 * Decoding reads the serialized payload and the signature (each up to 32
 * MiB) and tries to parse the payload; a parse failure gives
 * `payload: null` instead of an error.
 *
 * Encoding follows soterd's `SotoEncode`: when `payload` is set it is
 * serialized afresh and written instead of `serializedPayload` (so bytes
 * after a parsed alert are dropped); if that fails on a list limit,
 * `serializedPayload` is written as is. An empty result fails with
 * `invalid-value` ("empty serialized payload").
 */
export const alertCodec: MessageCodec<AlertMessage> = {
  command: "alert",
  maxPayloadLength: () => MAX_MESSAGE_PAYLOAD,
  decode(r) {
    const serializedPayload = r.varBytes(
      MAX_MESSAGE_PAYLOAD,
      "alert serialized payload",
    );
    let payload: Alert | null = null;
    try {
      payload = parseAlert(serializedPayload);
    } catch (err) {
      if (!(err instanceof MessageError)) throw err;
    }
    const signature = r.varBytes(MAX_MESSAGE_PAYLOAD, "alert signature");
    return { command: "alert", serializedPayload, signature, payload };
  },
  encode(w, msg) {
    let serialized: Uint8Array = msg.serializedPayload;
    if (msg.payload !== null && msg.payload !== undefined) {
      try {
        serialized = serializeAlert(msg.payload);
      } catch (err) {
        // soterd falls back to the raw bytes when serializing fails, which
        // in Go can only happen on a list limit.
        if (!(err instanceof MessageError && err.kind === "too-many-entries")) {
          throw err;
        }
      }
    }
    if (serialized.length === 0) {
      throw new MessageError(
        "invalid-value",
        "Cannot encode alert: empty serialized payload",
        { command: "alert" },
      );
    }
    w.varBytes(serialized);
    w.varBytes(msg.signature);
  },
};
