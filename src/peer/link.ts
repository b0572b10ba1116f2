/**
 * The peer's I/O driver: it reads a {@linkcode Conn} into a
 * {@linkcode FrameDecoder} and hands each verified frame to its host, and
 * writes the output queue in batches. It knows streams and frames, not the
 * protocol.
 *
 * Reading decodes every frame a chunk holds before asking for the next
 * chunk, with no promise per message: the host returns a promise only when
 * a message must be waited for (an async listener, a full subscriber), and
 * reading resumes once it settles. Writing starts in the microtask after
 * the first message is queued, so what is queued in one tick goes out in
 * one write; while a write is in flight, messages gather for the next.
 *
 * A connection of this package's own is driven by callbacks
 * ({@linkcode RawConn}): chunks are pushed to the decoder as they arrive
 * (the connection is paused while a message is waited for) and writes
 * report by callback. Any other connection is driven through its streams.
 *
 * With a connection of our own, frames are encoded one after the other
 * into a buffer shared by every peer (encoding is synchronous), and the
 * frames of one write, when they lie one after the other there (a peer's
 * frames of one tick, unless another peer's came between), are written as
 * one view of it: no buffer per frame, no copy to join them, and nothing
 * held by an idle peer. A written region is never written again. Other
 * connections get a buffer of their own per frame and per write, as
 * before.
 *
 * @module
 */
import type { FrameDecoder } from "../wire/decoder.ts";
import { type CodecOptions, type DecodedFrame, encodeMessage, writeMessage } from "../wire/frame.ts";
import { MessageError } from "../wire/errors.ts";
import type { Message } from "../wire/message.ts";
import type { MessageEncoding } from "../wire/protocol.ts";
import { Writer } from "../wire/writer.ts";
import type { Conn } from "./conn.ts";
import type { OutItem, OutQueue } from "./outqueue.ts";
import { type RawConn, rawOf, type RawSink } from "./raw.ts";

/** Frames written in one tick are joined into writes of about this size. */
const WRITE_BATCH_BYTES = 256 * 1024;
/** The size of the buffer frames for our own connections are encoded into. */
const ENCODE_BUFFER_BYTES = 64 * 1024;
/**
 * A frame starts a new buffer when less room than this is left: a frame
 * that does not fit grows the buffer, which copies all it holds.
 */
const ENCODE_BUFFER_ROOM = 8 * 1024;
/** The buffer they are encoded into now; a new one once it is full. */
let encodeBuffer: Writer | undefined;
/** The bytes of the buffer the last frame was encoded into. */
let encodedIn: Uint8Array | undefined;
/** The encoding options used last: peers alike share one object rather than each make theirs. */
let lastOptions: CodecOptions | undefined;

/**
 * Encodes a frame into the shared buffer, starting a new one when less
 * than `room` bytes are left (so that a write expected to be that large
 * does not straddle two buffers, which would need a copy). A frame larger
 * than the room left grows the buffer (one copy of what it held; the next
 * frame starts a new buffer).
 */
function encodeShared(msg: Message, opts: CodecOptions, room: number): Uint8Array {
  let w = encodeBuffer;
  // A re-entrant call (a getter of the message that queues another) gets
  // a buffer of its own.
  encodeBuffer = undefined;
  if (w === undefined || w.buf.length - w.pos < room) w = new Writer(ENCODE_BUFFER_BYTES);
  const buf = w.buf;
  try {
    const frame = writeMessage(w, msg, opts);
    encodedIn = w.buf;
    return frame;
  } finally {
    if (w.buf === buf) encodeBuffer = w;
  }
}

function noop(): void {}

/** Runs a callback in a microtask: a resolved promise's `then` costs less than `queueMicrotask` in Node. */
const RESOLVED: Promise<void> = Promise.resolve();

