/**
 * Internal: a {@linkcode Conn} over a runtime socket that reports events by
 * callbacks (Node's `net.Socket`, Bun's `Socket`). The adapter forwards the
 * socket's events to `onData`, `onEnd`, `onError` and `onClose`, and gives
 * the few operations in {@linkcode SocketOps}. Runtime-neutral: it names no
 * runtime API.
 *
 * Backpressure: reading pauses once `HIGH_WATER_MARK` bytes wait unread in
 * `readable`, and resumes when the consumer pulls; a write resolves once the
 * runtime has taken all its bytes, so `writable` queues at most
 * `HIGH_WATER_MARK` bytes before `desiredSize` drops to zero.
 *
 * The streams are made when first asked for. A `Peer` takes the callback
 * side instead ({@linkcode RawConn}): chunks go straight to it, writes
 * report by callback, and an idle connection holds no stream objects.
 *
 * @module
 */
import { byteStrategy, closedError, formatAddr, toConnectionError } from "./_common.ts";
import type { ConnectionError } from "./errors.ts";
import type { Conn, NetAddr } from "./types.ts";
import { RAW, type RawCapable, type RawConn, type RawSink } from "../peer/raw.ts";

/** What a runtime socket must do for {@linkcode SocketConn}. */
export interface SocketOps {
  /** Stops reading from the socket. */
  pause(): void;
  /** Resumes reading. */
  resume(): void;
  /** Sends `chunk`; returns a promise when the runtime has not taken all of
   * it yet. Throws or rejects on failure. */
  write(chunk: Uint8Array): Promise<void> | undefined;
  /** Sends `chunk` and calls `done` once the runtime has taken it, with an
   * error on failure (maybe from within the call). */
  send(chunk: Uint8Array, done: (err?: unknown) => void): void;
  /** Half-closes: sends FIN once the bytes written are out. */
  end(): Promise<void> | undefined;
  /** Releases the socket at once; must tolerate repeated calls. */
  destroy(): void;
}

/** A connection over a callback-style socket. */
export class SocketConn implements Conn, RawCapable, RawConn {
  /** This side's address. */
  readonly localAddr: NetAddr;
  /** The remote side's address. */
  readonly remoteAddr: NetAddr;
  readonly #ops: SocketOps;
  #readable: ReadableStream<Uint8Array> | undefined;
  #writable: WritableStream<Uint8Array> | undefined;
  #rc: ReadableStreamDefaultController<Uint8Array> | undefined;
  #wc: WritableStreamDefaultController | undefined;
  /** The callback consumer, once it took over. */
  #sink: RawSink | undefined;
  /** Chunks and the end (or an error) that arrived before any consumer. */
  #early: Uint8Array[] | undefined;
  #earlyEnd: { err: unknown } | undefined;
  /** The raw write waiting for the runtime. */
  #rawPending: ((err?: unknown) => void) | undefined;
  #paused = false;
  #readDone = false;
  #writeDone = false;
  #closed = false;
  #rejectPending: ((err: ConnectionError) => void) | undefined;

  /**
   * Wraps a connected socket.
   *
   * @param ops The socket's operations.
   * @param localAddr This side's address.
   * @param remoteAddr The remote side's address.
   */
  constructor(ops: SocketOps, localAddr: NetAddr, remoteAddr: NetAddr) {
    this.#ops = ops;
    this.localAddr = localAddr;
    this.remoteAddr = remoteAddr;
  }

