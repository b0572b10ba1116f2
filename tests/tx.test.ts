import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Hasher } from "../src/hash/hasher.ts";
import { jsHasher } from "../src/hash/hasher.ts";
import { fromHex, hashToHex } from "../src/wire/hex.ts";
import { txCodec, type TxMessage } from "../src/wire/messages/tx.ts";
import type { MessageEncoding } from "../src/wire/protocol.ts";
import { Reader } from "../src/wire/reader.ts";
import {
  MAX_SCRIPT_SIZE,
  MAX_TX_IN_PER_MESSAGE,
  MAX_TX_OUT_PER_MESSAGE,
  MAX_WITNESS_ITEM_SIZE,
  MAX_WITNESS_ITEMS_PER_INPUT,
  readTx,
  type Tx,
  txHash,
  txHasWitness,
  txSerializeSize,
  txWitnessHash,
  writeTx,
} from "../src/wire/tx.ts";
import { Writer } from "../src/wire/writer.ts";
import { coinbaseTx } from "./_fixtures.ts";
import { cat, isKind, le32 } from "./_util.ts";

// ---------------------------------------------------------------- helpers

function encodeTx(tx: Tx, encoding: MessageEncoding): Uint8Array {
  const w = new Writer(16, "tx");
  writeTx(w, tx, encoding);
  return w.finish();
}

function decodeTx(bytes: Uint8Array, encoding: MessageEncoding): Tx {
  return readTx(new Reader(bytes, "tx"), encoding);
}

// --------------------------------------------------------------- fixtures
// The transactions of btcd's and soterd's msgtx tests (Bitcoin facts).

// OP_DATA_65, an uncompressed public key, OP_CHECKSIG.
const P2PK_SCRIPT = "41" +
  "04d64bdfd09eb1c5fe295abdeb1dca4281be988e2da0b6c1c6a59dc226c28624e1" +
  "8175e851c96b973d81b01cc31f047834bc06d6d6edf620d184241a6aed8b63a6" +
  "ac";

function multiTx(): Tx {
  return coinbaseTx(fromHex("0431dc001b0162"), [
    { value: 0x12a05f200n, pkScript: fromHex(P2PK_SCRIPT) },
    { value: 0x5f5e100n, pkScript: fromHex(P2PK_SCRIPT) },
  ]);
}

const MULTI_TX_BYTES = cat(
  "01000000", // version
  "01", // input count
  "00".repeat(32), // previous output hash
  "ffffffff", // previous output index
  "07",
  "0431dc001b0162", // signature script
  "ffffffff", // sequence
  "02", // output count
  "00f2052a01000000", // 5000000000
  "43",
  P2PK_SCRIPT,
  "00e1f50500000000", // 100000000
  "43",
  P2PK_SCRIPT,
  "00000000", // lock time
);

const WITNESS_SIG = "3043021f4d2381dc97f182abd8185f51753018523212f5ddc07cc4e63a8dc0" +
  "3658da190220608b5c4d92b86b6de7d78ef23a2fa735bcb59b914a48b0e187c5e7569a18197001";
const WITNESS_PUBKEY = "0307ead084807eb76346df6977000c89392f45c76425b26181f521d7f370066a8f";
const P2WPKH_SCRIPT = "00149ddac6f39d51e0398e532a22c41ba189406a8523";
const WITNESS_PREV = "a53352d5135766f03076597418263da2d9c958315968fea823529467481ff9cd";

function multiWitnessTx(): Tx {
  return {
    version: 1,
    txIn: [{
      previousOutPoint: { hash: fromHex(WITNESS_PREV), index: 19 },
      signatureScript: new Uint8Array(0),
      witness: [fromHex(WITNESS_SIG), fromHex(WITNESS_PUBKEY)],
      sequence: 0xffffffff,
    }],
    txOut: [{ value: 395019n, pkScript: fromHex(P2WPKH_SCRIPT) }],
    lockTime: 0,
  };
}

