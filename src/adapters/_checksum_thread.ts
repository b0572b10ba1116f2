// The thread behind `startChecksumWorker` (checksum_worker.ts): receives the
// channel's shared memory, says it is ready, then answers checksums until
// told to stop. `node:worker_threads` runs it under Node, Deno and Bun alike.
import { parentPort } from "node:worker_threads";
import { serveChecksums } from "../hash/checksum_worker.ts";
import { nativeHasher } from "./native_hash.ts";

const port = parentPort!;
port.once("message", (memory: SharedArrayBuffer) => {
  port.postMessage("ready");
  serveChecksums(memory, nativeHasher.doubleSha256);
  port.postMessage("stopped");
});
