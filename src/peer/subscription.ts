/**
 * One consumer of `Peer.messages()`: a bounded buffer between the peer's
 * reading and an async iterator.
 *
 * @module
 */
import type { Message } from "../wire/message.ts";

/**
 * A bounded buffer of messages read as an async iterator. The producer
 * waits (reads no further) while `highWaterMark` messages are unconsumed.
 */
export class Subscription implements AsyncIterableIterator<Message> {
  readonly #hwm: number;
  readonly #detach: (s: Subscription) => void;
  #buf: Message[] = [];
  #ended = false;
  #pulls: Array<(r: IteratorResult<Message>) => void> = [];
  #spaceWaiters: Array<() => void> = [];

  /**
   * Creates a subscription.
   *
   * @param hwm How many messages may wait unconsumed.
   * @param detach Called when the consumer stops early.
   */
  constructor(hwm: number, detach: (s: Subscription) => void) {
    this.#hwm = hwm;
    this.#detach = detach;
  }

  /** Offers a message; returns a promise when the buffer is full. */
  push(msg: Message): Promise<void> | undefined {
    if (this.#ended) return undefined;
    const pull = this.#pulls.shift();
    if (pull !== undefined) {
      pull({ value: msg, done: false });
      return undefined;
    }
    this.#buf.push(msg);
    if (this.#buf.length < this.#hwm) return undefined;
    return new Promise<void>((resolve) => this.#spaceWaiters.push(resolve));
  }

  /** No more messages will come; the buffered ones are still yielded. */
  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    for (const pull of this.#pulls.splice(0)) pull({ value: undefined, done: true });
    this.#releaseSpace();
  }

  #releaseSpace(): void {
    for (const w of this.#spaceWaiters.splice(0)) w();
  }

  /**
   * Takes the next message, waiting for one if needed.
   *
   * @returns The next message, or done once the peer has disconnected and
   *   the buffer is empty.
   */
  next(): Promise<IteratorResult<Message>> {
    if (this.#buf.length > 0) {
      const value = this.#buf.shift()!;
      if (this.#buf.length < this.#hwm) this.#releaseSpace();
      return Promise.resolve({ value, done: false });
    }
    if (this.#ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => this.#pulls.push(resolve));
  }

  /**
   * Stops consuming: drops the buffer and unsubscribes.
   *
   * @returns Done.
   */
  return(): Promise<IteratorResult<Message>> {
    this.#buf = [];
    this.end();
    this.#detach(this);
    return Promise.resolve({ value: undefined, done: true });
  }

  /**
   * Returns itself, so it can be used in `for await`.
   *
   * @returns This iterator.
   */
  [Symbol.asyncIterator](): AsyncIterableIterator<Message> {
    return this;
  }
}
