import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { blockHash } from "../src/wire/blockheader.ts";
import { fromHex, hashToHex, toHex } from "../src/wire/hex.ts";
import {
  MAX_FLAGS_PER_MERKLE_BLOCK,
  merkleblockCodec,
  type MerkleBlockMessage,
} from "../src/wire/messages/merkleblock.ts";
import { MAX_TX_PER_BLOCK } from "../src/wire/messages/block.ts";
import { Reader } from "../src/wire/reader.ts";
import { Writer } from "../src/wire/writer.ts";
import { BLOCK_ONE_HEADER_HEX, BLOCK_ONE_MERKLE_WIRE, blockOneHeader } from "./_fixtures.ts";
import { decodeWith, encodeWith, isKind } from "./_util.ts";

// ---------------------------------------------------------------- helpers

function encode(msg: MerkleBlockMessage, pver = 70013): Uint8Array {
  return encodeWith(merkleblockCodec, msg, pver);
}

function decode(bytes: Uint8Array, pver = 70013): MerkleBlockMessage {
  return decodeWith(merkleblockCodec, bytes, pver);
}

function varInt(n: number): string {
  const w = new Writer();
  w.varInt(n);
  return toHex(w.finish());
}

// --------------------------------------------------------------- fixtures
// soterd's merkle block test: block one, whose only transaction matches.

function merkleBlockOne(): MerkleBlockMessage {
  return {
    command: "merkleblock",
    header: blockOneHeader(),
    transactions: 1,
    hashes: [fromHex(BLOCK_ONE_MERKLE_WIRE)],
    flags: fromHex("80"),
  };
}

const MERKLE_BLOCK_ONE_BYTES = fromHex(
  BLOCK_ONE_HEADER_HEX +
    "01000000" + // transactions
    "01" + // hash count
    BLOCK_ONE_MERKLE_WIRE +
    "01" + // flag byte count
    "80",
);

// ------------------------------------------------------------------ tests

