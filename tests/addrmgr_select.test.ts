import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { addressKey, AddressKeyError } from "../src/pool/addrkey.ts";
import { AddrManager } from "../src/pool/addrmgr.ts";
import { StorageError } from "../src/storage/storage.ts";
import { ADDRMGR } from "../src/pool/knownaddress.ts";
import { AddressPriority } from "../src/pool/localaddr.ts";
import { inGroup, testManager, v4 } from "./_addrmgr.ts";

/** Fills a manager with `n` addresses in distinct groups from 200 sources. */
function fill(n: number, seed = 1) {
  const t = testManager(seed);
  for (let i = 0; i < n; i++) t.am.addAddress(inGroup(i, i % 1000, t.nowSec()), inGroup(20_000 + (i % 200), 1));
  assert.equal(t.am.size, n);
  return t;
}

describe("selection", () => {
  it("returns nothing from an empty manager", () => {
    assert.equal(testManager(1).am.getAddress(), undefined);
    assert.equal(testManager(1).am.pickOutbound(), undefined);
  });

  it("picks the tried and the new table with even odds", async () => {
    const { am, clock } = fill(200, 4);
    const all = am.allAddresses();
    for (const na of all.slice(0, 100)) am.good(na);
    await clock.advance(20 * 60_000); // good() counts as an attempt: let it age
    let tried = 0;
    const picks = 4000;
    for (let i = 0; i < picks; i++) if (am.getAddress()!.tried) tried++;
    assert.ok(tried > picks * 0.45 && tried < picks * 0.55, `${tried} of ${picks} from tried`);
  });

  it("rarely picks an address attempted in the last 10 minutes", () => {
    const { am, nowSec } = testManager(9);
    const fresh = v4(8, 8, 8, 8, 18555, nowSec());
    const recent = v4(9, 9, 9, 9, 18555, nowSec());
    am.addAddresses([fresh, recent], v4(5, 6, 7, 8));
    am.attempt(recent);
    const counts = new Map<string, number>();
    for (let i = 0; i < 2000; i++) {
      const k = am.getAddress()!.key;
      counts.set(k, (counts.get(k) ?? 0) + 1);
    }
    // Each draw picks either with even odds; the recent one passes 1% of
    // the time (growing 1.2x per failed draw): about 1% of picks.
    const r = counts.get("9.9.9.9:18555") ?? 0;
    assert.ok(r > 0 && r < 100, `recent address picked ${r} times of 2000`);
  });

  it("picks outbound addresses as soterd's server: skipping, then recent, then other ports", () => {
    const { am, nowSec } = testManager(2);
    const a = v4(8, 8, 8, 8, 18555, nowSec());
    const b = v4(9, 9, 9, 9, 7777, nowSec());
    am.addAddresses([a, b], v4(5, 6, 7, 8));
    for (let i = 0; i < 50; i++) assert.equal(am.pickOutbound({ defaultPort: 18555 })!.key, "8.8.8.8:18555");
    assert.equal(am.pickOutbound({ defaultPort: 18555, skip: (ka) => ka.group === "8.8.0.0" })!.key, "9.9.9.9:7777");
    assert.equal(am.pickOutbound({ skip: () => true }), undefined);
    assert.equal(am.pickOutbound({ skip: (ka) => ka.key === "9.9.9.9:7777", tries: 0 }), undefined);
    am.attempt(a);
    am.attempt(b);
    let picks = 0;
    const ka = am.pickOutbound({
      skip: () => {
        picks++;
        return false;
      },
    });
    assert.ok(ka, "recently attempted addresses are accepted after 30 picks");
    assert.equal(picks, 31);
  });
});

describe("getaddr answers", () => {
  it("holds 23% of the known addresses", () => {
    for (const n of [0, 4, 5, 100, 1000]) {
      const { am } = fill(n);
      const cache = am.addressCache();
      assert.equal(cache.length, Math.floor((n * 23) / 100), `${n} known`);
      const keys = new Set(cache.map(addressKey));
      assert.equal(keys.size, cache.length, "no address twice");
      for (const k of keys) assert.ok(am.find(k));
    }
  });

  it("holds at most 2,500 addresses and differs between calls", () => {
    const { am } = fill(11_000);
    const a = am.addressCache();
    assert.equal(a.length, ADDRMGR.getAddrMax);
    const b = am.addressCache().map(addressKey);
    assert.notDeepEqual(a.map(addressKey), b);
    assert.equal(am.allAddresses().length, 11_000);
  });

  it("hands out copies", () => {
    const { am, nowSec } = testManager(1);
    am.addAddress(v4(8, 8, 8, 8, 18555, nowSec()), v4(5, 6, 7, 8));
    const [na] = am.allAddresses();
    na!.port = 1;
    na!.timestamp = 0;
    assert.equal(am.allAddresses()[0]!.port, 18555);
  });

  it("wants more addresses below 1000", () => {
    assert.equal(fill(999).am.needMoreAddresses(), true);
    assert.equal(fill(1000).am.needMoreAddresses(), false);
  });
});

