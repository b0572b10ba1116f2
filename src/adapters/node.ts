/**
 * TCP for soter-peer on Node.js, through `node:net`: {@linkcode connect} and
 * {@linkcode listen} give {@linkcode Conn}s of Web Streams.
 *
 * Side effect: importing this module installs {@linkcode nativeHasher}
 * (`node:crypto`) as the default hasher with `setDefaultHasher`.
 *
 * @example Connecting to a peer
 * ```ts ignore
 * import { connect } from "@soter/peer/node";
 * const conn = await connect("127.0.0.1", 18555, { timeout: 5000 });
 * const writer = conn.writable.getWriter();
 * await writer.write(new Uint8Array([1, 2, 3]));
 * conn.close();
 * ```
 *
 * @module
 */
import * as net from "node:net";
import { setDefaultHasher } from "../hash/hasher.ts";
import { QueueListener } from "./_accept.ts";
import { attempt, formatAddr, listenError, netAddr } from "./_common.ts";
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

/**
 * The socket's operations for {@linkcode SocketConn}, as methods rather
 * than closures: an idle connection holds one small object for them.
 */
class NodeSocketOps implements SocketOps {
  readonly #socket: net.Socket;

  constructor(socket: net.Socket) {
    this.#socket = socket;
  }

  pause(): void {
    this.#socket.pause();
  }

  resume(): void {
    this.#socket.resume();
  }

  // Resolve on the write callback: Node keeps a reference to the chunk
  // until then, and the caller may reuse it afterwards.
  write(chunk: Uint8Array): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#socket.write(chunk, (err) => err ? reject(err) : resolve());
    });
  }

  // Node keeps the chunk until the callback: it must be handed over.
  send(chunk: Uint8Array, done: (err?: unknown) => void): void {
    this.#socket.write(chunk, (err) => done(err ?? undefined));
  }

  end(): Promise<void> {
    return new Promise((resolve) => this.#socket.end(resolve));
  }

  destroy(): void {
    this.#socket.destroy();
  }
}

function wrap(socket: net.Socket, noDelay: boolean): SocketConn {
  socket.setNoDelay(noDelay);
  const conn = new SocketConn(
    new NodeSocketOps(socket),
    netAddr(socket.localAddress, socket.localPort),
    netAddr(socket.remoteAddress, socket.remotePort),
  );
  // Node allocates a fresh buffer per read: hand it over without a copy, as
  // a plain Uint8Array (Buffer#slice would not copy).
  socket.on(
    "data",
    (b: Uint8Array) => conn.onData(new Uint8Array(b.buffer, b.byteOffset, b.byteLength)),
  );
  socket.on("end", () => conn.onEnd());
  socket.on("error", (err) => conn.onError(err));
  socket.on("close", () => conn.onClose());
  return conn;
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
 * import { connect } from "@soter/peer/node";
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
  return attempt(
    formatAddr(hostname, port),
    options,
    (signal) =>
      new Promise<Conn>((resolve, reject) => {
        const socket = net.connect({ host: hostname, port, allowHalfOpen: true });
        const done = () => {
          socket.off("error", onError);
          socket.off("connect", onConnect);
          signal.removeEventListener("abort", onAbort);
        };
        const onConnect = () => {
          done();
          resolve(wrap(socket, noDelay));
        };
        const onError = (err: Error) => {
          done();
          socket.destroy();
          reject(err);
        };
        const onAbort = () => onError(signal.reason);
        socket.once("connect", onConnect);
        socket.once("error", onError);
        signal.addEventListener("abort", onAbort, { once: true });
      }),
    (conn) => conn.close(),
  );
}

/**
 * Binds a TCP listener.
 *
 * Asynchronous because Node binds asynchronously: `addr` holds the real
 * port once the promise resolves. Node accepts connections by itself; the
 * ones not yet taken from the iteration wait in a queue.
 *
 * @param options The address to bind, an abort signal, and `TCP_NODELAY`.
 * @returns The listener, once bound.
 * @throws {ConnectionError} When the address cannot be bound.
 *
 * @example Accepting one connection
 * ```ts ignore
 * import { listen } from "@soter/peer/node";
 * await using listener = await listen({ hostname: "127.0.0.1", port: 0 });
 * for await (const conn of listener) {
 *   conn.close();
 *   break;
 * }
 * ```
 */
export async function listen(options: ListenOptions = {}): Promise<Listener> {
  const hostname = options.hostname ?? "0.0.0.0";
  const port = options.port ?? 0;
  const noDelay = options.noDelay ?? true;
  const label = formatAddr(hostname, port);
  if (options.signal?.aborted) {
    throw new ConnectionError("aborted", `Listening on ${label} aborted`);
  }
  const server = net.createServer({ allowHalfOpen: true });
  const early: SocketConn[] = [];
  const ref: { listener?: QueueListener } = {};
  server.on("connection", (socket: net.Socket) => {
    const conn = wrap(socket, noDelay);
    if (ref.listener) ref.listener.push(conn);
    else early.push(conn);
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen({ host: hostname, port }, () => {
        server.off("error", reject);
        resolve();
      });
    });
  } catch (err) {
    server.close();
    throw listenError(err, label);
  }
  const bound = server.address() as net.AddressInfo;
  const listener = new QueueListener(
    netAddr(bound.address, bound.port),
    () =>
      new Promise((resolve) => {
        // The listening socket closes now; server.close's callback would
        // wait for every accepted connection, so wait one turn instead.
        server.close();
        setTimeout(resolve, 0);
      }),
    options.signal,
  );
  server.on("error", (err) => listener.fail(listenError(err, label)));
  ref.listener = listener;
  for (const conn of early) listener.push(conn);
  return listener;
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
 * import { fileStorage } from "@soter/peer/node";
 * const store = fileStorage("./data");
 * await store.writeAtomic("settings.json", new TextEncoder().encode("{}"));
 * console.log(await store.append("log", new Uint8Array([1, 2, 3]))); // 0 for a new file
 * ```
 */
export function fileStorage(dir: string): Storage {
  return new FileStorage(dir, nodeFileOps);
}
