/**
 * The pool's events and the fan-out that hands each of them to every
 * iterator opened with `Pool.events()`.
 *
 * @module
 */
import type { DisconnectError } from "../peer/errors.ts";
import type { Peer } from "../peer/peer.ts";

/**
 * What happens to the pool's peers:
 * - `peer-joined`: a peer completed its handshake and was admitted
 *   (it is in `Pool.peers()` from now on).
 * - `peer-left`: an admitted peer disconnected, with why.
 */
export type PoolEvent =
  | { type: "peer-joined"; peer: Peer }
  | { type: "peer-left"; peer: Peer; reason: DisconnectError };

/** One iterator: its buffer and its waiting reader. */
class EventStream implements AsyncIterableIterator<PoolEvent> {
  readonly #buf: PoolEvent[] = [];
  #pull: ((r: IteratorResult<PoolEvent>) => void) | undefined;
  #ended = false;
  readonly #detach: (s: EventStream) => void;

  constructor(detach: (s: EventStream) => void) {
    this.#detach = detach;
  }

  push(e: PoolEvent): void {
    if (this.#ended) return;
    const pull = this.#pull;
    if (pull !== undefined) {
      this.#pull = undefined;
      pull({ value: e, done: false });
    } else this.#buf.push(e);
  }

  end(): void {
    this.#ended = true;
    const pull = this.#pull;
    this.#pull = undefined;
    pull?.({ value: undefined, done: true });
  }

  next(): Promise<IteratorResult<PoolEvent>> {
    const e = this.#buf.shift();
    if (e !== undefined) return Promise.resolve({ value: e, done: false });
    if (this.#ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => {
      this.#pull = resolve;
    });
  }

  return(): Promise<IteratorResult<PoolEvent>> {
    this.#buf.length = 0;
    this.end();
    this.#detach(this);
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<PoolEvent> {
    return this;
  }
}

/**
 * Hands every event to each open iterator. Each iterator buffers what its
 * reader has not taken yet (events are few: one per peer joining or
 * leaving); leaving a `for await` loop detaches it, and {@linkcode
 * EventHub.close} ends them all.
 */
export class EventHub {
  readonly #streams = new Set<EventStream>();
  #closed = false;

  /**
   * Opens an iterator of the events from now on.
   *
   * @returns The iterator; it ends when the hub closes.
   */
  subscribe(): AsyncIterableIterator<PoolEvent> {
    const s = new EventStream((x) => this.#streams.delete(x));
    if (this.#closed) s.end();
    else this.#streams.add(s);
    return s;
  }

  /**
   * Hands an event to every iterator.
   *
   * @param e The event.
   */
  emit(e: PoolEvent): void {
    for (const s of this.#streams) s.push(e);
  }

  /** Ends every iterator (after the events they buffered). */
  close(): void {
    this.#closed = true;
    for (const s of this.#streams) s.end();
    this.#streams.clear();
  }
}
