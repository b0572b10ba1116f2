import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { fromHex } from "../src/wire/hex.ts";
import { ipFromString } from "../src/wire/ip.ts";
import { addrCodec, type AddrMessage, MAX_ADDR_PER_MSG } from "../src/wire/messages/addr.ts";
import { addrcacheCodec, type AddrCacheMessage } from "../src/wire/messages/addrcache.ts";
import type { NetAddress } from "../src/wire/netaddress.ts";
import { MULTIPLE_ADDRESS_VERSION, NET_ADDRESS_TIME_VERSION, PROTOCOL_VERSION } from "../src/wire/protocol.ts";
import { hexCodec, throwsKind } from "./_util.ts";

const { encode: encodeAddr, decode: decodeAddr } = hexCodec(addrCodec);
const { encode: encodeCache, decode: decodeCache } = hexCodec(addrcacheCodec);

const na1: NetAddress = { timestamp: 1577836800, services: 1n, ip: ipFromString("10.0.0.1"), port: 18555 };
const na2: NetAddress = {
  timestamp: 1609459200,
  services: 0x4dn,
  ip: ipFromString("2001:db8::7"),
  port: 5070,
};
const NA1_BODY = "0100000000000000" + "00000000000000000000ffff0a000001" + "487b";
const NA2_BODY = "4d00000000000000" + "20010db8000000000000000000000007" + "13ce";
const NA1 = "00e10b5e" + NA1_BODY;
const NA2 = "0066ee5f" + NA2_BODY;
const noTs = (na: NetAddress): NetAddress => ({ ...na, timestamp: 0 });

function many(n: number): NetAddress[] {
  const list: NetAddress[] = [];
  for (let i = 0; i < n; i++) {
    list.push({ timestamp: i, services: BigInt(i), ip: ipFromString(`10.0.${i >> 8}.${i & 0xff}`), port: i });
  }
  return list;
}

describe("addr codec: limits", () => {
  it("has command addr and allows 1000 addresses", () => {
    assert.equal(addrCodec.command, "addr");
    assert.equal(MAX_ADDR_PER_MSG, 1000);
  });
  it("computes MaxPayloadLength per protocol version", () => {
    assert.equal(addrCodec.maxPayloadLength(PROTOCOL_VERSION), 30009);
    assert.equal(addrCodec.maxPayloadLength(NET_ADDRESS_TIME_VERSION), 30009);
    assert.equal(addrCodec.maxPayloadLength(NET_ADDRESS_TIME_VERSION - 1), 26009);
    assert.equal(addrCodec.maxPayloadLength(MULTIPLE_ADDRESS_VERSION), 26009);
    assert.equal(addrCodec.maxPayloadLength(MULTIPLE_ADDRESS_VERSION - 1), 35);
    assert.equal(addrCodec.maxPayloadLength(0), 35);
  });
});

describe("addr codec: wire format", () => {
  it("round-trips an empty list", () => {
    for (const pver of [PROTOCOL_VERSION, MULTIPLE_ADDRESS_VERSION - 1, 0]) {
      assert.equal(encodeAddr({ command: "addr", addrList: [] }, pver), "00");
      assert.deepEqual(decodeAddr("00", pver), { command: "addr", addrList: [] });
    }
  });

  it("round-trips timestamped addresses at the latest pver", () => {
    const msg: AddrMessage = { command: "addr", addrList: [na1, na2] };
    const hex = encodeAddr(msg);
    assert.equal(hex, "02" + NA1 + NA2);
    assert.deepEqual(decodeAddr(hex), msg);
  });

  it("omits timestamps below NetAddressTimeVersion", () => {
    const pver = NET_ADDRESS_TIME_VERSION - 1;
    const hex = encodeAddr({ command: "addr", addrList: [na1, na2] }, pver);
    assert.equal(hex, "02" + NA1_BODY + NA2_BODY);
    assert.deepEqual(decodeAddr(hex, pver), { command: "addr", addrList: [noTs(na1), noTs(na2)] });
  });

  it("round-trips 1000 addresses, each IP a view into the input", () => {
    const msg: AddrMessage = { command: "addr", addrList: many(1000) };
    const hex = encodeAddr(msg);
    assert.equal(hex.length / 2, 3 + 1000 * 30);
    assert.equal(hex.slice(0, 6), "fde803");
    const input = fromHex(hex);
    const got = decodeAddr(input);
    assert.deepEqual(got, msg);
    assert.equal(got.addrList[999]!.ip.buffer, input.buffer);
  });

  it("refuses more than 1000 addresses both ways", () => {
    throwsKind(() => decodeAddr("fde903"), "too-many-entries");
    throwsKind(() => decodeAddr("ffffffffffffffffff"), "too-many-entries");
    throwsKind(() => encodeAddr({ command: "addr", addrList: many(1001) }), "too-many-entries");
  });

  it("refuses a non-canonical count", () => {
    throwsKind(() => decodeAddr("fe00000000"), "non-canonical-varint");
    throwsKind(() => decodeAddr("fd0100" + NA1), "non-canonical-varint");
  });

  it("ignores trailing bytes", () => {
    assert.deepEqual(decodeAddr("01" + NA1 + "ff"), { command: "addr", addrList: [na1] });
  });
});