const WITNESS_INPUT = WITNESS_PREV + "13000000" + "00" + "ffffffff";
const WITNESS_OUTPUTS = "01" + "0b07060000000000" + "16" + P2WPKH_SCRIPT;
const WITNESS_STACK = "02" + "46" + WITNESS_SIG + "21" + WITNESS_PUBKEY;

const MULTI_WITNESS_TX_BYTES = cat(
  "01000000",
  "0001", // marker, flag
  "01",
  WITNESS_INPUT,
  WITNESS_OUTPUTS,
  WITNESS_STACK,
  "00000000",
);

const MULTI_WITNESS_TX_STRIPPED = cat(
  "01000000",
  "01",
  WITNESS_INPUT,
  WITNESS_OUTPUTS,
  "00000000",
);

const NO_TX: Tx = { version: 1, txIn: [], txOut: [], lockTime: 0 };
const NO_TX_BYTES = fromHex("01000000" + "00" + "00" + "00000000");

// ------------------------------------------------------------------ tests

describe("tx: round trips", () => {
  for (const pver of [70013, 60002, 60000, 31402, 209, 0]) {
    it(`encodes and decodes an empty tx and a two-output tx at pver ${pver}`, () => {
      for (const [tx, bytes] of [[NO_TX, NO_TX_BYTES], [multiTx(), MULTI_TX_BYTES]] as const) {
        const msg: TxMessage = { command: "tx", ...tx };
        const w = new Writer(16, "tx");
        txCodec.encode(w, msg, pver, "base");
        assert.deepEqual(w.finish(), bytes);
        const decoded = txCodec.decode(new Reader(bytes, "tx"), pver, "base");
        assert.deepEqual(decoded, msg);
      }
    });
  }

  it("encodes a tx without witness data identically in both encodings", () => {
    assert.deepEqual(encodeTx(multiTx(), "witness"), MULTI_TX_BYTES);
    assert.deepEqual(decodeTx(MULTI_TX_BYTES, "witness"), multiTx());
    assert.deepEqual(encodeTx(NO_TX, "witness"), NO_TX_BYTES);
  });

  it("writes the marker, flag and witness stacks with the witness encoding", () => {
    assert.equal(MULTI_WITNESS_TX_BYTES.length, 190);
    assert.deepEqual(encodeTx(multiWitnessTx(), "witness"), MULTI_WITNESS_TX_BYTES);
    assert.deepEqual(decodeTx(MULTI_WITNESS_TX_BYTES, "witness"), multiWitnessTx());
  });

  it("strips witness data with the base encoding", () => {
    assert.equal(MULTI_WITNESS_TX_STRIPPED.length, 82);
    assert.deepEqual(encodeTx(multiWitnessTx(), "base"), MULTI_WITNESS_TX_STRIPPED);
    const decoded = decodeTx(MULTI_WITNESS_TX_STRIPPED, "base");
    const expected = multiWitnessTx();
    expected.txIn[0]!.witness = [];
    assert.deepEqual(decoded, expected);
  });

  it("reads the base form of a witness tx with the witness encoding too", () => {
    const decoded = decodeTx(MULTI_WITNESS_TX_STRIPPED, "witness");
    assert.deepEqual(decoded.txIn[0]!.witness, []);
  });

  it("decodes an input with an empty witness next to one with a witness", () => {
    const tx = multiWitnessTx();
    tx.txIn.unshift({
      previousOutPoint: { hash: new Uint8Array(32).fill(7), index: 0 },
      signatureScript: fromHex("51"),
      witness: [],
      sequence: 5,
    });
    tx.txIn[1]!.witness.push(new Uint8Array(0)); // an empty item
    const bytes = encodeTx(tx, "witness");
    assert.deepEqual(decodeTx(bytes, "witness"), tx);
    // After version, marker, flag, count, the inputs (42 and 41 bytes) and
    // the outputs (32 bytes), the first stack is written as a count of 0.
    const firstStack = 4 + 2 + 1 + 42 + 41 + 32;
    assert.equal(WITNESS_OUTPUTS.length / 2, 32);
    assert.equal(bytes[firstStack], 0);
    assert.equal(bytes[firstStack + 1], 3);
  });

  it("accepts marker and flag with empty witness stacks, and drops them on re-encode", () => {
    const input = "11".repeat(32) + "00000000" + "00" + "ffffffff";
    const output = "0100000000000000" + "0151";
    const withFlag = cat("02000000", "0001", "01", input, "01", output, "00", "00000000");
    const tx = decodeTx(withFlag, "witness");
    assert.equal(tx.txIn.length, 1);
    assert.deepEqual(tx.txIn[0]!.witness, []);
    assert.equal(txHasWitness(tx), false);
    assert.deepEqual(
      encodeTx(tx, "witness"),
      cat("02000000", "01", input, "01", output, "00000000"),
    );
  });

  it("encodes and decodes 253+ outputs with a 3-byte count", () => {
    const tx = multiTx();
    tx.txOut = Array.from({ length: 300 }, (_, i) => ({
      value: BigInt(i) - 150n,
      pkScript: new Uint8Array([i & 0xff]),
    }));
    const bytes = encodeTx(tx, "witness");
    assert.deepEqual(bytes.subarray(53, 56), fromHex("fd2c01"));
    assert.deepEqual(decodeTx(bytes, "witness"), tx);
  });

  it("keeps the extreme int32, uint32 and int64 values", () => {
    const tx: Tx = {
      version: -0x80000000,
      txIn: [{
        previousOutPoint: { hash: new Uint8Array(32).fill(0xff), index: 0xffffffff },
        signatureScript: new Uint8Array(0),
        witness: [],
        sequence: 0,
      }],
      txOut: [
        { value: -(2n ** 63n), pkScript: new Uint8Array(0) },
        { value: 2n ** 63n - 1n, pkScript: new Uint8Array(0) },
      ],
      lockTime: 0xffffffff,
    };
    assert.deepEqual(decodeTx(encodeTx(tx, "base"), "base"), tx);
  });

  it("returns views into the input, not copies", () => {
    const tx = decodeTx(MULTI_TX_BYTES, "base");
    const sig = tx.txIn[0]!.signatureScript;
    assert.equal(sig.buffer, MULTI_TX_BYTES.buffer);
    assert.equal(sig.byteOffset, 42);
    // soterd's PkScriptLocs for this tx are 63 and 139.
    assert.equal(tx.txOut[0]!.pkScript.byteOffset, 63);
    assert.equal(tx.txOut[1]!.pkScript.byteOffset, 139);
    const wtx = decodeTx(MULTI_WITNESS_TX_BYTES, "witness");
    assert.equal(wtx.txOut[0]!.pkScript.byteOffset, 58);
    assert.equal(wtx.txIn[0]!.witness[1]!.buffer, MULTI_WITNESS_TX_BYTES.buffer);
  });

  it("ignores trailing bytes and leaves them unread", () => {
    const r = new Reader(cat(MULTI_TX_BYTES, "abcd"), "tx");
    assert.deepEqual(txCodec.decode(r, 70013, "base"), { command: "tx", ...multiTx() });
    assert.equal(r.remaining, 2);
  });
});

