// Re-encoding a decoded block: untouched, its transactions' bytes are copied;
// read, changed or replaced, they are written from the objects. Either way
// the bytes must be those of encoding the block's current values, never the
// stale bytes of what was decoded.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  blockSerializeSize,
  decodePayload,
  encodePayload,
  type MessageEncoding,
  type Tx,
  Writer,
  writeTx,
} from "../mod.ts";
import { plainBlock as plain } from "../bench/fixtures.ts";
import { encodingArb, messageArb, txArb } from "./arbitraries.ts";

/**
 * `tx` (at least one input, no witness data) in the form soterd accepts but
 * does not write back: the BIP 144 marker and flag with every witness stack
 * empty.
 */
function flaggedWithoutWitness(tx: Tx): Uint8Array {
  const w = new Writer();
  writeTx(w, tx, "base");
  const base = w.finish();
  const inputsEnd = base.length - 4 - outputsSize(tx);
  const n = tx.txIn.length;
  return Uint8Array.from([
    ...base.subarray(0, 4),
    0x00,
    0x01,
    ...base.subarray(4, inputsEnd),
    ...base.subarray(inputsEnd, base.length - 4),
    ...new Uint8Array(n), // an empty stack per input
    ...base.subarray(base.length - 4),
  ]);
}
function outputsSize(tx: Tx): number {
  const w = new Writer();
  w.varInt(tx.txOut.length);
  for (const o of tx.txOut) {
    w.i64(o.value);
    w.varBytes(o.pkScript);
  }
  return w.pos;
}

/** `payload` with the transaction `extra` added after the last one. */
function withExtraTx(payload: Uint8Array, txCount: number, extra: Uint8Array): Uint8Array {
  // Test blocks have fewer than 0xfc transactions: the count is one byte.
  const headerEnd = blockSerializeSize({ ...decodePayload("block", payload), transactions: [] }) - 1;
  assert.ok(txCount < 0xfc);
  const out = new Uint8Array(payload.length + extra.length);
  out.set(payload);
  out[headerEnd] = txCount + 1;
  out.set(extra, payload.length);
  return out;
}

const blockCase = encodingArb.chain((encoding) =>
  fc.record({ encoding: fc.constant(encoding), block: messageArb("block", 70013, encoding) })
);

describe("re-encoding a decoded block", () => {
  it("untouched: gives back the decoded bytes, with any encoding the transactions allow", () => {
    fc.assert(
      fc.property(blockCase, encodingArb, ({ block, encoding }, other) => {
        const payload = encodePayload(block, 70013, encoding);
        const decoded = decodePayload("block", payload, 70013, encoding);
        assert.equal(blockSerializeSize(decoded, encoding), payload.length);
        assert.deepEqual(encodePayload(decoded, 70013, encoding), payload);
        // Another encoding may strip witness data: the same as from objects.
        const fromObjects = encodePayload(plain(decodePayload("block", payload, 70013, encoding)), 70013, other);
        assert.equal(blockSerializeSize(decoded, other), fromObjects.length);
        assert.deepEqual(encodePayload(decoded, 70013, other), fromObjects);
        // Encoding read nothing: the transactions are still built on access, and equal.
        assert.deepEqual(decoded.transactions, block.transactions);
      }),
      { numRuns: 150 },
    );
  });

  it("untouched with a transaction soterd does not write back as read: as from objects", () => {
    fc.assert(
      fc.property(messageArb("block", 70013, "witness"), txArb("base"), (block, tx) => {
        fc.pre(tx.txIn.length > 0);
        const payload = withExtraTx(encodePayload(block), block.transactions.length, flaggedWithoutWitness(tx));
        const fromObjects = encodePayload(plain(decodePayload("block", payload)));
        assert.equal(fromObjects.length, payload.length - 2 - tx.txIn.length);
        for (const encoding of ["witness", "base"] as MessageEncoding[]) {
          const decoded = decodePayload("block", payload);
          const expected = encodePayload(plain(decodePayload("block", payload)), 70013, encoding);
          assert.equal(blockSerializeSize(decoded, encoding), expected.length);
          assert.deepEqual(encodePayload(decoded, 70013, encoding), expected);
        }
      }),
      { numRuns: 100 },
    );
  });

  it("read, changed or replaced: the current values, never the decoded bytes", () => {
    const change = fc.constantFrom(
      "read only",
      "header",
      "lock time",
      "output script replaced",
      "script bytes written in place",
      "witness item added",
      "transaction removed",
      "transactions replaced",
      "copied with spread",
    );
    fc.assert(
      fc.property(blockCase, change, fc.nat(), ({ block, encoding }, what, n) => {
        const payload = encodePayload(block, 70013, encoding);
        let decoded = decodePayload("block", payload, 70013, encoding);
        const txs = decoded.transactions;
        const tx = txs[n % Math.max(1, txs.length)];
        switch (what) {
          case "header":
            decoded.header.nonce = (decoded.header.nonce + 1) >>> 0;
            break;
          case "lock time":
            if (tx) tx.lockTime = (tx.lockTime + 1) >>> 0;
            break;
          case "output script replaced":
            if (tx?.txOut[0]) tx.txOut[0].pkScript = new Uint8Array(n % 300).fill(7);
            break;
          case "script bytes written in place": {
            const script = tx?.txOut[0]?.pkScript;
            if (script && script.length > 0) script[0] = script[0]! ^ 0xff;
            break;
          }
          case "witness item added":
            if (tx?.txIn[0]) tx.txIn[0].witness.push(new Uint8Array([1, 2, 3]));
            break;
          case "transaction removed":
            txs.pop();
            break;
          case "transactions replaced":
            decoded.transactions = txs.slice(1);
            break;
          case "copied with spread":
            decoded = { ...decoded };
            break;
        }
        const expected = encodePayload(plain(decoded), 70013, encoding);
        assert.equal(blockSerializeSize(decoded, encoding), expected.length);
        assert.deepEqual(encodePayload(decoded, 70013, encoding), expected);
        if (what === "read only" || what === "copied with spread") assert.deepEqual(expected, payload);
      }),
      { numRuns: 300 },
    );
  });

  it("untouched, with its header or sub-headers changed: writes them from the objects", () => {
    fc.assert(
      fc.property(blockCase, fc.nat(), ({ block, encoding }, n) => {
        const payload = encodePayload(block, 70013, encoding);
        const decoded = decodePayload("block", payload, 70013, encoding);
        decoded.header.timestamp = n;
        decoded.verification.cycleNonces.push(n);
        decoded.parents.parents.pop();
        const expected = encodePayload(plain(decodePayload("block", payload, 70013, encoding)), 70013, encoding);
        const changed = decodePayload("block", expected, 70013, encoding);
        const got = decodePayload("block", encodePayload(decoded, 70013, encoding), 70013, encoding);
        assert.equal(got.header.timestamp, n);
        assert.deepEqual(got.verification.cycleNonces, decoded.verification.cycleNonces);
        assert.deepEqual(got.parents.parents, decoded.parents.parents);
        assert.deepEqual(got.transactions, changed.transactions);
      }),
      { numRuns: 100 },
    );
  });

  it("a redefined transactions property is written as it now reads", () => {
    const rand = fc.sample(messageArb("block", 70013, "witness"), { numRuns: 1, seed: 3 })[0]!;
    const decoded = decodePayload("block", encodePayload(rand));
    Object.defineProperty(decoded, "transactions", { value: [], enumerable: true, writable: true });
    assert.deepEqual(encodePayload(decoded), encodePayload({ ...rand, transactions: [] }));
  });
});
