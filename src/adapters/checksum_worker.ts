/**
 * A thread of the runtime's own computing frame checksums for the frame
 * decoder (`node:worker_threads`, which Node, Deno and Bun all provide).
 *
 * @module
 */
import { Worker } from "node:worker_threads";
import { checksumMemory, type ChecksumWorker, SharedChecksums } from "../hash/checksum_worker.ts";
import { nativeHasher } from "./native_hash.ts";

/** A {@linkcode ChecksumWorker} running on a thread of its own, to close when done. */
export interface ChecksumThread extends ChecksumWorker {
  /** Stops the thread; later checksums are computed by the caller's thread. */
  close(): Promise<void>;
}

/** Options of {@linkcode startChecksumWorker}. */
export interface ChecksumWorkerOptions {
  /** The largest payload the thread takes, in bytes (default 4 MiB); larger ones are hashed in the caller's thread. */
  capacity?: number;
}

/**
 * Starts a thread that computes the checksums of large payloads while the
 * frame decoder goes on decoding them. Pass it as `checksumWorker` to a
 * `FrameDecoder` (or any codec options); nothing is delivered before its
 * checksum is compared. It pays off only where a second core is idle: on a
 * busy machine it adds a thread's work for nothing. The thread does not keep
 * the process alive.
 *
 * @param options Its capacity.
 * @returns The running thread, once it is ready.
 *
 * @example Decoding with checksums on a second core
 * ```ts
 * import { FrameDecoder } from "@soter/peer";
 * import { startChecksumWorker } from "@soter/peer/deno";
 * const checksumWorker = await startChecksumWorker();
 * const decoder = new FrameDecoder({ magic: 0x12141c16, checksumWorker });
 * await checksumWorker.close();
 * ```
 */
export async function startChecksumWorker(options: ChecksumWorkerOptions = {}): Promise<ChecksumThread> {
  const memory = checksumMemory(options.capacity ?? 4 * 1024 * 1024);
  const worker = startThread(new URL("./_checksum_thread.ts", import.meta.url));
  await new Promise<void>((resolve, reject) => {
    worker.once("error", reject);
    worker.once("message", () => {
      worker.off("error", reject);
      resolve();
    });
    worker.postMessage(memory);
  });
  worker.unref();
  const channel = new SharedChecksums(memory, nativeHasher.doubleSha256);
  return {
    capacity: channel.capacity,
    start: (parts) => channel.start(parts),
    finish: () => channel.finish(),
    async close() {
      channel.stop();
      await worker.terminate();
    },
  };
}

/**
 * Starts the thread module at `url`. Deno and Bun run TypeScript as it is,
 * and so does Node once this module is built to JavaScript. Node 20 running
 * the TypeScript sources through tsx (as this repository's tests do) does not
 * carry tsx into worker threads, so there the thread registers it first.
 */
function startThread(url: URL): Worker {
  const node = !("Deno" in globalThis) && !("Bun" in globalThis);
  if (!node || !url.pathname.endsWith(".ts")) return new Worker(url);
  const code = `(async () => {
    try { (await import("tsx/esm/api")).register(); } catch {}
    await import(${JSON.stringify(url.href)});
  })();`;
  return new Worker(code, { eval: true });
}
