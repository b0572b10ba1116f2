// The parts of the peer without I/O: the LRU sets (soterd's
// mruinvmap_test.go and mrunoncemap_test.go, ported), the manual clock, the
// stall detector, the output queue and trickle, the in-memory connection
// pair, and configuration checks.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import "./_guard.ts"; // fails the file on any unhandled rejection or uncaught exception
import { InvType, type InvVect } from "../src/wire/invvect.ts";
import { ipToString } from "../src/wire/ip.ts";
import { ManualClock } from "../src/peer/clock.ts";
import { type PeerConfig, resolveConfig } from "../src/peer/config.ts";
import { defaultHasher, type Hasher, setDefaultHasher } from "../src/hash/hasher.ts";
import { ConfigError } from "../src/peer/errors.ts";
import { splitHostPort } from "../src/peer/handshake.ts";
import { invKey, LruSet } from "../src/peer/lru.ts";
import { InvTrickle, type OutItem, OutQueue } from "../src/peer/outqueue.ts";
import { Peer } from "../src/peer/peer.ts";
import { connPair } from "../src/peer/pipe.ts";
import { randomSubset, RepeatFilter, splitAddrCache } from "../src/peer/push.ts";
import { randomBelow, randomU64 } from "../src/peer/random.ts";
import { StallDetector } from "../src/peer/stall.ts";
import { seededRandom, within } from "./peer_helpers.ts";

function iv(i: number, height = 1): InvVect {
  const hash = new Uint8Array(32);
  hash[0] = i;
  return { type: InvType.BLOCK, hash, height };
}

describe("LruSet", () => {
  // mruinvmap_test.go and mrunoncemap_test.go: limiting, eviction of the
  // least recently used entry, removal, existence.
  const LIMITS = [0, 1, 5, 7, 9, 10];
  const N = 10;
  for (
    const [name, make] of [
      ["inventory", (i: number) => invKey(iv(i))],
      ["nonces", (i: number) => BigInt(i)],
    ] as const
  ) {
    for (const limit of LIMITS) {
      it(`${name}, limit ${limit}`, () => {
        const set = new LruSet<string | bigint>(limit);
        const keys = Array.from({ length: N }, (_, i) => make(i));
        for (const k of keys) set.add(k);
        assert.equal(set.size, limit);
        for (let j = N - limit; j < N; j++) assert.ok(set.has(keys[j]!), `entry ${j} exists`);
        for (let j = 0; j < N - limit; j++) assert.ok(!set.has(keys[j]!), `entry ${j} evicted`);
        if (limit > 1) {
          // Re-adding the least recently used entry makes it the most recent:
          // the next eviction takes the one after it.
          const lru = N - limit;
          set.add(keys[lru]!);
          set.add(make(200));
          assert.ok(set.has(keys[lru]!));
          assert.ok(!set.has(keys[lru + 1]!));
        }
        for (const k of keys) {
          set.delete(k);
          assert.ok(!set.has(k));
        }
      });
    }
  }

  it("keys from least to most recent, and clear", () => {
    const set = new LruSet<number>(3);
    for (const k of [1, 2, 3, 1, 4]) set.add(k);
    assert.deepEqual(set.keys(), [3, 1, 4]);
    set.clear();
    assert.equal(set.size, 0);
    assert.throws(() => new LruSet(-1), RangeError);
  });

  it("invKey tells vectors apart by type, hash and height", () => {
    assert.equal(invKey(iv(1)), invKey(iv(1)));
    assert.notEqual(invKey(iv(1)), invKey(iv(2)));
    assert.notEqual(invKey(iv(1, 1)), invKey(iv(1, 2)));
    assert.notEqual(invKey(iv(1)), invKey({ ...iv(1), type: InvType.TX }));
  });
});