  /** The remote's address for messages (made when needed: errors only). */
  get #label(): string {
    return formatAddr(this.remoteAddr.hostname, this.remoteAddr.port);
  }

  /** Bytes from the remote. */
  get readable(): ReadableStream<Uint8Array> {
    if (this.#readable !== undefined) return this.#readable;
    const early = this.#early;
    const end = this.#earlyEnd;
    this.#early = this.#earlyEnd = undefined;
    this.#readable = new ReadableStream<Uint8Array>({
      start: (c) => {
        this.#rc = c;
        for (const chunk of early ?? []) c.enqueue(chunk);
        if (end !== undefined) {
          if (end.err === undefined) c.close();
          else c.error(end.err);
        }
      },
      pull: () => {
        if (this.#paused && !this.#closed) {
          this.#paused = false;
          this.#ops.resume();
        }
      },
      cancel: () => {
        // Stop reading: the remote sees backpressure until close().
        this.#readDone = true;
        this.#pause();
        this.#finishIfDone();
      },
    }, byteStrategy);
    return this.#readable;
  }

  /** Bytes to the remote. */
  get writable(): WritableStream<Uint8Array> {
    if (this.#writable !== undefined) return this.#writable;
    this.#writable = new WritableStream<Uint8Array>({
      start: (c) => {
        this.#wc = c;
        if (this.#closed) c.error(closedError(this.#label));
      },
      write: (chunk) => {
        if (this.#closed) throw closedError(this.#label);
        return this.#track(this.#ops.write(chunk));
      },
      close: async () => {
        if (this.#closed) return;
        await this.#track(this.#ops.end());
        this.#writeDone = true;
        this.#finishIfDone();
      },
      abort: () => this.close(),
    }, byteStrategy);
    return this.#writable;
  }

  /** The callback side, unless the streams are in use. */
  [RAW](): RawConn | undefined {
    return this.#readable !== undefined || this.#writable !== undefined || this.#sink !== undefined ? undefined : this;
  }

  /** Internal ({@linkcode RawConn}): starts delivering to `sink`. */
  rawStart(sink: RawSink): void {
    this.#sink = sink;
    const early = this.#early;
    const end = this.#earlyEnd;
    this.#early = this.#earlyEnd = undefined;
    for (const chunk of early ?? []) sink.data(chunk);
    if (end !== undefined) {
      if (end.err === undefined) sink.end();
      else sink.error(end.err);
    }
  }

  /** Internal ({@linkcode RawConn}): pauses reading. */
  rawPause(): void {
    this.#pause();
  }

  /** Internal ({@linkcode RawConn}): resumes reading. */
  rawResume(): void {
    if (this.#paused && !this.#closed) {
      this.#paused = false;
      this.#ops.resume();
    }
  }

  /** Internal ({@linkcode RawConn}): sends a chunk handed over. */
  rawWrite(chunk: Uint8Array, done: (err?: unknown) => void): void {
    if (this.#closed) return done(closedError(this.#label));
    this.#rawPending = done;
    this.#ops.send(chunk, (err) => {
      if (this.#rawPending !== done) return; // failed meanwhile
      this.#rawPending = undefined;
      if (err === undefined) done();
      else done(this.#closed ? closedError(this.#label, err) : toConnectionError(err, this.#label));
    });
  }

  /** Settles with the operation, or rejects as soon as the conn fails. */
  #track(op: Promise<void> | undefined): Promise<void> | undefined {
    if (op === undefined) return undefined;
    return new Promise<void>((resolve, reject) => {
      this.#rejectPending = reject;
      op.then(() => {
        this.#rejectPending = undefined;
        resolve();
      }, (err: unknown) => {
        this.#rejectPending = undefined;
        reject(
          this.#closed ? closedError(this.#label, err) : toConnectionError(err, this.#label),
        );
      });
    });
  }

  #pause(): void {
    if (!this.#paused && !this.#closed) {
      this.#paused = true;
      this.#ops.pause();
    }
  }

  #finishIfDone(): void {
    if (this.#readDone && this.#writeDone && !this.#closed) {
      this.#closed = true;
      this.#ops.destroy();
    }
  }

  /** Tears down both directions after a local close or a failure. */
  #teardown(readErr: ConnectionError | undefined, writeErr: ConnectionError) {
    this.#closed = true;
    if (!this.#readDone) {
      this.#readDone = true;
      this.#deliverEnd(readErr);
    }
    this.#wc?.error(writeErr);
    this.#rejectPending?.(writeErr);
    this.#rejectPending = undefined;
    const pending = this.#rawPending;
    this.#rawPending = undefined;
    pending?.(writeErr);
    // Keep nothing of the consumer: a closed peer must not be kept alive
    // by its connection.
    this.#sink = undefined;
    try {
      this.#ops.destroy();
    } catch { /* already released */ }
  }

  /**
   * Runtime callback: bytes arrived. The chunk becomes the consumer's.
   *
   * @param chunk The bytes; must not be reused by the runtime.
   */
  onData(chunk: Uint8Array): void {
    if (this.#readDone) return;
    const sink = this.#sink;
    if (sink !== undefined) {
      sink.data(chunk);
      return;
    }
    const rc = this.#rc;
    if (rc === undefined) {
      // Nobody reads yet: keep the chunk and stop reading.
      (this.#early ??= []).push(chunk);
      this.#pause();
      return;
    }
    rc.enqueue(chunk);
    if ((rc.desiredSize ?? 0) <= 0) this.#pause();
  }

  /** Runtime callback: the remote half-closed (FIN). */
  onEnd(): void {
    if (this.#readDone) return;
    this.#readDone = true;
    this.#deliverEnd(undefined);
    this.#finishIfDone();
  }

  /** Hands the end of the stream (or a read error) to whoever reads. */
  #deliverEnd(err: ConnectionError | undefined): void {
    const sink = this.#sink;
    if (sink !== undefined) {
      if (err === undefined) sink.end();
      else sink.error(err);
      return;
    }
    const rc = this.#rc;
    if (rc === undefined) {
      this.#earlyEnd = { err };
      return;
    }
    try {
      if (err) rc.error(err);
      else rc.close();
    } catch { /* already closed */ }
  }

  /**
   * Runtime callback: the socket failed.
   *
   * @param err The runtime's error.
   */
  onError(err: unknown): void {
    if (this.#closed) return;
    const error = toConnectionError(err, this.#label);
    this.#teardown(error, error);
  }

  /** Runtime callback: the socket is closed. */
  onClose(): void {
    if (this.#closed) return;
    this.#teardown(undefined, closedError(this.#label));
  }

  /** Closes both directions at once; idempotent, never throws. */
  close(): void {
    if (this.#closed) return;
    this.#teardown(undefined, closedError(this.#label));
  }
}
