/**
 * An in-memory connection pair for tests: two {@linkcode Conn}s whose bytes
 * flow into each other with real backpressure.
 *
 * @module
 */
import type { Conn, NetAddr } from "./conn.ts";
import { RAW, type RawCapable, type RawConn, type RawSink } from "./raw.ts";

/** Options of {@linkcode connPair}. */
export interface ConnPairOptions {
  /** The first end's address; default `127.0.0.1:18555`. */
  addrA?: NetAddr;
  /** The second end's address; default `127.0.0.1:49152`. */
  addrB?: NetAddr;
  /**
   * How many bytes each direction buffers before a write waits for the
   * reader, like a socket's buffers; default 65536.
   */
  highWaterMark?: number;
}

/** A resolved promise, to run callbacks in a microtask. */
const RESOLVED: Promise<void> = Promise.resolve();

function closedError(): Error {
  return new Error("Connection closed");
}

/**
 * One direction of the pipe: chunks written (copied, as a socket does) wait
 * in a queue for the reader, through a stream or a raw sink. A write is
 * done at once while fewer than `highWaterMark` bytes wait, else once the
 * reader has taken enough.
 */
class Direction {
  readonly #hwm: number;
  #chunks: Uint8Array[] = [];
  #queued = 0;
  /** Writes waiting for room. */
  #waiting: Array<(err?: unknown) => void> = [];
  /** Writes fail with this. */
  #failed: Error | undefined;
  /** The writer's end closed: the reader gets the end after the queue. */
  #finished = false;
  /** The reader's end closed. */
  #dropped = false;
  #sink: RawSink | undefined;
  #paused = false;
  #scheduled = false;
  #readable: ReadableStream<Uint8Array> | undefined;
  #rc: ReadableStreamDefaultController<Uint8Array> | undefined;
  #pulling = false;
  #writable: WritableStream<Uint8Array> | undefined;

  constructor(highWaterMark: number) {
    this.#hwm = highWaterMark;
  }

  /** Whether the streams were asked for (the raw side is then not offered). */
  get streamed(): boolean {
    return this.#readable !== undefined || this.#writable !== undefined;
  }

