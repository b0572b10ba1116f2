import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { blockHash } from "../src/wire/blockheader.ts";
import { MessageError, type MessageErrorKind } from "../src/wire/errors.ts";
import { fromHex, hashToHex, toHex } from "../src/wire/hex.ts";
import {
  MAX_FLAGS_PER_MERKLE_BLOCK,
  merkleblockCodec,
  type MerkleBlockMessage,
} from "../src/wire/messages/merkleblock.ts";
import { MAX_TX_PER_BLOCK } from "../src/wire/messages/block.ts";
import { Reader } from "../src/wire/reader.ts";
import { Writer } from "../src/wire/writer.ts";

// ---------------------------------------------------------------- helpers

function isKind(kind: MessageErrorKind, pattern?: RegExp) {
  return (err: unknown): boolean => {
    assert.ok(err instanceof MessageError, `not a MessageError: ${err}`);
    assert.equal(err.kind, kind, err.message);
    if (pattern) assert.match(err.message, pattern);
    return true;
  };
}

function encode(msg: MerkleBlockMessage, pver = 70013): Uint8Array {
  const w = new Writer(64, "merkleblock");
  merkleblockCodec.encode(w, msg, pver, "base");
  return w.finish();
}

function decode(bytes: Uint8Array, pver = 70013): MerkleBlockMessage {
  return merkleblockCodec.decode(new Reader(bytes, "merkleblock"), pver, "base");
}

function varInt(n: number): string {
  const w = new Writer();
  w.varInt(n);
  return toHex(w.finish());
}

// --------------------------------------------------------------- fixtures
// soterd's merkle block test: block one, whose only transaction matches.

const BLOCK_ONE_MERKLE_WIRE = "982051fd1e4ba744bbbe680e1fee14677ba1a3c3540bf7b1cdb606e857233e0e";
const BLOCK_ONE_HEADER_HEX = "01000000" +
  "6fe28c0ab6f1b372c1a6a246ae63f74f931e8365e15a089c68d6190000000000" +
  BLOCK_ONE_MERKLE_WIRE + "61bc6649" + "ffff001d" + "01e36299";

function merkleBlockOne(): MerkleBlockMessage {
  return {
    command: "merkleblock",
    header: {
      version: 1,
      prevBlock: fromHex(
        "6fe28c0ab6f1b372c1a6a246ae63f74f931e8365e15a089c68d6190000000000",
      ),
      merkleRoot: fromHex(BLOCK_ONE_MERKLE_WIRE),
      timestamp: 0x4966bc61,
      bits: 0x1d00ffff,
      nonce: 0x9962e301,
    },
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
