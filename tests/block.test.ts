import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { blockHash } from "../src/wire/blockheader.ts";
import { fromHex, hashFromHex, hashToHex } from "../src/wire/hex.ts";
import {
  blockCodec,
  type BlockMessage,
  blockSerializeSize,
  MAX_BLOCK_PAYLOAD,
  MAX_TX_PER_BLOCK,
} from "../src/wire/messages/block.ts";
import {
  MAX_PARENT_SUB_HEADER_PAYLOAD,
  MAX_PARENTS,
  type ParentSubHeader,
  readParentSubHeader,
  writeParentSubHeader,
} from "../src/wire/parentsubheader.ts";
import type { MessageEncoding } from "../src/wire/protocol.ts";
import { Reader } from "../src/wire/reader.ts";
import { type Tx, txHash, txWitnessHash } from "../src/wire/tx.ts";
import {
  readVerificationSubHeader,
  type VerificationSubHeader,
  writeVerificationSubHeader,
} from "../src/wire/verificationsubheader.ts";
import { Writer } from "../src/wire/writer.ts";
import { BLOCK_ONE_HEADER_HEX, blockOneHeader, coinbaseTx } from "./_fixtures.ts";
import { cat, decodeWith, encodeWith, isKind, le32 } from "./_util.ts";

// ---------------------------------------------------------------- helpers

function encodeBlock(block: BlockMessage, encoding: MessageEncoding = "witness", pver = 70013): Uint8Array {
  return encodeWith(blockCodec, block, pver, encoding);
}

function decodeBlock(bytes: Uint8Array, encoding: MessageEncoding = "witness", pver = 70013): BlockMessage {
  return decodeWith(blockCodec, bytes, pver, encoding);
}

// --------------------------------------------------------------- fixtures
// Bitcoin's block 1 with empty soter sub-headers, as in soterd's msgblock
// tests.

const BLOCK_ONE_PK_SCRIPT = "41" +
  "0496b538e853519c726a2c91e61ec11600ae1390813a627c66fb8be7947be63c52" +
  "da7589379515d4e0a604f8141781e62294721166bf621e73a82cbf2342c858ee" +
  "ac";

function blockOne(): BlockMessage {
  return {
    command: "block",
    header: blockOneHeader(),
    parents: { version: 1, size: 0, parents: [] },
    verification: { version: 1, size: 0, cycleNonces: [] },
    transactions: [
      coinbaseTx(fromHex("04ffff001d0104"), [{ value: 0x12a05f200n, pkScript: fromHex(BLOCK_ONE_PK_SCRIPT) }]),
    ],
  };
}

const BLOCK_ONE_BYTES = cat(
  BLOCK_ONE_HEADER_HEX,
  "01000000", // parent sub-header version
  "00000000", // parent count
  "01000000", // verification sub-header version
  "00000000", // cycle nonce count
  "01", // transaction count
  "01000000", // tx version
  "01",
  "00".repeat(32),
  "ffffffff",
  "07",
  "04ffff001d0104",
  "ffffffff",
  "01",
  "00f2052a01000000",
  "43",
  BLOCK_ONE_PK_SCRIPT,
  "00000000",
);

// A DAG block: two parents, three cycle nonces and a witness transaction.
function dagBlock(): BlockMessage {
  const witnessTx: Tx = {
    version: 2,
    txIn: [{
      previousOutPoint: { hash: new Uint8Array(32).fill(0xab), index: 3 },
      signatureScript: new Uint8Array(0),
      witness: [fromHex("3045"), fromHex("02aa")],
      sequence: 0xfffffffe,
    }],
    txOut: [{ value: 1234n, pkScript: fromHex("0014" + "cd".repeat(20)) }],
    lockTime: 77,
  };
  const block = blockOne();
  block.header.version = 0x20000000;
  block.header.bits = 0x01010000;
  block.parents = {
    version: 1,
    size: 2,
    parents: [
      { hash: new Uint8Array(32).fill(1), data: new Uint8Array(32) },
      { hash: new Uint8Array(32).fill(2), data: new Uint8Array(32).fill(9) },
    ],
  };
  block.verification = { version: 1, size: 3, cycleNonces: [0, 0xffffffff, 42] };
  block.transactions.push(witnessTx);
  return block;
}

// ------------------------------------------------------------------ tests

