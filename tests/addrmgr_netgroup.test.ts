import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { addressKey, AddressKeyError, parseAddressKey } from "../src/pool/addrkey.ts";
import {
  groupKey,
  isIPv4,
  isLocal,
  isOnionCatTor,
  isRoutable,
  isValidAddress,
  reservedRange,
} from "../src/pool/netgroup.ts";
import { AddressPriority, LocalAddresses, reachability } from "../src/pool/localaddr.ts";
import { ipFromString } from "../src/wire/ip.ts";

const at = (ip: string) => ({ ip: ipFromString(ip) });

describe("groupKey", () => {
  const cases: Array<[string, string]> = [
    ["8.8.4.4", "8.8.0.0"],
    ["203.0.114.1", "203.0.0.0"],
    ["127.0.0.1", "local"],
    ["127.255.0.9", "local"],
    ["::1", "local"],
    ["0.1.2.3", "local"],
    ["0.0.0.0", "local"],
    ["::", "unroutable"],
    ["255.255.255.255", "unroutable"],
    ["10.1.2.3", "unroutable"],
    ["172.16.5.5", "unroutable"],
    ["172.31.255.255", "unroutable"],
    ["192.168.0.1", "unroutable"],
    ["169.254.1.1", "unroutable"],
    ["198.18.0.1", "unroutable"],
    ["198.19.255.1", "unroutable"],
    ["192.0.2.1", "unroutable"],
    ["198.51.100.7", "unroutable"],
    ["203.0.113.9", "unroutable"],
    ["100.64.0.1", "unroutable"],
    ["100.127.255.1", "unroutable"],
    ["fe80::1", "unroutable"],
    ["2001:db8::1", "unroutable"],
    ["2001:10::1", "unroutable"],
    ["2001:1f::1", "unroutable"],
    ["fc00::1", "unroutable"],
    ["fdff::1", "unroutable"],
    ["2a01:4f8:1:2::3", "2a01:4f8::"],
    ["2001:470:abcd::1", "2001:470:a000::"], // Hurricane Electric: /36
    ["2002:102:304::1", "1.2.0.0"], // 6to4
    ["64:ff9b::808:404", "8.8.0.0"], // NAT64
    ["::ffff:0:808:404", "8.8.0.0"], // IPv4-translated
    ["2001:0:4136:e378:8000:63bf:3fff:fdd2", "192.0.0.0"], // Teredo: inverted 192.0.2.45
    ["fd87:d87e:eb43:1234::1", "tor:2"],
    ["fd87:d87e:eb43:ff00::", "tor:15"],
  ];
  for (const [ip, group] of cases) {
    it(`${ip} is in group ${group}`, () => assert.equal(groupKey(at(ip)), group));
  }

  it("takes 4-byte IPv4 addresses and treats other lengths as no address", () => {
    assert.equal(groupKey({ ip: Uint8Array.of(8, 8, 4, 4) }), "8.8.0.0");
    assert.equal(groupKey({ ip: new Uint8Array(0) }), "unroutable");
    assert.equal(groupKey({ ip: new Uint8Array(5) }), "unroutable");
  });

  it("is the /16 of every routable IPv4 address", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 4, maxLength: 4 }), (b) => {
        const na = { ip: b };
        if (!isRoutable(na)) return;
        assert.equal(groupKey(na), `${b[0]}.${b[1]}.0.0`);
      }),
    );
  });
});

describe("isRoutable and friends", () => {
  it("accepts public, Tor, 6to4 and Teredo addresses", () => {
    for (const ip of ["8.8.8.8", "2a01:4f8::1", "fd87:d87e:eb43::1", "2002:102:304::", "2001::1", "64:ff9b::101:101"]) {
      assert.equal(isRoutable(at(ip)), true, ip);
    }
  });

  it("names the reserved range an address is in", () => {
    const cases: Array<[string, string | undefined]> = [
      ["8.8.8.8", undefined],
      ["10.0.0.1", "RFC1918"],
      ["198.18.3.4", "RFC2544"],
      ["2001:db8::", "RFC3849"],
      ["169.254.0.1", "RFC3927"],
      ["2002::1", "RFC3964"],
      ["fc00::", "RFC4193"],
      ["2001::1", "RFC4380"],
      ["2001:10::", "RFC4843"],
      ["fe80::2", "RFC4862"],
      ["203.0.113.1", "RFC5737"],
      ["64:ff9b::1", "RFC6052"],
      ["::ffff:0:1.2.3.4", "RFC6145"],
      ["100.64.1.1", "RFC6598"],
      ["fd87:d87e:eb43::", "OnionCat"],
      ["127.0.0.1", "local"],
      ["::", "invalid"],
      ["255.255.255.255", "invalid"],
    ];
    for (const [ip, name] of cases) assert.equal(reservedRange(at(ip)), name, ip);
  });

  it("fe80::/64 only is link-local, as soterd (not all of fe80::/10)", () => {
    assert.equal(isRoutable(at("fe80::1")), false);
    assert.equal(isRoutable(at("fe80:0:0:1::1")), true);
  });

  it("tells IPv4, local, Tor and valid addresses apart", () => {
    assert.equal(isIPv4(at("1.2.3.4")), true);
    assert.equal(isIPv4(at("::102:304")), false);
    assert.equal(isLocal(at("127.3.3.3")), true);
    assert.equal(isLocal(at("::2")), false);
    assert.equal(isOnionCatTor(at("fd87:d87e:eb43::9")), true);
    assert.equal(isOnionCatTor(at("fd87:d87e:eb44::9")), false);
    assert.equal(isValidAddress(at("0.0.0.0")), false);
    assert.equal(isValidAddress(at("0.0.0.1")), true);
    assert.equal(isValidAddress({ ip: new Uint8Array(3) }), false);
  });
});

