/**
 * The sync's bookkeeping of blocks, apart from peers and timers: what is
 * known, what is wanted (and from whom), what is held waiting for a
 * parent, and what is ready for the consumer.
 *
 * @module
 */
import type { Peer } from "../peer/peer.ts";
import { hashToHex } from "../wire/hex.ts";
import type { InvVect } from "../wire/invvect.ts";
import type { BlockMessage } from "../wire/messages/block.ts";
import { Heap } from "./heap.ts";
import type { PeerSlot, Want } from "./slot.ts";
import type { BlockStore } from "./store.ts";
import type { SyncedBlock } from "./types.ts";
import { BlockVerificationError, heightFromParents } from "./verify.ts";

/** How many generations of unannounced parents are asked for before the server is taken for a liar. */
export const MAX_CHASE = 8;

/** A block received and verified, waiting for its parents. */
export interface Held {
  /** Its want. */
  readonly want: Want;
  /** The block. */
  readonly block: BlockMessage;
  /** Its exact bytes. */
  readonly payload: Uint8Array;
  /** The peer that served it. */
  readonly from: PeerSlot;
  /** Parents not yet known. */
  missing: number;
}

/** The blocks side of a sync. */
export class SyncState {
  /** The peers syncing now (shared with the sync). */
  readonly slots: Map<Peer, PeerSlot>;
  /** Heights of the blocks made ready (and genesis), by display hex. */
  readonly known = new Map<string, number>();
  /** Blocks announced and not yet received. */
  readonly wants = new Map<string, Want>();
  /** Wants to request, lowest height first. */
  readonly queue = new Heap<Want>((a, b) => a.height < b.height || (a.height === b.height && a.seq < b.seq));
  /** Blocks received, waiting for a parent. */
  readonly held = new Map<string, Held>();
  /** Held blocks by the parent they wait for. */
  readonly waiting = new Map<string, Held[]>();
  /** Blocks ready for the consumer, parents first. */
  readonly ready: SyncedBlock[] = [];
  /** Announcement counter. */
  seq = 0;
  /** Bytes held (waiting for a parent or for the consumer). */
  heldBytes = 0;
  /** The greatest height made ready (or stored before). */
  height: number;
  /** The height up to which some peer listed every block (its cursor). */
  enumerated: number;
  /** Requests made again. */
  rerequested = 0;
  /** Set when the sync closes: wants are then kept as they are. */
  closed = false;
  readonly #store: BlockStore | undefined;

  /**
   * Creates the state.
   *
   * @param slots The sync's peers.
   * @param genesis The genesis hash.
   * @param store The block store, if any.
   */
  constructor(slots: Map<Peer, PeerSlot>, genesis: Uint8Array, store: BlockStore | undefined) {
    this.slots = slots;
    this.#store = store;
    this.known.set(hashToHex(genesis), 0);
    this.height = store?.maxHeight ?? 0;
    this.enumerated = store?.checkpoint ?? 0;
  }

  knownHeight(hex: string): number | undefined {
    return this.known.get(hex) ?? this.#store?.get(hex)?.height;
  }

  /** The height up to which every block announced so far was yielded. */
  completeHeight(): number {
    let min = Infinity;
    for (const w of this.wants.values()) if (w.height < min) min = w.height;
    for (const h of this.held.values()) if (h.want.height < min) min = h.want.height;
    for (const r of this.ready) if (r.height < min) min = r.height;
    return Math.max(0, Math.min(min - 1, this.enumerated));
  }

  /** Blocks still held wait for parents nobody can give: gives them up. */
  giveUpHeld(): boolean {
    this.held.clear();
    this.waiting.clear();
    this.heldBytes = 0;
    return true;
  }

  /** Whether a live peer may still deliver `w`. */
  fetchable(w: Want): boolean {
    for (const s of this.slots.values()) if (!w.tried.has(s)) return true;
    return false;
  }

  drop(w: Want): void {
    this.wants.delete(w.hex);
    w.queued = false;
    w.asked = undefined;
  }

