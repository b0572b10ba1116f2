/**
 * Internal: one side of a simulated connection, the {@linkcode Conn} a
 * program holds. Bytes reach it from its link's {@linkcode Pipe}; it hands
 * them on by callbacks to a `Peer` or through Web Streams to anything else.
 *
 * @module
 */
import { ConnectionError } from "../adapters/errors.ts";
import type { Conn, NetAddr } from "../peer/conn.ts";
import { RAW, type RawCapable, type RawConn, type RawSink } from "../peer/raw.ts";
import type { Link, LinkHost, Pipe } from "./link.ts";

/** Bytes the receiving side buffers before it stops taking more (a socket's receive buffer). */
const RECEIVE_BUFFER = 64 * 1024;

/** A resolved promise, to run callbacks in a microtask. */
const RESOLVED: Promise<void> = Promise.resolve();

/**
 * One side of a link: the {@linkcode Conn} a program holds. A `Peer` drives
 * it by callbacks ({@linkcode RawConn}, no promise per chunk and no stream
 * objects); any other program through its Web Streams, made when first
 * asked for.
 */
export class End implements Conn, RawCapable, RawConn {
  readonly localAddr: NetAddr;
  readonly remoteAddr: NetAddr;
  readonly host: LinkHost;
  readonly incarnation: number;
  link!: Link;
  out!: Pipe;
  in!: Pipe;
  state: "open" | "closed" | "reset" = "open";
  readCancelled = false;
  #readable: ReadableStream<Uint8Array> | undefined;
  #writable: WritableStream<Uint8Array> | undefined;
  #readCtl: ReadableStreamDefaultController<Uint8Array> | undefined;
  #writeCtl: WritableStreamDefaultController | undefined;
  #readEnded = false;
  // The callback side: chunks wait here for a microtask (as a socket's
  // data events come in a task of their own), unless paused.
  #sink: RawSink | undefined;
  #paused = false;
  #queue: Uint8Array[] = [];
  #queued = 0;
  #scheduled = false;
  /** The end of the stream (`true`) or an error, after the queue. */
  #last: true | ConnectionError | undefined;

  constructor(host: LinkHost, local: NetAddr, remote: NetAddr) {
    this.host = host;
    this.incarnation = host.incarnation;
    this.localAddr = local;
    this.remoteAddr = remote;
  }

