import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { jsHasher } from "../src/hash/hasher.ts";
import { AddrManager } from "../src/pool/addrmgr.ts";
import { newBucketIndex } from "../src/pool/buckets.ts";
import { decodePeersFile, encodePeersFile, GO_ZERO_TIME, PeersFileError } from "../src/pool/peersjson.ts";
import { MAX_PEERS_FILE } from "../src/pool/peersstore.ts";
import { ManualClock } from "../src/peer/clock.ts";
import { MemoryStorage } from "../src/storage/memory.ts";
import { StorageError } from "../src/storage/storage.ts";
import { inGroup, seededRandom, testManager, v4 } from "./_addrmgr.ts";

const utf8 = new TextEncoder();
const text = (b: Uint8Array | undefined) => new TextDecoder().decode(b);

// A peers.json written by hand in soterd's exact format (Go's encoding/json
// of serializedAddrManager: compact, fields in declaration order, a final
// newline, [32]byte as a list of numbers, Go's zero time for "never").
const KEY = Array.from({ length: 32 }, (_, i) => (i * 37 + 11) % 256);
const ADDRESSES = [
  `{"Addr":"8.8.8.8:18555","Src":"203.0.114.7:18555","Attempts":0,"TimeStamp":1579000000,` +
  `"LastAttempt":1579040000,"LastSuccess":1579040000}`,
  `{"Addr":"[2a01:4f8::1]:18555","Src":"203.0.114.7:18555","Attempts":2,"TimeStamp":1578990000,` +
  `"LastAttempt":1579045000,"LastSuccess":-62135596800}`,
  `{"Addr":"expyuzz4wqqyqhjn.onion:9050","Src":"8.8.8.8:18555","Attempts":0,"TimeStamp":1578000000,` +
  `"LastAttempt":-62135596800,"LastSuccess":-62135596800}`,
];
function soterdFile(
  newBuckets: Record<number, string> = {
    17: `["[2a01:4f8::1]:18555"]`,
    300: `["[2a01:4f8::1]:18555","expyuzz4wqqyqhjn.onion:9050"]`,
  },
  tried: Record<number, string> = { 5: `["8.8.8.8:18555"]` },
  nNew = 1024,
  nTried = 64,
): string {
  const list = (n: number, set: Record<number, string>) =>
    Array.from({ length: n }, (_, i) => set[i] ?? "[]").join(",");
  return `{"Version":1,"Key":[${KEY.join(",")}],"Addresses":[${ADDRESSES.join(",")}],` +
    `"NewBuckets":[${list(nNew, newBuckets)}],"TriedBuckets":[${list(nTried, tried)}]}\n`;
}

async function loaded(content: string | Uint8Array) {
  const t = testManager(1);
  await t.storage.writeAtomic("peers.json", typeof content === "string" ? utf8.encode(content) : content);
  await t.am.start();
  return t;
}