  /** Puts a want back in the queue after its peer failed it. */
  release(w: Want, slot: PeerSlot): void {
    if (w.asked !== slot) return;
    w.asked = undefined;
    this.requeue(w);
  }

  requeue(w: Want): void {
    // Closing keeps what is still wanted: it bounds the checkpoint.
    if (this.closed || !this.wants.has(w.hex)) return;
    if (!this.fetchable(w)) {
      if (![...w.announcers.keys()].some((s) => s.alive)) return this.drop(w);
      w.tried.clear();
    }
    this.rerequested++;
    if (!w.queued) {
      w.queued = true;
      this.queue.push(w);
    }
  }

  /** The want of a block (made and queued if new), with `slot` among its announcers. */
  want(hash: Uint8Array, height: number, slot: PeerSlot, announced: number): Want {
    const hex = hashToHex(hash);
    let w = this.wants.get(hex);
    if (w === undefined) {
      w = {
        hash: hash.slice(),
        hex,
        height,
        seq: this.seq++,
        announcers: new Map(),
        tried: new Set(),
        asked: undefined,
        queued: true,
        chase: 0,
        blame: undefined,
      };
      this.wants.set(hex, w);
      this.queue.push(w);
    }
    w.announcers.set(slot, announced);
    return w;
  }

  /** A held block whose parents are all known: check its height, then make it ready, then its children. */
  accept(first: Held, onLie: (slot: PeerSlot, err: BlockVerificationError) => void): void {
    const stack = [first];
    while (stack.length > 0) {
      const h = stack.pop()!;
      const hex = h.want.hex;
      this.held.delete(hex);
      const height = heightFromParents(h.block.parents.parents.map((p) => this.knownHeight(hashToHex(p.hash))!));
      for (const [s, announced] of h.want.announcers) {
        // NaN: asked as a parent, never announced.
        if (announced !== height && !Number.isNaN(announced) && s.alive) {
          const detail = `announced at height ${announced}, but its parents put it at ${height}`;
          onLie(s, new BlockVerificationError("height", hex, s.addr, detail));
        }
      }
      this.known.set(hex, height);
      if (height > this.height) this.height = height;
      this.ready.push({
        hash: h.want.hash,
        hex,
        height,
        block: h.block,
        payload: h.payload,
        from: h.from.addr,
      });
      const children = this.waiting.get(hex);
      if (children === undefined) continue;
      this.waiting.delete(hex);
      for (const c of children) if (--c.missing === 0) stack.push(c);
    }
  }

  /**
   * Tells whether no more blocks should be asked for: those held and those
   * in flight (at the largest average size measured) reach the budget.
   *
   * @param budget The byte budget.
   * @returns `true` when full.
   */
  bufferFull(budget: number): boolean {
    let inFlight = 0;
    let size = 0;
    for (const s of this.slots.values()) {
      inFlight += s.inFlight.size;
      size = Math.max(size, s.avgSize);
    }
    return this.heldBytes + inFlight * size >= budget;
  }

  /**
   * The peers, fastest first, then in a random order drawn when each joined.
   *
   * @returns The peers.
   */
  orderedSlots(): PeerSlot[] {
    return [...this.slots.values()].sort((a, b) => (b.rate ?? 0) - (a.rate ?? 0) || a.key - b.key);
  }