describe("ManualClock", () => {
  it("fires due timers in order, reading each one's time, and counts pending timers", async () => {
    const clock = new ManualClock(1000);
    const fired: Array<[string, number]> = [];
    clock.setTimeout(() => fired.push(["b", clock.now()]), 20);
    clock.setTimeout(() => fired.push(["a", clock.now()]), 10);
    const c = clock.setTimeout(() => fired.push(["c", clock.now()]), 15);
    clock.setTimeout(() => {
      fired.push(["d", clock.now()]);
      clock.setTimeout(() => fired.push(["e", clock.now()]), 5); // scheduled by a timer, due in range
    }, 20);
    assert.equal(clock.pendingTimers, 4);
    clock.clearTimeout(c);
    clock.clearTimeout(c);
    await clock.advance(30);
    assert.deepEqual(fired, [["a", 1010], ["b", 1020], ["d", 1020], ["e", 1025]]);
    assert.equal(clock.now(), 1030);
    assert.equal(clock.pendingTimers, 0);
  });
});

describe("StallDetector", () => {
  it("sets deadlines for requests and clears them on responses", () => {
    const s = new StallDetector(30_000);
    s.sent("ping", 0);
    s.sent("inv", 0);
    assert.equal(s.pending, 0, "ping and inv expect nothing");
    s.sent("getdata", 0);
    assert.equal(s.pending, 4);
    s.received("tx"); // any one answer clears the group
    assert.equal(s.pending, 0);
    s.sent("getheaders", 0);
    assert.equal(s.check(89_999), undefined);
    assert.equal(s.check(90_000), "headers");
    s.received("headers");
    s.sent("version", 0);
    assert.equal(s.check(30_000), "verack");
    s.clear();
    assert.equal(s.check(1e9), undefined);
  });

  it("a repeated request resets its deadline", () => {
    const s = new StallDetector(30_000);
    s.sent("getblocks", 0);
    s.sent("mempool", 20_000);
    assert.equal(s.check(30_000), undefined);
    assert.equal(s.check(50_000), "inv");
  });

  it("handler time is excluded, also while a handler runs", () => {
    const s = new StallDetector(30_000);
    s.sent("getdata", 0);
    s.handlerStarted(10_000);
    assert.equal(s.check(100_000), undefined, "a running handler holds the deadline");
    s.handlerFinished(100_000); // 90 s in the handler: due at 120 s
    assert.equal(s.check(119_999), undefined);
    assert.equal(s.check(120_000), "block");
  });

  it("handler time before a request does not extend it", () => {
    const s = new StallDetector(30_000);
    s.handlerStarted(0);
    s.sent("getblocks", 50_000);
    s.handlerFinished(60_000); // 10 s of it after the request: due at 90 s
    assert.equal(s.check(89_999), undefined);
    assert.equal(s.check(90_000), "inv");
  });
});

