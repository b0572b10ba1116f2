/**
 * The seam between the core and a runtime: a byte connection made of Web
 * Streams.
 *
 * @module
 */

/** A network endpoint. */
export interface NetAddr {
  /** IP address or host name, e.g. `"127.0.0.1"` or `"::1"`. */
  hostname: string;
  /** TCP port. */
  port: number;
}

/**
 * A duplex byte connection: everything the `Peer` needs from a socket.
 * The `./deno`, `./bun` and `./node` entry points make these from TCP
 * sockets; {@linkcode connPair} makes an in-memory pair for tests.
 *
 * Contract:
 * - `readable` yields the bytes received, ends when the remote closes its
 *   side, and errors on a connection failure. The consumer may keep each
 *   chunk: the producer must not reuse a chunk's memory after enqueuing it.
 * - `writable` sends bytes; its writes resolve once the runtime has taken
 *   the bytes (honouring backpressure) and reject after the connection
 *   failed or closed.
 * - `close()` tears both directions down at once; it is idempotent and
 *   never throws.
 */
export interface Conn {
  /** Bytes from the remote. */
  readonly readable: ReadableStream<Uint8Array>;
  /** Bytes to the remote. */
  readonly writable: WritableStream<Uint8Array>;
  /** This side's address. */
  readonly localAddr: NetAddr;
  /** The remote side's address. */
  readonly remoteAddr: NetAddr;
  /** Closes the connection in both directions. */
  close(): void;
}
