/**
 * Handing a message to the user: the listener of its command, then the
 * subscribers of `Peer.messages()`. A listener that returns a promise, or
 * a subscriber whose buffer is full, holds reading until it settles.
 *
 * @module
 */
import type { Message } from "../wire/message.ts";
import { LISTENER_NAMES, type PeerListeners } from "./config.ts";
import type { Peer } from "./peer.ts";
import type { Session } from "./session.ts";

function noop(): void {}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof value === "object" && value !== null && typeof (value as PromiseLike<unknown>).then === "function";
}

/**
 * Calls the command's listener, then the subscribers.
 *
 * @param s The session.
 * @param msg The message.
 * @param payload Its payload bytes.
 * @returns A promise when reading must wait for the user.
 */
export function deliver(s: Session, msg: Message, payload: Uint8Array): Promise<void> | undefined {
  const name = LISTENER_NAMES[msg.command];
  const fn = s.cfg.listeners[name] as ((peer: Peer, msg: Message, payload: Uint8Array) => unknown) | undefined;
  if (fn !== undefined) {
    let out: unknown;
    try {
      out = fn(s.peer, msg, payload);
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