describe("tx: sizes and hashes", () => {
  it("computes the serialized size in both encodings", () => {
    assert.equal(txSerializeSize(NO_TX), 10);
    assert.equal(txSerializeSize(multiTx()), 210);
    assert.equal(txSerializeSize(multiTx(), "base"), 210);
    assert.equal(txSerializeSize(multiWitnessTx(), "base"), 82);
    assert.equal(txSerializeSize(multiWitnessTx(), "witness"), 190);
    assert.equal(txSerializeSize(multiWitnessTx()), 190);
  });

  it("matches the encoded length for large scripts and stacks", () => {
    const tx = multiWitnessTx();
    tx.txIn[0]!.signatureScript = new Uint8Array(70000);
    tx.txIn[0]!.witness.push(new Uint8Array(300));
    for (const enc of ["base", "witness"] as const) {
      assert.equal(txSerializeSize(tx, enc), encodeTx(tx, enc).length);
    }
  });

  it("computes the txid of the first tx of Bitcoin block 113875", () => {
    const tx = coinbaseTx(fromHex("0431dc001b0162"), [{ value: 5000000000n, pkScript: fromHex(P2PK_SCRIPT) }]);
    const want = "f051e59b5e2503ac626d03aaeac8ab7be2d72ba4b7e97119c5852d70d52dcb86";
    assert.equal(hashToHex(txHash(tx)), want);
    assert.equal(hashToHex(txWitnessHash(tx)), want);
  });

  it("computes the txid and wtxid of a witness tx", () => {
    const tx = multiWitnessTx();
    assert.equal(
      hashToHex(txHash(tx)),
      "0f167d1385a84d1518cfee208b653fc9163b605ccf1b75347e2850b3e2eb19f3",
    );
    assert.equal(
      hashToHex(txWitnessHash(tx)),
      "0858eab78e77b6b033da30f46699996396cf48fcf625a783c85a51403e175e74",
    );
    // A witness tx decoded with the base encoding has wtxid == txid.
    const stripped = decodeTx(MULTI_WITNESS_TX_STRIPPED, "base");
    assert.deepEqual(txWitnessHash(stripped), txHash(tx));
  });

  it("hashes the base serialization for the txid and the witness one for the wtxid", () => {
    const seen: Uint8Array[] = [];
    const recorder: Hasher = {
      sha256: jsHasher.sha256,
      doubleSha256(data) {
        seen.push(data.slice());
        return jsHasher.doubleSha256(data);
      },
    };
    const tx = multiWitnessTx();
    txHash(tx, recorder);
    txWitnessHash(tx, recorder);
    assert.deepEqual(seen, [MULTI_WITNESS_TX_STRIPPED, MULTI_WITNESS_TX_BYTES]);
  });

  it("hashes consistently after a large tx grew the scratch buffer", () => {
    const big = multiTx();
    big.txIn[0]!.signatureScript = new Uint8Array(200_000).fill(1);
    const first = txHash(big);
    const small = multiTx();
    const expected = jsHasher.doubleSha256(MULTI_TX_BYTES);
    assert.deepEqual(txHash(small), expected);
    assert.deepEqual(txHash(big), first);
    assert.notDeepEqual(first, expected);
  });

  it("reports witness data only when some stack is non-empty", () => {
    assert.equal(txHasWitness(multiTx()), false);
    assert.equal(txHasWitness(multiWitnessTx()), true);
    assert.equal(txHasWitness(NO_TX), false);
  });

  it("has soterd's payload limit and command", () => {
    assert.equal(txCodec.command, "tx");
    for (const pver of [0, 60000, 70013]) {
      assert.equal(txCodec.maxPayloadLength(pver), 4_000_000);
    }
  });
});

