/**
 * TCP for soter-peer on Deno, through `Deno.connect` and `Deno.listen`:
 * {@linkcode connect} and {@linkcode listen} give {@linkcode Conn}s of Web
 * Streams.
 *
 * Reading is pull-driven: nothing is read while the consumer lags (64 KiB
 * wait unread). Each pull reads into a buffer of 256 bytes to 64 KiB (it
 * doubles after a read that filled it, and returns to 256 bytes after a
 * short one, so an idle connection's pending read holds 256 bytes: a
 * `ping` or a small `inv` still arrives in one read); a read that fills at
 * least half of it hands the buffer over (no copy: 1.7 GB/s against 0.9
 * with a copy, on loopback), a shorter one enqueues a copy and keeps the
 * buffer, so a chunk never pins more than twice its size.
 *
 * Side effect: importing this module installs {@linkcode nativeHasher}
 * (`node:crypto`) as the default hasher with `setDefaultHasher`.
 *
 * @example Connecting to a peer
 * ```ts ignore
 * import { connect } from "@soter/peer/deno";
 * const conn = await connect("127.0.0.1", 18555, { timeout: 5000 });
 * const writer = conn.writable.getWriter();
 * await writer.write(new Uint8Array([1, 2, 3]));
 * conn.close();
 * ```
 *
 * @module
 */
import { setDefaultHasher } from "../hash/hasher.ts";
import {
  attempt,
  byteStrategy,
  closedError,
  formatAddr,
  HIGH_WATER_MARK,
  listenError,
  toConnectionError,
} from "./_common.ts";
import { ConnectionError } from "./errors.ts";
import { denoFileOps } from "./_deno_storage.ts";
import { FileStorage } from "./_storage_common.ts";
import { nativeHasher } from "./native_hash.ts";
import type { Conn, ConnectOptions, Listener, ListenOptions, NetAddr } from "./types.ts";
import { RAW, type RawCapable, type RawConn, type RawSink } from "../peer/raw.ts";
import type { Storage } from "../storage/storage.ts";

export { ConnectionError, nativeHasher };
export type { ConnectionErrorCode } from "./errors.ts";
export type { Hasher } from "../hash/hasher.ts";
export type { Conn, ConnectOptions, Listener, ListenOptions, NetAddr, Storage };

setDefaultHasher(nativeHasher);

/** The smallest read buffer, held by the pending read of an idle connection. */
const MIN_READ_BUFFER = 256;

function addrOf(addr: Deno.NetAddr): NetAddr {
  return { hostname: addr.hostname, port: addr.port };
}

class DenoConn implements Conn, RawCapable, RawConn {
  readonly localAddr: NetAddr;
  readonly remoteAddr: NetAddr;
  readonly #conn: Deno.TcpConn;
  #readable: ReadableStream<Uint8Array> | undefined;
  #writable: WritableStream<Uint8Array> | undefined;
  #rc: ReadableStreamDefaultController<Uint8Array> | undefined;
  #wc: WritableStreamDefaultController | undefined;
  /** The read buffer, kept between short reads. */
  #buf: Uint8Array | undefined;
  /** The size of the next read buffer (see the module doc). */
  #size = MIN_READ_BUFFER;
  /** The callback consumer, once it took over. */
  #sink: RawSink | undefined;
  #paused = false;
  #pumping = false;
  /** The raw write in progress. */
  #rawPending: ((err?: unknown) => void) | undefined;
  #readDone = false;
  #writeDone = false;
  #closed = false;

  constructor(conn: Deno.TcpConn) {
    this.#conn = conn;
    this.localAddr = addrOf(conn.localAddr);
    this.remoteAddr = addrOf(conn.remoteAddr);
  }