/** What the driver reports to. */
export interface LinkHost {
  /**
   * A frame arrived, its checksum verified.
   *
   * @returns A promise when reading must wait until it settles.
   */
  onFrame(frame: DecodedFrame): Promise<void> | undefined;
  /** A frame could not be decoded; reading has stopped. */
  onMalformed(err: MessageError): void;
  /** The remote ended the stream (`partial`: in the middle of a frame); reading has stopped. */
  onEnd(partial: boolean): void;
  /** Reading failed; reading has stopped. */
  onReadError(err: unknown): void;
  /** Messages are about to be written. */
  onSending(batch: readonly OutItem[], now: number): void;
  /** Messages were written (`bytes` in all) at `now`. */
  onWritten(batch: readonly OutItem[], bytes: number, now: number): void;
  /** Writing failed; writing has stopped. */
  onWriteError(batch: readonly OutItem[], err: unknown): void;
  /** Something that should not throw did. */
  onCrash(err: unknown): void;
  /** The current time in milliseconds. */
  now(): number;
}

/**
 * Closes a connection and its streams. The link calls it from a microtask,
 * not from its own methods: the errors the streams make and keep while
 * closing (a terminated stream, a closed connection) record the receivers
 * of the stack frames they are made in (V8 until the stack is formatted,
 * Deno for good). Made inside a method of the peer, they would record the
 * peer, and a connection still referenced by the application would keep
 * the closed peer alive.
 */
function closeConnection(
  conn: Conn,
  reader: ReadableStreamDefaultReader<Uint8Array> | undefined,
  writer: WritableStreamDefaultWriter<Uint8Array> | undefined,
): void {
  try {
    conn.close();
  } catch {
    // close() must not throw; be safe anyway.
  }
  reader?.cancel().catch(noop);
  writer?.abort().catch(noop);
}

/** Joins frames into one buffer. */
function join(batch: readonly OutItem[], total: number): Uint8Array {
  if (batch.length === 1) return batch[0]!.frame;
  const chunk = new Uint8Array(total);
  let at = 0;
  for (const item of batch) {
    chunk.set(item.frame, at);
    at += item.frame.length;
  }
  return chunk;
}

/** Reads frames from a connection and writes queued messages to it. */
export class Link implements RawSink {
  readonly #conn: Conn;
  #raw: RawConn | undefined;
  /** Raw mode: the remote ended (`true`) or reading failed (the error). */
  #eof: { err: unknown } | true | undefined;
  /** A message is being waited for: frames stay in the decoder. */
  #waiting = false;
  #draining = false;
  /** The decoder; the host adjusts its version and encoding after the handshake. */
  readonly decoder: FrameDecoder;
  readonly #queue: OutQueue;
  readonly #host: LinkHost;
  #reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  #writer: WritableStreamDefaultWriter<Uint8Array> | undefined;
  #reading = false;
  #output = false;
  #flushScheduled = false;
  #inflight: OutItem[] | undefined;
  #inflightBytes = 0;
  /** When the write in flight started, while it has not returned. */
  #inflightSince: number | undefined;
  #stopped = false;
  /**
   * Raw mode: the frames encoded since the last write that lie one after
   * the other in one buffer (`#runIn`), in the order they were queued: the
   * first and the last, how many, and where they end.
   */
  #runIn: Uint8Array | undefined;
  #runFirst: Uint8Array | undefined;
  #runLast: Uint8Array | undefined;
  #runCount = 0;
  #runEnd = 0;
  /** The size of the last write: the room a new run asks for. */
  #lastWrite = 0;

  /**
   * Creates a driver; nothing happens before {@linkcode Link.start}.
   *
   * @param conn The connection.
   * @param decoder The frame decoder.
   * @param queue The output queue, filled by the host.
   * @param host Whom to report to.
   */
  constructor(conn: Conn, decoder: FrameDecoder, queue: OutQueue, host: LinkHost) {
    this.#conn = conn;
    this.decoder = decoder;
    this.#queue = queue;
    this.#host = host;
  }

