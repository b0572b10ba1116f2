// The pool's parts on a manual clock: soterd's dynamic ban score, the
// sliding window, the ban list and its file, the whitelist, and the
// connection manager's retries.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import "./_guard.ts";
import { ManualClock } from "../src/peer/clock.ts";
import { connPair } from "../src/peer/pipe.ts";
import { MemoryStorage } from "../src/storage/memory.ts";
import { ipFromString } from "../src/wire/ip.ts";
import { BAN_SCORE_LIFETIME, decayFactor, DynamicBanScore } from "../src/pool/banscore.ts";
import { BanList, BANS_FILE, canonicalHost, networkContains, parseIpNetwork, Whitelist } from "../src/pool/bans.ts";
import { ConnManager, type ConnManagerConfig } from "../src/pool/connmgr.ts";
import { disconnectPenalty } from "../src/pool/misbehavior.ts";
import { KeyedRateLimiter, messageUnits, PeerRateLimiter } from "../src/pool/ratelimit.ts";
import { SlidingWindow } from "../src/pool/window.ts";
import { DisconnectError } from "../src/peer/errors.ts";
import { MessageError } from "../src/wire/errors.ts";

describe("DynamicBanScore", () => {
  it("decays the transient part with a 60 s half-life on the injected clock, as soterd computes it", async () => {
    const clock = new ManualClock();
    const s = new DynamicBanScore(clock);
    assert.equal(s.increase(10, 80), 90);
    await clock.advance(60_000);
    assert.equal(s.value(), 10 + 40);
    await clock.advance(60_000);
    assert.equal(s.value(), 10 + 20);
    // soterd's figures: transient × e^(-ln2/60 × t), truncated.
    await clock.advance(7_000);
    assert.equal(s.value(), 10 + Math.floor(80 * decayFactor(127)));
    // An increase decays what is there first, then adds.
    const before = 80 * decayFactor(127);
    assert.equal(s.increase(0, 5), 10 + Math.floor(before + 5));
  });

  it("forgets the transient part after its lifetime and keeps the persistent one", async () => {
    const clock = new ManualClock();
    const s = new DynamicBanScore(clock);
    s.increase(3, 1000);
    await clock.advance((BAN_SCORE_LIFETIME + 1) * 1000);
    assert.equal(s.value(), 3);
    assert.equal(s.increase(0, 7), 10);
    assert.equal(s.persistent, 3);
    s.reset();
    assert.ok(s.isZero());
  });

  it("counts whole seconds as soterd reads Unix time", async () => {
    const clock = new ManualClock(1_000_000_999);
    const s = new DynamicBanScore(clock);
    s.increase(0, 64);
    await clock.advance(1); // the next second: one second of decay
    assert.equal(s.value(), Math.floor(64 * decayFactor(1)));
  });
});

describe("SlidingWindow", () => {
  it("allows the limit within a window and weighs the previous window as it slides out", async () => {
    const clock = new ManualClock(0);
    const w = new SlidingWindow({ limit: 10, window: 1000 }, clock);
    for (let i = 0; i < 10; i++) assert.ok(w.add(), `unit ${i}`);
    assert.equal(w.add(), false);
    await clock.advance(1500); // half way through the next window: 11 × 0.5
    assert.equal(w.score(), 5.5);
    assert.ok(w.add(4));
    assert.equal(w.add(1), false);
    await clock.advance(2000); // two windows later: empty
    assert.ok(w.isIdle());
  });

  it("counts addr, inv and getdata by entries, the rest by messages", () => {
    assert.equal(messageUnits({ command: "addr", addrList: [] }), 1);
    assert.equal(
      messageUnits({ command: "inv", invList: [{ type: 2, hash: new Uint8Array(32), height: 0 }] }),
      1,
    );
    assert.equal(messageUnits({ command: "ping", nonce: 1n }), 1);
    const clock = new ManualClock(0);
    const l = new PeerRateLimiter({ ping: { limit: 2, window: 60_000 } }, clock);
    assert.ok(l.allow({ command: "ping", nonce: 1n }));
    assert.ok(l.allow({ command: "ping", nonce: 2n }));
    assert.equal(l.allow({ command: "ping", nonce: 3n }), false);
    assert.ok(l.allow({ command: "pong", nonce: 3n }), "no limit: always allowed");
  });

  it("keeps keyed counters bounded", () => {
    const clock = new ManualClock(0);
    const k = new KeyedRateLimiter({ limit: 1, window: 60_000 }, clock, 100);
    for (let i = 0; i < 1000; i++) k.allow(`h${i}`);
    assert.ok(k.size <= 100);
  });
});

