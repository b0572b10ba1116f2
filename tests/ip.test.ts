import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { fromHex, toHex } from "../src/wire/hex.ts";
import { ipFromString, ipToString, netAddress } from "../src/wire/ip.ts";
import { throwsKind } from "./_util.ts";

function invalid(fn: () => unknown): void {
  throwsKind(fn, "invalid-value");
}

describe("ipToString", () => {
  const cases: Array<[string, string]> = [
    ["00000000000000000000000000000000", "::"],
    ["00000000000000000000000000000001", "::1"],
    ["20010db8000000000001000000000001", "2001:db8::1:0:0:1"],
    ["00000000000000000000000001020304", "::102:304"], // IPv4-compatible, not mapped
    ["00000000000000000000ffff01020304", "1.2.3.4"],
    ["00000000000000000000ffff00000000", "0.0.0.0"],
    ["00000000000000000000ffffffffffff", "255.255.255.255"],
    ["00000000000000000001ffff01020304", "::1:ffff:102:304"],
    ["0000000000000000ffff000001020304", "::ffff:0:102:304"],
    ["20010db8000000000000000000000000", "2001:db8::"],
    ["fe800000000000000000000000000001", "fe80::1"],
    ["00010000000200000000000300000004", "1:0:2::3:0:4"], // longest run wins
    ["00010000000000020000000000030004", "1::2:0:0:3:4"], // tie: the first run
    ["00010000000000020000000000000003", "1:0:0:2::3"], // a later, longer run
    ["00010000000200030004000500060007", "1:0:2:3:4:5:6:7"], // never one group
    ["00010002000300040005000600070000", "1:2:3:4:5:6:7:0"],
    ["00010002000300040005000600000000", "1:2:3:4:5:6::"],
    ["ABCD0DB80000000000000000FFFF0001", "abcd:db8::ffff:1"],
    ["0123456789abcdef0123456789abcdef", "123:4567:89ab:cdef:123:4567:89ab:cdef"],
  ];
  for (const [hex, want] of cases) {
    it(`prints ${want}`, () => assert.equal(ipToString(fromHex(hex)), want));
  }

  it("prints a 4-byte address as a dotted quad", () => {
    assert.equal(ipToString(new Uint8Array([192, 168, 0, 1])), "192.168.0.1");
  });
  it("returns null for an empty (absent) address", () => {
    assert.equal(ipToString(new Uint8Array(0)), null);
  });
  it("prints other lengths as ? and hex, like Go", () => {
    assert.equal(ipToString(new Uint8Array([1, 2, 0xab])), "?0102ab");
  });
  it("reads a view at its own offset", () => {
    const buf = fromHex("ff" + "00000000000000000000ffff7f000001" + "ff");
    assert.equal(ipToString(buf.subarray(1, 17)), "127.0.0.1");
  });
});

