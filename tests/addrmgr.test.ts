import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { jsHasher } from "../src/hash/hasher.ts";
import { addressKey } from "../src/pool/addrkey.ts";
import { AddrManager } from "../src/pool/addrmgr.ts";
import { triedBucketIndex } from "../src/pool/buckets.ts";
import { ADDRMGR, KnownAddressEntry } from "../src/pool/knownaddress.ts";
import { groupKey } from "../src/pool/netgroup.ts";
import { decodePeersFile, type PeersFile } from "../src/pool/peersjson.ts";
import { MemoryStorage } from "../src/storage/memory.ts";
import type { NetAddress } from "../src/wire/netaddress.ts";
import { inGroup, seededRandom, testManager, v4 } from "./_addrmgr.ts";

/** The manager's tables, read back from the file it saves. */
async function tables(am: AddrManager, storage: MemoryStorage): Promise<PeersFile> {
  await am.save();
  return decodePeersFile((await storage.read("peers.json"))!);
}

function bucketsHolding(buckets: string[][], keys: ReadonlySet<string>): number {
  return buckets.filter((b) => b.some((k) => keys.has(k))).length;
}

describe("new table bucketing", () => {
  it("puts everything one source group sends into at most 64 new buckets", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 2 ** 31 }),
        fc.integer({ min: 0, max: 5000 }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 20000 }), fc.integer({ min: 0, max: 65535 })), {
          minLength: 1,
          maxLength: 400,
        }),
        async (seed, srcGroup, addrs) => {
          const { am, storage, nowSec } = testManager(seed);
          const src = inGroup(srcGroup, 1);
          am.addAddresses(addrs.map(([g, i]) => inGroup(g, i, nowSec())), src);
          const t = await tables(am, storage);
          const keys = new Set(t.addresses.map((a) => a.addr));
          assert.ok(bucketsHolding(t.newBuckets, keys) <= ADDRMGR.newBucketsPerGroup);
          assert.ok(t.newBuckets.every((b) => b.length <= ADDRMGR.newBucketSize));
        },
      ),
      { numRuns: 25 },
    );
  });

  it("keeps an address flood from one source out of most of the table", async () => {
    const { am, storage, nowSec } = testManager(7);
    const honest = new Set<string>();
    for (let s = 0; s < 200; s++) {
      const list = Array.from({ length: 10 }, (_, i) => inGroup(3000 + s * 10 + i, s, nowSec() - 3600));
      am.addAddresses(list, inGroup(s, 1));
      for (const na of list) honest.add(addressKey(na));
    }
    assert.equal(am.size, 2000);
    // The attacker holds one /16 and announces 10,000 fresh addresses in 1,000 groups.
    const attacker = inGroup(9000, 1);
    for (let g = 0; g < 1000; g++) {
      am.addAddresses(Array.from({ length: 10 }, (_, i) => inGroup(10_000 + g, i, nowSec())), attacker);
    }
    const t = await tables(am, storage);
    const kept = t.addresses.filter((a) => honest.has(a.addr)).length;
    const theirs = t.addresses.length - kept;
    assert.ok(theirs <= ADDRMGR.newBucketsPerGroup * ADDRMGR.newBucketSize, `attacker holds ${theirs}`);
    assert.ok(kept >= 1700, `only ${kept} of 2000 honest addresses kept`);
  });

  it("lets a popular address into at most 8 new buckets", async () => {
    const { am, storage, nowSec } = testManager(3);
    const na = inGroup(1, 1, nowSec());
    for (let s = 0; s < 3000; s++) am.addAddress(na, inGroup(100 + s, 2));
    const ka = am.find(na)!;
    const t = await tables(am, storage);
    const holding = t.newBuckets.filter((b) => b.includes(ka.key)).length;
    assert.equal(holding, ka.refs);
    assert.ok(ka.refs > 1 && ka.refs <= ADDRMGR.newBucketsPerAddress, `refs ${ka.refs}`);
    assert.equal(am.stats().new, 1);
  });

  it("expires the bad entries and the oldest one of a full bucket", async () => {
    const { am, clock, nowSec } = testManager(5);
    const src = v4(5, 6, 7, 8);
    // One address group and one source group: all in the same new bucket.
    const base = nowSec() - 10_000;
    for (let i = 0; i < 64; i++) am.addAddress(v4(1, 2, 0, i + 1, 18555, base + i), src);
    assert.equal(am.stats().new, 64);
    am.addAddress(v4(1, 2, 0, 100, 18555, base + 500), src);
    assert.equal(am.stats().new, 64);
    assert.equal(am.find("1.2.0.1:18555"), undefined, "the oldest is gone");
    assert.ok(am.find("1.2.0.100:18555"));
    // Three addresses fail three times without ever working: bad, once the last attempt is a minute old.
    for (const k of ["1.2.0.10:18555", "1.2.0.11:18555", "1.2.0.12:18555"]) {
      for (let n = 0; n < 3; n++) am.attempt(k);
    }
    await clock.advance(2 * 60_000);
    am.addAddress(v4(1, 2, 0, 101, 18555, base + 501), src);
    assert.equal(am.stats().new, 61);
    for (const k of ["1.2.0.2", "1.2.0.10", "1.2.0.11", "1.2.0.12"]) assert.equal(am.find(`${k}:18555`), undefined);
  });

  it("drops unroutable addresses and port 0 unless told otherwise", () => {
    const { am, nowSec } = testManager(1);
    const src = v4(5, 6, 7, 8);
    const list = ["10.0.0.1", "127.0.0.1", "192.168.1.1", "0.0.0.0", "8.8.8.8"].map((ip) =>
      v4(...(ip.split(".").map(Number) as [number, number, number, number]), 18555, nowSec())
    );
    assert.equal(am.addAddresses([...list, v4(9, 9, 9, 9, 0)], src), 1);
    const open = testManager(1, { allowUnroutable: true }).am;
    assert.equal(open.addAddresses([...list, v4(9, 9, 9, 9, 0)], src), 4);
    assert.ok(open.find("127.0.0.1:18555"));
  });

  it("buckets kept private addresses by their own networks", () => {
    const { am, nowSec } = testManager(1, { allowUnroutable: true });
    const lan = Array.from({ length: 300 }, (_, i) => v4(10, i % 30, i >> 4, 1 + (i & 15), 18555, nowSec()));
    assert.equal(am.addAddresses(lan, v4(192, 168, 1, 1)), 300);
    assert.equal(am.size, 300, "not all in one bucket of 64");
  });

  it("refreshes a known address: newest timestamp, services merged", () => {
    const { am } = testManager(1);
    const src = v4(5, 6, 7, 8);
    am.addAddress({ ...v4(8, 8, 8, 8, 18555, 1000), services: 1n }, src);
    am.addAddress({ ...v4(8, 8, 8, 8, 18555, 2000), services: 4n }, src);
    am.addAddress({ ...v4(8, 8, 8, 8, 18555, 1500), services: 8n }, src);
    const ka = am.find("8.8.8.8:18555")!;
    assert.equal(ka.na.timestamp, 2000);
    assert.equal(ka.na.services, 13n);
    assert.equal(am.size, 1);
  });
});