  /** Bytes from the remote (made when first asked for). */
  get readable(): ReadableStream<Uint8Array> {
    return this.#readable ??= new ReadableStream<Uint8Array>({
      start: (c) => {
        this.#readCtl = c;
        if (this.#readEnded) c.close();
      },
      pull: () => this.in.flush(),
      cancel: () => {
        this.readCancelled = true;
        this.in.drop();
      },
    }, { highWaterMark: RECEIVE_BUFFER, size: (chunk) => chunk.byteLength });
  }

  /** Bytes to the remote (made when first asked for). */
  get writable(): WritableStream<Uint8Array> {
    return this.#writable ??= new WritableStream<Uint8Array>({
      start: (c) => {
        this.#writeCtl = c;
      },
      write: (chunk) => {
        if (this.state !== "open") throw this.#closedError();
        if (chunk.length === 0) return undefined;
        return this.out.send(chunk.slice());
      },
      close: () => this.out.fin(),
      abort: () => this.close(),
    });
  }

  /** Internal: the callback side, unless the streams are in use. */
  [RAW](): RawConn | undefined {
    return this.#readable === undefined && this.#writable === undefined && this.#sink === undefined ? this : undefined;
  }

  /** Internal ({@linkcode RawConn}): starts delivering to `sink`. */
  rawStart(sink: RawSink): void {
    this.#sink = sink;
    this.#schedule();
    if (!this.#readEnded) this.in.flush();
  }

  /** Internal ({@linkcode RawConn}): pauses delivering. */
  rawPause(): void {
    this.#paused = true;
  }

  /** Internal ({@linkcode RawConn}): resumes delivering. */
  rawResume(): void {
    this.#paused = false;
    // Deliver what waits here, then what the link held meanwhile.
    if (this.#scheduled || this.#sink === undefined) return;
    this.#scheduled = true;
    RESOLVED.then(this.#deliver);
  }

  /** Internal ({@linkcode RawConn}): sends a chunk handed over (no copy). */
  rawWrite(chunk: Uint8Array, done: (err?: unknown) => void): void {
    if (this.state !== "open") return done(this.#closedError());
    if (chunk.length === 0) return done();
    const wait = this.out.send(chunk);
    if (wait === undefined) done();
    else wait.then(() => done(), done);
  }

  #closedError(): ConnectionError {
    const where = `${this.localAddr.hostname}:${this.localAddr.port}`;
    return this.state === "reset"
      ? new ConnectionError(
        "reset",
        `Connection reset: ${where} to ${this.remoteAddr.hostname}:${this.remoteAddr.port}`,
      )
      : new ConnectionError("closed", `Connection closed: ${where} was closed locally`);
  }

  /** Room for more bytes; none while nobody reads. */
  desiredSize(): number | null {
    if (this.#readEnded) return 0;
    if (this.#readCtl !== undefined) return this.#readCtl.desiredSize;
    if (this.#sink === undefined || this.#paused) return 0;
    return RECEIVE_BUFFER - this.#queued;
  }

  enqueue(chunk: Uint8Array): void {
    if (this.#readEnded) return;
    if (this.#readCtl !== undefined) return this.#readCtl.enqueue(chunk);
    this.#queue.push(chunk);
    this.#queued += chunk.length;
    this.#schedule();
  }

  end(): void {
    if (this.#readEnded) return;
    this.#readEnded = true;
    this.link.net.record("fin", `${this.link.name} -> ${this.host.name}`);
    // The simulator's own invariant: a stream ends only after every byte sent on it.
    const pipe = this.in;
    if (pipe.delivered !== pipe.sent) {
      this.link.net.fail(
        new Error(`Simulator invariant broken: ${this.link.name} ended after ${pipe.delivered} of ${pipe.sent} bytes`),
      );
    }
    if (this.#readCtl === undefined) {
      this.#last ??= true;
      this.#schedule();
      return;
    }
    try {
      this.#readCtl.close();
    } catch {
      // Cancelled meanwhile.
    }
  }

  /**
   * Fails both directions with `err`. Closed here, the callback side hears
   * nothing more; reset by the remote, it gets what had arrived, then the
   * error.
   */
  fail(err: ConnectionError): void {
    this.#readEnded = true;
    this.#readCtl?.error(err);
    this.#writeCtl?.error(err);
    this.out.failWriter(err);
    if (this.state === "closed") {
      this.#sink = undefined;
      this.#queue = [];
      this.#queued = 0;
      return;
    }
    this.#last ??= err;
    this.#schedule();
  }

  #schedule(): void {
    if (this.#scheduled || this.#paused || this.#sink === undefined) return;
    if (this.#queue.length === 0 && this.#last === undefined) return;
    this.#scheduled = true;
    RESOLVED.then(this.#deliver);
  }

  readonly #deliver = (): void => {
    this.#scheduled = false;
    const sink = this.#sink;
    if (sink === undefined) return;
    while (this.#queue.length > 0 && !this.#paused) {
      const chunk = this.#queue.shift()!;
      this.#queued -= chunk.length;
      sink.data(chunk);
    }
    if (this.#paused) return;
    const last = this.#last;
    if (last !== undefined) {
      if (this.#queue.length > 0) return;
      this.#sink = undefined;
      if (last === true) sink.end();
      else sink.error(last);
      return;
    }
    this.in.flush();
  };

  /** Closes the connection in both directions; idempotent, never throws. */
  close(): void {
    if (this.state !== "open") return;
    this.state = "closed";
    this.host.ends.delete(this);
    const unread = this.in.unread > 0;
    this.fail(this.#closedError());
    this.in.drop();
    this.link.net.record("close", `${this.link.name} by ${this.host.name}${unread ? " (unread data: reset)" : ""}`);
    if (unread) {
      this.out.dead = true;
      this.link.resetLater(this.link.other(this), `${this.host.name} closed with unread data`);
    } else {
      this.out.fin();
    }
    this.link.check();
  }
}