describe("address keys", () => {
  it("prints IPv4, IPv6 and Tor addresses as soterd's NetAddressKey", () => {
    assert.equal(addressKey({ ip: ipFromString("1.2.3.4"), port: 18555 }), "1.2.3.4:18555");
    assert.equal(addressKey({ ip: ipFromString("2001:db8::1"), port: 1 }), "[2001:db8::1]:1");
    const onion = parseAddressKey("expyuzz4wqqyqhjn.onion:9050");
    assert.equal(addressKey(onion), "expyuzz4wqqyqhjn.onion:9050");
    assert.equal(isOnionCatTor(onion), true);
    assert.deepEqual([...onion.ip.subarray(0, 6)], [0xfd, 0x87, 0xd8, 0x7e, 0xeb, 0x43]);
    assert.equal(parseAddressKey("EXPYUZZ4WQQYQHJN.onion:9050").ip.join(), onion.ip.join());
  });

  it("round-trips every address and port", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.integer({ min: 0, max: 65535 }), (ip, port) => {
        const back = parseAddressKey(addressKey({ ip, port }));
        assert.deepEqual([...back.ip], [...ip]);
        assert.equal(back.port, port);
      }),
    );
  });

  it("rejects text that is not an address key with a typed error", () => {
    for (
      const bad of [
        "1.2.3.4",
        "1.2.3.4:65536",
        "1.2.3.4:-1",
        "1.2.3.4:",
        "[::1]8333",
        "[::1:8333",
        "::1:8333",
        "seed.example.org:18555",
        "1.2.3.256:1",
        "zzzzzzzzzzzzzzz1.onion:1",
        "",
      ]
    ) {
      assert.throws(() => parseAddressKey(bad), (e) => e instanceof AddressKeyError && e.key.length <= bad.length, bad);
    }
  });
});

describe("own addresses", () => {
  const na = (ip: string, port = 18555) => ({ ip: ipFromString(ip), port, services: 1n, timestamp: 0 });

  it("rates how well a peer reaches each of our addresses as soterd", () => {
    const cases: Array<[string, string, number]> = [
      ["8.8.8.8", "10.0.0.1", 0], // an unroutable peer
      ["8.8.8.8", "9.9.9.9", 4],
      ["2a01::1", "9.9.9.9", 0],
      ["8.8.8.8", "2a01::1", 4],
      ["2a02::1", "2a01::1", 5],
      ["2002:808:808::1", "2a01::1", 3], // 6to4 is a tunnel
      ["2001::1", "2a01::1", 2],
      ["10.0.0.1", "2a01::1", 1],
      ["fd87:d87e:eb43::1", "fd87:d87e:eb43::2", 6],
      ["8.8.8.8", "fd87:d87e:eb43::2", 4],
      ["2a01::1", "fd87:d87e:eb43::2", 1],
      ["2001::1", "2001::2", 2],
      ["8.8.8.8", "2001::2", 4],
      ["2a01::1", "2001::2", 3],
    ];
    for (const [local, remote, want] of cases) {
      assert.equal(reachability(at(local), at(remote)), want, `${local} ← ${remote}`);
    }
  });

  it("advertises the best reachable address, then the most trusted", () => {
    const own = new LocalAddresses();
    assert.equal(own.add(na("192.168.1.2"), AddressPriority.MANUAL), false);
    assert.equal(own.add(na("8.8.8.8"), AddressPriority.INTERFACE), true);
    own.add(na("9.9.9.9"), AddressPriority.BOUND);
    own.add(na("2a02::1"), AddressPriority.MANUAL);
    assert.equal(addressKey(own.best(at("1.1.1.1"))), "9.9.9.9:18555");
    assert.equal(addressKey(own.best(at("2a01::7"))), "[2a02::1]:18555");
    own.add(na("8.8.8.8"), AddressPriority.UPNP); // seen again, more trusted: score 3
    assert.equal(addressKey(own.best(at("1.1.1.1"))), "8.8.8.8:18555");
    assert.equal(own.list().length, 3);
  });

  it("offers an unroutable placeholder when nothing is reachable", () => {
    const own = new LocalAddresses();
    own.add(na("2a02::1"), AddressPriority.MANUAL);
    const v4 = own.best(at("1.1.1.1"));
    assert.equal(addressKey(v4), "0.0.0.0:0");
    assert.equal(v4.services, 13n);
    assert.equal(isRoutable(v4), false);
    assert.equal(addressKey(new LocalAddresses().best(at("2a01::1"))), "[::]:0");
  });
});
