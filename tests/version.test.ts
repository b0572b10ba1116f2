import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { fromHex, hashFromHex, toHex } from "../src/wire/hex.ts";
import { ipFromString } from "../src/wire/ip.ts";
import { versionCodec, type VersionMessage } from "../src/wire/messages/version.ts";
import {
  BIP0031_VERSION,
  BIP0035_VERSION,
  BIP0037_VERSION,
  MULTIPLE_ADDRESS_VERSION,
  NET_ADDRESS_TIME_VERSION,
  PROTOCOL_VERSION,
} from "../src/wire/protocol.ts";
import { Reader } from "../src/wire/reader.ts";
import { hexCodec, throwsKind } from "./_util.ts";

const { encode, decode } = hexCodec(versionCodec);

const SIMNET_GENESIS = "5f2694c9f5d5808adf308c62995154d29596c36c554b15d3d95cdd6bebaf6cb2";

// A version message as a simnet node would send it.
function baseMessage(): VersionMessage {
  return {
    command: "version",
    protocolVersion: 70013,
    services: 0x4dn,
    timestamp: 1577836800n,
    addrYou: { timestamp: 0, services: 1n, ip: ipFromString("10.0.0.2"), port: 18555 },
    addrMe: { timestamp: 0, services: 0n, ip: ipFromString("::"), port: 0 },
    nonce: 0x0123456789abcdefn,
    userAgent: "/soterwire:0.6.0/",
    genesisHash: hashFromHex(SIMNET_GENESIS),
    lastBlock: 1234,
    disableRelayTx: false,
  };
}
const HEX = {
  pver: "7d110100",
  services: "4d00000000000000",
  timestamp: "00e10b5e00000000",
  addrYou: "0100000000000000" + "00000000000000000000ffff0a000002" + "487b",
  addrMe: "0000000000000000" + "00000000000000000000000000000000" + "0000",
  nonce: "efcdab8967452301",
  userAgent: "11" + "2f736f746572776972653a302e362e302f",
  genesis: "b26cafeb6bdd5cd9d3154b556cc39695d2545199628c30df8a80d5f5c994265f",
  lastBlock: "d2040000",
};
const NO_RELAY = HEX.pver + HEX.services + HEX.timestamp + HEX.addrYou + HEX.addrMe + HEX.nonce +
  HEX.userAgent + HEX.genesis + HEX.lastBlock;
// Offsets of each field in NO_RELAY.
const AT = {
  services: 4,
  timestamp: 12,
  addrYou: 20,
  addrMe: 46,
  nonce: 72,
  userAgent: 80,
  genesis: 98,
  lastBlock: 130,
  end: 134,
};

describe("version codec: limits", () => {
  it("has command version", () => assert.equal(versionCodec.command, "version"));
  it("computes MaxPayloadLength as soterd: 33 + 2 * address + 9 + 256", () => {
    assert.equal(versionCodec.maxPayloadLength(PROTOCOL_VERSION), 358);
    assert.equal(versionCodec.maxPayloadLength(NET_ADDRESS_TIME_VERSION), 358);
    assert.equal(versionCodec.maxPayloadLength(NET_ADDRESS_TIME_VERSION - 1), 350);
    assert.equal(versionCodec.maxPayloadLength(MULTIPLE_ADDRESS_VERSION), 350);
    assert.equal(versionCodec.maxPayloadLength(0), 350);
  });
  it("fits a 240-byte user agent in 358 bytes but a 241-byte one overflows", () => {
    const msg = { ...baseMessage(), userAgent: "u".repeat(240) };
    assert.equal(encode(msg).length / 2, 358);
    msg.userAgent = "u".repeat(241);
    assert.equal(encode(msg).length / 2, 359); // encodes, but exceeds the frame limit
  });
});