describe("OutQueue and InvTrickle", () => {
  function item(size: number, settled: boolean[]): OutItem {
    return {
      msg: { command: "verack" },
      encoding: "base",
      frame: new Uint8Array(size),
      pver: 70013,
      settle: (ok) => void settled.push(ok),
    };
  }

  it("counts bytes until released, batches by size, and accepts one message over the bound when empty", () => {
    const settled: boolean[] = [];
    const q = new OutQueue(100);
    assert.ok(q.fits(1000), "an empty queue takes anything");
    q.push(item(60, settled));
    assert.ok(q.fits(40));
    assert.ok(!q.fits(41));
    q.push(item(40, settled));
    q.push(item(30, settled));
    const batch = q.take(100);
    assert.equal(batch.length, 2);
    assert.equal(q.length, 1);
    assert.equal(q.bytes, 130, "a batch being written still counts");
    q.release(100);
    assert.equal(q.bytes, 30);
    q.unshift(item(5, settled));
    const rest = q.drain();
    assert.deepEqual(rest.map((i) => i.frame.length), [5, 30]);
    assert.equal(q.bytes, 0);
    assert.equal(q.take(10).length, 0);
  });

  it("counts a fixed overhead per message against the bound, so small messages cannot pile up", () => {
    const settled: boolean[] = [];
    const q = new OutQueue(1000, 200);
    assert.ok(q.fits(5000), "an empty queue takes anything");
    q.push(item(32, settled));
    q.push(item(32, settled));
    assert.equal(q.entries, 2);
    assert.equal(q.bytes, 64, "bytes stay the encoded bytes");
    assert.ok(q.fits(32)); // 64 + 32 + 3 x 200 = 696
    q.push(item(32, settled));
    assert.ok(q.fits(32)); // 96 + 32 + 4 x 200 = 928
    q.push(item(32, settled));
    assert.ok(!q.fits(32)); // 128 + 32 + 5 x 200 = 1160
    const batch = q.take(64);
    assert.equal(batch.length, 2);
    assert.ok(!q.fits(32), "a batch being written still counts");
    q.release(64, 2);
    assert.equal(q.entries, 2);
    assert.ok(q.fits(32));
    q.drain();
    assert.equal(q.entries, 0);
    assert.equal(q.bytes, 0);
  });

  it("trickles in batches of 1000, skipping known inventory", () => {
    const t = new InvTrickle();
    const hash = (i: number) => {
      const h = new Uint8Array(32);
      new DataView(h.buffer).setUint32(0, i);
      return h;
    };
    for (let i = 0; i < 2001; i++) t.add({ type: InvType.TX, hash: hash(i), height: 0 });
    t.markKnown({ type: InvType.TX, hash: hash(5), height: 0 });
    const batches = t.flush();
    assert.deepEqual(batches.map((b) => b.length), [1000, 1000]);
    assert.equal(t.pending, 0);
    assert.ok(t.isKnown({ type: InvType.TX, hash: hash(2000), height: 0 }));
  });
});

describe("connPair", () => {
  it("applies backpressure: writes wait once the buffer is full, until the other end reads", async () => {
    const [a, b] = connPair({ highWaterMark: 1024 });
    const w = a.writable.getWriter();
    let done = 0;
    const writes = [];
    for (let i = 0; i < 4; i++) writes.push(w.write(new Uint8Array(600)).then(() => void done++));
    await new Promise((r) => setTimeout(r, 10));
    assert.ok(done < 4, `only some writes completed (${done})`);
    const r = b.readable.getReader();
    let got = 0;
    while (got < 2400) got += (await within(r.read(), "a chunk")).value!.length;
    await within(Promise.all(writes), "the writes");
    assert.equal(done, 4);
    a.close();
    b.close();
  });

  it("closing delivers what was sent, then the end; later writes fail", async () => {
    const [a, b] = connPair();
    assert.deepEqual(a.remoteAddr, b.localAddr);
    const wa = a.writable.getWriter();
    await wa.write(new Uint8Array([1, 2, 3]));
    a.close();
    a.close();
    const rb = b.readable.getReader();
    assert.deepEqual((await rb.read()).value, new Uint8Array([1, 2, 3]));
    assert.equal((await rb.read()).done, true);
    await assert.rejects(wa.write(new Uint8Array([4])));
    const wb = b.writable.getWriter();
    await assert.rejects(wb.write(new Uint8Array([5])));
    b.close();
  });

  it("copies chunks: the writer may reuse its buffer", async () => {
    const [a, b] = connPair();
    const buf = new Uint8Array([9, 9]);
    await a.writable.getWriter().write(buf);
    buf[0] = 0;
    assert.deepEqual((await b.readable.getReader().read()).value, new Uint8Array([9, 9]));
    a.close();
    b.close();
  });
});

