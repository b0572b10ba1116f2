/**
 * The requests the sync sends one peer and their deadlines: the
 * `getblocks` that walks the DAG from the peer's cursor, the `getdata` for
 * a batch of wanted blocks, and the timers that call a peer stalled when
 * either goes unanswered.
 *
 * @module
 */
import type { Clock } from "../peer/clock.ts";
import { ZERO_HASH } from "../wire/hex.ts";
import { InvType, type InvVect } from "../wire/invvect.ts";
import { PROTOCOL_VERSION } from "../wire/protocol.ts";
import type { PeerSlot, Want } from "./slot.ts";

/** Called when a peer misses a deadline, with what it failed to send. */
export type OnStall = (slot: PeerSlot, what: string) => void;

/**
 * Sends a `getblocks` from the peer's cursor and starts the wait for its
 * `inv` answer.
 *
 * @param slot The peer.
 * @param clock The clock the deadline runs on.
 * @param wait How long the answer may take, in ms.
 * @param onStall Called when no answer came in time.
 */
export function askBlocks(slot: PeerSlot, clock: Clock, wait: number, onStall: OnStall): void {
  slot.invPending = true;
  // Straight to the queue: the peer's repeat filter must not eat a
  // request that asks again from the same height.
  void slot.peer.queueMessage({
    command: "getblocks",
    protocolVersion: PROTOCOL_VERSION,
    blockLocatorHeight: [slot.cursor],
    hashStop: ZERO_HASH,
  });
  slot.invTimer = clock.setTimeout(() => {
    slot.invTimer = undefined;
    if (!slot.invPending) return;
    slot.invPending = false;
    onStall(slot, `no inv within ${wait} ms of getblocks`);
  }, wait);
}

/**
 * Sends a `getdata` for a batch of wanted blocks (as witness blocks when
 * the peer serves them); a batch that is all the peer has in flight starts
 * its throughput measurement now.
 *
 * @param slot The peer.
 * @param batch The wants just assigned to it.
 * @param now The clock's time.
 */
export function askData(slot: PeerSlot, batch: readonly Want[], now: number): void {
  const type = slot.peer.witnessEnabled ? InvType.WITNESS_BLOCK : InvType.BLOCK;
  const invList: InvVect[] = batch.map((w) => ({ type, hash: w.hash, height: w.height }));
  if (slot.inFlight.size === batch.length) slot.mark = now;
  void slot.peer.queueMessage({ command: "getdata", invList });
}

/**
 * (Re)starts the deadline of a peer's oldest request; none runs while it
 * has nothing in flight or has left.
 *
 * @param slot The peer.
 * @param clock The clock the deadline runs on.
 * @param min The shortest deadline, in ms.
 * @param max The longest deadline, in ms.
 * @param onStall Called when the block did not come in time.
 */
export function armBlockDeadline(slot: PeerSlot, clock: Clock, min: number, max: number, onStall: OnStall): void {
  if (slot.timer !== undefined) clock.clearTimeout(slot.timer);
  slot.timer = undefined;
  if (slot.inFlight.size === 0 || !slot.alive) return;
  const timeout = slot.timeout(min, max);
  const due = slot.mark + timeout - clock.now();
  slot.timer = clock.setTimeout(() => {
    slot.timer = undefined;
    onStall(slot, `no block within ${Math.round(timeout)} ms`);
  }, due);
}
