/**
 * What a `Peer` sends when asked, over its session: a message or inventory
 * queued, the `addr` and `addrcache` pushes, and the `getblocks` and
 * `getheaders` pushes with the filters that skip a repeated request.
 *
 * @module
 */
import { InvType, type InvVect } from "../wire/invvect.ts";
import type { Message } from "../wire/message.ts";
import { MAX_ADDR_PER_MSG } from "../wire/messages/addr.ts";
import type { AddrCacheMessage } from "../wire/messages/addrcache.ts";
import type { NetAddress } from "../wire/netaddress.ts";
import type { MessageEncoding } from "../wire/protocol.ts";
import { encodeFrame, enqueue, queueInternal } from "./output.ts";
import { locatorMessage, randomSubset, RepeatFilter, splitAddrCache } from "./push.ts";
import type { Session } from "./session.ts";

/** The resolver of the promise made last with {@linkcode capture}: no closure per message. */
let captured: ((written: boolean) => void) | undefined;
const capture = (resolve: (written: boolean) => void): void => {
  captured = resolve;
};

/**
 * Queues a message for the remote (see `Peer.queueMessage`).
 *
 * @param s The session.
 * @param msg The message.
 * @param encoding The transaction encoding.
 * @returns A promise that settles with `true` once written, `false` when dropped.
 * @throws {MessageError} when the message cannot be encoded at the current protocol version.
 */
export function queueMessage(s: Session, msg: Message, encoding: MessageEncoding): Promise<boolean> {
  if (s.phase === "closed" || s.phase === "new") return Promise.resolve(false);
  const frame = encodeFrame(s, msg, s.state.pver, encoding);
  const promise = new Promise<boolean>(capture);
  const settle = captured!;
  captured = undefined;
  if (!enqueue(s, msg, encoding, frame, settle)) settle(false);
  return promise;
}

/**
 * Queues inventory to announce (see `Peer.queueInventory`): a block at
 * once, anything else at the next trickle.
 *
 * @param s The session.
 * @param iv The inventory vector.
 * @param connected Whether the peer is connected.
 */
export function queueInventory(s: Session, iv: InvVect, connected: boolean): void {
  if (s.trickle.isKnown(iv)) return;
  if (!connected || !s.state.versionKnown) return;
  if (iv.type === InvType.BLOCK || iv.type === InvType.WITNESS_BLOCK) {
    queueInternal(s, { command: "inv", invList: [iv] });
    return;
  }
  s.trickle.add(iv);
  s.armTrickle();
}

/**
 * Sends an `addr` with the addresses, or a random 1000 of them.
 *
 * @param s The session.
 * @param addresses The addresses.
 * @returns The addresses sent; none for an empty list.
 * @throws {MessageError} when an address cannot be encoded.
 */
export function pushAddr(s: Session, addresses: readonly NetAddress[]): NetAddress[] {
  if (addresses.length === 0) return [];
  const list = randomSubset(addresses, MAX_ADDR_PER_MSG, s.cfg.random);
  void queueMessage(s, { command: "addr", addrList: list }, "base");
  return list;
}

/**
 * Sends the `addrcache` messages that hold the addresses.
 *
 * @param s The session.
 * @param inbound Addresses of inbound peers.
 * @param outbound Addresses of outbound peers.
 * @param known Other known addresses.
 * @returns The messages queued.
 * @throws {MessageError} when an address cannot be encoded.
 */
export function pushAddrCache(
  s: Session,
  inbound: readonly NetAddress[],
  outbound: readonly NetAddress[],
  known: readonly NetAddress[],
): AddrCacheMessage[] {
  const msgs = splitAddrCache(inbound, outbound, known);
  for (const m of msgs) void queueMessage(s, m, "base");
  return msgs;
}

/**
 * Sends `getblocks` and `getheaders` requests, each skipped when it repeats
 * the previous one of its command (a `getblocks` with a zero stop hash is
 * always sent).
 */
export class LocatorPusher {
  #blocks: RepeatFilter | undefined;
  #headers: RepeatFilter | undefined;

  /**
   * Queues a request unless it repeats the previous one.
   *
   * @param s The session.
   * @param command The command.
   * @param locator The block locator heights (at most one).
   * @param stopHash The stop hash in wire order.
   * @returns `false` when skipped as a repeat.
   * @throws {MessageError} for more than one locator height.
   */
  push(s: Session, command: "getblocks" | "getheaders", locator: readonly number[], stopHash: Uint8Array): boolean {
    const previous = command === "getblocks"
      ? this.#blocks ??= new RepeatFilter(true)
      : this.#headers ??= new RepeatFilter(false);
    if (previous.isRepeat(locator, stopHash)) return false;
    void queueMessage(s, locatorMessage(command, locator, stopHash), "base");
    previous.record(locator, stopHash);
    return true;
  }
}
