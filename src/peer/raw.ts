/**
 * Internal: the callback side of the connections this package makes (its
 * adapters and {@linkcode connPair}). A `Peer` given such a connection
 * drives it by callbacks instead of its Web Streams: no promise per chunk
 * read or written, and no stream objects at all for an idle connection
 * (the adapters make the streams only when asked for them). Any other
 * {@linkcode Conn} is driven through its streams, as the contract says.
 *
 * @module
 */
import type { Conn } from "./conn.ts";

/** The key under which a connection offers its callback side. */
export const RAW: unique symbol = Symbol.for("@soter/peer.raw");

/** Where a raw connection delivers what it reads. */
export interface RawSink {
  /** Bytes arrived; the consumer may keep the chunk. */
  data(chunk: Uint8Array): void;
  /** The remote ended the stream (after every chunk). */
  end(): void;
  /** Reading failed. */
  error(err: unknown): void;
}

/**
 * The callback side of a connection (its methods are prefixed so that the
 * connection object itself can offer them, with no object of its own).
 */
export interface RawConn {
  /**
   * Starts delivering to `sink`, once; the connection's streams are not
   * to be used afterwards.
   */
  rawStart(sink: RawSink): void;
  /** Asks for no more chunks until {@linkcode RawConn.rawResume} (one may still arrive). */
  rawPause(): void;
  /** Resumes delivering. */
  rawResume(): void;
  /**
   * Sends bytes; `done` is called once the runtime has taken them (maybe
   * at once, from within the call), with an error when sending failed.
   * The chunk is handed over: the caller does not touch it again, so the
   * connection may keep it without a copy.
   */
  rawWrite(chunk: Uint8Array, done: (err?: unknown) => void): void;
}

/** A connection that may offer its callback side. */
export interface RawCapable {
  /** The callback side, unless the streams are already in use. */
  [RAW]?: () => RawConn | undefined;
}

/**
 * Takes a connection's callback side, if it offers one.
 *
 * @param conn The connection.
 * @returns The callback side, or `undefined` to use the streams.
 */
export function rawOf(conn: Conn): RawConn | undefined {
  const take = (conn as Conn & RawCapable)[RAW];
  return typeof take === "function" ? take.call(conn) : undefined;
}
