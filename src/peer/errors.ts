/**
 * The errors of the peer: a bad configuration, and why a peer disconnected.
 *
 * @module
 */
import { ConnectionError } from "../adapters/errors.ts";

/** Options accepted by the peer's errors. */
export interface PeerErrorOptions {
  /** The underlying error, if any. */
  cause?: unknown;
}

/**
 * The base class of every error the peer reports.
 *
 * @example Telling peer errors apart from others
 * ```ts
 * import { PeerError } from "@soter/peer";
 * function isPeerError(err: unknown): boolean {
 *   return err instanceof PeerError;
 * }
 * console.log(isPeerError(new Error("x"))); // false
 * ```
 */
export class PeerError extends Error {
  /**
   * Creates an error.
   *
   * @param message A sentence for a person.
   * @param options An optional cause.
   */
  constructor(message: string, options: PeerErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "PeerError";
  }
}

/**
 * A peer configuration soterd would not accept either: a user agent
 * comment with `/`, `:`, `(` or `)`, a version that is not a semantic
 * version, a user agent over 256 bytes, an address without a port, a
 * timeout that is not a positive number.
 *
 * @example
 * ```ts
 * import { ConfigError, Peer } from "@soter/peer";
 * try {
 *   Peer.inbound({ userAgentName: "app", userAgentVersion: "1.0.0", userAgentComments: ["a:b"] });
 * } catch (err) {
 *   console.log(err instanceof ConfigError); // true
 * }
 * ```
 */
export class ConfigError extends PeerError {
  /**
   * Creates an error.
   *
   * @param message What is wrong with the configuration.
   * @param options An optional cause.
   */
  constructor(message: string, options: PeerErrorOptions = {}) {
    super(message, options);
    this.name = "ConfigError";
  }
}

/**
 * Why a peer disconnected.
 *
 * Local decisions:
 * - `local`: {@linkcode Peer.disconnect} was called.
 * - `aborted`: the configured `AbortSignal` was aborted.
 * - `listener-error`: a listener threw or its promise rejected.
 * - `newest-block-error`: the `newestBlock` callback failed, so no
 *   `version` could be made.
 * - `send-queue-full`: the remote did not read fast enough and the output
 *   queue reached `maxQueueBytes`.
 *
 * The connection:
 * - `remote-closed`: the remote closed the connection, in order (FIN) or
 *   by a reset (RST: a `ConnectionError` with code `reset` is the
 *   `cause`). Both mean the remote left: a program that closes a socket
 *   with bytes it has not read makes its kernel send a reset, and a crash
 *   closes its sockets the same two ways, so TCP cannot tell a deliberate
 *   leave from a crash and the peer does not guess.
 * - `read-failed`: reading failed for another reason (the stream errored).
 * - `write-failed`: writing failed for another reason.
 *
 * The handshake (each named after soterd's check):
 * - `handshake-timeout`: no acceptable `version` within `handshakeTimeout`.
 * - `version-not-first`: the first message was not `version`.
 * - `self-connection`: the remote's nonce is one we sent.
 * - `genesis-mismatch`: the remote is on another network.
 * - `incompatible-user-agent`: the remote runs our software with another
 *   major version.
 * - `version-rejected`: the `onVersion` listener returned a reject.
 * - `obsolete-version`: the remote's protocol version is below 209.
 *
 * After the handshake:
 * - `duplicate-version`, `duplicate-verack`: a second one arrived.
 * - `malformed`: a message could not be read.
 * - `bloom-not-supported`: a bloom filter command arrived at protocol
 *   version 70011 or above while we do not signal `NODE_BLOOM`.
 * - `stalled`: an expected response missed its deadline.
 * - `idle-timeout`: nothing arrived within `idleTimeout`.
 */
export type DisconnectReason =
  | "local"
  | "aborted"
  | "listener-error"
  | "newest-block-error"
  | "send-queue-full"
  | "remote-closed"
  | "read-failed"
  | "write-failed"
  | "handshake-timeout"
  | "version-not-first"
  | "self-connection"
  | "genesis-mismatch"
  | "incompatible-user-agent"
  | "version-rejected"
  | "obsolete-version"
  | "duplicate-version"
  | "duplicate-verack"
  | "malformed"
  | "bloom-not-supported"
  | "stalled"
  | "idle-timeout";

/**
 * Tells why a peer disconnected: the value of
 * {@linkcode Peer.disconnected}. It is never thrown by the peer.
 *
 * @example Waiting for a peer to go away
 * ```ts
 * import { Peer } from "@soter/peer";
 * const peer = Peer.inbound();
 * peer.disconnect();
 * const why = await peer.disconnected;
 * console.log(why.reason); // "local"
 * ```
 */
export class DisconnectError extends PeerError {
  /** Why the peer disconnected, as a stable machine-readable value. */
  readonly reason: DisconnectReason;

  /**
   * Creates an error.
   *
   * @param reason Why the peer disconnected.
   * @param message A sentence for a person.
   * @param options An optional cause.
   */
  constructor(reason: DisconnectReason, message: string, options: PeerErrorOptions = {}) {
    super(message, options);
    this.name = "DisconnectError";
    this.reason = reason;
  }
}

/**
 * Whether a connection failed because the remote reset it: the remote
 * left, which the peer reports as `remote-closed`.
 *
 * @param err The error of a read or a write.
 * @returns True for a {@linkcode ConnectionError} with code `reset`.
 */
export function isRemoteReset(err: unknown): boolean {
  return err instanceof ConnectionError && err.code === "reset";
}