describe("version codec: wire format", () => {
  it("writes every field in soterd's order", () => {
    assert.equal(NO_RELAY.length / 2, AT.end);
    assert.equal(encode(baseMessage()), NO_RELAY + "01");
  });

  const pvers: Array<[string, number, boolean]> = [
    ["latest", PROTOCOL_VERSION, true],
    ["BIP0037Version", BIP0037_VERSION, true],
    ["BIP0037Version - 1", BIP0037_VERSION - 1, false],
    ["BIP0035Version", BIP0035_VERSION, false],
    ["BIP0031Version", BIP0031_VERSION, false],
    ["NetAddressTimeVersion", NET_ADDRESS_TIME_VERSION, false],
    ["MultipleAddressVersion", MULTIPLE_ADDRESS_VERSION, false],
    ["0", 0, false],
  ];
  for (const [name, pver, relay] of pvers) {
    it(`round-trips at pver ${name} (${pver}), relay byte ${relay ? "written" : "omitted"}`, () => {
      const msg = baseMessage();
      const hex = encode(msg, pver);
      assert.equal(hex, NO_RELAY + (relay ? "01" : ""));
      assert.deepEqual(decode(hex, pver), msg);
    });
  }

  it("writes disableRelayTx as an inverted relay byte", () => {
    const msg = { ...baseMessage(), disableRelayTx: true };
    const hex = encode(msg, BIP0037_VERSION);
    assert.equal(hex, NO_RELAY + "00");
    assert.deepEqual(decode(hex, BIP0037_VERSION), msg);
  });

  it("keeps extreme values", () => {
    const msg: VersionMessage = {
      ...baseMessage(),
      protocolVersion: -1,
      services: 0xffff_ffff_ffff_ffffn,
      timestamp: -0x8000_0000_0000_0000n,
      nonce: 0n,
      lastBlock: -0x8000_0000,
      addrYou: { timestamp: 0, services: 0n, ip: ipFromString("2001:db8::1:0:0:1"), port: 65535 },
    };
    assert.deepEqual(decode(encode(msg)), msg);
    msg.timestamp = 12874276869n; // beyond 2^32
    msg.protocolVersion = 0x7fffffff;
    assert.deepEqual(decode(encode(msg)), msg);
  });

  it("round-trips a multi-byte user agent, counting bytes", () => {
    const msg = { ...baseMessage(), userAgent: "/Sötér:1.0(ünïcode; 日本)/" };
    const hex = encode(msg);
    assert.equal(hex.slice(AT.userAgent * 2, AT.userAgent * 2 + 2), "20"); // 32 bytes
    assert.deepEqual(decode(hex), msg);
  });

  it("keeps a leading byte order mark in the user agent", () => {
    const msg = { ...baseMessage(), userAgent: "\ufeff/x:1.0.0/" };
    assert.equal(decode(encode(msg)).userAgent, "\ufeff/x:1.0.0/");
  });

  it("writes empty IPs as 16 zero bytes", () => {
    const msg = baseMessage();
    msg.addrMe = { timestamp: 0, services: 0n, ip: new Uint8Array(0), port: 0 };
    assert.equal(encode(msg), NO_RELAY + "01");
  });

  it("never writes address timestamps", () => {
    const msg = baseMessage();
    msg.addrYou.timestamp = 12345;
    assert.equal(encode(msg), NO_RELAY + "01");
    assert.equal(decode(NO_RELAY + "01").addrYou.timestamp, 0);
  });

  it("decodes hashes and IPs as views into the input", () => {
    const input = fromHex(NO_RELAY + "01");
    const msg = decode(input);
    assert.equal(msg.genesisHash.buffer, input.buffer);
    assert.equal(msg.genesisHash.byteOffset, AT.genesis);
    assert.equal(msg.addrYou.ip.buffer, input.buffer);
    assert.equal(msg.addrMe.ip.buffer, input.buffer);
  });

  it("refuses a genesis hash that is not 32 bytes", () => {
    throwsKind(() => encode({ ...baseMessage(), genesisHash: new Uint8Array(31) }), "invalid-value");
  });

  it("refuses out-of-range numbers", () => {
    throwsKind(() => encode({ ...baseMessage(), protocolVersion: 2 ** 31 }), "invalid-value");
    throwsKind(() => encode({ ...baseMessage(), lastBlock: -(2 ** 31) - 1 }), "invalid-value");
    throwsKind(() => encode({ ...baseMessage(), services: -1n }), "invalid-value");
    throwsKind(() => encode({ ...baseMessage(), timestamp: 1n << 63n }), "invalid-value");
    throwsKind(() => encode({ ...baseMessage(), nonce: 1n << 64n }), "invalid-value");
  });
});

describe("version codec: optional fields", () => {
  const full = baseMessage();
  const zeroAddr = { timestamp: 0, services: 0n, ip: new Uint8Array(0), port: 0 };
  const cases: Array<[string, number, Partial<VersionMessage>]> = [
    ["only up to addrYou", AT.addrMe, {
      addrMe: zeroAddr,
      nonce: 0n,
      userAgent: "",
      genesisHash: new Uint8Array(32),
      lastBlock: 0,
    }],
    ["up to addrMe", AT.nonce, { nonce: 0n, userAgent: "", genesisHash: new Uint8Array(32), lastBlock: 0 }],
    ["up to the nonce", AT.userAgent, { userAgent: "", genesisHash: new Uint8Array(32), lastBlock: 0 }],
    ["up to the user agent", AT.genesis, { genesisHash: new Uint8Array(32), lastBlock: 0 }],
    ["up to the genesis hash", AT.lastBlock, { lastBlock: 0 }],
    ["up to the last block", AT.end, {}],
  ];
  for (const [name, cut, zeroed] of cases) {
    for (const pver of [PROTOCOL_VERSION, 0]) {
      it(`decodes a payload ${name} at pver ${pver}, missing fields zero`, () => {
        const got = decode(NO_RELAY.slice(0, cut * 2), pver);
        assert.deepEqual(got, { ...full, ...zeroed, disableRelayTx: false });
      });
    }
  }

  it("gives an absent addrMe an empty IP, unlike a present all-zero one", () => {
    assert.equal(decode(NO_RELAY.slice(0, AT.addrMe * 2)).addrMe.ip.length, 0);
    assert.equal(decode(NO_RELAY.slice(0, AT.nonce * 2)).addrMe.ip.length, 16);
  });

  it("re-encodes missing fields as zeros", () => {
    const msg = decode(NO_RELAY.slice(0, AT.addrMe * 2));
    const hex = encode(msg);
    assert.equal(
      hex,
      NO_RELAY.slice(0, AT.addrMe * 2) + "00".repeat(26) + "00".repeat(8) + "00" + "00".repeat(32) +
        "00000000" + "01",
    );
  });

  it("treats any non-zero relay byte as relay", () => {
    for (const b of ["01", "02", "7f", "ff"]) {
      assert.equal(decode(NO_RELAY + b).disableRelayTx, false, b);
    }
    assert.equal(decode(NO_RELAY + "00").disableRelayTx, true);
  });

  it("reads a relay byte even below BIP0037Version, and drops it on re-encode", () => {
    const msg = decode(NO_RELAY + "00", BIP0031_VERSION);
    assert.equal(msg.disableRelayTx, true);
    assert.equal(encode(msg, BIP0031_VERSION), NO_RELAY);
  });

  it("ignores bytes after the relay flag", () => {
    assert.deepEqual(decode(NO_RELAY + "01" + "deadbeef"), full);
  });

  it("reads only within the reader's end", () => {
    const input = fromHex(NO_RELAY + "00ff");
    const msg = versionCodec.decode(new Reader(input.subarray(0, AT.end), "version"), PROTOCOL_VERSION, "base");
    assert.equal(msg.disableRelayTx, false);
  });
});