describe("tried table", () => {
  it("spreads one address group over at most 8 tried buckets", async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 2 ** 31 }), fc.integer({ min: 0, max: 5000 }), async (seed, g) => {
        const { am, storage, nowSec } = testManager(seed);
        for (let i = 0; i < 200; i++) {
          const na = inGroup(g, i * 211, nowSec());
          am.addAddress(na, inGroup(g + 1 + (i % 50), 1));
          am.good(na);
        }
        const t = await tables(am, storage);
        const keys = new Set(t.addresses.map((a) => a.addr));
        assert.ok(bucketsHolding(t.triedBuckets, keys) <= ADDRMGR.triedBucketsPerGroup);
        assert.equal(am.stats().tried, t.triedBuckets.flat().length);
      }),
      { numRuns: 10 },
    );
  });

  it("sends the oldest address of a full tried bucket back to the new table", () => {
    const key = new Uint8Array(32).fill(9);
    const { am, nowSec } = testManager(11, { key });
    const same: NetAddress[] = [];
    for (let n = 0; same.length < ADDRMGR.triedBucketSize + 1; n++) {
      const na = inGroup(Math.floor(n / 100), n % 100, nowSec() - 100_000 + same.length);
      if (triedBucketIndex(jsHasher, key, addressKey(na), groupKey(na)) === 0) same.push(na);
    }
    same.forEach((na, i) => {
      am.addAddress(na, inGroup(4000 + i, 1));
      am.good(na);
    });
    assert.deepEqual(am.stats(), { new: 1, tried: ADDRMGR.triedBucketSize, total: ADDRMGR.triedBucketSize + 1 });
    const out = am.find(same[0]!)!;
    assert.equal(out.tried, false);
    assert.equal(out.refs, 1);
    assert.equal(am.find(same.at(-1)!)!.tried, true);
  });

  it("records attempts and successes", async () => {
    const { am, clock, nowSec } = testManager(1);
    const na = v4(8, 8, 8, 8, 18555, nowSec());
    am.addAddress(na, v4(5, 6, 7, 8));
    am.attempt(na);
    am.attempt("8.8.8.8:18555");
    const ka = am.find(na)!;
    assert.equal(ka.attempts, 2);
    assert.equal(ka.lastAttempt, clock.now());
    assert.equal(ka.lastSuccess, undefined);
    await clock.advance(5000);
    am.good(na);
    assert.equal(ka.attempts, 0);
    assert.equal(ka.lastSuccess, clock.now());
    assert.equal(ka.tried, true);
    assert.equal(ka.refs, 0);
    assert.equal(ka.na.timestamp, nowSec() - 5, "good() does not touch the last-seen time");
    am.good(na); // already tried: nothing moves
    assert.deepEqual(am.stats(), { new: 0, tried: 1, total: 1 });
    am.attempt("9.9.9.9:1"); // unknown: ignored
    am.good(v4(9, 9, 9, 9));
    assert.equal(am.size, 1);
  });

  it("refreshes the last-seen time of a connected address every 20 minutes", async () => {
    const { am, clock, nowSec } = testManager(1);
    const na = v4(8, 8, 8, 8, 18555, nowSec());
    am.addAddress(na, v4(5, 6, 7, 8));
    await clock.advance(19 * 60_000);
    am.connected(na);
    assert.equal(am.find(na)!.na.timestamp, na.timestamp);
    await clock.advance(2 * 60_000);
    am.connected(na);
    assert.equal(am.find(na)!.na.timestamp, nowSec());
  });

  it("forgets a removed address", () => {
    const { am, nowSec } = testManager(1);
    const a = v4(8, 8, 8, 8, 18555, nowSec());
    const b = v4(9, 9, 9, 9, 18555, nowSec());
    am.addAddresses([a, b], v4(5, 6, 7, 8));
    am.good(b);
    assert.equal(am.remove(a), true);
    assert.equal(am.remove("9.9.9.9:18555"), true);
    assert.equal(am.remove(a), false);
    assert.deepEqual(am.stats(), { new: 0, tried: 0, total: 0 });
    assert.equal(am.getAddress(), undefined);
  });
});

