import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { type Hasher, jsHasher } from "../src/hash/hasher.ts";
import {
  BLOCK_HEADER_SIZE,
  blockHash,
  type BlockHeader,
  blockHeaderBytes,
  readBlockHeader,
  writeBlockHeader,
} from "../src/wire/blockheader.ts";
import { fromHex, hashToHex, toHex } from "../src/wire/hex.ts";
import { headersCodec, type HeadersMessage, MAX_BLOCK_HEADERS_PER_MSG } from "../src/wire/messages/headers.ts";
import { Reader } from "../src/wire/reader.ts";
import { Writer } from "../src/wire/writer.ts";
import { BLOCK_ONE_HEADER_HEX, blockOneHeader, GENESIS_MERKLE_WIRE, MAINNET_GENESIS_WIRE } from "./_fixtures.ts";
import { decodeWith, encodeWith, isKind } from "./_util.ts";

// ---------------------------------------------------------------- helpers

function encodeHeaders(msg: HeadersMessage, pver = 70013): Uint8Array {
  return encodeWith(headersCodec, msg, pver);
}

function decodeHeaders(bytes: Uint8Array, pver = 70013): HeadersMessage {
  return decodeWith(headersCodec, bytes, pver);
}

// --------------------------------------------------------------- fixtures

// soterd's blockheader test: the genesis hash as previous block, the
// genesis merkle root, nonce 123123.
function baseHeader(): BlockHeader {
  return {
    version: 1,
    prevBlock: fromHex(MAINNET_GENESIS_WIRE),
    merkleRoot: fromHex(GENESIS_MERKLE_WIRE),
    timestamp: 0x495fab29,
    bits: 0x1d00ffff,
    nonce: 123123,
  };
}

const BASE_HEADER_BYTES = fromHex(
  "01000000" + MAINNET_GENESIS_WIRE + GENESIS_MERKLE_WIRE + "29ab5f49" + "ffff001d" +
    "f3e00100",
);

// soterd's msgheaders test: block one's header (blockOneHeader, BLOCK_ONE_HEADER_HEX).
const ONE_HEADER_BYTES = fromHex("01" + BLOCK_ONE_HEADER_HEX + "00");

function threeHeaders(): HeadersMessage {
  const second = baseHeader();
  const third = blockOneHeader();
  third.version = -2;
  third.timestamp = 0xffffffff;
  return { command: "headers", headers: [blockOneHeader(), second, third] };
}

// ------------------------------------------------------------------ tests

describe("block header", () => {
  it("encodes and decodes soterd's test header", () => {
    const w = new Writer();
    writeBlockHeader(w, baseHeader());
    assert.deepEqual(w.finish(), BASE_HEADER_BYTES);
    assert.deepEqual(blockHeaderBytes(baseHeader()), BASE_HEADER_BYTES);
    assert.deepEqual(readBlockHeader(new Reader(BASE_HEADER_BYTES)), baseHeader());
    assert.equal(BLOCK_HEADER_SIZE, 80);
    assert.equal(BASE_HEADER_BYTES.length, BLOCK_HEADER_SIZE);
  });

  it("keeps extreme values", () => {
    const h: BlockHeader = {
      version: -0x80000000,
      prevBlock: new Uint8Array(32).fill(0xff),
      merkleRoot: new Uint8Array(32).fill(0x01),
      timestamp: 0xffffffff,
      bits: 0,
      nonce: 0xffffffff,
    };
    assert.deepEqual(readBlockHeader(new Reader(blockHeaderBytes(h))), h);
  });

  it("returns views into the input", () => {
    const bytes = fromHex("ab" + toHex(BASE_HEADER_BYTES));
    const r = new Reader(bytes);
    r.u8();
    const h = readBlockHeader(r);
    assert.equal(h.prevBlock.buffer, bytes.buffer);
    assert.equal(h.prevBlock.byteOffset, 5);
    assert.equal(h.merkleRoot.byteOffset, 37);
    assert.equal(r.remaining, 0);
  });

  it("hashes the 80 bytes with double SHA-256", () => {
    assert.deepEqual(blockHash(baseHeader()), jsHasher.doubleSha256(BASE_HEADER_BYTES));
    assert.equal(
      hashToHex(blockHash(blockOneHeader())),
      "00000000839a8e6886ab5951d76f411475428afc90947ee320161bbf18eb6048",
    );
    // Bitcoin's (and soter mainnet's) genesis header.
    const genesis: BlockHeader = {
      version: 1,
      prevBlock: new Uint8Array(32),
      merkleRoot: fromHex(GENESIS_MERKLE_WIRE),
      timestamp: 0x495fab29,
      bits: 0x1d00ffff,
      nonce: 0x7c2bac1d,
    };
    assert.equal(toHex(blockHash(genesis)), MAINNET_GENESIS_WIRE);
  });

  it("hashes with the hasher it is given", () => {
    let input: Uint8Array | undefined;
    const hasher: Hasher = {
      sha256: jsHasher.sha256,
      doubleSha256(data) {
        input = data.slice();
        return new Uint8Array(32).fill(7);
      },
    };
    assert.deepEqual(blockHash(baseHeader(), hasher), new Uint8Array(32).fill(7));
    assert.deepEqual(input, BASE_HEADER_BYTES);
  });

  it("refuses invalid values, and hashes correctly afterwards", () => {
    const cases: [(h: BlockHeader) => void, RegExp][] = [
      [(h) => (h.prevBlock = new Uint8Array(31)), /prevBlock must be 32 bytes/],
      [(h) => (h.merkleRoot = new Uint8Array(33)), /merkleRoot must be 32 bytes/],
      [(h) => (h.version = 0x80000000), /int32/],
      [(h) => (h.timestamp = -1), /uint32/],
      [(h) => (h.bits = 2 ** 32), /uint32/],
      [(h) => (h.nonce = 0.5), /uint32/],
    ];
    for (const [mutate, pattern] of cases) {
      const h = baseHeader();
      mutate(h);
      assert.throws(() => blockHash(h), isKind("invalid-value", pattern));
      assert.throws(() => blockHeaderBytes(h), isKind("invalid-value", pattern));
    }
    assert.deepEqual(blockHash(baseHeader()), jsHasher.doubleSha256(BASE_HEADER_BYTES));
  });

  it("fails with truncated at every cut, EOF at field boundaries", () => {
    for (let cut = 0; cut < 80; cut++) {
      const boundary = [0, 4, 36, 68, 72, 76].includes(cut);
      assert.throws(
        () => readBlockHeader(new Reader(BASE_HEADER_BYTES.subarray(0, cut))),
        isKind("truncated", boundary ? /ends at an element/ : /ends inside an element/),
        `cut at ${cut}`,
      );
    }
  });
});

