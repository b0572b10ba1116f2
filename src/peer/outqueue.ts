/**
 * The peer's output side without I/O: the bounded queue of encoded
 * messages, and the inventory waiting to be trickled.
 *
 * @module
 */
import type { InvVect } from "../wire/invvect.ts";
import type { Message } from "../wire/message.ts";
import type { MessageEncoding } from "../wire/protocol.ts";
import { MAX_INV_TRICKLE_SIZE, MAX_KNOWN_INVENTORY, MAX_PENDING_INVENTORY } from "./config.ts";
import { invKey, LruSet } from "./lru.ts";

/** A message waiting to be written. */
export interface OutItem {
  /** The message. */
  readonly msg: Message;
  /** Its transaction encoding. */
  readonly encoding: MessageEncoding;
  /** Its frame; re-encoded when the negotiated protocol version differs. */
  frame: Uint8Array;
  /** The protocol version `frame` was encoded at. */
  pver: number;
  /** Settles the caller's promise: `true` written, `false` dropped. */
  readonly settle: (written: boolean) => void;
}

/**
 * A FIFO of encoded messages bounded by bytes. Bytes and messages count
 * from {@linkcode OutQueue.push} until {@linkcode OutQueue.release}, so a
 * batch being written still counts. Against the bound, each message weighs
 * its frame plus a fixed overhead.
 */
export class OutQueue {
  readonly #maxBytes: number;
  readonly #overhead: number;
  #items: OutItem[] = [];
  #head = 0;
  #bytes = 0;
  #entries = 0;

  /**
   * Creates a queue.
   *
   * @param maxBytes The bound, in bytes.
   * @param entryOverhead What each message counts beyond its frame.
   */
  constructor(maxBytes: number, entryOverhead = 0) {
    this.#maxBytes = maxBytes;
    this.#overhead = entryOverhead;
  }

  /** Messages waiting (not counting those being written). */
  get length(): number {
    return this.#items.length - this.#head;
  }

  /** Bytes waiting or being written. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Messages waiting or being written. */
  get entries(): number {
    return this.#entries;
  }

  /**
   * Tells whether a frame of `size` bytes fits: it does when the queue is
   * empty, or when the total, overheads included, stays within the bound.
   *
   * @param size The frame size.
   * @returns `true` when it fits.
   */
  fits(size: number): boolean {
    if (this.#entries === 0) return true;
    return this.#bytes + size + (this.#entries + 1) * this.#overhead <= this.#maxBytes;
  }

  /**
   * Adds a message at the back, without checking the bound.
   *
   * @param item The message.
   */
  push(item: OutItem): void {
    this.#items.push(item);
    this.#bytes += item.frame.length;
    this.#entries++;
  }

  /**
   * Adds a message at the front (the `verack` that must precede what was
   * queued during the handshake).
   *
   * @param item The message.
   */
  unshift(item: OutItem): void {
    if (this.#head > 0) {
      this.#items[--this.#head] = item;
    } else {
      this.#items.unshift(item);
    }
    this.#bytes += item.frame.length;
    this.#entries++;
  }

  /**
   * Takes messages from the front: at least one, then more while the batch
   * stays within `batchBytes`.
   *
   * @param batchBytes The batch's size goal.
   * @returns The messages, oldest first (empty when the queue is).
   */
  take(batchBytes: number): OutItem[] {
    const out: OutItem[] = [];
    let size = 0;
    while (this.#head < this.#items.length) {
      const item = this.#items[this.#head]!;
      if (out.length > 0 && size + item.frame.length > batchBytes) break;
      out.push(item);
      size += item.frame.length;
      this.#head++;
    }
    this.#compact();
    return out;
  }

  /**
   * Gives back the bytes of written (or dropped) messages.
   *
   * @param bytes How many bytes.
   * @param entries How many messages they were.
   */
  release(bytes: number, entries = 0): void {
    this.#bytes = Math.max(0, this.#bytes - bytes);
    this.#entries = Math.max(0, this.#entries - entries);
  }

  /**
   * Removes every waiting message.
   *
   * @returns The messages, oldest first.
   */
  drain(): OutItem[] {
    const out = this.#items.slice(this.#head);
    this.#items = [];
    this.#head = 0;
    for (const item of out) this.release(item.frame.length, 1);
    return out;
  }

  /**
   * Lists the waiting messages without removing them.
   *
   * @returns The messages, oldest first.
   */
  peekAll(): OutItem[] {
    return this.#items.slice(this.#head);
  }

  #compact(): void {
    if (this.#head === this.#items.length) {
      this.#items = [];
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
  }
}

/**
 * Inventory waiting for the next trickle, and the inventory the remote is
 * known to have (an LRU of {@linkcode MAX_KNOWN_INVENTORY} vectors).
 */
export class InvTrickle {
  /** Made on first use: most peers never see inventory. */
  #known: LruSet<string> | undefined;
  #pending: InvVect[] = [];

  /** Vectors waiting. */
  get pending(): number {
    return this.#pending.length;
  }

  /**
   * Tells whether the remote is known to have `iv`.
   *
   * @param iv The vector.
   * @returns `true` when known.
   */
  isKnown(iv: InvVect): boolean {
    return this.#known?.has(invKey(iv)) ?? false;
  }

  /**
   * Records that the remote has `iv`.
   *
   * @param iv The vector.
   */
  markKnown(iv: InvVect): void {
    (this.#known ??= new LruSet<string>(MAX_KNOWN_INVENTORY)).add(invKey(iv));
  }

  /**
   * Queues a vector for the next trickle; beyond
   * {@linkcode MAX_PENDING_INVENTORY} waiting vectors it is dropped.
   *
   * @param iv The vector.
   * @returns `false` when dropped.
   */
  add(iv: InvVect): boolean {
    if (this.#pending.length >= MAX_PENDING_INVENTORY) return false;
    this.#pending.push(iv);
    return true;
  }

  /**
   * Empties the waiting list into `inv` batches of at most
   * {@linkcode MAX_INV_TRICKLE_SIZE}, skipping vectors the remote learnt
   * of meanwhile and recording the rest as known.
   *
   * @returns The batches, possibly none.
   */
  flush(): InvVect[][] {
    const known = this.#known ??= new LruSet<string>(MAX_KNOWN_INVENTORY);
    const batches: InvVect[][] = [];
    let batch: InvVect[] = [];
    for (const iv of this.#pending) {
      const key = invKey(iv);
      if (known.has(key)) continue;
      batch.push(iv);
      if (batch.length >= MAX_INV_TRICKLE_SIZE) {
        batches.push(batch);
        batch = [];
      }
      known.add(key);
    }
    if (batch.length > 0) batches.push(batch);
    this.#pending = [];
    return batches;
  }

  /** Drops the waiting vectors. */
  clear(): void {
    this.#pending = [];
  }
}