describe("peers.json in soterd's format", () => {
  it("imports a soterd address book", async () => {
    const { am, events } = await loaded(soterdFile());
    assert.deepEqual(events, [{ type: "loaded", file: "peers.json", addresses: 3 }]);
    assert.deepEqual(am.stats(), { new: 2, tried: 1, total: 3 });
    const tried = am.find("8.8.8.8:18555")!;
    assert.equal(tried.tried, true);
    assert.equal(tried.lastSuccess, 1_579_040_000_000);
    assert.equal(tried.na.timestamp, 1_579_000_000);
    assert.equal(tried.na.services, 1n, "version 1 keeps no services: a full node is assumed, as soterd");
    const v6 = am.find("[2a01:4f8::1]:18555")!;
    assert.equal(v6.attempts, 2);
    assert.equal(v6.lastAttempt, 1_579_045_000_000);
    assert.equal(v6.lastSuccess, undefined);
    assert.equal(v6.refs, 2);
    assert.equal(v6.src.port, 18555);
    const onion = am.find("expyuzz4wqqyqhjn.onion:9050")!;
    assert.equal(onion.lastAttempt, undefined);
    assert.equal(onion.group, "tor:5"); // "ex..." decodes to 0x25...
  });

  it("writes the imported book back byte for byte", async () => {
    const { am, storage } = await loaded(soterdFile());
    await am.save();
    assert.equal(text(await storage.read("peers.json")), soterdFile());
  });

  it("buckets new addresses with the imported key", async () => {
    const { am, storage, nowSec } = await loaded(soterdFile());
    const na = inGroup(33, 5, nowSec());
    const src = v4(77, 1, 2, 3);
    am.addAddress(na, src);
    await am.save();
    const file = decodePeersFile((await storage.read("peers.json"))!);
    assert.deepEqual([...file.key], KEY);
    const bucket = newBucketIndex(jsHasher, Uint8Array.from(KEY), am.groupOf(na), am.groupOf(src));
    assert.ok(file.newBuckets[bucket]!.includes(am.find(na)!.key));
  });

  it("writes never as Go's zero time and reads it back", () => {
    const bytes = encodePeersFile({
      key: new Uint8Array(32),
      addresses: [{
        addr: "1.2.3.4:5",
        src: "1.2.3.4:5",
        attempts: 1,
        timestamp: 7,
        lastAttempt: 8999,
        lastSuccess: undefined,
      }],
      newBuckets: Array.from({ length: 1024 }, (_, i) => (i === 0 ? ["1.2.3.4:5"] : [])),
      triedBuckets: Array.from({ length: 64 }, () => []),
    });
    assert.match(text(bytes), /"LastAttempt":8,"LastSuccess":-62135596800\}/);
    assert.equal(decodePeersFile(bytes).addresses[0]!.lastSuccess, undefined);
    assert.equal(GO_ZERO_TIME, -62135596800);
  });

  it("round-trips any book the manager builds", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 2 ** 31 }),
        fc.array(fc.tuple(fc.nat(300), fc.nat(40), fc.constantFrom("add", "good", "attempt", "connected")), {
          maxLength: 120,
        }),
        async (seed, ops) => {
          const { am, storage, clock, nowSec } = testManager(seed);
          for (const [g, s, op] of ops) {
            const na = inGroup(g, g * 7, nowSec() - g);
            if (op === "add") am.addAddress(na, inGroup(500 + s, 1));
            else if (op === "good") am.good(na);
            else if (op === "attempt") am.attempt(na);
            else am.connected(na);
            await clock.advance(61_000);
          }
          await am.save();
          const first = await storage.read("peers.json");
          const again = new AddrManager({ clock, storage, random: seededRandom(seed + 1) });
          await again.start();
          assert.deepEqual(again.stats(), am.stats());
          await again.save();
          assert.equal(text(await storage.read("peers.json")), text(first));
        },
      ),
      { numRuns: 20 },
    );
  });
});