describe("bookkeeping", () => {
  it("stays consistent through any sequence of operations", async () => {
    // Two address groups and two source groups: four new buckets, which overflow.
    const op = fc.oneof(
      {
        arbitrary: fc.record({
          op: fc.constant("add"),
          g: fc.nat(1),
          i: fc.nat(200),
          s: fc.nat(1),
          age: fc.nat(40 * 86400),
        }),
        weight: 8,
      },
      fc.record({ op: fc.constantFrom("good", "attempt", "connected", "remove"), g: fc.nat(1), i: fc.nat(200) }),
      fc.record({ op: fc.constant("pick") }),
      fc.record({ op: fc.constant("tick") }),
    );
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 2 ** 31 }), fc.array(op, { maxLength: 300 }), async (seed, ops) => {
        // A clock moved by hand (ManualClock.advance yields to the event loop: slow over thousands of steps).
        let now = 1_579_046_400_000;
        const clock = { now: () => now, setTimeout: () => 0, clearTimeout: () => {} };
        const nowSec = () => Math.floor(now / 1000);
        const storage = new MemoryStorage();
        const am = new AddrManager({ clock, storage, random: seededRandom(seed), saveIntervalMs: 0 });
        for (const o of ops) {
          if (o.op === "pick") {
            const ka = am.getAddress();
            if (ka !== undefined) assert.equal(am.find(ka.key), ka);
          } else if (o.op === "tick") {
            now += 90_000;
          } else if (o.op === "add") {
            am.addAddress(inGroup(o.g, o.i, nowSec() - o.age), inGroup(100 + o.s, 1));
          } else {
            am[o.op](inGroup(o.g, o.i));
          }
        }
        // Then certainly overflow one bucket.
        for (let i = 0; i < 70; i++) am.addAddress(inGroup(0, 1000 + i, nowSec()), inGroup(100, 1));
        // decodePeersFile checks that buckets and addresses agree.
        const t = await tables(am, storage);
        const stats = am.stats();
        assert.equal(t.addresses.length, stats.total);
        assert.equal(t.triedBuckets.flat().length, stats.tried);
        assert.equal(new Set(t.newBuckets.flat()).size, stats.new);
        assert.ok(t.newBuckets.every((b) => b.length <= ADDRMGR.newBucketSize));
        assert.ok(t.newBuckets.some((b) => b.length === ADDRMGR.newBucketSize));
        for (const a of t.addresses) {
          const ka = am.find(a.addr)!;
          assert.equal(ka.refs, t.newBuckets.filter((b) => b.includes(a.addr)).length);
          assert.ok(ka.refs <= ADDRMGR.newBucketsPerAddress);
          assert.equal(ka.tried, ka.refs === 0);
        }
      }),
      { numRuns: 30 },
    );
  });
});