describe("configuration", () => {
  it("fills in soterd's defaults", () => {
    const cfg = resolveConfig();
    assert.equal(cfg.network.name, "testnet1");
    assert.equal(cfg.protocolVersion, 70013);
    assert.equal(cfg.services, 0n);
    assert.equal(cfg.userAgent, "/soterwire:0.6.0/");
    assert.equal(cfg.trickleInterval, 10_000);
    assert.equal(cfg.handshakeTimeout, 30_000);
    assert.equal(cfg.idleTimeout, 300_000);
    assert.equal(cfg.pingInterval, 120_000);
    assert.equal(cfg.stallTickInterval, 15_000);
    assert.equal(cfg.stallResponseTimeout, 30_000);
    assert.equal(resolveConfig({ protocolVersion: 0, trickleInterval: -5 }).protocolVersion, 70013);
    assert.equal(resolveConfig({ trickleInterval: 0 }).trickleInterval, 10_000);
    assert.equal(
      resolveConfig({ userAgentName: "app", userAgentVersion: "2.6.41", userAgentComments: ["a", "b c"] }).userAgent,
      "/soterwire:0.6.0/app:2.6.41(a; b c)/",
    );
  });

  it("peers made from one unchanged configuration object share its resolution", () => {
    const onPing = () => {};
    const config: PeerConfig = { userAgentName: "app", userAgentComments: ["a"], listeners: { onPing } };
    const cfg = resolveConfig(config);
    assert.equal(resolveConfig(config), cfg);
    assert.ok(Object.isFrozen(cfg) && Object.isFrozen(cfg.listeners));
    assert.notEqual(resolveConfig({ ...config }), cfg, "another object");
    // Any change, even in place, gives a new resolution.
    config.listeners!.onPong = () => {};
    const withPong = resolveConfig(config);
    assert.notEqual(withPong, cfg);
    assert.equal(withPong.listeners.onPong, config.listeners!.onPong);
    (config.userAgentComments as string[]).push("b");
    assert.equal(resolveConfig(config).userAgent, "/soterwire:0.6.0/app:0.0.0(a; b)/");
    config.idleTimeout = 1000;
    assert.equal(resolveConfig(config).idleTimeout, 1000);
    const previous = defaultHasher();
    const other: Hasher = { doubleSha256: previous.doubleSha256, sha256: previous.sha256 };
    setDefaultHasher(other);
    try {
      assert.equal(resolveConfig(config).hasher, other, "a new default hasher");
    } finally {
      setDefaultHasher(previous);
    }
    const same = resolveConfig(config);
    assert.equal(resolveConfig(config), same);
    assert.throws(() => resolveConfig(Object.assign(config, { idleTimeout: -1 })), ConfigError);
  });

  it("refuses what soterd refuses", () => {
    const bad = [
      { userAgentName: "app", userAgentVersion: "1.0.0", userAgentComments: ["a:b"] },
      { userAgentName: "app", userAgentVersion: "1.0.0", userAgentComments: ["a/b"] },
      { userAgentName: "app", userAgentVersion: "1.0.0", userAgentComments: ["(x"] },
      { userAgentName: "app", userAgentVersion: "1.0.0", userAgentComments: ["x)"] },
      { userAgentName: "app", userAgentVersion: "1.0" },
      { userAgentName: "app", userAgentVersion: "01.0.0" },
      { userAgentName: "a/pp", userAgentVersion: "1.0.0" },
      { userAgentName: "app", userAgentVersion: "1.0.0", userAgentComments: ["x".repeat(240)] },
      { protocolVersion: 70014 },
      { protocolVersion: 1.5 },
      { services: -1n },
      { handshakeTimeout: -1 },
      { idleTimeout: Number.NaN },
      { maxQueueBytes: 0 },
    ];
    for (const config of bad) {
      assert.throws(() => Peer.inbound(config), ConfigError, JSON.stringify(config, (_k, v) => String(v)));
    }
  });

  it("outbound addresses: host:port, [v6]:port, names, and the hostToNetAddress hook", () => {
    assert.deepEqual(splitHostPort("10.0.0.1:8333"), { host: "10.0.0.1", port: 8333 });
    assert.deepEqual(splitHostPort("[::1]:18555"), { host: "::1", port: 18555 });
    for (const bad of ["nope", "::1:80", "[::1]80", "h:", "h:70000", "h:-1"]) {
      assert.equal(splitHostPort(bad), undefined, bad);
      assert.throws(() => Peer.outbound(bad), ConfigError);
    }
    assert.equal(ipToString(Peer.outbound("10.0.0.2:8333").na!.ip), "10.0.0.2");
    assert.equal(ipToString(Peer.outbound("[2001:db8::1]:8333").na!.ip), "2001:db8::1");
    assert.equal(ipToString(Peer.outbound("seed.example:8333").na!.ip), "::", "a name without the hook is all zeros");
    const hooked = Peer.outbound("seed.example:8333", {
      services: 5n,
      hostToNetAddress: (host, port, services) => {
        assert.equal(host, "seed.example");
        return { timestamp: 0, services, ip: new Uint8Array(16).fill(1), port: port + 1 };
      },
    });
    assert.equal(hooked.na!.port, 8334);
    assert.equal(hooked.na!.services, 5n);
    assert.equal(hooked.addr, "seed.example:8333");
    assert.throws(
      () =>
        Peer.outbound("x:1", {
          hostToNetAddress: () => {
            throw new Error("no such host");
          },
        }),
      (e: unknown) => e instanceof ConfigError && (e.cause as Error).message === "no such host",
    );
  });
});

