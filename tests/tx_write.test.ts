// writeTx writes the common shapes by byte stores once it has room, and
// everything else through the Writer's checked methods: the bytes and the
// errors must be those of writing field by field, whatever room the writer
// has and wherever the transaction starts.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { type MessageEncoding, MessageError, type Tx, txSerializeSize, Writer, writeTx } from "../mod.ts";
import { bytesArb, encodingArb, hashArb, txArb } from "./arbitraries.ts";
import { writeTxs } from "../src/wire/txwrite.ts";

/** The reference: every field through the Writer's checked methods. */
function fieldByField(w: Writer, tx: Tx, encoding: MessageEncoding): void {
  const witness = encoding === "witness" && tx.txIn.some((i) => i.witness.length > 0);
  w.i32(tx.version);
  if (witness) w.bytes(new Uint8Array([0, 1]));
  w.varInt(tx.txIn.length);
  for (const i of tx.txIn) {
    w.hash(i.previousOutPoint.hash, "previous outpoint hash");
    w.u32(i.previousOutPoint.index);
    w.varBytes(i.signatureScript);
    w.u32(i.sequence);
  }
  w.varInt(tx.txOut.length);
  for (const o of tx.txOut) {
    w.i64(o.value);
    w.varBytes(o.pkScript);
  }
  if (witness) {
    for (const i of tx.txIn) {
      w.varInt(i.witness.length);
      for (const item of i.witness) w.varBytes(item);
    }
  }
  w.u32(tx.lockTime);
}

function outcome(write: (w: Writer) => void, capacity: number, prefix: number): Uint8Array | string {
  const w = new Writer(capacity, "tx");
  for (let i = 0; i < prefix; i++) w.u8(0xaa);
  try {
    write(w);
  } catch (err) {
    assert.ok(err instanceof MessageError, String(err));
    return `${err.kind}: ${err.message}`;
  }
  return w.finish();
}

// Values sometimes out of range, hashes sometimes not 32 bytes, scripts and
// witness items sometimes longer than a one-byte length.
const oddTxArb: fc.Arbitrary<Tx> = fc.tuple(
  txArb("witness"),
  fc.nat(40),
  fc.constantFrom(-1, 2 ** 32, 1.5, 2 ** 31),
  fc.constantFrom(-(2n ** 63n) - 1n, 2n ** 63n, 0n),
  bytesArb(600),
  fc.oneof(hashArb, fc.uint8Array({ maxLength: 40 })),
).map(([tx, which, badNumber, badValue, long, hash]) => {
  const input = tx.txIn[0]!;
  const output = tx.txOut[0];
  switch (which) {
    case 0:
      tx.version = badNumber;
      break;
    case 1:
      tx.lockTime = badNumber;
      break;
    case 2:
      input.sequence = badNumber;
      break;
    case 3:
      input.previousOutPoint.index = badNumber;
      break;
    case 4:
      if (output) output.value = badValue;
      break;
    case 5:
      input.previousOutPoint.hash = hash;
      break;
    case 6:
      input.signatureScript = long;
      break;
    case 7:
      input.witness = [long];
      break;
    case 8:
      if (output) output.pkScript = long;
      break;
  }
  return tx;
});

describe("writeTx", () => {
  it("writes what the field-by-field writer writes, and fails as it does, in any room at any offset", () => {
    fc.assert(
      fc.property(oddTxArb, encodingArb, fc.nat(2000), fc.nat(5), (tx, encoding, capacity, prefix) => {
        const expected = outcome((w) => fieldByField(w, tx, encoding), 4096, prefix);
        const got = outcome((w) => writeTx(w, tx, encoding), Math.max(1, capacity), prefix);
        assert.deepEqual(got, expected);
        if (typeof expected !== "string") assert.equal(expected.length - prefix, txSerializeSize(tx, encoding));
      }),
      { numRuns: 500 },
    );
  });

  it("writes many transactions into one writer as one after the other", () => {
    fc.assert(
      fc.property(fc.array(txArb("witness"), { maxLength: 20 }), encodingArb, fc.nat(3000), (txs, encoding, cap) => {
        const w = new Writer(Math.max(1, cap), "block");
        const ref = new Writer(16, "block");
        for (const tx of txs) {
          writeTx(w, tx, encoding);
          fieldByField(ref, tx, encoding);
        }
        assert.deepEqual(w.finish(), ref.finish());
      }),
      { numRuns: 200 },
    );
  });
});

describe("writeTxs (a block's transactions)", () => {
  it("writes what writing them one by one writes, and fails as it does, in any room at any offset", () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(txArb("witness"), oddTxArb), { maxLength: 12 }),
        encodingArb,
        fc.nat(3000),
        fc.nat(5),
        (txs, encoding, capacity, prefix) => {
          const expected = outcome((w) => txs.forEach((tx) => fieldByField(w, tx, encoding)), 4096, prefix);
          const got = outcome((w) => writeTxs(w, txs, encoding), Math.max(1, capacity), prefix);
          assert.deepEqual(got, expected);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("grows a writer that lacks room once, to the exact size the transactions need", () => {
    const txs = fc.sample(txArb("witness"), { seed: 7, numRuns: 40 });
    const size = txs.reduce((n, tx) => n + txSerializeSize(tx, "witness"), 0);
    const w = new Writer(64, "block");
    w.pos = 10;
    writeTxs(w, txs, "witness");
    assert.equal(w.pos, 10 + size);
    assert.equal(w.buf.length, w.pos, "one buffer of the exact size, no slack");
  });
});