describe("addr codec: before MultipleAddressVersion", () => {
  const pver = MULTIPLE_ADDRESS_VERSION - 1;
  it("encodes at most one address", () => {
    assert.equal(encodeAddr({ command: "addr", addrList: [na1] }, pver), "01" + NA1_BODY);
    throwsKind(() => encodeAddr({ command: "addr", addrList: [na1, na2] }, pver), "too-many-entries");
  });
  it("still decodes several, as soterd does", () => {
    const got = decodeAddr("02" + NA1_BODY + NA2_BODY, pver);
    assert.deepEqual(got.addrList, [noTs(na1), noTs(na2)]);
  });
  it("encodes several from MultipleAddressVersion on", () => {
    assert.equal(
      encodeAddr({ command: "addr", addrList: [na1, na2] }, MULTIPLE_ADDRESS_VERSION),
      "02" + NA1_BODY + NA2_BODY,
    );
  });
});

describe("addr codec: truncation", () => {
  const full = "02" + NA1 + NA2;
  // Element boundaries (count, timestamp, services, ip, port) and points inside them.
  for (const cut of [0, 1, 3, 5, 9, 13, 25, 29, 30, 31, 40, 60]) {
    it(`fails with truncated when cut at ${cut} of 61`, () => {
      throwsKind(() => decodeAddr(full.slice(0, cut * 2)), "truncated");
    });
  }
  it("fails with truncated when the count is more than the addresses", () => {
    throwsKind(() => decodeAddr("03" + NA1 + NA2), "truncated");
  });
});

describe("addrcache codec", () => {
  const empty: AddrCacheMessage = { command: "addrcache", inbound: [], outbound: [], known: [] };

  it("computes MaxPayloadLength as 3 varints and 1000 addresses", () => {
    assert.equal(addrcacheCodec.command, "addrcache");
    assert.equal(addrcacheCodec.maxPayloadLength(PROTOCOL_VERSION), 30027);
    assert.equal(addrcacheCodec.maxPayloadLength(NET_ADDRESS_TIME_VERSION - 1), 26027);
  });

  it("round-trips three empty lists", () => {
    assert.equal(encodeCache(empty), "000000");
    assert.deepEqual(decodeCache("000000"), empty);
  });

  it("round-trips the three lists in order", () => {
    const msg: AddrCacheMessage = { command: "addrcache", inbound: [na1], outbound: [na2], known: [] };
    const hex = encodeCache(msg);
    assert.equal(hex, "01" + NA1 + "01" + NA2 + "00");
    assert.deepEqual(decodeCache(hex), msg);
    const msg2: AddrCacheMessage = { command: "addrcache", inbound: [], outbound: [], known: [na2, na1] };
    assert.equal(encodeCache(msg2), "0000" + "02" + NA2 + NA1);
    assert.deepEqual(decodeCache(encodeCache(msg2)), msg2);
  });

  it("omits timestamps below NetAddressTimeVersion", () => {
    const pver = NET_ADDRESS_TIME_VERSION - 1;
    const msg: AddrCacheMessage = { command: "addrcache", inbound: [na1, na2], outbound: [], known: [na1] };
    const hex = encodeCache(msg, pver);
    assert.equal(hex, "02" + NA1_BODY + NA2_BODY + "00" + "01" + NA1_BODY);
    assert.deepEqual(decodeCache(hex, pver), {
      command: "addrcache",
      inbound: [noTs(na1), noTs(na2)],
      outbound: [],
      known: [noTs(na1)],
    });
  });

  it("round-trips 1000 addresses in total", () => {
    const all = many(1000);
    const msg: AddrCacheMessage = {
      command: "addrcache",
      inbound: all.slice(0, 400),
      outbound: all.slice(400, 700),
      known: all.slice(700),
    };
    const hex = encodeCache(msg);
    assert.equal(hex.length / 2, 3 * 3 + 1000 * 30);
    assert.deepEqual(decodeCache(hex), msg);
  });

  it("refuses more than 1000 addresses in total both ways", () => {
    throwsKind(() => decodeCache("fde903"), "too-many-entries");
    throwsKind(() => decodeCache("01" + NA1 + "fde803"), "too-many-entries");
    throwsKind(() => decodeCache("0000fde903"), "too-many-entries");
    throwsKind(() => decodeCache("fdf401" + NA1.repeat(500) + "fdf401" + NA1.repeat(500) + "01"), "too-many-entries");
    const all = many(1001);
    throwsKind(
      () => encodeCache({ command: "addrcache", inbound: all.slice(0, 1), outbound: all.slice(1), known: [] }),
      "too-many-entries",
    );
    throwsKind(
      () => encodeCache({ command: "addrcache", inbound: [], outbound: [], known: all }),
      "too-many-entries",
    );
  });

  it("checks the total before reading the list", () => {
    // 1 + 1000 is over the limit: the count fails, not the missing bytes.
    throwsKind(() => decodeCache("01" + NA1 + "fde803"), "too-many-entries");
  });

  const full = "01" + NA1 + "01" + NA2 + "00";
  for (const cut of [0, 1, 5, 13, 31, 32, 50, 62]) {
    it(`fails with truncated when cut at ${cut} of 63`, () => {
      throwsKind(() => decodeCache(full.slice(0, cut * 2)), "truncated");
    });
  }

  it("refuses a non-canonical count", () => {
    throwsKind(() => decodeCache("00fd000000"), "non-canonical-varint");
  });
});