describe("tx: limits", () => {
  it("has soterd's limits", () => {
    assert.equal(MAX_TX_IN_PER_MESSAGE, 818401);
    assert.equal(MAX_TX_OUT_PER_MESSAGE, 3728271);
    assert.equal(MAX_WITNESS_ITEMS_PER_INPUT, 500000);
    assert.equal(MAX_WITNESS_ITEM_SIZE, 11000);
    assert.equal(MAX_SCRIPT_SIZE, 33554432);
  });

  for (const encoding of ["base", "witness"] as const) {
    it(`limits the input count (${encoding})`, () => {
      const prefix = encoding === "witness" ? "01000000" + "0001" : "01000000";
      assert.throws(
        () => decodeTx(fromHex(prefix + "fe" + le32(818402)), encoding),
        isKind("too-many-entries", /input count 818402 exceeds 818401/),
      );
      // At the limit the count is accepted and the missing inputs are
      // reported as truncation, without allocating for them.
      assert.throws(
        () => decodeTx(fromHex(prefix + "fe" + le32(818401)), encoding),
        isKind("truncated"),
      );
      assert.throws(
        () => decodeTx(fromHex(prefix + "ff" + "ff".repeat(8)), encoding),
        isKind("too-many-entries"),
      );
    });
  }

  it("limits the output count", () => {
    assert.throws(
      () => decodeTx(fromHex("01000000" + "00" + "fe" + le32(3728272)), "base"),
      isKind("too-many-entries", /output count 3728272 exceeds 3728271/),
    );
    assert.throws(
      () => decodeTx(fromHex("01000000" + "00" + "fe" + le32(3728271)), "base"),
      isKind("truncated"),
    );
    assert.throws(
      () => decodeTx(fromHex("00000001" + "00" + "ff" + "ff".repeat(8)), "base"),
      isKind("too-many-entries"),
    );
  });

  const witnessPrefix = "01000000" + "0001" + "01" + WITNESS_INPUT + "00";

  it("limits the witness item count", () => {
    assert.throws(
      () => decodeTx(fromHex(witnessPrefix + "fe" + le32(500001)), "witness"),
      isKind("too-many-entries", /witness item count 500001 exceeds 500000/),
    );
    assert.throws(
      () => decodeTx(fromHex(witnessPrefix + "fe" + le32(500000)), "witness"),
      isKind("truncated"),
    );
  });

  it("limits a witness item to 11000 bytes", () => {
    const at = cat(witnessPrefix, "01", "fdf82a", new Uint8Array(11000), "00000000");
    const tx = decodeTx(at, "witness");
    assert.equal(tx.txIn[0]!.witness[0]!.length, 11000);
    assert.deepEqual(encodeTx(tx, "witness"), at);
    const over = cat(witnessPrefix, "01", "fdf92a", new Uint8Array(11001), "00000000");
    assert.throws(
      () => decodeTx(over, "witness"),
      isKind("too-large", /witness item is 11001 bytes, more than the 11000 allowed/),
    );
  });

  it("does not apply the decoder's limits when encoding, as soterd", () => {
    const tx = multiWitnessTx();
    tx.txIn[0]!.witness = [new Uint8Array(11001)];
    const bytes = encodeTx(tx, "witness");
    assert.throws(() => decodeTx(bytes, "witness"), isKind("too-large"));
  });

  it("limits scripts to 32 MiB", () => {
    const input = "00".repeat(32) + "ffffffff";
    assert.throws(
      () => decodeTx(fromHex("01000000" + "01" + input + "fe" + le32(33554433)), "base"),
      isKind("too-large", /signature script is 33554433 bytes/),
    );
    assert.throws(
      () => decodeTx(fromHex("01000000" + "01" + input + "fe" + le32(33554432)), "base"),
      isKind("truncated"),
    );
    assert.throws(
      () => decodeTx(fromHex("01000000" + "01" + input + "ff" + "ff".repeat(8)), "base"),
      isKind("too-large"),
    );
    const withOutput = "01000000" + "01" + input + "00" + "ffffffff" + "01" + "00".repeat(8);
    assert.throws(
      () => decodeTx(fromHex(withOutput + "ff" + "0000000001000000"), "base"),
      isKind("too-large", /pk script is 4294967296 bytes/),
    );
    assert.throws(
      () => decodeTx(fromHex(withOutput + "ff" + "ff".repeat(8)), "base"),
      isKind("too-large"),
    );
  });

  it("rejects non-canonical varints", () => {
    const bytes = fromHex("01000000" + "01" + "00".repeat(32) + "ffffffff" + "fd0000");
    assert.throws(() => decodeTx(bytes, "base"), isKind("non-canonical-varint"));
    assert.throws(
      () => decodeTx(fromHex("01000000" + "fd0100"), "base"),
      isKind("non-canonical-varint"),
    );
  });
});