describe("a corrupt or foreign peers.json", () => {
  const cases: Array<[string, string | Uint8Array, string]> = [
    ["not JSON", "peers", "syntax"],
    ["truncated", soterdFile().slice(0, 300), "syntax"],
    ["empty", "", "syntax"],
    ["not UTF-8", Uint8Array.of(0xfe, 0xff, 0x7b, 0x7d), "syntax"],
    ["Bitcoin Core's binary peers.dat", Uint8Array.of(0xf9, 0xbe, 0xb4, 0xd9, 0x03, 0x20, 0, 0), "syntax"],
    ["a JSON list", "[1,2]", "syntax"],
    ["btcd's version 2", soterdFile().replace(`"Version":1`, `"Version":2`), "version"],
    ["no version", soterdFile().replace(`"Version":1,`, ""), "version"],
    ["a short key", soterdFile().replace(`"Key":[${KEY.join(",")}]`, `"Key":[1,2,3]`), "shape"],
    ["a key byte over 255", soterdFile().replace(`"Key":[${KEY[0]},`, `"Key":[256,`), "shape"],
    ["1023 new buckets", soterdFile(undefined, undefined, 1023), "shape"],
    ["65 tried buckets", soterdFile(undefined, undefined, 1024, 65), "shape"],
    ["a string count", soterdFile().replace(`"Attempts":2`, `"Attempts":"2"`), "shape"],
    ["negative attempts", soterdFile().replace(`"Attempts":2`, `"Attempts":-2`), "shape"],
    ["a bad address", soterdFile().replace(`"Src":"8.8.8.8:18555"`, `"Src":"8.8.8.8"`), "address"],
    ["a host name", soterdFile().replace(`"Src":"8.8.8.8:18555"`, `"Src":"seed.example:1"`), "address"],
    ["a non-canonical key", soterdFile().replaceAll("[2a01:4f8::1]", "[2a01:4f8:0::1]"), "address"],
    ["an unknown address in a bucket", soterdFile({ 1: `["9.9.9.9:1"]` }), "inconsistent"],
    ["an address in no bucket", soterdFile({ 17: `["[2a01:4f8::1]:18555"]` }), "inconsistent"],
    [
      "an address both new and tried",
      soterdFile(undefined, { 5: `["8.8.8.8:18555"]`, 6: `["expyuzz4wqqyqhjn.onion:9050"]` }),
      "inconsistent",
    ],
    ["an address tried twice", soterdFile(undefined, { 5: `["8.8.8.8:18555","8.8.8.8:18555"]` }), "inconsistent"],
  ];
  for (const [what, content, kind] of cases) {
    it(`is set aside and reported: ${what}`, async () => {
      const { am, storage, events } = await loaded(content);
      assert.equal(events.length, 1);
      const e = events[0]!;
      assert.equal(e.type, "set-aside");
      if (e.type !== "set-aside") return;
      assert.ok(e.error instanceof PeersFileError);
      assert.equal(e.error.kind, kind, e.error.message);
      assert.match(e.error.message, /^Cannot load the address book peers\.json: /);
      assert.equal(e.movedTo, "peers.json.bad-2020-01-15T00-00-00-000Z");
      assert.equal(am.size, 0);
      const original = typeof content === "string" ? utf8.encode(content) : content;
      assert.deepEqual(await storage.read(e.movedTo!), original);
      assert.equal(await storage.read("peers.json"), undefined);
      await am.stop();
      assert.equal(decodePeersFile((await storage.read("peers.json"))!).addresses.length, 0);
      assert.deepEqual(await storage.read(e.movedTo!), original, "the bad file is kept");
    });
  }

  it("loads soterd's new buckets of 65 (it expires only past 64)", async () => {
    const keys = Array.from({ length: 63 }, (_, i) => `"1.2.3.${i + 1}:18555"`);
    const extra = keys.map((k) =>
      `{"Addr":${k},"Src":"127.0.0.1:40000","Attempts":0,"TimeStamp":1579000000,"LastAttempt":-62135596800,` +
      `"LastSuccess":-62135596800}`
    );
    const file = soterdFile({ 17: `["[2a01:4f8::1]:18555","expyuzz4wqqyqhjn.onion:9050",${keys.join(",")}]` })
      .replace(`"Addresses":[`, `"Addresses":[${extra.join(",")},`);
    const { am } = await loaded(file);
    assert.deepEqual(am.stats(), { new: 65, tried: 1, total: 66 });
  });

  it("is set aside unread when larger than any address book", async () => {
    const storage = new FlakyStorage();
    await storage.writeAtomic("peers.json", utf8.encode("{}"));
    storage.size = () => Promise.resolve(MAX_PEERS_FILE + 1);
    storage.read = () => Promise.reject(new Error("must not be read"));
    const { am, events } = testManager(1, { storage });
    await am.start();
    const e = events[0]!;
    assert.ok(e.type === "set-aside" && e.error.kind === "shape" && e.movedTo !== undefined, JSON.stringify(e));
    assert.equal(am.size, 0);
  });

  it("accepts Go's null for an empty list and duplicates in a new bucket", async () => {
    const file = soterdFile({
      17: `["[2a01:4f8::1]:18555","[2a01:4f8::1]:18555"]`,
      300: `["expyuzz4wqqyqhjn.onion:9050"]`,
    }, {
      5: `["8.8.8.8:18555"]`,
      9: "null",
    });
    const { am } = await loaded(file.replace(`"NewBuckets":[[],`, `"NewBuckets":[null,`));
    assert.deepEqual(am.stats(), { new: 2, tried: 1, total: 3 });
    assert.equal(am.find("[2a01:4f8::1]:18555")!.refs, 1);
  });
});

