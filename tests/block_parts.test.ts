// A block that arrives in many chunks is checksummed and decoded from those
// chunks as they are: the same block, the same bytes written back, the same
// errors as from one buffer, and its payload joined only when read.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  type BlockMessage,
  blockSerializeSize,
  decodeMessage,
  decodePayload,
  doubleSha256,
  encodeMessage,
  encodePayload,
  FrameDecoder,
  type Hasher,
  jsHasher,
  type MessageEncoding,
  MessageError,
  PROTOCOL_VERSION,
  txSerializeSize,
} from "../mod.ts";
import { nativeHasher } from "../src/adapters/native_hash.ts";
import { decodeBlockParts } from "../src/wire/messages/block_parts.ts";
import { blockPayload } from "../src/sync/payload.ts";
import { makeBlock, prng } from "../bench/fixtures.ts";
import { offPathBlock } from "./_fixtures.ts";
import { encodingArb, messageArb } from "./arbitraries.ts";
import { ManualClock } from "../src/peer/clock.ts";
import { closeAll, MAGIC, openWithRemote, until } from "./peer_helpers.ts";

/** `bytes` cut at `cuts` (offsets, any order, repeats and ends allowed). */
function split(bytes: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const at = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const parts: Uint8Array[] = [];
  let prev = 0;
  for (const c of [...at, bytes.length]) {
    if (c > prev) parts.push(bytes.subarray(prev, c));
    prev = Math.max(prev, c);
  }
  return parts;
}

/** A block with transactions off the scan's fast path (one 5,000 bytes long), large enough to span many chunks. */
function bigBlock(): BlockMessage {
  return offPathBlock(11, 300, 5000);
}

const cutsArb = fc.array(fc.nat(), { maxLength: 40 });
const blockArb = encodingArb.chain((e) =>
  messageArb("block", PROTOCOL_VERSION, e).map((b) => [b, e] as [BlockMessage, MessageEncoding])
);

describe("double SHA-256 of parts", () => {
  for (const [name, hasher] of [["plain TypeScript", jsHasher], ["native", nativeHasher]] as const) {
    it(`${name}: the hash of the parts joined, for any split`, () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 700 }), cutsArb, (bytes, cuts) => {
          assert.deepEqual(hasher.doubleSha256Parts!(split(bytes, cuts)), doubleSha256(bytes));
        }),
        { numRuns: 300 },
      );
    });
  }

  it("no parts at all: the hash of nothing", () => {
    assert.deepEqual(jsHasher.doubleSha256Parts!([]), doubleSha256(new Uint8Array(0)));
    assert.deepEqual(nativeHasher.doubleSha256Parts!([]), doubleSha256(new Uint8Array(0)));
  });
});