  /** The remote's address for messages (made when needed: errors only). */
  get #label(): string {
    return formatAddr(this.remoteAddr.hostname, this.remoteAddr.port);
  }

  get readable(): ReadableStream<Uint8Array> {
    return this.#readable ??= new ReadableStream<Uint8Array>({
      start: (c) => {
        this.#rc = c;
        if (this.#readDone) c.close();
      },
      pull: (c) =>
        this.#read().then((n) => {
          const chunk = this.#took(n);
          if (chunk === null) {
            c.close();
            this.#finishIfDone();
          } else if (chunk !== undefined) {
            c.enqueue(chunk);
          }
        }, (err) => this.#readFailed(err)),
      cancel: () => {
        // Stop reading: the remote sees backpressure until close().
        this.#readDone = true;
        this.#finishIfDone();
      },
    }, byteStrategy);
  }

  get writable(): WritableStream<Uint8Array> {
    return this.#writable ??= new WritableStream<Uint8Array>({
      start: (c) => {
        this.#wc = c;
        if (this.#closed) c.error(closedError(this.#label));
      },
      write: async (chunk) => {
        try {
          await this.#writeAll(chunk);
        } catch (err) {
          throw this.#closed ? closedError(this.#label, err) : this.#fail(err);
        }
      },
      close: async () => {
        if (this.#closed) return;
        try {
          await this.#conn.closeWrite();
        } catch (err) {
          throw this.#closed ? closedError(this.#label, err) : this.#fail(err);
        }
        this.#writeDone = true;
        this.#finishIfDone();
      },
      abort: () => this.close(),
    }, byteStrategy);
  }

  /** The callback side, unless the streams are in use. */
  [RAW](): RawConn | undefined {
    return this.#readable !== undefined || this.#writable !== undefined || this.#sink !== undefined ? undefined : this;
  }

  /** Internal ({@linkcode RawConn}): starts delivering to `sink`. */
  rawStart(sink: RawSink): void {
    this.#sink = sink;
    this.#pump();
  }

  /** Internal ({@linkcode RawConn}): pauses reading. */
  rawPause(): void {
    this.#paused = true;
  }

  /** Internal ({@linkcode RawConn}): resumes reading. */
  rawResume(): void {
    this.#paused = false;
    this.#pump();
  }

  /** Internal ({@linkcode RawConn}): sends a chunk handed over. */
  rawWrite(chunk: Uint8Array, done: (err?: unknown) => void): void {
    if (this.#closed) return done(closedError(this.#label));
    this.#rawPending = done;
    this.#writeAll(chunk).then(() => {
      if (this.#rawPending !== done) return;
      this.#rawPending = undefined;
      done();
    }, (err) => {
      if (this.#rawPending !== done) return;
      this.#rawPending = undefined;
      done(this.#closed ? closedError(this.#label, err) : this.#fail(err));
    });
  }

  /**
   * The chunk of a read of `n` bytes into the read buffer, sizing the
   * next one: the buffer doubles after a read that filled it, up to 64 KiB,
   * and falls back to the minimum after a short one, so that an idle
   * connection's pending read holds the minimum; a read that fills at
   * least half of it hands the buffer over, a shorter one gives a copy and
   * keeps the buffer.
   */
  #chunk(n: number): Uint8Array {
    const buf = this.#buf!;
    const half = buf.byteLength >>> 1;
    this.#size = n === buf.byteLength
      ? Math.min(HIGH_WATER_MARK, 2 * buf.byteLength)
      : n >= half
      ? buf.byteLength
      : MIN_READ_BUFFER;
    if (n >= half) {
      this.#buf = undefined;
      return buf.subarray(0, n);
    }
    if (this.#size !== buf.byteLength) this.#buf = undefined;
    return buf.slice(0, n);
  }

  /** Starts a read into the read buffer. */
  #read(): Promise<number | null> {
    try {
      return this.#conn.read(this.#buf ??= new Uint8Array(this.#size));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * Takes in what a read gave: the chunk, `null` at the end (reading is
   * then done), `undefined` when reading was over already.
   */
  #took(n: number | null): Uint8Array | null | undefined {
    if (this.#readDone) return undefined;
    if (n === null) {
      this.#readDone = true;
      return null;
    }
    return this.#chunk(n);
  }

  /** A read failed: the connection is torn down. */
  #readFailed(err: unknown): undefined {
    if (!this.#readDone) this.#fail(err);
    return undefined;
  }

  /**
   * Raw mode: keeps one read pending while not paused, delivering each
   * chunk. Plain callbacks, no async function: an idle connection holds
   * its pending read and nothing suspended.
   */
  #pump(): void {
    if (this.#pumping || this.#paused || this.#readDone) return;
    this.#pumping = true;
    this.#read().then(this.#onRawRead, this.#onRawReadError);
  }

  readonly #onRawRead = (n: number | null): void => {
    this.#pumping = false;
    const chunk = this.#took(n);
    if (chunk === undefined) return;
    if (chunk === null) {
      this.#sink?.end();
      this.#finishIfDone();
      return;
    }
    this.#sink?.data(chunk);
    this.#pump();
  };

  readonly #onRawReadError = (err: unknown): void => {
    this.#pumping = false;
    this.#readFailed(err);
  };

  async #writeAll(chunk: Uint8Array): Promise<void> {
    for (let off = 0; off < chunk.byteLength;) {
      off += await this.#conn.write(off === 0 ? chunk : chunk.subarray(off));
    }
  }

  /** Releases the socket once both directions ended normally. */
  #finishIfDone(): void {
    if (this.#readDone && this.#writeDone && !this.#closed) {
      this.#closed = true;
      try {
        this.#conn.close();
      } catch { /* already closed */ }
    }
  }

  #fail(err: unknown): ConnectionError {
    const error = toConnectionError(err, this.#label);
    if (!this.#closed) this.#teardown(error, error);
    return error;
  }

  #teardown(readErr: ConnectionError | undefined, writeErr: ConnectionError) {
    this.#closed = true;
    const sink = this.#sink;
    // Keep nothing of the consumer: a closed peer must not be kept alive
    // by its connection.
    this.#sink = undefined;
    if (!this.#readDone) {
      this.#readDone = true;
      if (sink !== undefined) {
        if (readErr) sink.error(readErr);
        else sink.end();
      }
      try {
        if (readErr) this.#rc?.error(readErr);
        else this.#rc?.close();
      } catch { /* already closed */ }
    }
    this.#wc?.error(writeErr);
    const pending = this.#rawPending;
    this.#rawPending = undefined;
    pending?.(writeErr);
    try {
      this.#conn.close();
    } catch { /* already closed */ }
  }

  close(): void {
    if (!this.#closed) this.#teardown(undefined, closedError(this.#label));
  }
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
 * import { connect } from "@soter/peer/deno";
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
    async (signal) => {
      const conn = await Deno.connect({ hostname, port, signal });
      conn.setNoDelay(noDelay);
      return new DenoConn(conn);
    },
    (conn) => conn.close(),
  );
}

