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
 * @module
 */
import { byteStrategy, closedError, formatAddr, toConnectionError } from "./_common.ts";
import type { ConnectionError } from "./errors.ts";
import type { Conn, NetAddr } from "./types.ts";

/** What a runtime socket must do for {@linkcode SocketConn}. */
export interface SocketOps {
  /** Stops reading from the socket. */
  pause(): void;
  /** Resumes reading. */
  resume(): void;
  /** Sends `chunk`; returns a promise when the runtime has not taken all of
   * it yet. Throws or rejects on failure. */
  write(chunk: Uint8Array): Promise<void> | undefined;
  /** Half-closes: sends FIN once the bytes written are out. */
  end(): Promise<void> | undefined;
  /** Releases the socket at once; must tolerate repeated calls. */
  destroy(): void;
}

/** A connection over a callback-style socket. */
export class SocketConn implements Conn {
  /** Bytes from the remote. */
  readonly readable: ReadableStream<Uint8Array>;
  /** Bytes to the remote. */
  readonly writable: WritableStream<Uint8Array>;
  /** This side's address. */
  readonly localAddr: NetAddr;
  /** The remote side's address. */
  readonly remoteAddr: NetAddr;
  readonly #ops: SocketOps;
  readonly #label: string;
  #rc!: ReadableStreamDefaultController<Uint8Array>;
  #wc!: WritableStreamDefaultController;
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
    this.#label = formatAddr(remoteAddr.hostname, remoteAddr.port);
    this.readable = new ReadableStream<Uint8Array>({
      start: (c) => {
        this.#rc = c;
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
    this.writable = new WritableStream<Uint8Array>({
      start: (c) => {
        this.#wc = c;
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
      try {
        if (readErr) this.#rc.error(readErr);
        else this.#rc.close();
      } catch { /* already closed */ }
    }
    this.#wc.error(writeErr);
    this.#rejectPending?.(writeErr);
    this.#rejectPending = undefined;
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
    this.#rc.enqueue(chunk);
    if ((this.#rc.desiredSize ?? 0) <= 0) this.#pause();
  }

  /** Runtime callback: the remote half-closed (FIN). */
  onEnd(): void {
    if (this.#readDone) return;
    this.#readDone = true;
    this.#rc.close();
    this.#finishIfDone();
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
