// The checksum worker seam: the frame decoder hands large payloads' checksums
// to a ChecksumWorker and decodes meanwhile. Every split of a stream gives the
// same messages and errors, in the same order, with a worker as without one;
// nothing is delivered before its checksum is compared; the adapter's thread
// (node:worker_threads under Deno, Bun and Node) computes the same checksums,
// and its channel falls back to the caller's thread when the thread is gone.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { type ChecksumWorker, doubleSha256, encodeMessage, FrameDecoder, type Message } from "../mod.ts";
import { checksumMemory, SharedChecksums } from "../src/hash/checksum_worker.ts";
import { type ChecksumThread, startChecksumWorker } from "../src/adapters/checksum_worker.ts";
import { concat, frameOf, SIMNET_MAGIC } from "./_util.ts";

const opts = { magic: SIMNET_MAGIC };
const checksum = (d: Uint8Array) => new DataView(doubleSha256(d).buffer).getInt32(0, true);

/** An inv of `n` vectors (40 bytes each: 1,900 of them make a payload over 64 KiB). */
const inv = (n: number, seed: number): Message => ({
  command: "inv",
  invList: Array.from({ length: n }, (_, i) => ({
    type: 1,
    hash: new Uint8Array(32).map((_, j) => (i * 7 + j + seed) & 0xff),
    height: 0,
  })),
});
const invBytes = (n: number) => encodeMessage(inv(n, 0), opts).length - 24;

/**
 * A stream of small and large frames with, among them, a large frame whose
 * checksum is wrong and one whose payload is malformed under a right checksum
 * (an inv declaring more vectors than it holds).
 */
function mixedStream(): Uint8Array {
  const big = encodeMessage(inv(2000, 1), opts);
  const corrupt = big.slice();
  corrupt[corrupt.length - 1]! ^= 1;
  const shortInv = big.slice(24, 24 + invBytes(1900));
  return concat([
    encodeMessage({ command: "ping", nonce: 1n }, opts),
    big,
    encodeMessage({ command: "pong", nonce: 2n }, opts),
    corrupt,
    encodeMessage(inv(3000, 2), opts),
    frameOf("inv", shortInv),
    encodeMessage({ command: "ping", nonce: 3n }, opts),
    encodeMessage(inv(1900, 3), opts),
  ]);
}

/** Feeds `parts` and takes every message (as its command) or error (as its kind), in order. */
function decodeAll(parts: readonly Uint8Array[], checksumWorker?: ChecksumWorker): string[] {
  const dec = new FrameDecoder(checksumWorker ? { ...opts, checksumWorker } : opts);
  const got: string[] = [];
  for (const part of parts) {
    dec.push(part);
    for (;;) {
      try {
        const f = dec.next();
        if (f === undefined) break;
        got.push(f.message.command === "inv" ? `inv ${f.message.invList.length}` : f.message.command);
      } catch (err) {
        got.push((err as { kind: string }).kind);
      }
    }
  }
  dec.end();
  return got;
}

/** Splits `bytes` at the given offsets (sorted, deduplicated, inside it). */
function split(bytes: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const at = [...new Set(cuts.map((c) => c % bytes.length))].sort((a, b) => a - b);
  const parts: Uint8Array[] = [];
  let from = 0;
  for (const c of at) {
    parts.push(bytes.subarray(from, c));
    from = c;
  }
  parts.push(bytes.subarray(from));
  return parts;
}

/** A worker that hashes in this thread and records what it was given. */
function recordingWorker(): ChecksumWorker & { lengths: number[]; open: boolean } {
  let parts: readonly Uint8Array[] | undefined;
  const w = {
    capacity: 1 << 20,
    lengths: [] as number[],
    open: false,
    start(p: readonly Uint8Array[]) {
      assert.equal(w.open, false, "one checksum at a time");
      w.open = true;
      parts = p.map((x) => x.slice());
      w.lengths.push(parts.reduce((n, x) => n + x.length, 0));
    },
    finish() {
      assert.equal(w.open, true, "finish after start");
      w.open = false;
      return checksum(concat(parts!));
    },
  };
  return w;
}

const stream = mixedStream();
const expected = decodeAll([stream]);

describe("FrameDecoder with a checksum worker", () => {
  it("decodes the stream as without one, the large frames' checksums by the worker", () => {
    assert.deepEqual(expected, ["ping", "inv 2000", "pong", "checksum", "inv 3000", "truncated", "ping", "inv 1900"]);
    const worker = recordingWorker();
    assert.deepEqual(decodeAll([stream], worker), expected);
    assert.deepEqual(worker.lengths, [invBytes(2000), invBytes(2000), invBytes(3000), invBytes(1900), invBytes(1900)]);
    assert.equal(worker.open, false);
  });

  it("gives the same messages and errors for every split of the stream", () => {
    fc.assert(
      fc.property(fc.array(fc.nat(), { maxLength: 40 }), (cuts) => {
        const parts = split(stream, cuts);
        const worker = recordingWorker();
        assert.deepEqual(decodeAll(parts, worker), expected);
        assert.deepEqual(decodeAll(parts), expected);
        assert.equal(worker.lengths.length, 5);
      }),
      { numRuns: 60 },
    );
  });

  it("keeps payloads above the worker's capacity in its own thread", () => {
    const worker = { ...recordingWorker(), capacity: invBytes(2000) };
    assert.deepEqual(decodeAll(split(stream, [5000, 90_000, 200_000]), worker), expected);
    assert.deepEqual(worker.lengths, [invBytes(2000), invBytes(2000), invBytes(1900), invBytes(1900)]);
  });

  it("delivers nothing whose checksum the worker did not confirm", () => {
    const frame = encodeMessage(inv(2000, 9), opts);
    const lying: ChecksumWorker = { capacity: 1 << 20, start() {}, finish: () => 0 };
    const dec = new FrameDecoder({ ...opts, checksumWorker: lying });
    dec.push(frame);
    assert.throws(() => dec.next(), { kind: "checksum" });
    assert.equal(dec.next(), undefined);
  });
});

describe("the shared-memory channel", () => {
  it("hashes in the caller's thread when nobody serves it, after its patience", () => {
    const channel = new SharedChecksums(checksumMemory(1024), doubleSha256, 5);
    const data = new Uint8Array(300).map((_, i) => i);
    channel.start([data.subarray(0, 100), data.subarray(100)]);
    assert.equal(channel.finish(), checksum(data));
    // Once given up on, the thread is not waited for again.
    channel.start([data]);
    assert.equal(channel.finish(), checksum(data));
    assert.throws(() => channel.finish(), /none was started/);
  });
});

describe("startChecksumWorker (the adapter's thread)", () => {
  let thread: ChecksumThread;
  before(async () => {
    thread = await startChecksumWorker({ capacity: 256 * 1024 });
  });
  after(() => thread.close());

  it("computes the same checksums as this thread, large payloads in any split", () => {
    for (const n of [0, 1, 64, 65_536, 200_000]) {
      const data = new Uint8Array(n).map((_, i) => (i * 13) & 0xff);
      thread.start([data.subarray(0, n >> 1), data.subarray(n >> 1)]);
      assert.equal(thread.finish(), checksum(data), `${n} bytes`);
    }
    for (const cuts of [[], [7], [1000, 70_000, 140_000, 250_000]]) {
      assert.deepEqual(decodeAll(split(stream, cuts), thread), expected);
    }
  });

  it("falls back to this thread once closed", async () => {
    const other = await startChecksumWorker({ capacity: 256 * 1024 });
    await other.close();
    assert.deepEqual(decodeAll(split(stream, [3, 100_000]), other), expected);
  });
});
