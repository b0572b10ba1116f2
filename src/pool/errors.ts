/**
 * The pool's error.
 *
 * @module
 */

/**
 * Why a pool operation failed:
 * - `not-started`: the pool was not started.
 * - `stopped`: the pool is stopping or stopped.
 * - `aborted`: the caller's `AbortSignal` was aborted.
 * - `request-failed`: no peer answered a request within its attempts.
 * - `listen-failed`: a listen address could not be bound.
 * - `unknown-peer`: the peer is not one of the pool's.
 */
export type PoolErrorKind = "not-started" | "stopped" | "aborted" | "request-failed" | "listen-failed" | "unknown-peer";

/**
 * A pool operation failed.
 *
 * @example
 * ```ts
 * import { PoolError } from "@soter/peer";
 * const err = new PoolError("stopped", "Cannot request getheaders: the pool is stopping");
 * console.log(err.kind); // "stopped"
 * ```
 */
export class PoolError extends Error {
  /** What kind of failure this is. */
  readonly kind: PoolErrorKind;

  /**
   * Makes an error.
   *
   * @param kind What kind of failure this is.
   * @param message What happened and what to do.
   * @param options The underlying error, if any.
   */
  constructor(kind: PoolErrorKind, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "PoolError";
    this.kind = kind;
  }
}