describe("merkleblock", () => {
  for (const pver of [70013, 70002, 70001]) {
    it(`encodes and decodes block one at pver ${pver}`, () => {
      assert.deepEqual(encode(merkleBlockOne(), pver), MERKLE_BLOCK_ONE_BYTES);
      assert.deepEqual(decode(MERKLE_BLOCK_ONE_BYTES, pver), merkleBlockOne());
    });
  }

  it("does not exist below protocol version 70001", () => {
    for (const pver of [70000, 60002, 0]) {
      assert.throws(
        () => decode(MERKLE_BLOCK_ONE_BYTES, pver),
        isKind("pver-too-low", new RegExp(`Cannot decode merkleblock: .* ${pver}$`)),
      );
      assert.throws(
        () => encode(merkleBlockOne(), pver),
        isKind("pver-too-low", /Cannot encode merkleblock/),
      );
    }
  });

  it("has soterd's limits", () => {
    assert.equal(merkleblockCodec.command, "merkleblock");
    for (const pver of [0, 70001, 70013]) {
      assert.equal(merkleblockCodec.maxPayloadLength(pver), 4_000_000);
    }
    assert.equal(MAX_FLAGS_PER_MERKLE_BLOCK, 50000);
  });

  it("decodes hashes and flags as views", () => {
    const m = decode(MERKLE_BLOCK_ONE_BYTES);
    assert.equal(m.hashes[0]!.buffer, MERKLE_BLOCK_ONE_BYTES.buffer);
    assert.equal(m.hashes[0]!.byteOffset, 85);
    assert.equal(m.flags.byteOffset, 118);
    assert.equal(
      hashToHex(blockHash(m.header)),
      "00000000839a8e6886ab5951d76f411475428afc90947ee320161bbf18eb6048",
    );
  });

  it("encodes and decodes the most hashes and flag bytes allowed", () => {
    const all = new Uint8Array(32 * MAX_TX_PER_BLOCK);
    for (let i = 0; i < all.length; i += 997) all[i] = i & 0xff;
    const hashes = Array.from(
      { length: MAX_TX_PER_BLOCK },
      (_, i) => all.subarray(i * 32, i * 32 + 32),
    );
    const msg: MerkleBlockMessage = {
      ...merkleBlockOne(),
      transactions: 0xffffffff,
      hashes,
      flags: new Uint8Array(MAX_FLAGS_PER_MERKLE_BLOCK).fill(0x55),
    };
    const bytes = encode(msg);
    assert.equal(bytes.length, 80 + 4 + 5 + 32 * MAX_TX_PER_BLOCK + 3 + 50000);
    const decoded = decode(bytes);
    assert.equal(decoded.hashes.length, MAX_TX_PER_BLOCK);
    assert.deepEqual(decoded.hashes[MAX_TX_PER_BLOCK - 1], hashes[MAX_TX_PER_BLOCK - 1]);
    assert.deepEqual(decoded.flags, msg.flags);
    assert.equal(decoded.transactions, 0xffffffff);
  });

  it("refuses too many hashes or flag bytes when encoding", () => {
    const hashes = new Array<Uint8Array>(MAX_TX_PER_BLOCK + 1).fill(new Uint8Array(32));
    assert.throws(
      () => encode({ ...merkleBlockOne(), hashes }),
      isKind("too-many-entries", /hash count 400002 exceeds 400001/),
    );
    assert.throws(
      () => encode({ ...merkleBlockOne(), flags: new Uint8Array(50001) }),
      isKind("too-large", /flags is 50001 bytes, more than the 50000 allowed/),
    );
  });

  it("refuses too many hashes or flag bytes when decoding", () => {
    const upToCount = MERKLE_BLOCK_ONE_BYTES.subarray(0, 84);
    assert.throws(
      () => decode(fromHex(toHex(upToCount) + varInt(MAX_TX_PER_BLOCK + 1))),
      isKind("too-many-entries", /hash count 400002 exceeds 400001/),
    );
    assert.throws(
      () => decode(fromHex(toHex(upToCount) + varInt(MAX_TX_PER_BLOCK))),
      isKind("truncated"),
    );
    const upToFlags = MERKLE_BLOCK_ONE_BYTES.subarray(0, 117);
    assert.throws(
      () => decode(fromHex(toHex(upToFlags) + varInt(50001))),
      isKind("too-large", /flags is 50001 bytes/),
    );
    assert.throws(
      () => decode(fromHex(toHex(upToFlags) + varInt(50000))),
      isKind("truncated", /needs 50000 bytes/),
    );
  });

  it("fails with truncated at every cut, EOF at soterd's cuts", () => {
    for (let cut = 0; cut < MERKLE_BLOCK_ONE_BYTES.length; cut++) {
      assert.throws(
        () => decode(MERKLE_BLOCK_ONE_BYTES.subarray(0, cut)),
        isKind("truncated"),
        `cut at ${cut}`,
      );
    }
    for (const cut of [0, 4, 36, 68, 72, 76, 80, 84, 85, 117, 118]) {
      assert.throws(
        () => decode(MERKLE_BLOCK_ONE_BYTES.subarray(0, cut)),
        isKind("truncated", /ends at an element/),
        `cut at ${cut}`,
      );
    }
  });

  it("refuses invalid values", () => {
    assert.throws(
      () => encode({ ...merkleBlockOne(), hashes: [new Uint8Array(31)] }),
      isKind("invalid-value"),
    );
    assert.throws(
      () => encode({ ...merkleBlockOne(), transactions: -1 }),
      isKind("invalid-value"),
    );
  });

  it("ignores trailing bytes", () => {
    const r = new Reader(fromHex(toHex(MERKLE_BLOCK_ONE_BYTES) + "0102"), "merkleblock");
    assert.deepEqual(merkleblockCodec.decode(r, 70013, "base"), merkleBlockOne());
    assert.equal(r.remaining, 2);
  });
});