/** A storage whose operations can be made to fail. */
class FlakyStorage extends MemoryStorage {
  fail = new Set<"read" | "rename" | "writeAtomic">();
  #check(op: "read" | "rename" | "writeAtomic", name: string): void {
    if (this.fail.has(op)) throw new StorageError("io", name, `Cannot ${op} ${name}: disk on fire`);
  }
  override read(name: string) {
    return Promise.resolve().then(() => this.#check("read", name)).then(() => super.read(name));
  }
  override rename(from: string, to: string) {
    return Promise.resolve().then(() => this.#check("rename", from)).then(() => super.rename(from, to));
  }
  override writeAtomic(name: string, data: Uint8Array) {
    return Promise.resolve().then(() => this.#check("writeAtomic", name)).then(() => super.writeAtomic(name, data));
  }
}

describe("storage failures", () => {
  async function flaky(fail: Array<"read" | "rename" | "writeAtomic">, content = "junk") {
    const storage = new FlakyStorage();
    await storage.writeAtomic("peers.json", utf8.encode(content));
    fail.forEach((op) => storage.fail.add(op));
    const t = testManager(1, { storage, clock: new ManualClock() });
    await t.am.start();
    return { ...t, storage };
  }

  it("starts empty when the file cannot be read, and never saves over it", async () => {
    const { am, storage, events } = await flaky(["read"], soterdFile());
    assert.deepEqual(events.map((e) => e.type), ["load-failed"]);
    storage.fail.clear();
    await assert.rejects(am.save(), (e) => e instanceof PeersFileError && e.kind === "unreadable");
    await am.stop();
    assert.equal(text(await storage.read("peers.json")), soterdFile());
    assert.deepEqual(events.map((e) => e.type), ["load-failed", "save-failed", "save-failed"]);
  });

  it("copies a bad file aside when it cannot be renamed", async () => {
    const { storage, events } = await flaky(["rename"]);
    const e = events[0]!;
    assert.ok(e.type === "set-aside" && e.movedTo !== undefined);
    assert.equal(text(await storage.read(e.movedTo)), "junk");
  });

  it("keeps a bad file it can neither rename nor copy", async () => {
    const { am, storage, events } = await flaky(["rename", "writeAtomic"]);
    const e = events[0]!;
    assert.ok(e.type === "set-aside" && e.movedTo === undefined);
    storage.fail.clear();
    await am.stop();
    assert.equal(text(await storage.read("peers.json")), "junk");
  });

  it("reports a failed save and keeps going", async () => {
    const storage = new FlakyStorage();
    const t = testManager(1, { storage });
    await t.am.start();
    storage.fail.add("writeAtomic");
    await assert.rejects(t.am.save(), StorageError);
    await t.clock.advance(10 * 60_000);
    assert.deepEqual(t.events.map((e) => e.type), ["save-failed", "save-failed"]);
    storage.fail.clear();
    await t.am.stop();
    assert.deepEqual(t.events.map((e) => e.type), ["save-failed", "save-failed", "saved"]);
  });

  it("stops cleanly while still loading, without saving over the file", async () => {
    const { am, storage, clock } = testManager(1);
    await storage.writeAtomic("peers.json", utf8.encode(soterdFile()));
    const starting = am.start();
    const saving = am.save(); // asked for during the load: runs after it
    await am.stop();
    await starting;
    await saving;
    assert.equal(clock.pendingTimers, 0);
    assert.equal(am.size, 3);
    assert.equal(text(await storage.read("peers.json")), soterdFile());
  });

  it("survives a listener that throws", async () => {
    const storage = new MemoryStorage();
    await storage.writeAtomic("peers.json", utf8.encode("junk"));
    const am = new AddrManager({
      storage,
      clock: new ManualClock(),
      onEvent: () => {
        throw new Error("listener bug");
      },
    });
    await am.start();
    await am.stop();
    assert.ok(await storage.read("peers.json"));
  });
});