describe("learning from messages", () => {
  it("takes addr, moving timestamps from the future 5 days back", () => {
    const { am, nowSec } = testManager(1);
    const src = v4(5, 6, 7, 8);
    const added = am.addAddrMessage({
      command: "addr",
      addrList: [v4(8, 8, 8, 8, 18555, nowSec() + 3600), v4(9, 9, 9, 9, 18555, nowSec()), v4(10, 0, 0, 1)],
    }, src);
    assert.equal(added, 2);
    assert.equal(am.find("8.8.8.8:18555")!.na.timestamp, nowSec() - 5 * 86400);
    assert.equal(am.find("9.9.9.9:18555")!.na.timestamp, nowSec());
    assert.equal(am.find("8.8.8.8:18555")!.src.port, 18555);
  });

  it("takes an address as text, seen now, as its own source", () => {
    const { am, nowSec } = testManager(1);
    assert.equal(am.addAddressByIp("[2a01:4f8::9]:18555"), true);
    assert.equal(am.addAddressByIp("127.0.0.1:18555"), false);
    const ka = am.find("[2a01:4f8::9]:18555")!;
    assert.equal(ka.na.timestamp, nowSec());
    assert.equal(ka.src.port, 18555);
    assert.throws(() => am.addAddressByIp("seed.example.org:18555"), AddressKeyError);
  });

  it("takes the outbound and known lists of addrcache, not inbound", () => {
    const { am, nowSec } = testManager(1);
    const added = am.addAddrCacheMessage({
      command: "addrcache",
      inbound: [v4(1, 1, 1, 1, 50123, nowSec())],
      outbound: [v4(2, 2, 2, 2, 18555, nowSec())],
      known: [v4(3, 3, 3, 3, 18555, nowSec()), v4(2, 2, 2, 2, 18555, nowSec())],
    }, v4(5, 6, 7, 8));
    assert.equal(added, 2);
    assert.equal(am.find("1.1.1.1:50123"), undefined);
    assert.ok(am.find("3.3.3.3:18555"));
  });
});

describe("lifecycle", () => {
  it("saves every 10 minutes on the clock and at stop", async () => {
    const { am, clock, storage, events, nowSec } = testManager(1);
    await am.start();
    assert.deepEqual(events, []);
    am.addAddress(v4(8, 8, 8, 8, 18555, nowSec()), v4(5, 6, 7, 8));
    await clock.advance(ADDRMGR.saveIntervalMs - 1);
    assert.equal(await storage.read("peers.json"), undefined);
    await clock.advance(1);
    assert.deepEqual(events, [{ type: "saved", file: "peers.json", addresses: 1 }]);
    am.addAddress(v4(9, 9, 9, 9, 18555, nowSec()), v4(5, 6, 7, 8));
    await clock.advance(ADDRMGR.saveIntervalMs);
    assert.equal(events.length, 2);
    await am.stop();
    assert.equal(events.length, 3);
    assert.equal(clock.pendingTimers, 0);
    await am.stop();
    await am.start(); // stopped for good
    assert.equal(events.length, 3);
    assert.equal(clock.pendingTimers, 0);
  });

  it("saves only at stop with an interval of 0, and never without storage", async () => {
    const { am, clock, events } = testManager(1, { saveIntervalMs: 0 });
    await am.start();
    assert.equal(clock.pendingTimers, 0);
    await am.stop();
    assert.deepEqual(events.map((e) => e.type), ["saved"]);
    const bare = new AddrManager({ clock });
    await bare.start();
    await bare.save();
    await bare.stop();
    assert.equal(clock.pendingTimers, 0);
  });

  it("keeps the node's own addresses apart from the book", () => {
    const { am } = testManager(1);
    assert.equal(am.addLocalAddress(v4(8, 8, 8, 8), AddressPriority.BOUND), true);
    assert.equal(am.addLocalAddress(v4(10, 0, 0, 1), AddressPriority.BOUND), false);
    assert.equal(addressKey(am.bestLocalAddress(v4(1, 1, 1, 1))), "8.8.8.8:18555");
    assert.equal(am.localAddresses().length, 1);
    assert.equal(am.size, 0);
  });

  it("refuses bad options with typed errors", () => {
    assert.throws(() => new AddrManager({ key: new Uint8Array(31) }), RangeError);
    assert.throws(() => new AddrManager({ saveIntervalMs: -1 }), RangeError);
    assert.throws(() => new AddrManager({ saveIntervalMs: NaN }), RangeError);
    assert.throws(() => new AddrManager({ fileName: "../peers.json" }), StorageError);
  });
});
