/**
 * TCP for soter-peer on Bun, through Bun's own sockets (`Bun.connect`,
 * `Bun.listen`): {@linkcode connect} and {@linkcode listen} give
 * {@linkcode Conn}s of Web Streams.
 *
 * Bun's socket callbacks are bridged with real backpressure: reading pauses
 * (`socket.pause()`) while 64 KiB wait unread, and a write that Bun takes
 * only in part keeps the rest until Bun's `drain` callback.
 *
 * Side effect: importing this module installs {@linkcode nativeHasher}
 * (`node:crypto`) as the default hasher with `setDefaultHasher`.
 *
 * @example Connecting to a peer
 * ```ts ignore
 * import { connect } from "@soter/peer/bun";
 * const conn = await connect("127.0.0.1", 18555, { timeout: 5000 });
 * const writer = conn.writable.getWriter();
 * await writer.write(new Uint8Array([1, 2, 3]));
 * conn.close();
 * ```
 *
 * @module
 */
import { setDefaultHasher } from "../hash/hasher.ts";
import { QueueListener } from "./_accept.ts";
import { attempt, closedError, formatAddr, listenError, netAddr } from "./_common.ts";
import { SocketConn, type SocketOps } from "./_socket.ts";
import { ConnectionError } from "./errors.ts";
import { nodeFileOps } from "./_file_storage.ts";
import { FileStorage } from "./_storage_common.ts";
import { nativeHasher } from "./native_hash.ts";
import type { Conn, ConnectOptions, Listener, ListenOptions, NetAddr } from "./types.ts";
import type { Storage } from "../storage/storage.ts";

export { ConnectionError, nativeHasher };
export type { ConnectionErrorCode } from "./errors.ts";
export type { Hasher } from "../hash/hasher.ts";
export type { Conn, ConnectOptions, Listener, ListenOptions, NetAddr, Storage };

setDefaultHasher(nativeHasher);

// The few parts of Bun's API used here, declared locally so that the package
// type-checks without Bun's types.
interface BunSocket {
  data: Side | undefined;
  readonly localAddress: string;
  readonly localPort: number;
  readonly remoteAddress: string;
  readonly remotePort: number;
  /** Returns the bytes taken (maybe fewer), or -1 once closed. */
  write(data: Uint8Array): number;
  shutdown(halfClose?: boolean): void;
  end(): void;
  pause(): void;
  resume(): void;
  setNoDelay(noDelay: boolean): boolean;
}
interface BunHandlers {
  open(socket: BunSocket): void;
  data(socket: BunSocket, data: Uint8Array): void;
  drain(socket: BunSocket): void;
  end(socket: BunSocket): void;
  close(socket: BunSocket, error?: Error): void;
  error(socket: BunSocket, error: Error): void;
}
interface BunTcpListener {
  readonly hostname: string;
  readonly port: number;
  stop(closeActiveConnections?: boolean): void;
}
declare const Bun: {
  connect(options: {
    hostname: string;
    port: number;
    allowHalfOpen: boolean;
    socket: BunHandlers;
  }): Promise<BunSocket>;
  listen(options: {
    hostname: string;
    port: number;
    allowHalfOpen: boolean;
    socket: BunHandlers;
  }): BunTcpListener;
};

/**
 * Per-socket state (the conn, the unwritten rest of a write) and the
 * socket's operations for {@linkcode SocketConn}, as methods rather than
 * closures: an idle connection holds this one object for them.
 */
class Side implements SocketOps {
  readonly #socket: BunSocket;
  readonly conn: SocketConn;
  rest: Uint8Array | undefined;
  drained: (() => void) | undefined;

  constructor(socket: BunSocket) {
    this.#socket = socket;
    this.conn = new SocketConn(
      this,
      netAddr(socket.localAddress, socket.localPort),
      netAddr(socket.remoteAddress, socket.remotePort),
    );
  }

  pause(): void {
    this.#socket.pause();
  }

  resume(): void {
    this.#socket.resume();
  }

  write(chunk: Uint8Array): Promise<void> | undefined {
    const n = chunk.byteLength === 0 ? 0 : this.#socket.write(chunk);
    if (n === chunk.byteLength) return undefined;
    if (n < 0) throw this.#closed();
    // Bun took part of it: keep the rest for the drain callback.
    this.rest = chunk.subarray(n);
    return new Promise((resolve) => this.drained = resolve);
  }

  send(chunk: Uint8Array, done: (err?: unknown) => void): void {
    const n = chunk.byteLength === 0 ? 0 : this.#socket.write(chunk);
    if (n === chunk.byteLength) return done();
    if (n < 0) return done(this.#closed());
    // Bun took part of it: keep the rest for the drain callback.
    this.rest = chunk.subarray(n);
    this.drained = done;
  }

  end(): undefined {
    this.#socket.shutdown();
    return undefined;
  }

  destroy(): void {
    this.#socket.end();
  }

  #closed(): ConnectionError {
    const { hostname, port } = this.conn.remoteAddr;
    return closedError(formatAddr(hostname, port));
  }
}

