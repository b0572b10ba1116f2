// Round trips, limits and protocol-version rules of the small messages:
// the empty ones, ping/pong, inv/getdata/notfound, getblocks/getheaders,
// feefilter, filteradd/filterload and the committed-filter family.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { type Command, decodePayload, encodePayload, fromHex, InvType, type Message, toHex } from "../mod.ts";
import { kindOf } from "./_util.ts";

function roundTrip(msg: Message, hex: string, pver = 70013): void {
  const bytes = encodePayload(msg, pver);
  assert.equal(toHex(bytes), hex);
  assert.deepEqual(decodePayload(msg.command, bytes, pver), msg);
}

const h = (b: number) => new Uint8Array(32).fill(b);

describe("empty messages", () => {
  for (const command of ["verack", "getaddr", "getaddrcache", "mempool", "filterclear", "sendheaders"] as const) {
    it(`${command} has an empty payload and ignores trailing bytes`, () => {
      roundTrip({ command } as Message, "");
      assert.deepEqual(decodePayload(command, fromHex("00ff")), { command });
    });
  }

  it("mempool, filterclear and sendheaders do not exist before their protocol versions", () => {
    const cases: Array<[Command, number]> = [["mempool", 60002], ["filterclear", 70001], ["sendheaders", 70012]];
    for (const [command, min] of cases) {
      assert.equal(kindOf(() => decodePayload(command, new Uint8Array(), min - 1)), "pver-too-low");
      assert.equal(kindOf(() => encodePayload({ command } as Message, min - 1)), "pver-too-low");
      assert.deepEqual(decodePayload(command, new Uint8Array(), min), { command });
    }
  });
});

describe("ping and pong", () => {
  it("carry a little-endian nonce above pver 60000", () => {
    roundTrip({ command: "ping", nonce: 0x0102030405060708n }, "0807060504030201");
    roundTrip({ command: "pong", nonce: 0xffffffffffffffffn }, "ffffffffffffffff");
  });

  it("ping has no nonce at pver 60000 and below", () => {
    assert.equal(encodePayload({ command: "ping", nonce: 5n }, 60000).length, 0);
    assert.deepEqual(decodePayload("ping", new Uint8Array(), 60000), { command: "ping", nonce: 0n });
  });

  it("pong does not exist at pver 60000 and below", () => {
    assert.equal(kindOf(() => decodePayload("pong", fromHex("0000000000000000"), 60000)), "pver-too-low");
    assert.equal(kindOf(() => encodePayload({ command: "pong", nonce: 1n }, 60000)), "pver-too-low");
  });

  it("a truncated nonce is a truncation error", () => {
    assert.equal(kindOf(() => decodePayload("ping", fromHex("01020304"))), "truncated");
  });
});

describe("inv, getdata and notfound", () => {
  const entry = { type: InvType.BLOCK, hash: h(0xaa), height: 1234 };
  const entryHex = "02000000" + "aa".repeat(32) + "d2040000";

  for (const command of ["inv", "getdata", "notfound"] as const) {
    it(`${command} writes 40-byte entries with a height`, () => {
      roundTrip(
        { command, invList: [entry, { type: InvType.WITNESS_TX, hash: h(1), height: -1 }] },
        "02" + entryHex + "01000040" + "01".repeat(32) + "ffffffff",
      );
    });

    it(`${command} refuses more than 50,000 entries both ways`, () => {
      assert.equal(kindOf(() => decodePayload(command, fromHex("fd51c3"))), "too-many-entries");
      const invList = Array.from({ length: 50_001 }, () => entry);
      assert.equal(kindOf(() => encodePayload({ command, invList } as Message)), "too-many-entries");
    });

    it(`${command} with a count larger than its entries is truncated`, () => {
      assert.equal(kindOf(() => decodePayload(command, fromHex("02" + entryHex))), "truncated");
    });
  }
});

