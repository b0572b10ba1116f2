// A decoded block's transactions are checked when it is decoded and built
// when first read: the same transactions, the same errors, and a block that
// behaves like a plain object.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { type BlockMessage, decodePayload, encodePayload, MessageError, Reader, readTx, type Tx } from "../mod.ts";
import { offPathBlock } from "./_fixtures.ts";

/** Six transactions and a seventh, with shapes off the scan's fast path. */
function sample(): BlockMessage {
  return offPathBlock(5, 6);
}

/** The transactions read one by one with readTx, as before they were lazy. */
function eager(payload: Uint8Array, first: number, count: number): Tx[] {
  const r = new Reader(payload, "block");
  r.pos = first;
  return Array.from({ length: count }, () => readTx(r, "witness"));
}

describe("block transactions built on first access", () => {
  it("are the transactions readTx reads, the same array on every access", () => {
    const block = sample();
    const payload = encodePayload(block);
    const decoded = decodePayload("block", payload);
    const first = 80 + 8 + 64 * 3 + 8 + 4 * 42 + 1;
    assert.deepEqual(decoded.transactions, eager(payload, first, block.transactions.length));
    assert.deepEqual(decoded.transactions, block.transactions);
    assert.equal(decoded.transactions, decoded.transactions);
    assert.deepEqual(decoded, block);
    assert.deepEqual({ ...decoded }, block);
  });

  it("can be replaced and changed like a plain property", () => {
    const decoded = decodePayload("block", encodePayload(sample()));
    decoded.transactions.pop();
    assert.equal(decoded.transactions.length, 6);
    decoded.transactions = [];
    assert.deepEqual(decoded.transactions, []);
    assert.deepEqual(Object.keys(decoded), ["command", "header", "parents", "verification", "transactions"]);
  });

  it("once read or assigned are a plain data property, which the accessor no longer holds", () => {
    const payload = encodePayload(sample());
    const read = decodePayload("block", payload);
    const getter = Object.getOwnPropertyDescriptor(read, "transactions")!.get!;
    const txs = read.transactions;
    assert.deepEqual(Object.getOwnPropertyDescriptor(read, "transactions"), {
      value: txs,
      writable: true,
      enumerable: true,
      configurable: true,
    });
    // The old accessor builds them anew: it kept no reference to them.
    assert.notEqual(getter.call(read), txs);
    assert.deepEqual(getter.call(read), txs);
    const assigned = decodePayload("block", payload);
    assigned.transactions = [];
    assert.equal(Object.getOwnPropertyDescriptor(assigned, "transactions")!.value, assigned.transactions);
  });

  it("of a frozen block are built once and encoded from the objects", () => {
    const block = sample();
    const payload = encodePayload(block);
    const frozen = Object.freeze(decodePayload("block", payload));
    assert.equal(frozen.transactions, frozen.transactions);
    assert.deepEqual(frozen.transactions, block.transactions);
    frozen.transactions[0]!.lockTime = 77;
    assert.deepEqual(encodePayload(frozen), encodePayload({ ...block, transactions: frozen.transactions }));
    assert.notDeepEqual(encodePayload(frozen), payload);
  });

  it("fail the block's decoding with readTx's own error wherever a transaction is malformed", () => {
    const block = sample();
    const payload = encodePayload(block);
    const first = 80 + 8 + 64 * 3 + 8 + 4 * 42 + 1;
    const errorOf = (fn: () => unknown) => {
      try {
        fn();
      } catch (err) {
        return err;
      }
      assert.fail("expected an error");
    };
    let checked = 0;
    for (let cut = payload.length - 1; cut > first; cut -= 13) {
      for (const flip of [false, true]) {
        const bad = payload.slice(0, cut);
        // Also with one byte changed, which may make a count, a length or a flag wrong.
        if (flip) bad[first + ((cut * 7) % (cut - first))]! ^= 0xfd;
        const expected = errorOf(() => eager(bad, first, block.transactions.length));
        const actual = errorOf(() => decodePayload("block", bad));
        assert.ok(actual instanceof MessageError && expected instanceof MessageError);
        assert.equal(actual.kind, expected.kind, `cut at ${cut}`);
        assert.equal(actual.message, expected.message, `cut at ${cut}`);
        checked++;
      }
    }
    assert.ok(checked > 100);
  });
});
