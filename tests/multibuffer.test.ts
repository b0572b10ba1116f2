// The four-lane WebAssembly double SHA-256 behind `frameChecksums`, and the
// frame decoder's batches of small frames: the same checksums as the plain
// hash for every length and lane, and the same messages and errors, in the
// same order, as one frame at a time.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { doubleSha256, encodeMessage, FrameDecoder, type Hasher, jsHasher, type Message } from "../mod.ts";
import { frameChecksums, laneChecksums, lanesAvailable, MAX_LANE_PAYLOAD } from "../src/hash/multibuffer.ts";
import { SHA256X4_WASM_BASE64 } from "../src/hash/sha256x4_module.ts";
import { generateSha256x4 } from "../src/hash/sha256x4_wasm.ts";
import { concat, SIMNET_MAGIC } from "./_util.ts";

const checksum = (d: Uint8Array) => new DataView(doubleSha256(d).buffer).getInt32(0, true);
const bytes = (n: number, seed: number) => new Uint8Array(n).map((_, i) => (i * 31 + seed * 7) & 0xff);

describe("four-lane double SHA-256", () => {
  it("is stored as its generator produces it (else run `deno task wasm`), and valid", () => {
    const stored = Uint8Array.from(atob(SHA256X4_WASM_BASE64), (c) => c.charCodeAt(0));
    assert.deepEqual(stored, generateSha256x4());
    assert.ok(WebAssembly.validate(stored));
  });

  it("runs here", () => {
    assert.ok(lanesAvailable(), "WebAssembly SIMD is expected in Deno, Bun and Node");
  });

  it("matches the plain hash at every length up to 300 bytes and at the lane limit, lanes of unequal lengths", () => {
    const lengths = [
      ...Array.from({ length: 301 }, (_, i) => i),
      447,
      448,
      1023,
      MAX_LANE_PAYLOAD - 1,
      MAX_LANE_PAYLOAD,
    ];
    // Rotate the lengths through the lanes, with counts that are not multiples of four.
    for (const count of [1, 2, 3, 4, 5, 7, 64]) {
      for (let start = 0; start < lengths.length; start += count) {
        const payloads = lengths.slice(start, start + count).map((n, i) => bytes(n, start + i));
        const out = new Int32Array(payloads.length);
        laneChecksums(payloads, payloads.length, out);
        payloads.forEach((p, i) => assert.equal(out[i], checksum(p), `length ${p.length}, lane ${i % 4}`));
      }
    }
  });

  it("reads payloads at any offset of their buffer", () => {
    const base = bytes(2000, 3);
    const payloads = [
      base.subarray(1, 376),
      base.subarray(377, 377 + 55),
      base.subarray(999, 1999),
      base.subarray(0, 0),
    ];
    const out = new Int32Array(4);
    laneChecksums(payloads, 4, out);
    payloads.forEach((p, i) => assert.equal(out[i], checksum(p)));
  });

  it("falls back to the given hash for a payload too large for a lane", () => {
    let calls = 0;
    const payloads = [bytes(10, 1), bytes(MAX_LANE_PAYLOAD + 1, 2)];
    const out = new Int32Array(2);
    frameChecksums(payloads, 2, out, (d) => (calls++, doubleSha256(d)));
    assert.equal(calls, 2);
    payloads.forEach((p, i) => assert.equal(out[i], checksum(p)));
  });
});