describe("getblocks and getheaders", () => {
  for (const command of ["getblocks", "getheaders"] as const) {
    it(`${command} carries at most one locator height`, () => {
      roundTrip(
        { command, protocolVersion: 70013, blockLocatorHeight: [77], hashStop: h(0) },
        "7d110100" + "01" + "4d000000" + "00".repeat(32),
      );
      roundTrip(
        { command, protocolVersion: 1, blockLocatorHeight: [], hashStop: h(3) },
        "01000000" + "00" + "03".repeat(32),
      );
      assert.equal(kindOf(() => decodePayload(command, fromHex("7d110100" + "02"))), "too-many-entries");
      assert.equal(
        kindOf(() => encodePayload({ command, protocolVersion: 1, blockLocatorHeight: [1, 2], hashStop: h(0) })),
        "too-many-entries",
      );
    });
  }
});

describe("feefilter", () => {
  it("carries a signed 64-bit fee from pver 70013", () => {
    roundTrip({ command: "feefilter", minFee: -2n }, "feffffffffffffff");
    assert.equal(kindOf(() => decodePayload("feefilter", fromHex("0000000000000000"), 70012)), "pver-too-low");
  });
});

describe("filteradd and filterload", () => {
  it("filteradd holds at most 520 bytes", () => {
    roundTrip({ command: "filteradd", data: fromHex("0102") }, "020102");
    const big = new Uint8Array(521);
    assert.equal(kindOf(() => encodePayload({ command: "filteradd", data: big })), "too-large");
    assert.equal(kindOf(() => decodePayload("filteradd", fromHex("fd0902"))), "too-large");
    assert.equal(kindOf(() => decodePayload("filteradd", fromHex("01"), 70000)), "pver-too-low");
  });

  it("filterload holds at most 36,000 bytes and 50 hash functions", () => {
    roundTrip(
      { command: "filterload", filter: fromHex("ff"), hashFuncs: 10, tweak: 7, flags: 1 },
      "01ff" + "0a000000" + "07000000" + "01",
    );
    assert.equal(kindOf(() => decodePayload("filterload", fromHex("fda18c"))), "too-large");
    assert.equal(
      kindOf(() => decodePayload("filterload", fromHex("00" + "33000000" + "00000000" + "00"))),
      "too-many-entries",
    );
    assert.equal(
      kindOf(() =>
        encodePayload({ command: "filterload", filter: new Uint8Array(), hashFuncs: 51, tweak: 0, flags: 0 })
      ),
      "too-many-entries",
    );
  });
});

describe("committed filters", () => {
  it("getcfilters, getcfheaders and getcfcheckpt round-trip", () => {
    roundTrip(
      { command: "getcfilters", filterType: 0, startHeight: 5, stopHash: h(9) },
      "00" + "05000000" + "09".repeat(32),
    );
    roundTrip(
      { command: "getcfheaders", filterType: 1, startHeight: 0, stopHash: h(8) },
      "01" + "00000000" + "08".repeat(32),
    );
    roundTrip({ command: "getcfcheckpt", filterType: 0, stopHash: h(7) }, "00" + "07".repeat(32));
  });

  it("cfilter data is limited to 256 KiB", () => {
    roundTrip(
      { command: "cfilter", filterType: 0, blockHash: h(1), data: fromHex("abcd") },
      "00" + "01".repeat(32) + "02abcd",
    );
    assert.equal(kindOf(() => decodePayload("cfilter", fromHex("00" + "01".repeat(32) + "fe01000400"))), "too-large");
  });

  it("cfheaders holds at most 2,000 hashes and cfcheckpt at most 100,000", () => {
    roundTrip(
      { command: "cfheaders", filterType: 0, stopHash: h(1), prevFilterHeader: h(2), filterHashes: [h(3)] },
      "00" + "01".repeat(32) + "02".repeat(32) + "01" + "03".repeat(32),
    );
    assert.equal(
      kindOf(() => decodePayload("cfheaders", fromHex("00" + "01".repeat(64) + "fdd107"))),
      "too-many-entries",
    );
    roundTrip(
      { command: "cfcheckpt", filterType: 0, stopHash: h(1), filterHeaders: [h(4), h(5)] },
      "00" + "01".repeat(32) + "02" + "04".repeat(32) + "05".repeat(32),
    );
    assert.equal(
      kindOf(() => decodePayload("cfcheckpt", fromHex("00" + "01".repeat(32) + "fea1860100"))),
      "too-many-entries",
    );
  });
});