describe("a block decoded from its parts", () => {
  it("is the block decoded from one buffer, written back as the same bytes, for any split", () => {
    fc.assert(
      fc.property(blockArb, cutsArb, ([block, encoding], cuts) => {
        const payload = encodePayload(block, undefined, encoding);
        const whole = decodePayload("block", payload, undefined, encoding);
        const parts = decodeBlockParts(split(payload, cuts), payload.length, encoding);
        assert.ok(parts !== undefined);
        assert.equal(blockSerializeSize(parts, encoding), blockSerializeSize(whole, encoding));
        assert.deepEqual(encodePayload(parts, undefined, encoding), encodePayload(whole, undefined, encoding));
        assert.deepEqual(parts.transactions, whole.transactions);
        assert.deepEqual(parts, whole);
      }),
      { numRuns: 150 },
    );
  });

  it("a large block in chunks of a few bytes to a few kilobytes, uncommon shapes included", () => {
    const payload = encodePayload(bigBlock());
    const whole = decodePayload("block", payload);
    const rand = prng(3);
    for (const most of [7, 300, 4096, 70_000]) {
      const parts: Uint8Array[] = [];
      for (let at = 0; at < payload.length;) {
        const n = 1 + (rand() % most);
        parts.push(payload.subarray(at, at + n));
        at += n;
      }
      const block = decodeBlockParts(parts, payload.length, "witness")!;
      assert.deepEqual(encodePayload(block), payload, `chunks up to ${most} bytes`);
      assert.deepEqual(block.transactions, whole.transactions, `chunks up to ${most} bytes`);
    }
  });

  it("its exact bytes are found again (blockPayload), even with other bytes between its chunks in memory", () => {
    const payload = encodePayload(bigBlock());
    for (const size of [100, 3000, 50_000]) {
      // Every chunk a view of one buffer, 7 bytes of noise after each.
      const memory = new Uint8Array(payload.length * 2).fill(0xee);
      const parts: Uint8Array[] = [];
      for (let at = 0, to = 0; at < payload.length; at += size, to += size + 7) {
        const piece = payload.subarray(at, at + size);
        memory.set(piece, to);
        parts.push(memory.subarray(to, to + piece.length));
      }
      const block = decodeBlockParts(parts, payload.length, "witness")!;
      assert.deepEqual(blockPayload(block), payload, `chunks of ${size} bytes`);
      void block.transactions;
      assert.deepEqual(blockPayload(block), payload, `chunks of ${size} bytes, transactions read`);
    }
  });

  it("transactions of uncommon shape are read where they are: only those at a chunk's end are copied", () => {
    // Every transaction with a 300-byte script (a 3-byte length, off the
    // quick scan's path): copying each one's bytes up to its chunk's end
    // would cost time quadratic in the chunk's size.
    const block = makeBlock(prng(8), 2000);
    for (const tx of block.transactions) tx.txIn[0]!.signatureScript = new Uint8Array(300).fill(7);
    const payload = encodePayload(block);
    const half = payload.length >> 1;
    const decoded = decodeBlockParts([payload.subarray(0, half), payload.subarray(half)], payload.length, "witness")!;
    const copied = decoded.transactions.filter((tx) => tx.txIn[0]!.signatureScript.buffer !== payload.buffer);
    assert.deepEqual(decoded.transactions, block.transactions);
    assert.ok(copied.length <= 4, `${copied.length} of ${block.transactions.length} transactions were copied`);
  });

  it("malformed: left to the one-buffer decoder (never a block where it throws)", () => {
    const payload = encodePayload(bigBlock());
    fc.assert(
      fc.property(
        fc.nat(payload.length - 1),
        fc.nat(255),
        fc.integer({ min: 1, max: payload.length }),
        cutsArb,
        (at, byte, keep, cuts) => {
          const bad = payload.slice(0, keep);
          if (at < keep) bad[at] = byte;
          let expected: BlockMessage | MessageError;
          try {
            expected = decodePayload("block", bad);
          } catch (err) {
            expected = err as MessageError;
          }
          const got = decodeBlockParts(split(bad, cuts), bad.length, "witness");
          if (expected instanceof MessageError) assert.equal(got, undefined);
          else if (got !== undefined) assert.deepEqual(got, expected);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe("the frame decoder, for a block in many chunks", () => {
  const block = bigBlock();
  const frame = encodeMessage(block, { magic: MAGIC });
  const payload = frame.subarray(24);
  const chunks = (bytes: Uint8Array, size: number) => split(bytes, Array.from({ length: 200 }, (_, i) => i * size));

  /** Decodes `bytes` fed in chunks of `size`, and counts the hasher's calls. */
  function feed(bytes: Uint8Array, size: number, hasher: Hasher) {
    const dec = new FrameDecoder({ magic: MAGIC, hasher });
    const out = [];
    for (const c of chunks(bytes, size)) {
      dec.push(c);
      for (let f = dec.next(); f !== undefined; f = dec.next()) out.push(f);
    }
    dec.end();
    return out;
  }

  it("checksums it part by part, and joins the payload only when it is read", () => {
    let partsCalls = 0;
    let wholeCalls = 0;
    const counting: Hasher = {
      sha256: jsHasher.sha256,
      doubleSha256: (d) => (wholeCalls++, jsHasher.doubleSha256(d)),
      doubleSha256Parts: (p) => (partsCalls++, jsHasher.doubleSha256Parts!(p)),
    };
    const [got] = feed(frame, 5000, counting);
    assert.deepEqual([partsCalls, wholeCalls], [1, 0]);
    assert.deepEqual(got!.message, decodeMessage(frame, { magic: MAGIC }).message);
    assert.equal(got!.bytes, frame.length);
    assert.deepEqual(got!.payload, payload);
    assert.equal(got!.payload, got!.payload);
  });

  it("with a hasher that cannot hash parts: joins them first, with the same result", () => {
    const plain: Hasher = { sha256: jsHasher.sha256, doubleSha256: jsHasher.doubleSha256 };
    const [got] = feed(frame, 5000, plain);
    assert.deepEqual(encodePayload(got!.message), payload);
    assert.deepEqual(got!.payload, payload);
  });

  it("a wrong checksum is the checksum error, and the decoder goes on with the next frame", () => {
    const bad = frame.slice();
    bad[20]! ^= 1;
    const ping = encodeMessage({ command: "ping", nonce: 5n }, { magic: MAGIC });
    const dec = new FrameDecoder({ magic: MAGIC, hasher: jsHasher });
    for (const c of chunks(bad, 4000)) dec.push(c);
    dec.push(ping);
    assert.throws(() => dec.next(), (e: unknown) => e instanceof MessageError && e.kind === "checksum");
    assert.deepEqual(dec.next()?.message, { command: "ping", nonce: 5n });
  });

  it("a malformed block with a right checksum: the error decoding it whole gives", () => {
    // The 200th transaction's input count made a 9-byte varint that is not canonical.
    const mutated = payload.slice();
    const whole = decodePayload("block", payload);
    const offset = payload.length -
      whole.transactions.slice(199).reduce((n, tx) => n + txSerializeSize(tx, "witness"), 0);
    mutated[offset + 4] = 0xff;
    const full = frame.slice();
    full.set(mutated, 24);
    full.set(doubleSha256(mutated).subarray(0, 4), 20);
    let expected: unknown;
    try {
      decodeMessage(full, { magic: MAGIC });
    } catch (err) {
      expected = err;
    }
    assert.ok(expected instanceof MessageError);
    const dec = new FrameDecoder({ magic: MAGIC, hasher: jsHasher });
    for (const c of chunks(full, 3000)) dec.push(c);
    assert.throws(() => dec.next(), (e: unknown) => {
      assert.ok(e instanceof MessageError);
      assert.equal(e.kind, expected.kind);
      assert.equal(e.message, expected.message);
      return true;
    });
  });

  for (const encoding of ["base", "witness"] satisfies MessageEncoding[]) {
    it(`decodes with the decoder's encoding (${encoding})`, () => {
      const base = encodeMessage(block, { magic: MAGIC, encoding });
      const dec = new FrameDecoder({ magic: MAGIC, hasher: jsHasher, encoding });
      for (const c of chunks(base, 4500)) dec.push(c);
      assert.deepEqual(encodePayload(dec.next()!.message, undefined, encoding), base.subarray(24));
    });
  }
});

describe("a Peer, for a block in many chunks", () => {
  it("gives its listener the block and the exact payload bytes", async () => {
    const clock = new ManualClock();
    const got: [BlockMessage, Uint8Array][] = [];
    const { peer, remote } = await openWithRemote(clock, {
      listeners: { onBlock: (_p, msg, payload) => void got.push([msg, payload.slice()]) },
    });
    const frame = encodeMessage(bigBlock(), { magic: MAGIC });
    // Each chunk its own memory, as a socket gives them.
    for (let at = 0; at < frame.length; at += 3000) await remote.write(frame.slice(at, at + 3000));
    await until(() => got.length === 1, "the block");
    assert.deepEqual(got[0]![1], frame.subarray(24));
    assert.deepEqual(encodePayload(got[0]![0]), frame.subarray(24));
    await closeAll(clock, peer);
  });
});