describe("headers", () => {
  for (const pver of [70013, 60002, 60000, 31402, 209, 0]) {
    it(`encodes and decodes zero and one header at pver ${pver}`, () => {
      const none: HeadersMessage = { command: "headers", headers: [] };
      assert.deepEqual(encodeHeaders(none, pver), fromHex("00"));
      assert.deepEqual(decodeHeaders(fromHex("00"), pver), none);
      const one: HeadersMessage = { command: "headers", headers: [blockOneHeader()] };
      assert.deepEqual(encodeHeaders(one, pver), ONE_HEADER_BYTES);
      assert.deepEqual(decodeHeaders(ONE_HEADER_BYTES, pver), one);
    });
  }

  it("has soterd's limits", () => {
    assert.equal(headersCodec.command, "headers");
    assert.equal(MAX_BLOCK_HEADERS_PER_MSG, 2000);
    for (const pver of [0, 60002, 70013]) {
      assert.equal(headersCodec.maxPayloadLength(pver), 162009);
    }
  });

  it("round trips 2000 headers within the payload limit", () => {
    const headers = Array.from({ length: 2000 }, (_, i) => {
      const h = blockOneHeader();
      h.nonce = i;
      return h;
    });
    const bytes = encodeHeaders({ command: "headers", headers });
    assert.equal(bytes.length, 3 + 81 * 2000);
    assert.ok(bytes.length <= headersCodec.maxPayloadLength(70013));
    const decoded = decodeHeaders(bytes);
    assert.equal(decoded.headers.length, 2000);
    assert.deepEqual(decoded.headers[1999], headers[1999]);
    assert.deepEqual(blockHash(decoded.headers[5]!), blockHash(headers[5]!));
  });

  it("refuses more than 2000 headers in both directions", () => {
    assert.throws(
      () => decodeHeaders(fromHex("fdd107")),
      isKind("too-many-entries", /header count 2001 exceeds 2000/),
    );
    assert.throws(() => decodeHeaders(fromHex("fdd007")), isKind("truncated"));
    const headers = Array.from({ length: 2001 }, blockOneHeader);
    assert.throws(
      () => encodeHeaders({ command: "headers", headers }),
      isKind("too-many-entries", /Cannot encode headers: header count 2001 exceeds 2000/),
    );
  });

  it("refuses a header followed by a transaction count", () => {
    const bytes = ONE_HEADER_BYTES.slice();
    bytes[81] = 1;
    assert.throws(
      () => decodeHeaders(bytes),
      isKind(
        "headers-with-txs",
        /^Cannot decode headers: header 0 has a transaction count of 1, expected 0$/,
      ),
    );
    const three = encodeHeaders(threeHeaders());
    const big = new Uint8Array(three.length + 2);
    big.set(three);
    // The third header's count becomes 0xfd 0x00 0x01 (256).
    big.set(fromHex("fd0001"), 1 + 81 * 2 + 80);
    assert.throws(
      () => decodeHeaders(big),
      isKind("headers-with-txs", /header 2 has a transaction count of 256/),
    );
  });

  it("rejects a non-canonical transaction count", () => {
    const bytes = fromHex("01" + BLOCK_ONE_HEADER_HEX + "fd0000");
    assert.throws(() => decodeHeaders(bytes), isKind("non-canonical-varint"));
    assert.throws(
      () => decodeHeaders(fromHex("ff0000000000000000")),
      isKind("non-canonical-varint"),
    );
  });

  it("fails with truncated at every cut", () => {
    const bytes = encodeHeaders(threeHeaders());
    for (let cut = 0; cut < bytes.length; cut++) {
      assert.throws(
        () => decodeHeaders(bytes.subarray(0, cut)),
        isKind("truncated"),
        `cut at ${cut}`,
      );
    }
    // soterd's cuts: the count, inside the first header, the tx count.
    for (const cut of [0, 5, 81]) {
      assert.throws(
        () => decodeHeaders(ONE_HEADER_BYTES.subarray(0, cut)),
        isKind("truncated", /ends at an element/),
      );
    }
    assert.deepEqual(decodeHeaders(bytes), threeHeaders());
  });

  it("ignores trailing bytes", () => {
    const r = new Reader(fromHex(toHex(ONE_HEADER_BYTES) + "00"), "headers");
    headersCodec.decode(r, 70013, "base");
    assert.equal(r.remaining, 1);
  });
});
