/**
 * An in-memory connection pair for tests: two {@linkcode Conn}s whose bytes
 * flow into each other with real backpressure.
 *
 * @module
 */
import type { Conn, NetAddr } from "./conn.ts";

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

interface Direction {
  readonly stream: TransformStream<Uint8Array, Uint8Array>;
  readonly controller: TransformStreamDefaultController<Uint8Array>;
}

function direction(highWaterMark: number): Direction {
  let controller: TransformStreamDefaultController<Uint8Array> | undefined;
  const stream = new TransformStream<Uint8Array, Uint8Array>(
    {
      start(c) {
        controller = c;
      },
      // Copy, as a socket does: the writer may reuse its buffer afterwards.
      transform(chunk, c) {
        if (chunk.length > 0) c.enqueue(chunk.slice());
      },
    },
    { highWaterMark: 1 },
    new ByteLengthQueuingStrategy({ highWaterMark }),
  );
  return { stream, controller: controller! };
}

function closedError(): Error {
  return new Error("Connection closed");
}

class PipeConn implements Conn {
  readonly readable: ReadableStream<Uint8Array>;
  readonly writable: WritableStream<Uint8Array>;
  readonly localAddr: NetAddr;
  readonly remoteAddr: NetAddr;
  #in: Direction;
  #out: Direction;
  #closed = false;

  constructor(incoming: Direction, outgoing: Direction, local: NetAddr, remote: NetAddr) {
    this.#in = incoming;
    this.#out = outgoing;
    this.readable = incoming.stream.readable;
    this.writable = outgoing.stream.writable;
    this.localAddr = local;
    this.remoteAddr = remote;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    // What we already sent still arrives, then the remote reads the end
    // (a FIN); our further writes fail.
    try {
      this.#out.controller.terminate();
    } catch {
      // Already closed or errored.
    }
    // What was sent to us and not read is dropped; the remote's further
    // writes and our pending reads fail.
    try {
      this.#in.controller.error(closedError());
    } catch {
      // Already closed or errored.
    }
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
  const aToB = direction(hwm);
  const bToA = direction(hwm);
  const a = new PipeConn(bToA, aToB, addrA, addrB);
  const b = new PipeConn(aToB, bToA, addrB, addrA);
  return [a, b];
}
