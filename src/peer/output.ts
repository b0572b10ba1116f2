/**
 * The peer's output over a session: encoding, the bounded queue, the
 * handshake's direct writes, `reject`s, and the `onWrite` reports.
 *
 * @module
 */
import { encodeMessage } from "../wire/frame.ts";
import type { Message } from "../wire/message.ts";
import type { RejectMessage } from "../wire/messages/reject.ts";
import { type MessageEncoding, REJECT_VERSION } from "../wire/protocol.ts";
import { QUEUE_ENTRY_OVERHEAD } from "./config.ts";
import type { DisconnectReason } from "./errors.ts";
import { makeReject } from "./handshake.ts";
import { errorText, type Session } from "./session.ts";
import { Slot } from "./timers.ts";

function noop(): void {}

/**
 * Encodes a message for the wire (through the link once there is one: see
 * `Link.encode`).
 *
 * @param s The session.
 * @param msg The message.
 * @param pver The protocol version.
 * @param encoding The transaction encoding.
 * @returns The frame.
 * @throws {MessageError} When it cannot be encoded.
 */
export function encodeFrame(s: Session, msg: Message, pver: number, encoding: MessageEncoding): Uint8Array {
  const link = s.link;
  if (link !== undefined) return link.encode(msg, pver, encoding);
  const cfg = s.cfg;
  return encodeMessage(msg, { magic: cfg.network.magic, pver, encoding, hasher: cfg.hasher });
}

/**
 * Queues an encoded message, or disconnects when the queue is full.
 *
 * @param s The session.
 * @param msg The message.
 * @param encoding Its transaction encoding.
 * @param frame Its frame.
 * @param settle Told whether it was written.
 * @returns Whether it was queued (`settle` is not called when not).
 */
export function enqueue(
  s: Session,
  msg: Message,
  encoding: MessageEncoding,
  frame: Uint8Array,
  settle: (written: boolean) => void,
): boolean {
  const queue = s.queue;
  if (!queue.fits(frame.length)) {
    s.shutdown(
      "send-queue-full",
      `Output queue full: ${queue.entries} messages of ${queue.bytes} bytes wait for ${s} and ${frame.length} more would exceed ${s.cfg.maxQueueBytes} (with ${QUEUE_ENTRY_OVERHEAD} bytes a message)`,
    );
    return false;
  }
  queue.push({ msg, encoding, frame, pver: s.state.pver, settle });
  s.link?.kick();
  return true;
}

/**
 * Queues a message of the peer's own, without a promise; an encoding error
 * drops it (reported to `onWrite`).
 *
 * @param s The session.
 * @param msg The message.
 * @param settle Told whether it was written.
 */
export function queueInternal(s: Session, msg: Message, settle: (written: boolean) => void = noop): void {
  if (s.phase === "closed" || s.phase === "new") return settle(false);
  let frame: Uint8Array;
  try {
    frame = encodeFrame(s, msg, s.state.pver, "base");
  } catch (err) {
    notifyWrite(s, 0, msg, err as Error);
    return settle(false);
  }
  if (!enqueue(s, msg, "base", frame, settle)) settle(false);
}

/**
 * Tells the `onWrite` listener about a message written or dropped.
 *
 * @param s The session.
 * @param bytes The bytes written (0 when dropped).
 * @param msg The message.
 * @param err Why it was dropped.
 */
export function notifyWrite(s: Session, bytes: number, msg: Message, err: Error | undefined): void {
  const fn = s.cfg.listeners.onWrite;
  if (fn === undefined) return;
  try {
    fn(s.peer, bytes, msg, err);
  } catch (e) {
    s.listenerFailed("onWrite", e);
  }
}

/**
 * Writes a message outside the queue (the handshake's).
 *
 * @param s The session.
 * @param msg The message.
 * @returns `false` when the peer must stop.
 */
export async function writeDirect(s: Session, msg: Message): Promise<boolean> {
  let frame: Uint8Array;
  try {
    frame = encodeFrame(s, msg, s.state.pver, "witness");
  } catch (err) {
    // soterd ignores this too: e.g. a reject cannot exist below 70002.
    notifyWrite(s, 0, msg, err as Error);
    return s.phase !== "closed";
  }
  try {
    await s.link!.writeNow(frame);
  } catch (err) {
    if (s.phase !== "closed") {
      notifyWrite(s, 0, msg, err as Error);
      s.shutdown("write-failed", `Cannot write to ${s}: ${errorText(err)}`, err);
    }
    return false;
  }
  s.state.bytesSent += frame.length;
  s.state.lastSend = s.cfg.clock.now();
  notifyWrite(s, frame.length, msg, undefined);
  return s.phase !== "closed";
}

/**
 * Writes a reject, then disconnects (within the response timeout if the
 * remote does not read).
 *
 * @param s The session.
 * @param reject The reject.
 * @param reason Why the peer goes.
 * @param message What happened, for a person.
 * @param cause The underlying error, if any.
 */
export function rejectThenDisconnect(
  s: Session,
  reject: RejectMessage,
  reason: DisconnectReason,
  message: string,
  cause?: unknown,
): void {
  // Should writing the reject fail, this is still why the peer goes.
  s.closing = { reason, message, cause };
  const done = () => {
    s.guard = undefined;
    s.timers.clear(Slot.RejectGuard);
    s.shutdown(reason, message, cause);
  };
  s.guard = done;
  s.timers.set(Slot.RejectGuard, s.cfg.stallResponseTimeout);
  pushReject(s, reject.cmd, reject.code, reject.reason, reject.hash, done);
}

/**
 * Queues a `reject` unless the remote's version has none.
 *
 * @param s The session.
 * @param command The rejected command.
 * @param code The reject code.
 * @param reason Details for a person.
 * @param hash The rejected transaction or block.
 * @param settle Told whether it was written.
 */
export function pushReject(
  s: Session,
  command: string,
  code: number,
  reason: string,
  hash: Uint8Array | undefined,
  settle: (written: boolean) => void,
): void {
  const state = s.state;
  if (state.versionKnown && state.pver < REJECT_VERSION) return settle(false);
  queueInternal(s, makeReject(command, code, reason, hash), settle);
}
