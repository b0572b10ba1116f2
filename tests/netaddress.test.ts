import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { fromHex, toHex } from "../src/wire/hex.ts";
import { ipFromString } from "../src/wire/ip.ts";
import { maxNetAddressPayload, type NetAddress, readNetAddress, writeNetAddress } from "../src/wire/netaddress.ts";
import { NET_ADDRESS_TIME_VERSION, PROTOCOL_VERSION } from "../src/wire/protocol.ts";
import { Reader } from "../src/wire/reader.ts";
import { Writer } from "../src/wire/writer.ts";
import { throwsKind } from "./_util.ts";

function write(na: NetAddress, pver: number, ts: boolean): string {
  const w = new Writer(4);
  writeNetAddress(w, na, pver, ts);
  return toHex(w.finish());
}

// 10.1.2.3:18555, services 0x4d, last seen 2020-01-01.
const addr: NetAddress = {
  timestamp: 1577836800,
  services: 0x4dn,
  ip: ipFromString("10.1.2.3"),
  port: 18555,
};
const TS_HEX = "00e10b5e";
const BODY_HEX = "4d00000000000000" + "00000000000000000000ffff0a010203" + "487b";

describe("maxNetAddressPayload", () => {
  it("is 30 bytes with the timestamp, 26 before protocol version 31402", () => {
    assert.equal(maxNetAddressPayload(PROTOCOL_VERSION), 30);
    assert.equal(maxNetAddressPayload(NET_ADDRESS_TIME_VERSION), 30);
    assert.equal(maxNetAddressPayload(NET_ADDRESS_TIME_VERSION - 1), 26);
    assert.equal(maxNetAddressPayload(0), 26);
  });
});

describe("writeNetAddress and readNetAddress", () => {
  const cases: Array<[string, number, boolean, string]> = [
    ["latest pver without timestamp", PROTOCOL_VERSION, false, BODY_HEX],
    ["latest pver with timestamp", PROTOCOL_VERSION, true, TS_HEX + BODY_HEX],
    ["pver 31402 without timestamp", NET_ADDRESS_TIME_VERSION, false, BODY_HEX],
    ["pver 31402 with timestamp", NET_ADDRESS_TIME_VERSION, true, TS_HEX + BODY_HEX],
    ["pver 31401 without timestamp", NET_ADDRESS_TIME_VERSION - 1, false, BODY_HEX],
    ["pver 31401 ignores the timestamp flag", NET_ADDRESS_TIME_VERSION - 1, true, BODY_HEX],
  ];
  for (const [name, pver, ts, hex] of cases) {
    it(name, () => {
      assert.equal(write(addr, pver, ts), hex);
      const r = new Reader(fromHex(hex));
      const got = readNetAddress(r, pver, ts);
      assert.equal(r.remaining, 0);
      const onWire = ts && pver >= NET_ADDRESS_TIME_VERSION;
      assert.deepEqual(got, { ...addr, timestamp: onWire ? addr.timestamp : 0 });
    });
  }

  it("writes the port big-endian and services little-endian", () => {
    const hex = write(
      { timestamp: 0, services: 0x0102030405060708n, ip: new Uint8Array(16), port: 0x1234 },
      PROTOCOL_VERSION,
      false,
    );
    assert.equal(hex, "0807060504030201" + "00".repeat(16) + "1234");
  });

  it("returns the IP as a view into the input", () => {
    const input = fromHex(TS_HEX + BODY_HEX);
    const na = readNetAddress(new Reader(input), PROTOCOL_VERSION, true);
    assert.equal(na.ip.buffer, input.buffer);
    assert.equal(na.ip.byteOffset, 12);
    assert.equal(na.ip.length, 16);
  });

  it("writes an empty IP as 16 zero bytes", () => {
    const hex = write({ ...addr, ip: new Uint8Array(0) }, PROTOCOL_VERSION, false);
    assert.equal(hex, "4d00000000000000" + "00".repeat(16) + "487b");
  });

  it("writes a 4-byte IP as IPv4-mapped, like Go's To16", () => {
    const hex = write({ ...addr, ip: new Uint8Array([10, 1, 2, 3]) }, PROTOCOL_VERSION, false);
    assert.equal(hex, BODY_HEX);
  });

  it("keeps the timestamp's full uint32 range", () => {
    const hex = write({ ...addr, timestamp: 0xffffffff }, PROTOCOL_VERSION, true);
    assert.equal(hex.slice(0, 8), "ffffffff");
    const na = readNetAddress(new Reader(fromHex(hex)), PROTOCOL_VERSION, true);
    assert.equal(na.timestamp, 0xffffffff);
  });

  it("refuses IPs of other lengths and out-of-range fields", () => {
    throwsKind(() => write({ ...addr, ip: new Uint8Array(5) }, PROTOCOL_VERSION, false), "invalid-value");
    throwsKind(() => write({ ...addr, ip: new Uint8Array(17) }, PROTOCOL_VERSION, false), "invalid-value");
    throwsKind(() => write({ ...addr, port: 65536 }, PROTOCOL_VERSION, false), "invalid-value");
    throwsKind(() => write({ ...addr, port: -1 }, PROTOCOL_VERSION, false), "invalid-value");
    throwsKind(() => write({ ...addr, services: -1n }, PROTOCOL_VERSION, false), "invalid-value");
    throwsKind(() => write({ ...addr, services: 1n << 64n }, PROTOCOL_VERSION, false), "invalid-value");
    throwsKind(() => write({ ...addr, timestamp: 2 ** 32 }, PROTOCOL_VERSION, true), "invalid-value");
    throwsKind(() => write({ ...addr, timestamp: -1 }, PROTOCOL_VERSION, true), "invalid-value");
  });

  it("does not check the timestamp when it is not written", () => {
    assert.equal(write({ ...addr, timestamp: -1 }, PROTOCOL_VERSION, false), BODY_HEX);
  });
});

describe("readNetAddress truncation", () => {
  const full = fromHex(TS_HEX + BODY_HEX);
  // Cut points at element boundaries (timestamp, services, ip, port) and inside them.
  const withTs = [0, 2, 4, 8, 12, 20, 28, 29];
  for (const cut of withTs) {
    it(`fails with truncated when cut at ${cut} of 30 (timestamped)`, () => {
      const r = new Reader(full.subarray(0, cut), "addr");
      throwsKind(() => readNetAddress(r, PROTOCOL_VERSION, true), "truncated");
    });
  }
  const noTs = full.subarray(4);
  for (const cut of [0, 7, 8, 16, 24, 25]) {
    it(`fails with truncated when cut at ${cut} of 26 (no timestamp)`, () => {
      throwsKind(() => readNetAddress(new Reader(noTs.subarray(0, cut)), PROTOCOL_VERSION, false), "truncated");
      throwsKind(
        () => readNetAddress(new Reader(noTs.subarray(0, cut)), NET_ADDRESS_TIME_VERSION - 1, true),
        "truncated",
      );
    });
  }
  it("says whether the input ended at or inside an element", () => {
    assert.throws(() => readNetAddress(new Reader(full.subarray(0, 12)), PROTOCOL_VERSION, true), /ends at an element/);
    assert.throws(
      () => readNetAddress(new Reader(full.subarray(0, 13)), PROTOCOL_VERSION, true),
      /ends inside an element/,
    );
  });
});