describe("BanList", () => {
  it("keeps bans through the storage and drops expired ones", async () => {
    const clock = new ManualClock();
    const storage = new MemoryStorage();
    const bans = new BanList(clock, storage);
    bans.ban("::ffff:10.0.0.1", 60_000, "test");
    bans.ban("2001:db8::1", 3_600_000, "test 2");
    await bans.flush();
    const again = new BanList(clock, storage);
    assert.equal(await again.load(), undefined);
    assert.equal(again.get("10.0.0.1")?.reason, "test");
    await clock.advance(61_000);
    const later = new BanList(clock, storage);
    await later.load();
    assert.equal(later.get("10.0.0.1"), undefined);
    assert.deepEqual(later.list().map((b) => b.host), ["2001:db8::1"]);
    assert.ok(later.unban("2001:db8::1"));
    assert.equal(later.size, 0);
  });

  it("sets a corrupt file aside and starts empty", async () => {
    const storage = new MemoryStorage();
    await storage.writeAtomic(BANS_FILE, new TextEncoder().encode("{not json"));
    const bans = new BanList(new ManualClock(), storage);
    const problem = await bans.load();
    assert.match(problem ?? "", /set aside as bans\.json\.corrupt/);
    assert.deepEqual(storage.names(), ["bans.json.corrupt"]);
    await storage.writeAtomic(BANS_FILE, new TextEncoder().encode('{"version":7,"bans":[]}'));
    assert.match((await new BanList(new ManualClock(), storage).load()) ?? "", /not a version 1 ban list/);
  });
});

describe("Whitelist", () => {
  it("matches networks and single addresses, IPv4 in either form", () => {
    const w = new Whitelist(["192.168.1.0/24", "::1", "fd00::/8"]);
    assert.ok(w.has("192.168.1.200"));
    assert.ok(w.has("::ffff:192.168.1.3"));
    assert.ok(!w.has("192.168.2.1"));
    assert.ok(w.has("::1"));
    assert.ok(w.has("fdab::5"));
    assert.ok(!w.has("not-an-ip"));
    assert.equal(canonicalHost("::ffff:1.2.3.4"), "1.2.3.4");
    assert.ok(networkContains(parseIpNetwork("0.0.0.0/0"), ipFromString("8.8.8.8")));
    assert.throws(() => new Whitelist(["10.0.0.0/33"]), /prefix length/);
    assert.throws(() => new Whitelist(["nope"]), /not an IP address/);
  });
});

describe("disconnect penalties", () => {
  it("bans undecodable bytes but not a frame cut short by a closing remote", () => {
    const bad = new DisconnectError("malformed", "x", { cause: new MessageError("checksum", "bad") });
    assert.equal(disconnectPenalty(bad)?.persistent, 100);
    assert.equal(disconnectPenalty(new DisconnectError("malformed", "unexpected EOF")), undefined);
    assert.equal(disconnectPenalty(new DisconnectError("idle-timeout", "idle")), undefined);
    assert.equal(disconnectPenalty(new DisconnectError("bloom-not-supported", "bloom"))?.persistent, 100);
  });
});