describe("tx: witness flag", () => {
  it("rejects a flag byte other than 0x01", () => {
    const zeroFlag = MULTI_WITNESS_TX_BYTES.slice();
    zeroFlag[5] = 0x00;
    assert.throws(
      () => decodeTx(zeroFlag, "witness"),
      isKind("bad-witness-flag", /flag byte 0x00, expected 0x01/),
    );
    const twoFlag = MULTI_WITNESS_TX_BYTES.slice();
    twoFlag[5] = 0x02;
    assert.throws(
      () => decodeTx(twoFlag, "witness"),
      isKind("bad-witness-flag", /flag byte 0x02/),
    );
  });

  it("reads the output count of a zero-input base tx as the flag, as soterd", () => {
    const output = "0100000000000000" + "0151";
    const bytes = fromHex("01000000" + "00" + "02" + output + output + "00000000");
    const tx = decodeTx(bytes, "base");
    assert.equal(tx.txOut.length, 2);
    assert.deepEqual(encodeTx(tx, "witness"), bytes);
    assert.throws(() => decodeTx(bytes, "witness"), isKind("bad-witness-flag"));
  });

  it("does not read a flag with the base encoding", () => {
    // The marker is an input count of 0 and the flag an output count of 1.
    const tx = decodeTx(fromHex("01000000" + "00" + "01" + "0000000000000000" + "00" + "00000000"), "base");
    assert.equal(tx.txIn.length, 0);
    assert.equal(tx.txOut.length, 1);
  });
});

