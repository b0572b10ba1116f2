/**
 * `DagSync`: downloads a soter blockDAG from many peers at once, verifies
 * what a client can, and yields the blocks parents first.
 *
 * @module
 */
import type { Hasher } from "../hash/hasher.ts";
import { defaultHasher } from "../hash/hasher.ts";
import { type Clock, systemClock } from "../peer/clock.ts";
import type { Peer } from "../peer/peer.ts";
import { cryptoRandom, type RandomSource } from "../peer/random.ts";
import { hashToHex } from "../wire/hex.ts";
import { InvType, type InvVect } from "../wire/invvect.ts";
import type { BlockMessage } from "../wire/messages/block.ts";
import type { Message } from "../wire/message.ts";
import { blockPayload } from "./payload.ts";
import { armBlockDeadline, askBlocks, askData } from "./requests.ts";
import { PeerSlot } from "./slot.ts";
import { SyncState } from "./state.ts";
import type { BlockStore } from "./store.ts";
import {
  type DagSyncOptions,
  type SyncedBlock,
  SyncError,
  type SyncPeerEvent,
  type SyncPeerSource,
  type SyncProgress,
} from "./types.ts";
import { BlockVerificationError, checkBlockContent } from "./verify.ts";

/** soterd's `MaxBlocksPerMsg`: a full `inv` answer to `getblocks`. */
export const MAX_BLOCKS_PER_INV = 500;

function isSource(p: readonly Peer[] | SyncPeerSource): p is SyncPeerSource {
  return !Array.isArray(p);
}

/**
 * Downloads a blockDAG from many peers. Iterate over it to get the blocks,
 * every parent before its children; a slow consumer slows the download.
 *
 * Each peer walks the DAG with `getblocks` by locator height (its `inv`
 * answers carry heights, at most 500 per round); the blocks announced are
 * asked with `getdata`, lowest height first, spread over the peers within
 * a per-peer window. A peer that does not deliver its next block within a
 * deadline that follows its measured throughput stalls: its requests go
 * to other peers, its window halves, and after `maxStalls` stalls it is
 * dropped (scored through the pool when there is one). A peer serving or
 * announcing a bad block is banned (see `BlockVerificationError`).
 *
 * @example Syncing from two peers into a store
 * ```ts ignore
 * import { BlockStore, DagSync, SIMNET } from "@soter/peer";
 * import { fileStorage } from "@soter/peer/deno";
 * const store = await BlockStore.open(fileStorage("./blocks"));
 * const sync = new DagSync({ network: SIMNET, peers: [peerA, peerB], store });
 * for await (const b of sync) console.log(b.height, b.hex);
 * console.log(sync.progress());
 * ```
 */
export class DagSync implements AsyncIterable<SyncedBlock> {
  readonly #o: DagSyncOptions;
  readonly #clock: Clock;
  readonly #random: RandomSource;
  readonly #hasher: Hasher;
  readonly #store: BlockStore | undefined;
  readonly #source: SyncPeerSource | undefined;
  readonly #maxWindow: number;
  readonly #budget: number;
  readonly #slots = new Map<Peer, PeerSlot>();
  readonly #s: SyncState;
  #started = false;
  #closed = false;
  #wake: (() => void) | undefined;
  #events: AsyncIterableIterator<SyncPeerEvent> | undefined;
  #start = 0;
  #best = 0;
  #blocks = 0;
  #bytes = 0;
  #invalid = 0;
  #stalledPeers = 0;
  #noPeersTimer: unknown;
  #failure: Error | undefined;
  /** Peers that walked to their end and were not banned since. */
  readonly #walkers = new Set<PeerSlot>();

  /**
   * Prepares a sync; it starts when iterated.
   *
   * @param options The network, the peers, and tuning.
   */
  constructor(options: DagSyncOptions) {
    this.#o = options;
    this.#clock = options.clock ?? systemClock;
    this.#random = options.random ?? cryptoRandom;
    this.#hasher = options.hasher ?? defaultHasher();
    this.#store = options.store;
    this.#source = isSource(options.peers) ? options.peers : undefined;
    this.#maxWindow = Math.max(1, Math.floor(options.window ?? 64));
    this.#budget = Math.max(1, options.maxBufferBytes ?? 32 * 1024 * 1024);
    this.#s = new SyncState(this.#slots, options.network.genesisHash, options.store);
  }