describe("ConnManager", () => {
  function manager(clock: ManualClock, over: Partial<ConnManagerConfig> = {}) {
    const dials: Array<{ addr: string; at: number }> = [];
    const connected: string[] = [];
    const cm = new ConnManager({
      targetOutbound: 8,
      retryInterval: 5_000,
      maxRetryInterval: 300_000,
      maxFailedAttempts: 25,
      dialTimeout: 30_000,
      clock,
      dial: (addr) => {
        dials.push({ addr, at: clock.now() });
        return Promise.reject(new Error("refused"));
      },
      onConnection: (req) => connected.push(req.addr),
      ...over,
    });
    return { cm, dials, connected };
  }

  it("dials a permanent peer again after 5 s, 10 s, 15 s... capped at 5 minutes", async () => {
    const clock = new ManualClock(0);
    const { cm, dials } = manager(clock);
    cm.connect("1.2.3.4:18555", true);
    cm.start();
    await clock.advance(0);
    for (let i = 0; i < 200; i++) await clock.advance(60_000);
    const gaps = dials.slice(1).map((d, i) => d.at - dials[i]!.at);
    assert.deepEqual(gaps.slice(0, 4), [5_000, 10_000, 15_000, 20_000]);
    assert.ok(gaps.every((g) => g <= 300_000));
    assert.equal(gaps.at(-1), 300_000);
    assert.equal(cm.requests()[0]?.state, "failing");
    await cm.stop();
    assert.equal(clock.pendingTimers, 0, "stop clears every timer");
  });

  it("tries new addresses at once, then once per retry interval after 25 failures in a row", async () => {
    const clock = new ManualClock(0);
    let n = 0;
    const { cm, dials } = manager(clock, { targetOutbound: 1, getNewAddress: () => `9.9.${n++ % 250}.1:18555` });
    cm.start();
    await clock.advance(0);
    for (let i = 0; i < 30; i++) await clock.advance(0);
    const early = dials.filter((d) => d.at === 0).length;
    assert.ok(early >= 25 && early <= 26, `dials at time 0: ${early}`);
    await clock.advance(5_000);
    assert.ok(dials.filter((d) => d.at === 5_000).length >= 1);
    await cm.stop();
  });

  it("gives up a dial after the dial timeout on its clock, even when the dial ignores its signal", async () => {
    const clock = new ManualClock(0);
    const failures: Array<{ at: number; why: string }> = [];
    const { cm, dials } = manager(clock, {
      dial: (addr) => {
        dials.push({ addr, at: clock.now() });
        return new Promise(() => {}); // never settles
      },
      onFailure: (_r, err) => failures.push({ at: clock.now(), why: (err as Error).message }),
    });
    cm.connect("1.2.3.4:18555", true);
    cm.start();
    await clock.advance(29_999);
    assert.equal(failures.length, 0);
    await clock.advance(1);
    assert.deepEqual(failures, [{ at: 30_000, why: "Dial timed out after 30000 ms" }]);
    await clock.advance(5_000);
    assert.deepEqual(dials.map((d) => d.at), [0, 35_000]);
    await cm.stop();
    assert.equal(clock.pendingTimers, 0);
  });

  it("never dials an address twice at once, and closes a connection that arrives after stop", async () => {
    const clock = new ManualClock(0);
    let release!: () => void;
    const gate = new Promise<void>((r) => release = r);
    const [a] = connPair();
    let closed = false;
    const conn = { ...a, readable: a.readable, writable: a.writable, close: () => closed = true };
    const { cm, connected } = manager(clock, { dial: () => gate.then(() => conn) });
    assert.ok(cm.connect("1.2.3.4:1", false));
    assert.equal(cm.connect("1.2.3.4:1", true), undefined);
    cm.start();
    const stopped = cm.stop();
    release();
    await stopped;
    await clock.advance(0);
    assert.deepEqual(connected, []);
    assert.ok(closed, "the late connection is closed");
  });
});