  get readable(): ReadableStream<Uint8Array> {
    return this.#readable ??= new ReadableStream<Uint8Array>({
      start: (c) => {
        this.#rc = c;
      },
      pull: () => {
        this.#pulling = true;
        this.#deliver();
      },
      // The reader gave up: the writer's further writes fail.
      cancel: () => this.drop(),
    }, { highWaterMark: 0 });
  }

  get writable(): WritableStream<Uint8Array> {
    return this.#writable ??= new WritableStream<Uint8Array>({
      write: (chunk) =>
        new Promise<void>((resolve, reject) => this.write(chunk, (err) => err === undefined ? resolve() : reject(err))),
    });
  }

  /** Raw reader side. */
  attach(sink: RawSink): void {
    this.#sink = sink;
    this.#schedule();
  }

  pause(): void {
    this.#paused = true;
  }

  resume(): void {
    this.#paused = false;
    this.#schedule();
  }

  /**
   * Queues `chunk` for the reader: a copy, unless `handOver` says that the
   * writer will not touch it again (a raw writer's contract).
   */
  write(chunk: Uint8Array, done: (err?: unknown) => void, handOver = false): void {
    if (this.#failed !== undefined) return done(this.#failed);
    if (chunk.length === 0) return done();
    this.#chunks.push(handOver ? chunk : chunk.slice());
    this.#queued += chunk.length;
    this.#schedule();
    if (this.#queued < this.#hwm) done();
    else this.#waiting.push(done);
  }

  /** The writer's end closed: the reader gets what was sent, then the end. */
  finish(): void {
    this.#fail();
    this.#finished = true;
    this.#schedule();
  }

  /** The reader's end closed: what was not read is dropped, and both sides fail. */
  drop(): void {
    if (this.#dropped) return;
    this.#dropped = true;
    // Keep nothing of the reader: a closed peer must not be kept alive by
    // its connection.
    this.#sink = undefined;
    this.#fail();
    this.#chunks = [];
    this.#queued = 0;
    try {
      this.#rc?.error(closedError());
    } catch {
      // Already closed or errored.
    }
  }

  #fail(): void {
    this.#failed ??= closedError();
    for (const w of this.#waiting.splice(0)) w(this.#failed);
  }

  #schedule(): void {
    if (this.#sink === undefined) {
      if (this.#pulling) this.#deliver();
      return;
    }
    if (this.#scheduled || this.#paused) return;
    this.#scheduled = true;
    RESOLVED.then(this.#scheduledDeliver);
  }

  readonly #scheduledDeliver = (): void => {
    this.#scheduled = false;
    this.#deliver();
  };

  /** Hands queued chunks to the reader, then the end once finished. */
  #deliver(): void {
    if (this.#dropped) return;
    const sink = this.#sink;
    while (this.#chunks.length > 0) {
      if (sink !== undefined ? this.#paused : !this.#pulling) break;
      const chunk = this.#chunks.shift()!;
      this.#queued -= chunk.length;
      if (sink !== undefined) {
        sink.data(chunk);
      } else {
        this.#pulling = false;
        this.#rc!.enqueue(chunk);
      }
    }
    if (this.#queued < this.#hwm) { for (const w of this.#waiting.splice(0)) w(); }
    if (this.#chunks.length > 0 || !this.#finished) return;
    if (sink !== undefined) {
      if (!this.#paused) {
        this.#dropped = true;
        this.#sink = undefined;
        sink.end();
      }
    } else if (this.#pulling) {
      this.#dropped = true;
      this.#rc!.close();
    }
  }
}

class PipeConn implements Conn, RawCapable, RawConn {
  readonly localAddr: NetAddr;
  readonly remoteAddr: NetAddr;
  #in: Direction;
  #out: Direction;
  #closed = false;

  constructor(incoming: Direction, outgoing: Direction, local: NetAddr, remote: NetAddr) {
    this.#in = incoming;
    this.#out = outgoing;
    this.localAddr = local;
    this.remoteAddr = remote;
  }

  get readable(): ReadableStream<Uint8Array> {
    return this.#in.readable;
  }

  get writable(): WritableStream<Uint8Array> {
    return this.#out.writable;
  }

  [RAW](): RawConn | undefined {
    return this.#in.streamed || this.#out.streamed ? undefined : this;
  }

  /** Internal ({@linkcode RawConn}): starts delivering to `sink`. */
  rawStart(sink: RawSink): void {
    this.#in.attach(sink);
  }

  /** Internal ({@linkcode RawConn}): pauses delivering. */
  rawPause(): void {
    this.#in.pause();
  }

  /** Internal ({@linkcode RawConn}): resumes delivering. */
  rawResume(): void {
    this.#in.resume();
  }

  /** Internal ({@linkcode RawConn}): sends a chunk handed over. */
  rawWrite(chunk: Uint8Array, done: (err?: unknown) => void): void {
    this.#out.write(chunk, done, true);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    // What we already sent still arrives, then the remote reads the end
    // (a FIN); our further writes fail.
    this.#out.finish();
    // What was sent to us and not read is dropped; the remote's further
    // writes and our pending reads fail.
    this.#in.drop();
  }
}

/**
 * Makes two connected in-memory {@linkcode Conn}s: bytes written to one are
 * read from the other. Each direction buffers `highWaterMark` bytes; beyond
 * that a write waits until the other end reads, so a reader that stops
 * reading stalls its writer, as with a socket. Closing one end delivers
 * what it sent and then the end of the stream to the other, and fails
 * further writes in both directions.
 *
 * @param options Addresses and buffer size.
 * @returns The two ends; `a.remoteAddr` is `b.localAddr` and vice versa.
 *
 * @example Two ends of a pipe
 * ```ts
 * import { connPair } from "@soter/peer";
 * const [a, b] = connPair();
 * const writer = a.writable.getWriter();
 * await writer.write(new Uint8Array([1, 2, 3]));
 * const { value } = await b.readable.getReader().read();
 * console.log(value); // Uint8Array(3) [ 1, 2, 3 ]
 * a.close();
 * b.close();
 * ```
 */
export function connPair(options: ConnPairOptions = {}): [Conn, Conn] {
  const hwm = options.highWaterMark ?? 65_536;
  const addrA = options.addrA ?? { hostname: "127.0.0.1", port: 18555 };
  const addrB = options.addrB ?? { hostname: "127.0.0.1", port: 49152 };
  const aToB = new Direction(hwm);
  const bToA = new Direction(hwm);
  const a = new PipeConn(bToA, aToB, addrA, addrB);
  const b = new PipeConn(aToB, bToA, addrB, addrA);
  return [a, b];
}