  /**
   * Hands out queued wants, lowest height first, to peers with room in
   * their window, while the budget allows: a want goes to a peer that
   * announced it when one that has not failed it is alive, and never back
   * to a peer that failed it. The wants are marked asked and in flight.
   *
   * @param slots The peers, in the order to serve them.
   * @param budget The byte budget.
   * @returns The new requests per peer.
   */
  plan(slots: readonly PeerSlot[], budget: number): Map<PeerSlot, Want[]> {
    const batches = new Map<PeerSlot, Want[]>();
    const skipped: Want[] = [];
    for (const slot of slots) {
      const batch: Want[] = [];
      let scanned = 0;
      while (slot.inFlight.size + batch.length < slot.window && !this.bufferFull(budget) && scanned < 256) {
        const w = this.queue.pop();
        if (w === undefined) break;
        w.queued = false;
        if (!this.wants.has(w.hex) || w.asked !== undefined) continue;
        scanned++;
        const announced = w.announcers.has(slot);
        const others = [...w.announcers.keys()].some((s) => s.alive && s !== slot && !w.tried.has(s));
        if (w.tried.has(slot) || (!announced && others)) {
          skipped.push(w);
          continue;
        }
        w.asked = slot;
        batch.push(w);
        slot.inFlight.set(w.hex, w);
      }
      for (const w of skipped.splice(0)) {
        w.queued = true;
        this.queue.push(w);
      }
      if (batch.length > 0) batches.set(slot, batch);
    }
    return batches;
  }

  /**
   * Records that a peer failed a want (a bad block, or one it cannot
   * complete) and queues it again for the others.
   *
   * @param w The want.
   * @param slot The peer.
   */
  failedBy(w: Want, slot: PeerSlot): void {
    w.tried.add(slot);
    w.announcers.delete(slot);
    this.requeue(w);
  }

  /**
   * Takes a verified block: ready at once when its parents are known
   * (then its waiting children), else held until they are. Parents nobody
   * announced are wanted from the peer that served it, which is blamed if
   * it cannot give them, up to {@linkcode MAX_CHASE} generations.
   *
   * @param w Its want.
   * @param block The block.
   * @param payload Its bytes.
   * @param slot The peer that served it.
   * @param onLie Called for a peer that announced it at a wrong height.
   * @returns The first unannounced parent when the chase went too deep
   *   (the block is not taken), else `undefined`.
   */
  take(
    w: Want,
    block: BlockMessage,
    payload: Uint8Array,
    slot: PeerSlot,
    onLie: (slot: PeerSlot, err: BlockVerificationError) => void,
  ): string | undefined {
    let missing = 0;
    const unknown: Uint8Array[] = [];
    const parents = block.parents.parents.map((p) => hashToHex(p.hash));
    parents.forEach((ph, i) => {
      if (this.knownHeight(ph) !== undefined) return;
      missing++;
      if (!this.wants.has(ph) && !this.held.has(ph)) unknown.push(block.parents.parents[i]!.hash);
    });
    if (unknown.length > 0) {
      // It may have been mined after our walk: ask the peer that served the child.
      if (w.chase >= MAX_CHASE) return hashToHex(unknown[0]!);
      for (const u of unknown) {
        const parent = this.want(u, w.height - 1, slot, NaN);
        parent.chase = w.chase + 1;
        parent.blame = { slot, child: w.hex };
      }
    }
    this.wants.delete(w.hex);
    const held: Held = { want: w, block, payload, from: slot, missing };
    this.heldBytes += payload.length;
    if (missing === 0) return void this.accept(held, onLie);
    this.held.set(w.hex, held);
    for (const ph of parents) {
      if (this.knownHeight(ph) !== undefined) continue;
      const list = this.waiting.get(ph);
      if (list === undefined) this.waiting.set(ph, [held]);
      else list.push(held);
    }
    return undefined;
  }

  /**
   * Takes one block of a peer's `inv`: wanted unless known or held.
   *
   * @param iv The inventory vector.
   * @param slot The peer.
   * @returns An error when the peer announces a known block at another height.
   */
  announce(iv: InvVect, slot: PeerSlot): BlockVerificationError | undefined {
    const hex = hashToHex(iv.hash);
    const known = this.knownHeight(hex);
    if (known !== undefined) {
      if (known === iv.height) return undefined;
      const detail = `announced at height ${iv.height}, but its parents put it at ${known}`;
      return new BlockVerificationError("height", hex, slot.addr, detail);
    }
    // Received already, waiting for a parent.
    if (!this.held.has(hex)) this.want(iv.hash, iv.height, slot, iv.height);
    return undefined;
  }
}