describe("block: round trips", () => {
  for (const pver of [70013, 60002, 0]) {
    for (const encoding of ["base", "witness"] as const) {
      it(`encodes and decodes block one at pver ${pver} (${encoding})`, () => {
        assert.deepEqual(encodeBlock(blockOne(), encoding, pver), BLOCK_ONE_BYTES);
        assert.deepEqual(decodeBlock(BLOCK_ONE_BYTES, encoding, pver), blockOne());
      });
    }
  }

  it("puts the transactions 97 bytes in, after both sub-headers", () => {
    const block = decodeBlock(BLOCK_ONE_BYTES);
    const sig = block.transactions[0]!.txIn[0]!.signatureScript;
    assert.equal(sig.buffer, BLOCK_ONE_BYTES.buffer);
    assert.equal(sig.byteOffset, 97 + 42);
    assert.equal(blockSerializeSize(block), 97 + 134);
  });

  it("round trips parents, cycle nonces and witness data", () => {
    const block = dagBlock();
    const bytes = encodeBlock(block, "witness");
    assert.equal(bytes.length, blockSerializeSize(block, "witness"));
    assert.deepEqual(
      bytes.subarray(80, 80 + 8 + 128 + 8 + 12),
      cat(
        "01000000",
        "02000000",
        "01".repeat(32),
        "00".repeat(32),
        "02".repeat(32),
        "09".repeat(32),
        "01000000",
        "03000000",
        "00000000",
        "ffffffff",
        "2a000000",
      ),
    );
    assert.deepEqual(decodeBlock(bytes, "witness"), block);
  });

  it("strips witness data with the base encoding", () => {
    const block = dagBlock();
    const base = encodeBlock(block, "base");
    const witness = encodeBlock(block, "witness");
    assert.equal(base.length, blockSerializeSize(block, "base"));
    assert.equal(witness.length - base.length, 2 + 1 + 3 + 3);
    const decoded = decodeBlock(base, "base");
    assert.deepEqual(decoded.transactions[1]!.txIn[0]!.witness, []);
    const tx = block.transactions[1]!;
    assert.notDeepEqual(txWitnessHash(tx), txHash(tx));
    assert.deepEqual(txWitnessHash(decoded.transactions[1]!), txHash(tx));
  });

  it("decodes a block without transactions (97 bytes)", () => {
    const block = blockOne();
    block.transactions = [];
    const bytes = encodeBlock(block);
    assert.equal(bytes.length, 97);
    assert.equal(blockSerializeSize(block), 97);
    assert.deepEqual(decodeBlock(bytes), block);
  });

  it("returns views into the input for parent hashes and data", () => {
    const bytes = encodeBlock(dagBlock());
    const decoded = decodeBlock(bytes);
    const parent = decoded.parents.parents[1]!;
    assert.equal(parent.hash.buffer, bytes.buffer);
    assert.equal(parent.hash.byteOffset, 88 + 64);
    assert.equal(parent.data.byteOffset, 88 + 96);
  });

  it("ignores trailing bytes", () => {
    const r = new Reader(cat(BLOCK_ONE_BYTES, "ff"), "block");
    assert.deepEqual(blockCodec.decode(r, 70013, "base"), blockOne());
    assert.equal(r.remaining, 1);
  });

  // Its speed is measured by bench/codec.bench.ts, not asserted here.
  it("decodes a 1 MB block of 4000 transactions", () => {
    const block = dagBlock();
    const tx = block.transactions[1]!;
    tx.txIn[0]!.signatureScript = new Uint8Array(250).fill(3);
    block.transactions = Array.from({ length: 4000 }, () => tx);
    const bytes = encodeBlock(block);
    assert.ok(bytes.length > 1_000_000);
    const decoded = decodeBlock(bytes);
    assert.equal(decoded.transactions.length, 4000);
    assert.deepEqual(decoded.transactions[3999], tx);
  });
});