describe("random", () => {
  it("draws 64-bit values and unbiased indexes from the injected source", () => {
    const r = seededRandom(7);
    const a = randomU64(r);
    assert.ok(a >= 0n && a < 2n ** 64n);
    assert.notEqual(randomU64(r), a);
    for (let i = 0; i < 100; i++) {
      const n = randomBelow(r, 7);
      assert.ok(n >= 0 && n < 7 && Number.isInteger(n));
    }
    assert.equal(randomBelow(r, 1), 0);
    assert.equal(randomBelow(() => {}, 5), 0, "a source that writes nothing still ends");
    assert.ok(randomBelow((b) => b.fill(0xff), 3) < 3, "a stuck source still ends");
  });
});

describe("push helpers, pure parts", () => {
  it("randomSubset keeps everything in order when it fits and a random subset otherwise", () => {
    const items = Array.from({ length: 10 }, (_, i) => i);
    assert.deepEqual(randomSubset(items, 10, seededRandom()), items);
    const some = randomSubset(items, 4, seededRandom());
    assert.equal(some.length, 4);
    assert.equal(new Set(some).size, 4);
    assert.notDeepEqual(some, [0, 1, 2, 3]);
    assert.deepEqual(items, Array.from({ length: 10 }, (_, i) => i), "the input is not touched");
  });

  it("splitAddrCache fills messages of 1000, outbound first", () => {
    const na = (port: number) => ({ timestamp: 0, services: 0n, ip: new Uint8Array(16), port });
    const out = Array.from({ length: 1500 }, (_, i) => na(i));
    const inb = Array.from({ length: 600 }, (_, i) => na(10_000 + i));
    const msgs = splitAddrCache(inb, out, [na(20_000)]);
    assert.deepEqual(msgs.map((m) => [m.outbound.length, m.inbound.length, m.known.length]), [
      [1000, 0, 0],
      [500, 500, 0],
      [0, 100, 1],
    ]);
    assert.deepEqual(splitAddrCache([], [], []), []);
  });

  it("RepeatFilter skips an exact repeat, and for getblocks never a zero stop hash", () => {
    const stop = new Uint8Array(32).fill(1);
    const blocks = new RepeatFilter(true);
    assert.equal(blocks.isRepeat([5], stop), false);
    blocks.record([5], stop);
    assert.equal(blocks.isRepeat([5], stop), true);
    assert.equal(blocks.isRepeat([6], stop), false);
    blocks.record([5], new Uint8Array(32));
    assert.equal(blocks.isRepeat([5], new Uint8Array(32)), false);
    const headers = new RepeatFilter(false);
    headers.record([5], new Uint8Array(32));
    assert.equal(headers.isRepeat([5], new Uint8Array(32)), true);
  });
});
