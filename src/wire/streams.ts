/**
 * Web Streams that turn bytes into messages and messages into bytes.
 *
 * @module
 */
import { FrameDecoder } from "./decoder.ts";
import type { MessageError } from "./errors.ts";
import { type CodecOptions, encodeMessage } from "./frame.ts";
import type { Message } from "./message.ts";

/** Options of {@linkcode MessageDecoderStream}. */
export interface MessageDecoderStreamOptions extends CodecOptions {
  /**
   * Called with each bad frame instead of failing the stream. The frame is
   * skipped and decoding goes on; errors that leave the stream unreadable
   * (a header declaring more than 32 MiB) still fail it. Without this
   * option the first bad frame fails the stream.
   */
  onError?: (error: MessageError) => void;
  /** How many decoded messages the readable side may queue; default 16. */
  highWaterMark?: number;
}

/**
 * A stream pair from bytes, in any chunking, to messages: use it with
 * `pipeThrough`. Chunks with many frames are decoded in one step; while
 * `highWaterMark` messages wait unread, the writable side takes no more
 * chunks (backpressure).
 *
 * Every message decoded before a fatal error is delivered before the
 * error: the readable side fails only once its queue is drained, so what a
 * reader receives never depends on how the bytes were chunked.
 *
 * @example Decoding a socket's bytes
 * ```ts
 * import { encodeMessage, MessageDecoderStream } from "@soter/peer";
 * const opts = { magic: 0x12141c16 };
 * const bytes = ReadableStream.from([encodeMessage({ command: "verack" }, opts)]);
 * for await (const msg of bytes.pipeThrough(new MessageDecoderStream(opts))) {
 *   console.log(msg.command); // "verack"
 * }
 * ```
 */
export class MessageDecoderStream implements ReadableWritablePair<Message, Uint8Array> {
  /** Decoded messages. */
  readonly readable: ReadableStream<Message>;
  /** Bytes to decode. */
  readonly writable: WritableStream<Uint8Array>;
  /** The underlying decoder (its `pver` and `encoding` may be changed). */
  readonly decoder: FrameDecoder;

  /**
   * Creates the stream pair.
   *
   * @param options Network magic, protocol version, encoding, hasher and error policy.
   */
  constructor(options: MessageDecoderStreamOptions) {
    const decoder = new FrameDecoder(options);
    const onError = options.onError;
    const highWaterMark = Math.max(1, options.highWaterMark ?? 16);
    let queue: Message[] = [];
    let head = 0;
    let failure: { error: unknown } | undefined;
    let ended = false;
    let cancelled: { reason: unknown } | undefined;
    let wakeReader: (() => void) | undefined;
    let wakeWriter: (() => void) | undefined;
    const wake = (which: "reader" | "writer") => {
      const fn = which === "reader" ? wakeReader : wakeWriter;
      if (which === "reader") wakeReader = undefined;
      else wakeWriter = undefined;
      fn?.();
    };
    const queued = () => queue.length - head;
    const throwIfStopped = () => {
      if (cancelled !== undefined) throw cancelled.reason;
      if (failure !== undefined) throw failure.error;
    };
    const drain = () => {
      for (;;) {
        let frame;
        try {
          frame = decoder.next();
        } catch (err) {
          if (onError === undefined || (err as MessageError).kind === "oversize-length") {
            failure ??= { error: err };
            return;
          }
          onError(err as MessageError);
          continue;
        }
        if (frame === undefined) return;
        queue.push(frame.message);
      }
    };

    this.readable = new ReadableStream<Message>({
      pull: async (controller) => {
        while (queued() === 0 && failure === undefined && !ended) {
          await new Promise<void>((resolve) => (wakeReader = resolve));
        }
        if (queued() > 0) {
          controller.enqueue(queue[head++]!);
          if (head === queue.length) {
            queue = [];
            head = 0;
          }
          if (queued() < highWaterMark) wake("writer");
        } else if (failure !== undefined) {
          controller.error(failure.error);
        } else {
          controller.close();
        }
      },
      cancel: (reason) => {
        cancelled = { reason };
        queue = [];
        head = 0;
        wake("writer");
      },
    }, { highWaterMark: 0 });

    this.writable = new WritableStream<Uint8Array>({
      write: async (chunk) => {
        throwIfStopped();
        decoder.push(chunk);
        drain();
        wake("reader");
        while (queued() >= highWaterMark && cancelled === undefined && failure === undefined) {
          await new Promise<void>((resolve) => (wakeWriter = resolve));
        }
        throwIfStopped();
      },
      close: () => {
        drain();
        if (failure === undefined) {
          try {
            decoder.end();
          } catch (err) {
            failure = { error: err };
          }
        }
        ended = true;
        wake("reader");
      },
      abort: (reason) => {
        failure ??= { error: reason };
        wake("reader");
      },
    });
    this.decoder = decoder;
  }
}

/**
 * A `TransformStream` from messages to frame bytes, one chunk per message.
 *
 * @example
 * ```ts
 * import { MessageEncoderStream } from "@soter/peer";
 * const frames = ReadableStream.from([{ command: "verack" } as const])
 *   .pipeThrough(new MessageEncoderStream({ magic: 0x12141c16 }));
 * for await (const f of frames) console.log(f.length); // 24
 * ```
 */
export class MessageEncoderStream extends TransformStream<Message, Uint8Array> {
  /**
   * Creates the stream.
   *
   * @param options Network magic, protocol version, encoding and hasher.
   */
  constructor(options: CodecOptions) {
    super({
      transform(msg, controller) {
        controller.enqueue(encodeMessage(msg, options));
      },
    });
  }
}