class DenoListener implements Listener {
  readonly addr: NetAddr;
  readonly #listener: Deno.TcpListener;
  readonly #noDelay: boolean;
  readonly #signal: AbortSignal | undefined;
  readonly #onAbort = () => this.close();
  #closed = false;

  constructor(
    listener: Deno.TcpListener,
    noDelay: boolean,
    signal: AbortSignal | undefined,
  ) {
    this.#listener = listener;
    this.#noDelay = noDelay;
    this.#signal = signal;
    this.addr = addrOf(listener.addr);
    signal?.addEventListener("abort", this.#onAbort, { once: true });
  }

  // Deno accepts on demand: a connection is accepted only when asked for.
  async *[Symbol.asyncIterator](): AsyncIterator<Conn> {
    while (!this.#closed) {
      let conn: Deno.TcpConn;
      try {
        conn = await this.#listener.accept();
      } catch (err) {
        if (this.#closed) return;
        throw listenError(err, formatAddr(this.addr.hostname, this.addr.port));
      }
      if (this.#closed) return conn.close();
      conn.setNoDelay(this.#noDelay);
      yield new DenoConn(conn);
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#signal?.removeEventListener("abort", this.#onAbort);
    try {
      this.#listener.close();
    } catch { /* already closed */ }
  }

  [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return Promise.resolve();
  }
}

/**
 * Binds a TCP listener.
 *
 * Deno binds synchronously; the function is asynchronous only to share one
 * signature with the other adapters. Connections are accepted as the
 * iteration asks for them, so an idle iteration leaves them in the
 * kernel's backlog.
 *
 * @param options The address to bind, an abort signal, and `TCP_NODELAY`.
 * @returns The listener, once bound.
 * @throws {ConnectionError} When the address cannot be bound.
 *
 * @example Accepting one connection
 * ```ts ignore
 * import { listen } from "@soter/peer/deno";
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
  let listener: Deno.TcpListener;
  try {
    listener = Deno.listen({ hostname, port, transport: "tcp" });
  } catch (err) {
    return Promise.reject(listenError(err, label));
  }
  return Promise.resolve(
    new DenoListener(listener, options.noDelay ?? true, options.signal),
  );
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
 * import { fileStorage } from "@soter/peer/deno";
 * const store = fileStorage("./data");
 * await store.writeAtomic("settings.json", new TextEncoder().encode("{}"));
 * console.log(await store.append("log", new Uint8Array([1, 2, 3]))); // 0 for a new file
 * ```
 */
export function fileStorage(dir: string): Storage {
  return new FileStorage(dir, denoFileOps);
}