function wrap(socket: BunSocket, noDelay: boolean): Side {
  socket.setNoDelay(noDelay);
  const side = new Side(socket);
  socket.data = side;
  return side;
}

function handlers(
  noDelay: boolean,
  onOpen: (conn: SocketConn) => void,
): BunHandlers {
  return {
    open: (socket) => onOpen(wrap(socket, noDelay).conn),
    // Bun hands each callback a fresh buffer: no copy needed.
    data: (socket, data) =>
      socket.data?.conn.onData(
        new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
      ),
    drain: (socket) => {
      const side = socket.data;
      if (side?.rest === undefined) return;
      const n = socket.write(side.rest);
      if (n < 0) return; // the close callback follows
      if (n < side.rest.byteLength) {
        side.rest = side.rest.subarray(n);
        return;
      }
      const drained = side.drained;
      side.rest = side.drained = undefined;
      drained?.();
    },
    end: (socket) => socket.data?.conn.onEnd(),
    close: (socket, error) => {
      if (error) socket.data?.conn.onError(error);
      else socket.data?.conn.onClose();
    },
    error: (socket, error) => socket.data?.conn.onError(error),
  };
}

/**
 * Opens a TCP connection.
 *
 * @param hostname The remote IP address or host name.
 * @param port The remote TCP port.
 * @param options A deadline, an abort signal, and `TCP_NODELAY`.
 * @returns The connection, once established.
 * @throws {ConnectionError} `refused`, `timeout`, `aborted`, `unreachable`
 * or `other`.
 *
 * @example Connecting with a deadline
 * ```ts ignore
 * import { connect } from "@soter/peer/bun";
 * const conn = await connect("::1", 18555, { timeout: 5000 });
 * conn.close();
 * ```
 */
export function connect(
  hostname: string,
  port: number,
  options: ConnectOptions = {},
): Promise<Conn> {
  const noDelay = options.noDelay ?? true;
  // Bun cannot cancel a pending connect: a late connection is closed.
  return attempt(
    formatAddr(hostname, port),
    options,
    async () => {
      const socket = await Bun.connect({
        hostname,
        port,
        allowHalfOpen: true,
        socket: handlers(noDelay, () => {}),
      });
      return socket.data!.conn;
    },
    (conn) => conn.close(),
  );
}

/**
 * Binds a TCP listener.
 *
 * Bun binds synchronously; the function is asynchronous only to share one
 * signature with the other adapters. Bun accepts connections by itself;
 * the ones not yet taken from the iteration wait in a queue.
 *
 * @param options The address to bind, an abort signal, and `TCP_NODELAY`.
 * @returns The listener, once bound.
 * @throws {ConnectionError} When the address cannot be bound.
 *
 * @example Accepting one connection
 * ```ts ignore
 * import { listen } from "@soter/peer/bun";
 * await using listener = await listen({ hostname: "127.0.0.1", port: 0 });
 * for await (const conn of listener) {
 *   conn.close();
 *   break;
 * }
 * ```
 */
export function listen(options: ListenOptions = {}): Promise<Listener> {
  const hostname = options.hostname ?? "0.0.0.0";
  const port = options.port ?? 0;
  const label = formatAddr(hostname, port);
  if (options.signal?.aborted) {
    return Promise.reject(
      new ConnectionError("aborted", `Listening on ${label} aborted`),
    );
  }
  const early: SocketConn[] = [];
  const ref: { listener?: QueueListener } = {};
  let server: BunTcpListener;
  try {
    server = Bun.listen({
      hostname,
      port,
      allowHalfOpen: true,
      socket: handlers(options.noDelay ?? true, (conn) => {
        if (ref.listener) ref.listener.push(conn);
        else early.push(conn);
      }),
    });
  } catch (err) {
    return Promise.reject(listenError(err, label));
  }
  const listener = new QueueListener(
    netAddr(server.hostname, server.port),
    () => {
      server.stop(false);
      return Promise.resolve();
    },
    options.signal,
  );
  ref.listener = listener;
  for (const conn of early) listener.push(conn);
  return Promise.resolve(listener);
}

/**
 * A {@linkcode Storage} over the files of a directory (created on the first
 * write): the pool's address book and bans, the sync's block store.
 * `writeAtomic` writes a temporary file, syncs it to disk and renames it over
 * the old one, so a crash leaves the old content or the new; `append`
 * resolves with the offset its bytes start at. Failures reject with a
 * `StorageError` (`not-found`, `out-of-range`, `invalid-name` or `io`).
 *
 * @param dir The directory.
 * @returns The storage.
 *
 * @example Keeping a file in a directory
 * ```ts ignore
 * import { fileStorage } from "@soter/peer/bun";
 * const store = fileStorage("./data");
 * await store.writeAtomic("settings.json", new TextEncoder().encode("{}"));
 * console.log(await store.append("log", new Uint8Array([1, 2, 3]))); // 0 for a new file
 * ```
 */
export function fileStorage(dir: string): Storage {
  return new FileStorage(dir, nodeFileOps);
}
