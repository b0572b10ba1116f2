/**
 * Internal: a {@linkcode Listener} fed by a runtime's connection callback
 * (Node and Bun accept by themselves; Deno accepts on demand and does not
 * use this). Runtime-neutral: it names no runtime API.
 *
 * @module
 */
import type { Conn, Listener, NetAddr } from "./types.ts";

type Waiter = {
  resolve(result: IteratorResult<Conn>): void;
  reject(err: unknown): void;
};

/** A listener whose connections are pushed by the runtime. */
export class QueueListener implements Listener {
  /** The bound address. */
  readonly addr: NetAddr;
  readonly #stop: () => Promise<void>;
  readonly #signal: AbortSignal | undefined;
  readonly #onAbort = () => this.close();
  #items: Conn[] = [];
  #waiters: Waiter[] = [];
  #error: unknown = undefined;
  #closing: Promise<void> | undefined;

  /**
   * Wraps a bound listening socket.
   *
   * @param addr The bound address.
   * @param stop Closes the listening socket.
   * @param signal Closes the listener when aborted.
   */
  constructor(
    addr: NetAddr,
    stop: () => Promise<void>,
    signal: AbortSignal | undefined,
  ) {
    this.addr = addr;
    this.#stop = stop;
    this.#signal = signal;
    if (signal?.aborted) this.close();
    else signal?.addEventListener("abort", this.#onAbort, { once: true });
  }

  /**
   * Hands an accepted connection to the iteration.
   *
   * @param conn The new connection.
   */
  push(conn: Conn): void {
    if (this.#closing) return conn.close();
    const waiter = this.#waiters.shift();
    if (waiter) waiter.resolve({ value: conn, done: false });
    else this.#items.push(conn);
  }

  /**
   * Ends the iteration with an error, then closes.
   *
   * @param err The listening socket's failure.
   */
  fail(err: unknown): void {
    if (this.#closing) return;
    this.#error = err;
    this.close();
  }

  /** Stops accepting and ends the iteration; idempotent, never throws. */
  close(): void {
    void this.#close();
  }

  #close(): Promise<void> {
    if (this.#closing) return this.#closing;
    this.#signal?.removeEventListener("abort", this.#onAbort);
    for (const conn of this.#items) conn.close();
    this.#items = [];
    for (const waiter of this.#waiters) {
      if (this.#error === undefined) {
        waiter.resolve({ value: undefined, done: true });
      } else waiter.reject(this.#error);
    }
    this.#waiters = [];
    this.#closing = this.#stop().catch(() => {});
    return this.#closing;
  }

  #next(): Promise<IteratorResult<Conn>> {
    const conn = this.#items.shift();
    if (conn) return Promise.resolve({ value: conn, done: false });
    if (this.#closing) {
      return this.#error === undefined
        ? Promise.resolve({ value: undefined, done: true })
        : Promise.reject(this.#error);
    }
    return new Promise((resolve, reject) => {
      this.#waiters.push({ resolve, reject });
    });
  }

  /** Iterates the incoming connections until the listener closes. */
  [Symbol.asyncIterator](): AsyncIterator<Conn> {
    return {
      next: () => this.#next(),
      // Leaving a loop early keeps the listener open.
      return: () => Promise.resolve({ value: undefined, done: true }),
    };
  }

  /** Closes the listener; resolves once the socket is released. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.#close();
  }
}