  /**
   * Takes the connection's reader and writer.
   *
   * @throws When the streams are locked or unusable.
   */
  start(): void {
    const raw = rawOf(this.#conn);
    if (raw !== undefined) {
      this.#raw = raw;
      raw.rawStart(this);
      return;
    }
    this.#reader = this.#conn.readable.getReader();
    this.#writer = this.#conn.writable.getWriter();
    this.#reader.closed.catch(noop);
    this.#writer.closed.catch(noop);
  }

  /** Starts (or resumes) reading. */
  read(): void {
    if (this.#reading || this.#stopped) return;
    this.#reading = true;
    this.#raw?.rawResume();
    this.#drain();
  }

  // RawSink: the raw connection's callbacks.

  /** Raw mode: bytes arrived. */
  data(chunk: Uint8Array): void {
    if (this.#stopped) return;
    this.decoder.push(chunk);
    if (!this.#reading) this.#raw!.rawPause();
    else if (!this.#waiting && !this.#draining) this.#drain();
  }

  /** Raw mode: the remote ended the stream. */
  end(): void {
    this.#eof ??= true;
    if (this.#reading && !this.#waiting && !this.#draining && !this.#stopped) this.#drain();
  }

  /** Raw mode: reading failed. */
  error(err: unknown): void {
    this.#eof ??= { err };
    if (this.#reading && !this.#waiting && !this.#draining && !this.#stopped) this.#drain();
  }

  /**
   * Writes a frame now, outside the queue (the handshake's messages).
   *
   * @param frame The frame.
   * @returns The write's promise.
   */
  writeNow(frame: Uint8Array): Promise<void> {
    // It was encoded just before, and is not queued: no write joins it.
    this.#endRun();
    const raw = this.#raw;
    if (raw === undefined) return this.#writer!.write(frame);
    return new Promise((resolve, reject) => raw.rawWrite(frame, (err) => err === undefined ? resolve() : reject(err)));
  }

  /**
   * Encodes a frame to be written: with a connection of our own, into the
   * shared buffer (see the module's notes), else on its own.
   *
   * @param msg The message.
   * @param pver The protocol version.
   * @param encoding The transaction encoding.
   * @returns The frame.
   * @throws {MessageError} when it cannot be encoded.
   */
  encode(msg: Message, pver: number, encoding: MessageEncoding): Uint8Array {
    const dec = this.decoder;
    let opts = lastOptions;
    if (
      opts === undefined || opts.pver !== pver || opts.encoding !== encoding || opts.magic !== dec.magic ||
      opts.hasher !== dec.hasher
    ) {
      opts = lastOptions = { magic: dec.magic, pver, encoding, hasher: dec.hasher };
    }
    if (this.#raw === undefined) return encodeMessage(msg, opts);
    // The first frame since the last write asks for room for a write as
    // large as the last one (up to half a buffer).
    const room = this.#runIn === undefined
      ? Math.max(ENCODE_BUFFER_ROOM, Math.min(this.#lastWrite, ENCODE_BUFFER_BYTES / 2))
      : ENCODE_BUFFER_ROOM;
    const frame = encodeShared(msg, opts, room);
    const at = frame.byteOffset;
    if (encodedIn === this.#runIn && at === this.#runEnd) {
      this.#runCount++;
    } else {
      this.#runIn = encodedIn;
      this.#runFirst = frame;
      this.#runCount = 1;
    }
    this.#runLast = frame;
    this.#runEnd = at + frame.length;
    return frame;
  }

  /** From now on, queued messages are written. */
  openOutput(): void {
    this.#output = true;
    this.kick();
  }

  /** Messages were queued: write them soon. */
  kick(): void {
    if (!this.#output || this.#flushScheduled || this.#inflight !== undefined || this.#stopped) return;
    this.#flushScheduled = true;
    RESOLVED.then(this.#flush);
  }

  /**
   * Stops reading and writing for good and closes the connection (in a
   * microtask). Messages being written settle as dropped.
   */
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#endRun();
    const inflight = this.#inflight;
    if (inflight !== undefined) { for (const item of inflight) item.settle(false); }
    const conn = this.#conn;
    const reader = this.#reader;
    const writer = this.#writer;
    queueMicrotask(() => closeConnection(conn, reader, writer));
  }

  // -------------------------------------------------------------------
  // Reading.

  /** Hands over every frame already buffered, then asks for more bytes. */
  #drain(): void {
    const dec = this.decoder;
    const host = this.#host;
    this.#draining = true;
    try {
      for (;;) {
        if (this.#stopped) return;
        let frame: DecodedFrame | undefined;
        try {
          frame = dec.next();
        } catch (err) {
          if (!(err instanceof MessageError)) throw err;
          this.#reading = false;
          host.onMalformed(err);
          return;
        }
        if (frame === undefined) break;
        const wait = host.onFrame(frame);
        if (wait !== undefined) {
          this.#waiting = true;
          this.#raw?.rawPause();
          wait.then(() => this.#resume(), (err) => this.#crash(err));
          return;
        }
      }
      if (this.#raw === undefined) {
        this.#reader!.read().then((r) => this.#onChunk(r), (err) => this.#onReadError(err));
        return;
      }
      const eof = this.#eof;
      if (eof === undefined || this.#stopped) return;
      this.#reading = false;
      if (eof === true) host.onEnd(!dec.idle);
      else host.onReadError(eof.err);
    } catch (err) {
      this.#crash(err);
    } finally {
      this.#draining = false;
    }
  }

  #resume(): void {
    this.#waiting = false;
    if (this.#stopped) return;
    this.#raw?.rawResume();
    this.#drain();
  }

  #crash(err: unknown): void {
    this.#reading = false;
    if (!this.#stopped) this.#host.onCrash(err);
  }

  #onChunk(r: ReadableStreamReadResult<Uint8Array>): void {
    if (this.#stopped) return;
    if (r.done) {
      this.#reading = false;
      this.#host.onEnd(!this.decoder.idle);
      return;
    }
    this.decoder.push(r.value);
    this.#drain();
  }

  #onReadError(err: unknown): void {
    this.#reading = false;
    if (!this.#stopped) this.#host.onReadError(err);
  }

  // -------------------------------------------------------------------
  // Writing.

  readonly #flush = (): void => {
    this.#flushScheduled = false;
    if (this.#stopped || this.#inflight !== undefined || this.#queue.length === 0) return;
    const batch = this.#queue.take(WRITE_BATCH_BYTES);
    let total = 0;
    for (const item of batch) total += item.frame.length;
    this.#inflight = batch;
    this.#inflightBytes = total;
    try {
      const now = this.#host.now();
      this.#host.onSending(batch, now);
      const chunk = this.#isRun(batch) ? this.#runIn!.subarray(this.#runEnd - total, this.#runEnd) : join(batch, total);
      this.#endRun();
      this.#lastWrite = total;
      if (this.#raw !== undefined) {
        // A write done from within the call is done now.
        this.#inflightSince = now;
        this.#raw.rawWrite(chunk, this.#onRawWritten);
        this.#inflightSince = undefined;
      } else {
        this.#writer!.write(chunk).then(() => this.#onWritten(), (err) => this.#onWriteError(err));
      }
    } catch (err) {
      if (this.#inflight === batch) this.#onWriteError(err);
      else this.#host.onCrash(err);
    }
  };

  /**
   * Tells whether a batch is the run of frames lying one after the other:
   * the queue holds them in the order they were encoded, so a batch (a
   * stretch of the queue) of as many frames, from the run's first to its
   * last, is the run.
   */
  #isRun(batch: readonly OutItem[]): boolean {
    const n = batch.length;
    return n > 1 && this.#runIn !== undefined && n === this.#runCount && batch[0]!.frame === this.#runFirst &&
      batch[n - 1]!.frame === this.#runLast;
  }

  /** Forgets the run, holding on to none of its frames (an idle peer keeps no buffer alive). */
  #endRun(): void {
    this.#runIn = undefined;
    this.#runFirst = undefined;
    this.#runLast = undefined;
  }

  readonly #onRawWritten = (err?: unknown): void => {
    if (err === undefined) this.#onWritten();
    else this.#onWriteError(err);
  };

  #onWritten(): void {
    const batch = this.#inflight!;
    const total = this.#inflightBytes;
    this.#inflight = undefined;
    this.#queue.release(total, batch.length);
    this.#host.onWritten(batch, total, this.#inflightSince ?? this.#host.now());
    // In the next microtask: a raw write may report from within the call.
    if (this.#queue.length > 0) this.kick();
  }

  #onWriteError(err: unknown): void {
    const batch = this.#inflight ?? [];
    this.#inflight = undefined;
    this.#queue.release(this.#inflightBytes, batch.length);
    for (const item of batch) item.settle(false);
    this.#output = false;
    this.#host.onWriteError(batch, err);
  }
}