  /**
   * A snapshot of the progress.
   *
   * @returns Heights, counts, bytes and time.
   */
  progress(): SyncProgress {
    let inFlight = 0;
    for (const s of this.#slots.values()) inFlight += s.inFlight.size;
    return {
      height: this.#s.height,
      bestHeight: Math.max(this.#best, this.#s.height),
      blocks: this.#blocks,
      bytes: this.#bytes,
      peers: this.#slots.size,
      pending: this.#s.wants.size + this.#s.held.size + this.#s.ready.length,
      inFlight,
      bufferedBytes: this.#s.heldBytes,
      invalid: this.#invalid,
      stalledPeers: this.#stalledPeers,
      rerequested: this.#s.rerequested,
      elapsedMs: this.#started ? this.#clock.now() - this.#start : 0,
    };
  }

  /**
   * Stops the sync: the iteration ends, the peers are left connected.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#s.closed = true;
    for (const s of [...this.#slots.values()]) this.#detach(s);
    void this.#events?.return?.();
    this.#clearNoPeers();
    this.#notify();
  }

  /**
   * Runs the sync, yielding blocks parents first. It ends when every peer
   * has nothing more to announce and every block announced was yielded
   * (or could not be had), or on {@linkcode DagSync.close}.
   *
   * @returns The blocks.
   * @throws {SyncError} when no usable peer is left for `peerWaitTimeout`
   *   while blocks remain, or the store fails.
   */
  async *[Symbol.asyncIterator](): AsyncIterator<SyncedBlock> {
    if (this.#started) throw new TypeError("A DagSync runs once: make a new one to sync again");
    this.#started = true;
    this.#start = this.#clock.now();
    const signal = this.#o.signal;
    const onAbort = () => this.close();
    signal?.addEventListener("abort", onAbort, { once: true });
    try {
      if (signal?.aborted) return;
      this.#attachAll();
      let sinceCheckpoint = 0;
      for (;;) {
        const item = this.#s.ready.shift();
        if (item !== undefined) {
          this.#s.heldBytes -= item.payload.length;
          if (this.#store !== undefined) {
            await this.#storeAdd(item);
            if (++sinceCheckpoint >= 256) {
              sinceCheckpoint = 0;
              this.#store.setCheckpoint(this.#s.completeHeight());
            }
          }
          this.#blocks++;
          this.#bytes += item.payload.length;
          this.#pump();
          yield item;
          continue;
        }
        if (this.#failure !== undefined) throw this.#failure;
        if (this.#closed) break;
        if (this.#finished()) break;
        await new Promise<void>((resolve) => this.#wake = resolve);
        this.#wake = undefined;
      }
    } finally {
      signal?.removeEventListener("abort", onAbort);
      // What was announced and not yet yielded bounds the checkpoint, so
      // take it before closing.
      this.#store?.setCheckpoint(this.#s.completeHeight());
      this.close();
      if (this.#store !== undefined) {
        try {
          await this.#store.flush();
        } catch (err) {
          // deno-lint-ignore no-unsafe-finally
          throw new SyncError("storage", `Cannot write the block store: ${(err as Error).message}`, { cause: err });
        }
      }
    }
  }

  async #storeAdd(item: SyncedBlock): Promise<void> {
    try {
      await this.#store!.add({
        hash: item.hash,
        height: item.height,
        parents: item.block.parents.parents.map((p) => p.hash),
        payload: item.payload,
      });
    } catch (err) {
      throw new SyncError("storage", `Cannot write the block store: ${(err as Error).message}`, { cause: err });
    }
  }

  #notify(): void {
    this.#wake?.();
  }

  #finished(): boolean {
    if (this.#s.ready.length > 0) return false;
    const live = [...this.#slots.values()];
    if (live.length === 0) {
      // Every peer left after walking to its end, with nothing left to fetch.
      if (this.#walkers.size > 0 && this.#s.wants.size === 0) return this.#s.giveUpHeld();
      return this.#waitForPeers();
    }
    this.#clearNoPeers();
    if (!live.every((s) => s.exhausted && !s.invPending)) return false;
    if (this.#s.wants.size > 0) return false;
    return this.#s.giveUpHeld();
  }

  #waitForPeers(): boolean {
    if (this.#noPeersTimer !== undefined) return false;
    const wait = this.#o.peerWaitTimeout ?? 30_000;
    this.#noPeersTimer = this.#clock.setTimeout(() => {
      this.#noPeersTimer = undefined;
      if (this.#slots.size > 0 || this.#closed) return;
      this.#failure = new SyncError(
        "no-peers",
        `Cannot sync: no usable peer for ${wait} ms with ${this.#s.wants.size} blocks still to fetch; give more peers`,
      );
      this.#notify();
    }, wait);
    return false;
  }

  #clearNoPeers(): void {
    if (this.#noPeersTimer !== undefined) this.#clock.clearTimeout(this.#noPeersTimer);
    this.#noPeersTimer = undefined;
  }

  // ---------------------------------------------------------------------
  // Peers.

  #attachAll(): void {
    const src = this.#source;
    const peers = src !== undefined ? src.peers() : this.#o.peers as readonly Peer[];
    for (const p of peers) void this.#attach(p);
    if (src !== undefined) {
      const events = src.events();
      this.#events = events;
      void (async () => {
        try {
          for await (const e of events) {
            if (this.#closed) break;
            if (e.peer === undefined) continue;
            if (e.type === "peer-joined") void this.#attach(e.peer);
            else if (e.type === "peer-left") {
              const s = this.#slots.get(e.peer);
              if (s !== undefined) this.#detach(s);
            }
          }
        } catch {
          // The source ended badly: keep the peers we have.
        }
      })();
    }
  }

  async #attach(peer: Peer): Promise<void> {
    if (this.#slots.has(peer) || this.#closed) return;
    if (!(await peer.ready) || this.#closed || this.#slots.has(peer)) return;
    const slot = new PeerSlot(peer, Math.min(4, this.#maxWindow), this.#store?.checkpoint ?? 0);
    slot.mark = this.#clock.now();
    const r = new Uint8Array(4);
    this.#random(r);
    slot.key = new DataView(r.buffer).getUint32(0);
    this.#slots.set(peer, slot);
    this.#best = Math.max(this.#best, peer.startingHeight);
    this.#clearNoPeers();
    const sub = peer.messages({ highWaterMark: 64 });
    slot.stop = () => void sub.return?.();
    void peer.disconnected.then(() => this.#detach(slot));
    void (async () => {
      for await (const msg of sub) {
        if (!slot.alive) break;
        this.#onMessage(slot, msg);
      }
    })().finally(() => this.#detach(slot));
    this.#pump();
  }

  #detach(slot: PeerSlot): void {
    if (!slot.alive) return;
    slot.alive = false;
    // Unsubscribe at once: a subscription nobody reads would stop the peer.
    slot.stop();
    this.#slots.delete(slot.peer);
    if (slot.timer !== undefined) this.#clock.clearTimeout(slot.timer);
    if (slot.invTimer !== undefined) this.#clock.clearTimeout(slot.invTimer);
    for (const w of slot.inFlight.values()) this.#s.release(w, slot);
    slot.inFlight.clear();
    // Closing keeps what is still wanted: it bounds the checkpoint.
    if (this.#closed) return;
    // Blocks only this peer announced cannot be had elsewhere.
    for (const w of [...this.#s.wants.values()]) {
      if (w.asked !== undefined || this.#s.fetchable(w)) continue;
      if ([...w.announcers.keys()].some((s) => s.alive)) w.tried.clear();
      else this.#s.drop(w);
    }
    this.#pump();
    this.#notify();
  }

  #ban(slot: PeerSlot, err: BlockVerificationError): void {
    this.#invalid++;
    // What a liar announced proves nothing about where the DAG ends.
    this.#walkers.delete(slot);
    if (this.#source !== undefined) this.#source.ban(slot.peer, err.message);
    else slot.peer.disconnect();
    this.#detach(slot);
    this.#o.onInvalidBlock?.(err);
  }

  #stall(slot: PeerSlot, what: string): void {
    if (!slot.alive) return;
    slot.stalls++;
    const max = this.#o.maxStalls ?? 3;
    const reason = `stalled: ${what} (stall ${slot.stalls} of ${max})`;
    this.#source?.misbehaving(slot.peer, this.#o.stallPoints ?? 20, reason);
    if (slot.stalls >= max) {
      this.#stalledPeers++;
      slot.peer.disconnect();
      this.#detach(slot);
      return;
    }
    slot.window = Math.max(1, slot.window >> 1);
    for (const w of slot.inFlight.values()) {
      w.tried.add(slot);
      this.#s.release(w, slot);
    }
    slot.inFlight.clear();
    this.#pump();
  }

  // ---------------------------------------------------------------------
  // Requests.

  /**
   * Queues a want again, unless nobody can deliver it: when every live peer
   * failed it once, those that announced it get another try; when none of
   * them is left, it is given up.
   */

  #pump(): void {
    if (this.#closed) return;
    const slots = this.#s.orderedSlots();
    for (const slot of slots) {
      if (!slot.alive || slot.invPending || slot.exhausted) continue;
      if (this.#s.queue.size < MAX_BLOCKS_PER_INV && !this.#s.bufferFull(this.#budget)) this.#askBlocks(slot);
    }
    for (const [slot, batch] of this.#s.plan(slots, this.#budget)) {
      askData(slot, batch, this.#clock.now());
      this.#arm(slot);
    }
  }

  #askBlocks(slot: PeerSlot): void {
    askBlocks(slot, this.#clock, this.#o.invTimeout ?? 30_000, this.#onStall);
  }

  /** (Re)starts the deadline of a peer's oldest request. */
  #arm(slot: PeerSlot): void {
    const o = this.#o;
    armBlockDeadline(slot, this.#clock, o.minBlockTimeout ?? 5_000, o.maxBlockTimeout ?? 120_000, this.#onStall);
  }

  readonly #onStall = (slot: PeerSlot, what: string): void => this.#stall(slot, what);

  // ---------------------------------------------------------------------
  // Messages.

  #onMessage(slot: PeerSlot, msg: Message): void {
    if (this.#closed || !slot.alive) return;
    switch (msg.command) {
      case "inv":
        return this.#onInv(slot, msg.invList);
      case "block":
        return this.#onBlock(slot, msg);
      case "notfound":
        return this.#onNotFound(slot, msg.invList);
    }
  }

  #onInv(slot: PeerSlot, list: readonly InvVect[]): void {
    let max = -1;
    let blocks = 0;
    for (const iv of list) {
      if (iv.type !== InvType.BLOCK && iv.type !== InvType.WITNESS_BLOCK) continue;
      // soterd lists at most 500 blocks an inv: more would only grow what
      // we keep on a peer's word.
      if (++blocks > MAX_BLOCKS_PER_INV) break;
      if (iv.height > max) max = iv.height;
      const lie = this.#s.announce(iv, slot);
      if (lie !== undefined) return this.#ban(slot, lie);
    }
    if (max > this.#best) this.#best = max;
    if (slot.invPending) {
      slot.invPending = false;
      if (slot.invTimer !== undefined) this.#clock.clearTimeout(slot.invTimer);
      slot.invTimer = undefined;
      if (slot.answered(blocks >= MAX_BLOCKS_PER_INV, max)) this.#walkers.add(slot);
      if (slot.cursor > this.#s.enumerated) this.#s.enumerated = slot.cursor;
    } else if (blocks > 0) {
      // An announcement of new blocks: there is more to walk.
      slot.exhausted = false;
    }
    this.#pump();
    this.#notify();
  }

  #onNotFound(slot: PeerSlot, list: readonly InvVect[]): void {
    for (const iv of list) {
      const w = slot.inFlight.get(hashToHex(iv.hash));
      if (w === undefined) continue;
      if (w.blame?.slot === slot) {
        // It served a block and cannot give the parent it names.
        slot.inFlight.delete(w.hex);
        this.#s.drop(w);
        const detail = `parent ${w.hex} is neither known nor announced by any peer, nor can the peer give it`;
        return this.#ban(slot, new BlockVerificationError("unknown-parent", w.blame.child, slot.addr, detail));
      }
      slot.inFlight.delete(w.hex);
      w.tried.add(slot);
      w.announcers.delete(slot);
      this.#s.release(w, slot);
    }
    slot.mark = this.#clock.now();
    this.#arm(slot);
    this.#pump();
    this.#notify();
  }

  #onBlock(slot: PeerSlot, block: BlockMessage): void {
    const payload = blockPayload(block);
    const headerHash = this.#hasher.doubleSha256(payload.subarray(0, 80));
    const hex = hashToHex(headerHash);
    let w = slot.inFlight.get(hex);
    if (w === undefined) {
      const other = this.#s.wants.get(hex);
      if (other !== undefined) {
        // A late answer to a request given up on (or given to another
        // peer) since: take it.
        w = other;
      } else if (this.#s.knownHeight(hex) !== undefined || this.#s.held.has(hex)) {
        return;
      } else {
        // Not a block anyone asked for: it answers this peer's oldest request.
        const oldest = slot.inFlight.values().next().value;
        if (oldest === undefined) return;
        const detail = `its header hashes to ${hex}`;
        slot.inFlight.delete(oldest.hex);
        this.#s.release(oldest, slot);
        return this.#ban(slot, new BlockVerificationError("hash", oldest.hex, slot.addr, detail));
      }
    }
    slot.inFlight.delete(hex);
    if (w.asked === slot) w.asked = undefined;
    slot.recordDelivery(payload.length, this.#clock.now(), this.#maxWindow);
    this.#arm(slot);
    if (!this.#s.wants.has(hex)) return this.#pump();
    const problem = checkBlockContent(block, headerHash, w.hash, this.#o.network, this.#hasher);
    if (problem !== undefined) {
      this.#s.failedBy(w, slot);
      return this.#ban(slot, new BlockVerificationError(problem.kind, hex, slot.addr, problem.detail));
    }
    const unknown = this.#s.take(w, block, payload, slot, (s, err) => this.#ban(s, err));
    if (unknown !== undefined) {
      this.#s.failedBy(w, slot);
      const detail = `parent ${unknown} is neither known nor announced by any peer`;
      return this.#ban(slot, new BlockVerificationError("unknown-parent", hex, slot.addr, detail));
    }
    this.#pump();
    this.#notify();
  }
}