describe("block: hashes and sizes", () => {
  it("hashes the 80-byte header only", () => {
    const block = blockOne();
    const want = "00000000839a8e6886ab5951d76f411475428afc90947ee320161bbf18eb6048";
    assert.equal(hashToHex(blockHash(block.header)), want);
    // Parents and cycle nonces do not change the hash.
    const dag = dagBlock();
    dag.header = block.header;
    assert.equal(hashToHex(blockHash(dag.header)), want);
  });

  it("computes the txid of block one's coinbase, which is its merkle root", () => {
    const block = decodeBlock(BLOCK_ONE_BYTES, "base");
    const txid = txHash(block.transactions[0]!);
    assert.equal(
      hashToHex(txid),
      "0e3e2357e806b6cdb1f70b54c3a3a17b6714ee1f0e68bebb44a74b1efd512098",
    );
    assert.deepEqual(txid, block.header.merkleRoot);
  });

  it("has soterd's limits", () => {
    assert.equal(blockCodec.command, "block");
    assert.equal(MAX_BLOCK_PAYLOAD, 4_000_000);
    for (const pver of [0, 70001, 70013]) {
      assert.equal(blockCodec.maxPayloadLength(pver), 4_000_000);
    }
    assert.equal(MAX_TX_PER_BLOCK, 400_001);
    assert.equal(MAX_PARENTS, 8);
    assert.equal(MAX_PARENT_SUB_HEADER_PAYLOAD, 520);
  });
});

describe("block: limits and malformed input", () => {
  const upToTxCount = BLOCK_ONE_BYTES.subarray(0, 96);

  it("limits the transaction count to 400001", () => {
    assert.throws(
      () => decodeBlock(cat(upToTxCount, "fe" + le32(400002))),
      isKind("too-many-entries", /transaction count 400002 exceeds 400001/),
    );
    assert.throws(
      () => decodeBlock(cat(upToTxCount, "fe" + le32(400001))),
      isKind("truncated"),
    );
    assert.throws(
      () => decodeBlock(cat(upToTxCount, "ff" + "ff".repeat(8))),
      isKind("too-many-entries"),
    );
  });

  it("fails with truncated at every cut", () => {
    const bytes = encodeBlock(dagBlock());
    for (const [input, encoding] of [[BLOCK_ONE_BYTES, "base"], [bytes, "witness"]] as const) {
      for (let cut = 0; cut < input.length; cut++) {
        assert.throws(
          () => decodeBlock(input.subarray(0, cut), encoding),
          isKind("truncated"),
          `cut at ${cut}`,
        );
      }
    }
  });

  it("reads element by element, as soterd (EOF at boundaries)", () => {
    // soterd's TestBlockWireErrors cuts: every header field, both
    // sub-headers' fields, the tx count and the first tx.
    for (const cut of [0, 4, 36, 68, 72, 76, 80, 84, 88, 92, 96, 97]) {
      assert.throws(
        () => decodeBlock(BLOCK_ONE_BYTES.subarray(0, cut)),
        isKind("truncated", /ends at an element/),
        `cut at ${cut}`,
      );
    }
    assert.throws(
      () => decodeBlock(BLOCK_ONE_BYTES.subarray(0, 86)),
      isKind("truncated", /ends inside an element/),
    );
  });

  it("rejects a non-canonical transaction count", () => {
    assert.throws(
      () => decodeBlock(cat(upToTxCount, "fd0100")),
      isKind("non-canonical-varint"),
    );
  });
});

