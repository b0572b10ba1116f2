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
 * A `TransformStream` from bytes, in any chunking, to messages. Chunks with
 * many frames are decoded in one step; backpressure from the readable side
 * stops the writable side from taking more chunks.
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
export class MessageDecoderStream extends TransformStream<Uint8Array, Message> {
  /** The underlying decoder (its `pver` and `encoding` may be changed). */
  readonly decoder: FrameDecoder;

  /**
   * Creates the stream.
   *
   * @param options Network magic, protocol version, encoding, hasher and error policy.
   */
  constructor(options: MessageDecoderStreamOptions) {
    const decoder = new FrameDecoder(options);
    const onError = options.onError;
    const drain = (controller: TransformStreamDefaultController<Message>) => {
      for (;;) {
        let frame;
        try {
          frame = decoder.next();
        } catch (err) {
          if (onError === undefined || (err as MessageError).kind === "oversize-length") throw err;
          onError(err as MessageError);
          continue;
        }
        if (frame === undefined) return;
        controller.enqueue(frame.message);
      }
    };
    super(
      {
        transform(chunk, controller) {
          decoder.push(chunk);
          drain(controller);
        },
        flush(controller) {
          drain(controller);
          decoder.end();
        },
      },
      undefined,
      { highWaterMark: options.highWaterMark ?? 16 },
    );
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
