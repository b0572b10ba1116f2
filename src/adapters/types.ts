/**
 * The options and the listener shape shared by the `./deno`, `./bun` and
 * `./node` entry points, so code written against one works with the others.
 * Runtime-neutral: it names no runtime API.
 *
 * @module
 */
import type { Conn, NetAddr } from "../peer/conn.ts";

export type { Conn, NetAddr };

/** Options of `connect` in every adapter. */
export interface ConnectOptions {
  /** Abandons the attempt when aborted: `connect` rejects with a
   * `ConnectionError` of code `aborted`. Has no effect once connected. */
  signal?: AbortSignal;
  /** Milliseconds allowed to establish the connection, after which `connect`
   * rejects with a `ConnectionError` of code `timeout`. Default: none (the
   * operating system's own limit). */
  timeout?: number;
  /** Disables Nagle's algorithm (`TCP_NODELAY`) so small messages leave at
   * once. Default: `true`, as in Go's `net` package that soterd uses. */
  noDelay?: boolean;
}

/** Options of `listen` in every adapter. */
export interface ListenOptions {
  /** Address to bind. Default: `"0.0.0.0"` (all IPv4 interfaces); use
   * `"::"` for IPv6 or `"127.0.0.1"` to accept only local connections. */
  hostname?: string;
  /** TCP port to bind; `0` picks a free one (read it from `addr`).
   * Default: `0`. */
  port?: number;
  /** Closes the listener when aborted. */
  signal?: AbortSignal;
  /** `TCP_NODELAY` on accepted connections. Default: `true`. */
  noDelay?: boolean;
}

/**
 * A TCP listener: iterate it to receive the incoming connections.
 *
 * The iteration ends when the listener is closed (by {@linkcode close}, by
 * `await using`, or by the `signal` given to `listen`). Closing the listener
 * stops accepting and closes connections accepted but not yet handed out;
 * connections already handed out stay open. Leaving a `for await` loop with
 * `break` does not close the listener.
 *
 * @example Accepting connections
 * ```ts ignore
 * import { listen } from "@soter/peer/deno";
 * await using listener = await listen({ hostname: "127.0.0.1", port: 0 });
 * console.log(listener.addr.port);
 * for await (const conn of listener) {
 *   conn.close();
 *   break;
 * }
 * ```
 */
export interface Listener extends AsyncIterable<Conn>, AsyncDisposable {
  /** The bound address; its `port` is the real one when `port: 0` was
   * asked for. */
  readonly addr: NetAddr;
  /** Stops accepting and ends the iteration; idempotent, never throws. */
  close(): void;
  /** Closes the listener and resolves once the socket is released. */
  [Symbol.asyncDispose](): Promise<void>;
}