describe("version codec: truncation", () => {
  const cuts: Array<[string, number]> = [
    ["empty payload", 0],
    ["inside the protocol version", 2],
    ["before the services", AT.services],
    ["inside the services", AT.services + 5],
    ["before the timestamp", AT.timestamp],
    ["inside the timestamp", AT.timestamp + 1],
    ["before addrYou", AT.addrYou],
    ["inside addrYou's services", AT.addrYou + 3],
    ["inside addrYou's IP", AT.addrYou + 10],
    ["inside addrYou's port", AT.addrYou + 25],
    ["inside addrMe", AT.addrMe + 1],
    ["inside addrMe's port", AT.addrMe + 25],
    ["inside the nonce", AT.nonce + 7],
    ["inside the user agent", AT.userAgent + 1],
    ["inside the user agent's end", AT.genesis - 1],
    ["inside the genesis hash", AT.genesis + 1],
    ["inside the genesis hash's end", AT.lastBlock - 1],
    ["inside the last block", AT.lastBlock + 3],
  ];
  for (const [name, cut] of cuts) {
    it(`fails with truncated when the payload ends ${name} (${cut})`, () => {
      throwsKind(() => decode(NO_RELAY.slice(0, cut * 2)), "truncated");
    });
  }

  it("fails inside a multi-byte user agent length", () => {
    throwsKind(() => decode(NO_RELAY.slice(0, AT.userAgent * 2) + "fd01"), "truncated");
  });
});

describe("version codec: user agent", () => {
  const prefix = NO_RELAY.slice(0, AT.userAgent * 2);
  const rest = HEX.genesis + HEX.lastBlock + "01";
  const uaHex = (n: number) =>
    (n < 0xfd ? n.toString(16).padStart(2, "0") : "fd" + toHex(new Uint8Array([n & 0xff, n >> 8]))) +
    "61".repeat(n);

  it("accepts 256 bytes both ways", () => {
    const msg = decode(prefix + uaHex(256) + rest);
    assert.equal(msg.userAgent, "a".repeat(256));
    assert.equal(encode(msg), prefix + uaHex(256) + rest);
  });

  it("refuses 257 bytes when decoding, even with nothing after it", () => {
    throwsKind(() => decode(prefix + uaHex(257) + rest), "user-agent-too-long");
    throwsKind(() => decode(prefix + uaHex(257)), "user-agent-too-long");
    throwsKind(() => decode(prefix + uaHex(300)), "user-agent-too-long");
  });

  it("checks the length only after reading the string", () => {
    // 257 bytes announced, 10 present: the input ends first.
    throwsKind(() => decode(prefix + "fd0101" + "61".repeat(10)), "truncated");
  });

  it("refuses 257 bytes when encoding, counting UTF-8 bytes", () => {
    throwsKind(() => encode({ ...baseMessage(), userAgent: "a".repeat(257) }), "user-agent-too-long");
    throwsKind(() => encode({ ...baseMessage(), userAgent: "é".repeat(128) + "a" }), "user-agent-too-long");
    const ok = { ...baseMessage(), userAgent: "é".repeat(128) };
    assert.deepEqual(decode(encode(ok)), ok);
  });

  it("refuses a length beyond 32 MiB as too-large", () => {
    throwsKind(() => decode(prefix + "fe01000002"), "too-large");
  });

  it("refuses a non-canonical length", () => {
    throwsKind(() => decode(prefix + "fd0300" + "616263" + rest), "non-canonical-varint");
  });
});