describe("known address state", () => {
  const src = v4(5, 6, 7, 8);
  const now = 1_579_046_400_000;
  const nowSec = now / 1000;

  it("weighs the chance by recent and failed attempts", () => {
    const ka = new KnownAddressEntry(v4(8, 8, 8, 8, 18555, nowSec), src);
    assert.equal(ka.chance(now), 1);
    ka.attempts = 2;
    assert.equal(ka.chance(now), 1 / 1.5 / 1.5);
    ka.lastAttempt = now - 9 * 60_000;
    assert.equal(ka.chance(now), 0.01 / 1.5 / 1.5);
    ka.lastAttempt = now - 11 * 60_000;
    assert.equal(ka.chance(now), 1 / 1.5 / 1.5);
  });

  it("is bad when from the future, a month old, or failing", () => {
    const entry = (ts: number) => new KnownAddressEntry(v4(8, 8, 8, 8, 18555, ts), src);
    assert.equal(entry(nowSec).isBad(now), false);
    assert.equal(entry(nowSec + 9 * 60).isBad(now), false);
    assert.equal(entry(nowSec + 11 * 60).isBad(now), true);
    assert.equal(entry(nowSec - 29 * 86400).isBad(now), false);
    assert.equal(entry(nowSec - 31 * 86400).isBad(now), true);
    const failing = entry(nowSec);
    failing.attempts = 3;
    failing.lastAttempt = now - 2 * 60_000;
    assert.equal(failing.isBad(now), true, "three failures, never a success");
    failing.lastAttempt = now - 30_000;
    assert.equal(failing.isBad(now), false, "attempted in the last minute");
    failing.lastAttempt = now - 2 * 60_000;
    failing.lastSuccess = now - 8 * 86_400_000;
    assert.equal(failing.isBad(now), false, "worked once, fewer than 10 failures");
    failing.attempts = 10;
    assert.equal(failing.isBad(now), true, "10 failures, no success for a week");
    failing.lastSuccess = now - 6 * 86_400_000;
    assert.equal(failing.isBad(now), false);
  });
});
