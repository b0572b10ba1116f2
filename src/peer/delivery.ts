/**
 * What becomes of a message read once the peer is open: the peer's own
 * duties first (a second `version` or `verack`, a bloom filter command it
 * does not serve, a ping to answer), then the user: the listener of its
 * command, then the subscribers of `Peer.messages()`. A listener that
 * returns a promise, or a subscriber whose buffer is full, holds reading
 * until it settles.
 *
 * @module
 */
import type { DecodedFrame } from "../wire/frame.ts";
import type { Message } from "../wire/message.ts";
import { RejectCode } from "../wire/messages/reject.ts";
import { LISTENER_NAMES, type PeerListeners } from "./config.ts";
import { makeReject } from "./handshake.ts";
import { queueInternal, rejectThenDisconnect } from "./output.ts";
import type { Peer } from "./peer.ts";
import type { Session } from "./session.ts";

function noop(): void {}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof value === "object" && value !== null && typeof (value as PromiseLike<unknown>).then === "function";
}

/**
 * Reacts to a message read on an open peer: disconnects for a protocol
 * breach, answers a ping, and delivers what the user is to see.
 *
 * @param s The session.
 * @param frame The message and its payload bytes.
 * @param now When it was read.
 * @returns A promise when reading must wait (for the user, or for a last
 *   `reject` to be written).
 */
export function react(s: Session, frame: DecodedFrame, now: number): Promise<void> | undefined {
  const msg = frame.message;
  switch (s.state.received(msg, s.cfg.services, now)) {
    case "duplicate-version":
      rejectThenDisconnect(
        s,
        makeReject("version", RejectCode.DUPLICATE, "duplicate version message"),
        "duplicate-version",
        `${s} sent a second version`,
      );
      return s.closed.promise.then(noop);
    case "duplicate-verack":
      s.shutdown("duplicate-verack", `${s} sent a second verack`);
      return undefined;
    case "bloom-not-supported":
      s.shutdown(
        "bloom-not-supported",
        `${s} sent ${msg.command} at protocol version ${s.state.pver} although we do not signal bloom filter support`,
      );
      return undefined;
    case "ignore":
      return undefined;
    case "pong":
      queueInternal(s, { command: "pong", nonce: (msg as { nonce: bigint }).nonce });
      return deliver(s, frame);
    case "deliver":
      return deliver(s, frame);
  }
}

/**
 * Calls the command's listener, then the subscribers.
 *
 * @param s The session.
 * @param frame The message and its payload bytes (read only for a
 *   listener: a block that arrived in parts is joined into one buffer then).
 * @returns A promise when reading must wait for the user.
 */
export function deliver(s: Session, frame: DecodedFrame): Promise<void> | undefined {
  const msg = frame.message;
  const name = LISTENER_NAMES[msg.command];
  const fn = s.cfg.listeners[name] as ((peer: Peer, msg: Message, payload: Uint8Array) => unknown) | undefined;
  if (fn !== undefined) {
    let out: unknown;
    try {
      out = fn(s.peer, msg, frame.payload);
    } catch (err) {
      s.listenerFailed(name, err);
      return undefined;
    }
    if (isThenable(out)) return finishDelivery(s, name, out, msg);
  }
  return publish(s, msg);
}

async function finishDelivery(s: Session, name: keyof PeerListeners, pending: PromiseLike<unknown>, msg: Message) {
  try {
    await pending;
  } catch (err) {
    s.listenerFailed(name, err);
    return;
  }
  if (s.phase !== "open") return;
  await publish(s, msg);
}

/**
 * Gives a message to every subscriber.
 *
 * @param s The session.
 * @param msg The message.
 * @returns A promise when a subscriber's buffer is full.
 */
export function publish(s: Session, msg: Message): Promise<void> | undefined {
  const subs = s.subscriptions;
  if (subs === undefined || subs.size === 0) return undefined;
  let waits: Promise<void>[] | undefined;
  for (const sub of subs) {
    const w = sub.push(msg);
    if (w !== undefined) (waits ??= []).push(w);
  }
  return waits === undefined ? undefined : Promise.all(waits).then(noop);
}