describe("tx: truncation", () => {
  const cases: [string, Uint8Array, MessageEncoding][] = [
    ["base tx", MULTI_TX_BYTES, "base"],
    ["witness tx", MULTI_WITNESS_TX_BYTES, "witness"],
    ["stripped witness tx", MULTI_WITNESS_TX_STRIPPED, "base"],
  ];
  for (const [name, bytes, encoding] of cases) {
    it(`fails with truncated at every cut of a ${name}`, () => {
      for (let cut = 0; cut < bytes.length; cut++) {
        assert.throws(
          () => decodeTx(bytes.subarray(0, cut), encoding),
          isKind("truncated"),
          `cut at ${cut}`,
        );
      }
      assert.doesNotThrow(() => decodeTx(bytes, encoding));
    });
  }

  it("reads element by element, as soterd (EOF at boundaries)", () => {
    // soterd's TestTxWireErrors cuts, each at an element boundary.
    for (const cut of [0, 4, 5, 37, 41, 42, 49, 53, 54, 62, 63, 206]) {
      assert.throws(
        () => decodeTx(MULTI_TX_BYTES.subarray(0, cut), "base"),
        isKind("truncated", /ends at an element/),
        `cut at ${cut}`,
      );
    }
    for (const cut of [2, 20, 45, 58, 100, 208]) {
      assert.throws(
        () => decodeTx(MULTI_TX_BYTES.subarray(0, cut), "base"),
        isKind("truncated", /ends inside an element/),
        `cut at ${cut}`,
      );
    }
    // The marker and the flag are one byte each.
    for (const cut of [4, 5, 6]) {
      assert.throws(
        () => decodeTx(MULTI_WITNESS_TX_BYTES.subarray(0, cut), "witness"),
        isKind("truncated", /ends at an element/),
      );
    }
  });
});

describe("tx: invalid values", () => {
  it("refuses a previous outpoint hash that is not 32 bytes", () => {
    const tx = multiTx();
    tx.txIn[0]!.previousOutPoint.hash = new Uint8Array(31);
    assert.throws(() => encodeTx(tx, "base"), isKind("invalid-value", /previous outpoint hash/));
  });

  it("refuses out-of-range numbers", () => {
    const cases: ((tx: Tx) => void)[] = [
      (tx) => (tx.version = 0x80000000),
      (tx) => (tx.lockTime = -1),
      (tx) => (tx.txIn[0]!.sequence = 2 ** 32),
      (tx) => (tx.txIn[0]!.previousOutPoint.index = 1.5),
      (tx) => (tx.txOut[0]!.value = 2n ** 63n),
    ];
    for (const mutate of cases) {
      const tx = multiTx();
      mutate(tx);
      assert.throws(() => encodeTx(tx, "base"), isKind("invalid-value"));
    }
  });
});