describe("ipFromString", () => {
  const ok: Array<[string, string]> = [
    ["127.0.0.1", "00000000000000000000ffff7f000001"],
    ["0.0.0.0", "00000000000000000000ffff00000000"],
    ["255.255.255.255", "00000000000000000000ffffffffffff"],
    ["::", "00000000000000000000000000000000"],
    ["::1", "00000000000000000000000000000001"],
    ["1::", "00010000000000000000000000000000"],
    ["2001:db8::1:0:0:1", "20010db8000000000001000000000001"],
    ["2001:DB8:0:0:1:0:0:1", "20010db8000000000001000000000001"],
    ["1:2:3:4:5:6:7:8", "00010002000300040005000600070008"],
    ["1:2:3:4:5:6:7::", "00010002000300040005000600070000"],
    ["::2:3:4:5:6:7:8", "00000002000300040005000600070008"],
    ["0001:02:003:0004::", "00010002000300040000000000000000"],
    ["::ffff:1.2.3.4", "00000000000000000000ffff01020304"],
    ["::1.2.3.4", "00000000000000000000000001020304"],
    ["64:ff9b::10.0.0.1", "0064ff9b00000000000000000a000001"],
    ["1:2:3:4:5:6:1.2.3.4", "00010002000300040005000601020304"],
    ["1:2:3:4:5::1.2.3.4", "00010002000300040005000001020304"],
  ];
  for (const [text, hex] of ok) {
    it(`parses ${text}`, () => assert.equal(toHex(ipFromString(text)), hex));
  }

  const bad = [
    "",
    "1.2.3",
    "1.2.3.4.5",
    "1.2.3.256",
    "01.2.3.4",
    "1.2.3.04",
    "1..3.4",
    "1.2.3.4.",
    " 1.2.3.4",
    "1.2.3.-4",
    "a.b.c.d",
    ":",
    ":::",
    "1:::2",
    "1::2::3",
    ":1::",
    "1:",
    ":1",
    "1:2:3:4:5:6:7",
    "1:2:3:4:5:6:7:8:9",
    "1:2:3:4:5:6:7:8::", // "::" must stand for at least one group
    "1:2:3:4::5:6:7:8",
    "12345::",
    "g::",
    "::1.2.3",
    "::1.2.3.256",
    "1.2.3.4::",
    "1:2:3:4:5:1.2.3.4", // 14 bytes without "::"
    "1:2:3:4:5:6:7:1.2.3.4",
    "::1.2.3.4:1",
    "fe80::1%eth0",
    "[::1]",
    "::1/128",
  ];
  for (const text of bad) {
    it(`rejects ${JSON.stringify(text)}`, () => invalid(() => ipFromString(text)));
  }

  it("round-trips with ipToString", () => {
    for (const text of ["10.0.0.1", "::", "::1", "2001:db8::1:0:0:1", "::102:304", "fe80::1:2", "1:0:0:2::3"]) {
      assert.equal(ipToString(ipFromString(text)), text);
    }
    assert.equal(ipToString(ipFromString("::ffff:10.0.0.1")), "10.0.0.1");
    assert.equal(ipToString(ipFromString("2001:0db8:0000:0000:0000:0000:0000:0001")), "2001:db8::1");
  });

  it("returns a new 16-byte array each time", () => {
    const a = ipFromString("::1");
    const b = ipFromString("::1");
    assert.equal(a.length, 16);
    assert.notEqual(a, b);
    a[0] = 9;
    assert.equal(b[0], 0);
  });
});

describe("netAddress", () => {
  it("fills defaults: services 0, timestamp 0", () => {
    const na = netAddress({ ip: "10.0.0.1", port: 18555 });
    assert.deepEqual(na, {
      timestamp: 0,
      services: 0n,
      ip: fromHex("00000000000000000000ffff0a000001"),
      port: 18555,
    });
  });
  it("takes services, timestamp and IP bytes", () => {
    const ip = fromHex("20010db8000000000000000000000001");
    const na = netAddress({ ip, port: 1, services: 0x4dn, timestamp: 0xffffffff });
    assert.equal(na.ip, ip);
    assert.equal(na.services, 0x4dn);
    assert.equal(na.timestamp, 0xffffffff);
    assert.equal(na.port, 1);
  });
  it("rejects a bad IP, port, timestamp or services", () => {
    invalid(() => netAddress({ ip: "1.2.3", port: 1 }));
    invalid(() => netAddress({ ip: "::1", port: 65536 }));
    invalid(() => netAddress({ ip: "::1", port: -1 }));
    invalid(() => netAddress({ ip: "::1", port: 1.5 }));
    invalid(() => netAddress({ ip: "::1", port: 1, timestamp: -1 }));
    invalid(() => netAddress({ ip: "::1", port: 1, timestamp: 2 ** 32 }));
    invalid(() => netAddress({ ip: "::1", port: 1, services: -1n }));
    invalid(() => netAddress({ ip: "::1", port: 1, services: 1n << 64n }));
  });
});