describe("FrameDecoder: small frames checksummed in batches", () => {
  const opts = { magic: SIMNET_MAGIC };
  const messages: Message[] = Array.from(
    { length: 40 },
    (_, i): Message =>
      i % 3 === 0
        ? { command: "ping", nonce: BigInt(i) }
        : i % 3 === 1
        ? { command: "feefilter", minFee: BigInt(i * 1000) }
        : { command: "getaddr" },
  );
  const frames = messages.map((m) => encodeMessage(m, opts));

  /** Takes every message (or error kind) the decoder has ready. */
  function drain(dec: FrameDecoder, got: (Message | string)[]): (Message | string)[] {
    for (;;) {
      try {
        const f = dec.next();
        if (f === undefined) return got;
        got.push(f.message);
      } catch (err) {
        got.push((err as { kind: string }).kind);
      }
    }
  }

  /** A hasher that records what it hashed, one by one or in batches. */
  function recording(): { hasher: Hasher; batches: number[] } {
    const batches: number[] = [];
    return {
      batches,
      hasher: {
        sha256: jsHasher.sha256,
        doubleSha256: jsHasher.doubleSha256,
        frameChecksums: (p, count, out) => {
          batches.push(count);
          jsHasher.frameChecksums!(p, count, out);
        },
      },
    };
  }

  it("hashes a chunk's small frames in one batch and delivers the same messages", () => {
    const { hasher, batches } = recording();
    const dec = new FrameDecoder({ ...opts, hasher });
    dec.push(concat(frames));
    const got: Message[] = [];
    for (let f = dec.next(); f !== undefined; f = dec.next()) got.push(f.message);
    assert.deepEqual(got, messages);
    assert.deepEqual(batches, [40]);
  });

  it("reports a bad checksum inside a batch at its frame, after the frames before it, and goes on", () => {
    const bad = frames.map((f) => f.slice());
    bad[17]![bad[17]!.length - 1]! ^= 1; // the last payload byte of a ping
    const { hasher, batches } = recording();
    const dec = new FrameDecoder({ ...opts, hasher });
    dec.push(concat(bad));
    const got = drain(dec, []);
    assert.deepEqual(got, [...messages.slice(0, 17), "checksum", ...messages.slice(18)]);
    assert.equal(batches.length, 1);
  });

  it("gives the same messages and errors as a hasher without batches, in any chunking", () => {
    const bad = frames.map((f) => f.slice());
    bad[4]![30]! ^= 0x40; // a payload byte of a feefilter
    bad[22]![4]! ^= 0x20; // a command byte: unknown command, skipped by its length
    const stream = concat(bad);
    const outcomes = (hasher: Hasher, size: number) => {
      const dec = new FrameDecoder({ ...opts, hasher });
      const got: (Message | string)[] = [];
      for (let at = 0; at < stream.length; at += size) {
        dec.push(stream.subarray(at, at + size));
        drain(dec, got);
      }
      return got;
    };
    const plain: Hasher = { sha256: jsHasher.sha256, doubleSha256: jsHasher.doubleSha256 };
    const expected = outcomes(plain, stream.length);
    assert.ok(expected.includes("checksum") && expected.includes("unknown-command"));
    for (const size of [1, 7, 24, 33, 100, 333, stream.length]) {
      assert.deepEqual(outcomes(jsHasher, size), expected, `chunks of ${size}`);
    }
  });

  it("decoders taking turns frame by frame each get their own frames' checksums", () => {
    // The batch arrays are shared by every decoder of the thread: a decoder
    // finding them taken by another batches again from where it is.
    const bad = frames.map((f) => f.slice());
    bad[9]![bad[9]!.length - 1]! ^= 1;
    const streams = [concat(frames), concat(bad), concat(frames.slice().reverse())];
    const expected = streams.map((stream) => {
      const dec = new FrameDecoder({ ...opts, hasher: jsHasher });
      dec.push(stream);
      return drain(dec, []);
    });
    const { hasher, batches } = recording();
    const decoders = streams.map((stream) => {
      const dec = new FrameDecoder({ ...opts, hasher });
      dec.push(stream);
      return dec;
    });
    const got: (Message | string)[][] = streams.map(() => []);
    for (let round = 0; round < frames.length; round++) {
      decoders.forEach((dec, i) => {
        try {
          const f = dec.next();
          if (f !== undefined) got[i]!.push(f.message);
        } catch (err) {
          got[i]!.push((err as { kind: string }).kind);
        }
      });
    }
    assert.deepEqual(got, expected);
    assert.ok(got[1]!.includes("checksum"));
    assert.ok(batches.length > streams.length, `${batches.length} batches: taking turns re-batches`);
  });
});