describe("block: parent sub-header", () => {
  // soterd's parentsubheader test: version 0, one parent (the simnet
  // genesis hash) with zero data.
  const simnetGenesis = hashFromHex(
    "5f2694c9f5d5808adf308c62995154d29596c36c554b15d3d95cdd6bebaf6cb2",
  );
  const encoded = cat(
    "00000000",
    "01000000",
    "b26cafeb6bdd5cd9d3154b556cc39695d2545199628c30df8a80d5f5c994265f",
    "00".repeat(32),
  );

  it("encodes and decodes one parent", () => {
    const psh: ParentSubHeader = {
      version: 0,
      size: 1,
      parents: [{ hash: simnetGenesis, data: new Uint8Array(32) }],
    };
    const w = new Writer();
    writeParentSubHeader(w, psh);
    assert.deepEqual(w.finish(), encoded);
    assert.deepEqual(readParentSubHeader(new Reader(encoded)), psh);
  });

  it("writes the list length, not size", () => {
    const w = new Writer();
    writeParentSubHeader(w, {
      version: 5,
      size: 7,
      parents: [{ hash: simnetGenesis, data: new Uint8Array(32) }],
    });
    const decoded = readParentSubHeader(new Reader(w.finish()));
    assert.equal(decoded.size, 1);
    assert.equal(decoded.version, 5);
  });

  it("reads a negative count as no parents and keeps the count", () => {
    for (const n of [-1, -0x80000000]) {
      const r = new Reader(fromHex("01000000" + le32(n) + "aabb"));
      assert.deepEqual(readParentSubHeader(r), { version: 1, size: n, parents: [] });
      assert.equal(r.remaining, 2);
    }
    const block = blockOne();
    const bytes = BLOCK_ONE_BYTES.slice();
    bytes.set(fromHex("ffffffff"), 84);
    const decoded = decodeBlock(bytes);
    assert.equal(decoded.parents.size, -1);
    assert.deepEqual(decoded.parents.parents, []);
    // Re-encoding writes a count of 0.
    assert.deepEqual(encodeBlock(decoded), encodeBlock(block));
  });

  it("accepts more than 8 parents, as soterd", () => {
    const block = blockOne();
    block.parents = {
      version: 1,
      size: 12,
      parents: Array.from({ length: 12 }, (_, i) => ({
        hash: new Uint8Array(32).fill(i),
        data: new Uint8Array(32).fill(255 - i),
      })),
    };
    assert.deepEqual(decodeBlock(encodeBlock(block)), block);
  });

  it("fails with truncated on a forged count without allocating for it", () => {
    const forged = fromHex("01000000" + le32(0x7fffffff));
    assert.throws(() => readParentSubHeader(new Reader(forged)), isKind("truncated", /ends at/));
    const nine = cat("01000000", le32(9), new Uint8Array(8 * 64));
    assert.throws(() => readParentSubHeader(new Reader(nine)), isKind("truncated"));
    // A parent is two elements: the hash and then the data.
    const half = cat("01000000", le32(1), new Uint8Array(32));
    assert.throws(() => readParentSubHeader(new Reader(half)), isKind("truncated", /ends at/));
  });

  it("refuses a hash or data that is not 32 bytes", () => {
    for (
      const parent of [
        { hash: new Uint8Array(31), data: new Uint8Array(32) },
        { hash: new Uint8Array(32), data: new Uint8Array(33) },
      ]
    ) {
      assert.throws(
        () => writeParentSubHeader(new Writer(), { version: 1, size: 1, parents: [parent] }),
        isKind("invalid-value", /parent (hash|data)/),
      );
    }
  });
});

describe("block: verification sub-header", () => {
  it("writes the nonce list length, not size (soterd's test)", () => {
    const vsh: VerificationSubHeader = { version: 3, size: 1, cycleNonces: [33, 29] };
    const w = new Writer();
    writeVerificationSubHeader(w, vsh);
    const encoded = w.finish();
    assert.deepEqual(encoded, fromHex("03000000" + "02000000" + "21000000" + "1d000000"));
    assert.deepEqual(readVerificationSubHeader(new Reader(encoded)), {
      version: 3,
      size: 2,
      cycleNonces: [33, 29],
    });
  });

  it("reads a negative count as no nonces and keeps the count", () => {
    const bytes = BLOCK_ONE_BYTES.slice();
    bytes.set(fromHex("07000000" + le32(-0x80000000)), 88);
    const decoded = decodeBlock(bytes);
    assert.deepEqual(decoded.verification, { version: 7, size: -0x80000000, cycleNonces: [] });
    assert.deepEqual(encodeBlock(decoded).subarray(88, 96), fromHex("07000000" + "00000000"));
  });

  it("fails with truncated on a forged count", () => {
    const forged = fromHex("01000000" + le32(0x7fffffff) + "01000000" + "02000000");
    assert.throws(() => readVerificationSubHeader(new Reader(forged)), isKind("truncated"));
    const cut = fromHex("01000000" + le32(42) + "01000000".repeat(41) + "0100");
    assert.throws(
      () => readVerificationSubHeader(new Reader(cut)),
      isKind("truncated", /ends inside/),
    );
  });

  it("refuses a nonce that is not a uint32", () => {
    for (const nonce of [-1, 2 ** 32, 0.5]) {
      assert.throws(
        () => writeVerificationSubHeader(new Writer(), { version: 1, size: 1, cycleNonces: [nonce] }),
        isKind("invalid-value"),
      );
    }
  });
});
