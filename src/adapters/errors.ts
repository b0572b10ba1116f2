/**
 * The one error type of the runtime adapters: a TCP connection that could
 * not be made or that failed, with a stable machine-readable code.
 * Runtime-neutral: it names no runtime API.
 *
 * @module
 */

/**
 * Why a connection failed:
 * - `refused`: nothing listens at the address (`ECONNREFUSED`).
 * - `reset`: the remote reset or dropped the connection (`ECONNRESET`,
 *   `EPIPE`).
 * - `timeout`: the connection was not established within the time allowed.
 * - `closed`: the connection was already closed locally.
 * - `aborted`: the caller's `AbortSignal` fired.
 * - `unreachable`: no route to the address, or the host name did not
 *   resolve.
 * - `other`: anything else; see `cause`.
 */
export type ConnectionErrorCode =
  | "refused"
  | "reset"
  | "timeout"
  | "closed"
  | "aborted"
  | "unreachable"
  | "other";

/** Options accepted by {@linkcode ConnectionError}. */
export interface ConnectionErrorOptions {
  /** The underlying runtime error, if any. */
  cause?: unknown;
}

/**
 * A TCP connection could not be made, failed, or was used after it closed.
 * Never raised for malformed protocol data (that is `MessageError`).
 *
 * @example Telling a refused connection apart
 * ```ts ignore
 * import { connect, ConnectionError } from "@soter/peer/deno";
 * try {
 *   await connect("127.0.0.1", 1);
 * } catch (err) {
 *   if (err instanceof ConnectionError && err.code === "refused") {
 *     console.log(err.message); // "Connection to 127.0.0.1:1 refused"
 *   }
 * }
 * ```
 */
export class ConnectionError extends Error {
  /** Why the connection failed, as a stable machine-readable code. */
  readonly code: ConnectionErrorCode;

  /**
   * Creates an error with the given code.
   *
   * @param code Why the connection failed.
   * @param message A sentence for a person, naming the address.
   * @param options The underlying runtime error, if any.
   */
  constructor(
    code: ConnectionErrorCode,
    message: string,
    options: ConnectionErrorOptions = {},
  ) {
    super(
      message,
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.name = "ConnectionError";
    this.code = code;
  }
}
