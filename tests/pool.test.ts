// The pool over an in-memory network (any IP can be dialled or knock) on a
// manual clock: outbound slots and groups, permanent peers, inbound limits,
// bans, requests, and a stop that settles everything.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import "./_guard.ts";
import { SIMNET } from "../src/chain/params.ts";
import { ManualClock } from "../src/peer/clock.ts";
import { ConfigError } from "../src/peer/errors.ts";
import { MemoryStorage } from "../src/storage/memory.ts";
import type { Peer } from "../src/peer/peer.ts";
import { InvType } from "../src/wire/invvect.ts";
import { MessageError } from "../src/wire/errors.ts";
import { encodeMessage } from "../src/wire/frame.ts";
import type { Message } from "../src/wire/message.ts";
import { ServiceFlag } from "../src/wire/protocol.ts";
import { AddrManager } from "../src/pool/addrmgr.ts";
import { groupKey } from "../src/pool/netgroup.ts";
import { parseAddressKey } from "../src/pool/addrkey.ts";
import { PoolError } from "../src/pool/errors.ts";
import type { PoolEvent } from "../src/pool/events.ts";
import type { PoolOptions } from "../src/pool/options.ts";
import { Pool } from "../src/pool/pool.ts";
import { Dag } from "../examples/lib/dag.ts";
import { addr, FakeNet, key, SHARED_DAG, until } from "./_pool.ts";

const PORT = SIMNET.defaultPort;

function makePool(net: FakeNet, clock: ManualClock, over: Partial<PoolOptions> = {}): Pool {
  return new Pool({
    network: SIMNET,
    connect: net.connect,
    listenFn: net.listen,
    clock,
    peer: { userAgentName: "pooltest", userAgentVersion: "1.0.0" },
    ...over,
  });
}

/** Moves the clock until `check` holds (bounded). */
async function drive(clock: ManualClock, check: () => boolean, what: string, stepMs = 1000, steps = 600) {
  for (let i = 0; i < steps && !check(); i++) await clock.advance(stepMs);
  assert.ok(check(), `never reached: ${what}`);
}

function outboundGroups(pool: Pool): string[] {
  return pool.peers().filter((p) => !p.inbound).map((p) => groupKey(parseAddressKey(p.addr)));
}

describe("Pool: outbound", () => {
  it("keeps 8 outbound peers, one per address group; an attacker with hundreds of addresses in 3 groups gets at most 3", async () => {
    const clock = new ManualClock();
    const net = new FakeNet();
    const am = new AddrManager({ clock });
    const now = clock.now();
    for (let i = 0; i < 20; i++) {
      net.add(`${20 + i}.1.0.1`);
      am.addAddresses([addr(`${20 + i}.1.0.1`, PORT, now)], addr(`${100 + i}.9.9.9`, PORT, now));
    }
    for (let g = 0; g < 3; g++) {
      for (let i = 0; i < 200; i++) {
        const ip = `${66 + g}.${66 + g}.${i >> 4}.${1 + (i & 15)}`;
        net.add(ip);
        am.addAddresses([addr(ip, PORT, now)], addr(`${66 + g}.${66 + g}.200.1`, PORT, now));
      }
    }
    const pool = makePool(net, clock, { addrManager: am });
    const events = pool.events();
    await pool.start();
    let worst = 0;
    let joined = 0;
    const watch = (async () => {
      for await (const e of events) {
        if (e.type !== "peer-joined") continue;
        joined++;
        const groups = outboundGroups(pool);
        assert.equal(new Set(groups).size, groups.length, `two outbound peers share a group: ${groups}`);
        worst = Math.max(worst, groups.filter((g) => /^6[678]\./.test(g)).length);
      }
    })();
    await drive(clock, () => pool.stats().peers.outbound === 8, "8 outbound peers");
    // Churn: kill four outbound peers' nodes; the pool replaces them.
    for (const p of pool.peers().slice(0, 4)) await net.kill(p.addr);
    await drive(clock, () => pool.stats().peers.outbound === 8, "8 outbound peers again");
    assert.ok(joined >= 12);
    assert.ok(worst <= 3, `attacker held ${worst} of 8 slots`);
    const s = pool.stats();
    assert.equal(s.peers.inbound, 0);
    assert.ok(s.addresses.tried >= 8);
    await pool.stop();
    await watch;
    assert.equal(clock.pendingTimers, 0, "nothing left scheduled after stop");
  });

  it("connect-only mode: dials only the given peers, and dials a killed one again after its backoff", async () => {
    const clock = new ManualClock();
    const net = new FakeNet();
    const am = new AddrManager({ clock });
    am.addAddresses([addr("8.8.8.8", PORT, clock.now())], addr("9.9.9.9", PORT, clock.now()));
    net.add("8.8.8.8");
    net.add("1.1.1.1");
    const pool = makePool(net, clock, { addrManager: am, connectPeers: [key("1.1.1.1", PORT)] });
    const events = pool.events();
    await pool.start();
    const first = await events.next();
    assert.equal(first.value?.type, "peer-joined");
    await net.kill(key("1.1.1.1", PORT));
    const left = (await events.next()).value as PoolEvent;
    assert.equal(left.type, "peer-left");
    assert.equal(left.type === "peer-left" && left.reason.reason, "remote-closed");
    net.add("1.1.1.1");
    const dialsBefore = net.dials.length;
    await clock.advance(4_999);
    assert.equal(net.dials.length, dialsBefore, "not before the 5 s backoff");
    await clock.advance(1);
    assert.equal((await events.next()).value?.type, "peer-joined");
    assert.ok(net.dials.every((d) => d === key("1.1.1.1", PORT)), `dialled ${net.dials}`);
    assert.equal(pool.stats().peers.permanent, 1);
    await pool.stop();
  });
});

describe("Pool: inbound and bans", () => {
  it("refuses an inbound flood from one address and one group at accept, without reading a byte", async () => {
    const clock = new ManualClock();
    const net = new FakeNet();
    const pool = makePool(net, clock, { listen: [{ hostname: "0.0.0.0", port: 18555 }] });
    await pool.start();
    const flood = Array.from({ length: 25 }, (_, i) => net.knock("9.9.9.9", 50000 + i));
    await until(() => flood.filter((k) => k.read()).length === 10, "10 accepted");
    await Promise.all(flood.slice(10).map((k) => k.closed));
    assert.ok(flood.slice(10).every((k) => !k.read()), "refused connections were never read");
    const group = Array.from({ length: 40 }, (_, i) => net.knock(`7.7.${i}.1`));
    await Promise.all(group.slice(30).map((k) => k.closed));
    assert.ok(group.slice(30).every((k) => !k.read()));
    assert.deepEqual(pool.stats().refused, { banned: 0, rateLimited: 25, full: 0 });
    // A minute later the address may connect again.
    await clock.advance(120_000);
    const later = net.knock("9.9.9.9", 60000);
    await until(() => later.read(), "accepted after the window");
    await pool.stop();
  });

  it("refuses a banned address at accept, and bans a peer that sends undecodable bytes", async () => {
    const clock = new ManualClock();
    const net = new FakeNet();
    const pool = makePool(net, clock, { listen: [{ port: 18555 }] });
    await pool.start();
    assert.ok(pool.banHost("6.6.6.6", "test"));
    const k = net.knock("6.6.6.6");
    await k.closed;
    assert.equal(k.read(), false);
    // Garbage: a frame with a wrong magic.
    const bad = net.knock("5.5.5.5");
    const w = bad.remote.writable.getWriter();
    await w.write(new Uint8Array(24).fill(0x41));
    await bad.closed;
    await until(() => pool.bans().some((b) => b.host === "5.5.5.5"), "5.5.5.5 banned");
    const again = net.knock("5.5.5.5", 50001);
    await again.closed;
    assert.equal(again.read(), false);
    assert.equal(pool.stats().refused.banned, 2);
    assert.ok(pool.unban("5.5.5.5"));
    await pool.stop();
  });

  it("keeps a host's score across connections: twice a message before version, then banned", async () => {
    const clock = new ManualClock();
    const net = new FakeNet();
    const pool = makePool(net, clock, { listen: [{ port: 18555 }] });
    await pool.start();
    const ping = encodeMessage({ command: "ping", nonce: 1n }, { magic: SIMNET.magic });
    for (let i = 0; i < 2; i++) {
      const k = net.knock("8.8.4.4", 50000 + i);
      const w = k.remote.writable.getWriter();
      await w.write(ping);
      await k.closed;
    }
    await until(() => pool.bans().some((b) => b.host === "8.8.4.4"), "8.8.4.4 banned");
    assert.match(pool.bans()[0]!.reason, /ban score 100: disconnected/);
    const third = net.knock("8.8.4.4", 50002);
    await third.closed;
    assert.equal(third.read(), false);
    await pool.stop();
  });

  it("keeps bans and the address book through a restart, in the storage", async () => {
    const clock = new ManualClock();
    const net = new FakeNet();
    const storage = new MemoryStorage();
    const first = makePool(net, clock, { listen: [{ port: 18555 }], storage });
    await first.start();
    first.banHost("6.6.6.6", "test");
    net.client("61.0.0.1").queueMessage({ command: "addr", addrList: [addr("62.0.0.1", PORT, clock.now())] });
    await until(() => first.stats().addresses.new === 1, "an address learned");
    await first.stop();
    assert.deepEqual(storage.names(), ["bans.json", "peers.json"]);
    const second = makePool(net, clock, { listen: [{ port: 18555 }], storage });
    await second.start();
    assert.equal(second.stats().addresses.new, 1);
    const k = net.knock("6.6.6.6");
    await k.closed;
    assert.equal(k.read(), false);
    await second.stop();
  });

  it("lets a whitelisted network past the inbound limits", async () => {
    const clock = new ManualClock();
    const net = new FakeNet();
    const pool = makePool(net, clock, { listen: [{ port: 18555 }], whitelist: ["192.168.0.0/16"] });
    await pool.start();
    const ks = Array.from({ length: 20 }, (_, i) => net.knock("192.168.1.1", 50000 + i));
    await until(() => ks.every((k) => k.read()), "all 20 accepted");
    assert.equal(pool.stats().refused.rateLimited, 0);
    await pool.stop();
  });

  it("refuses inbound peers beyond maxPeers minus the outbound target", async () => {
    const clock = new ManualClock();
    const net = new FakeNet();
    const pool = makePool(net, clock, { listen: [{ port: 18555 }], maxPeers: 10 });
    await pool.start();
    const ks = [1, 2, 3].map((i) => net.knock(`4.${i}.0.1`));
    await ks[2]!.closed;
    assert.equal(pool.stats().refused.full, 1);
    assert.equal(pool.stats().peers.handshaking, 2);
    await pool.stop();
  });

  it("decays a peer's ban score on the clock and bans at the threshold", async () => {
    const clock = new ManualClock();
    const net = new FakeNet();
    const pool = makePool(net, clock, { listen: [{ port: 18555 }] });
    const events = pool.events();
    await pool.start();
    const client = net.client("3.3.3.3");
    const joined = (await events.next()).value as PoolEvent;
    const peer = joined.peer;
    pool.addBanScore(peer, 0, 80, "test burst");
    assert.equal(pool.banScore(peer), 80);
    await clock.advance(60_000);
    assert.equal(pool.banScore(peer), 40);
    pool.misbehaving(peer, 59, "almost");
    assert.equal(pool.banScore(peer), 99);
    assert.equal(pool.bans().length, 0);
    await clock.advance(1_000); // decays below 99
    pool.misbehaving(peer, 1, "again");
    assert.equal(pool.bans().length, 0);
    pool.misbehaving(peer, 2, "over");
    assert.equal(pool.bans()[0]?.host, "3.3.3.3");
    assert.equal((await client.disconnected).reason, "remote-closed");
    assert.equal(((await events.next()).value as PoolEvent).type, "peer-left");
    await pool.stop();
  });

  it("never scores nor bans a whitelisted network", async () => {
    const clock = new ManualClock();
    const net = new FakeNet();
    const pool = makePool(net, clock, { listen: [{ port: 18555 }], whitelist: ["3.3.0.0/16"] });
    const events = pool.events();
    await pool.start();
    net.client("3.3.9.9");
    const { peer } = (await events.next()).value as PoolEvent;
    pool.misbehaving(peer, 1000, "test");
    pool.ban(peer, "test");
    assert.equal(pool.bans().length, 0);
    assert.ok(peer.connected);
    await pool.stop();
  });
});

describe("Pool: requests", () => {
  const other = Dag.generate({ height: 3, seed: 7 });
  const wanted = other.atHeight(2)[0]!;

  async function network(clock: ManualClock) {
    const net = new FakeNet();
    net.addRaw("11.0.0.1", PORT); // answers nothing
    net.add("12.0.0.1"); // answers notfound
    net.addRaw("13.0.0.1", PORT, { listeners: { onGetData: (p) => p.disconnect() } }); // leaves
    net.add("14.0.0.1", PORT, { dag: other }); // has it
    const peers = ["11.0.0.1", "12.0.0.1", "13.0.0.1", "14.0.0.1"].map((h) => key(h, PORT));
    const pool = makePool(net, clock, { connectPeers: peers });
    await pool.start();
    await drive(clock, () => pool.peers().length === 4, "4 peers", 10);
    return pool;
  }

  it("moves to another peer on timeout, notfound and disconnect until one answers", async () => {
    for (let round = 0; round < 3; round++) {
      const clock = new ManualClock();
      const pool = await network(clock);
      const asked: string[] = [];
      const p = pool.request({ command: "getdata", invList: [{ type: InvType.BLOCK, hash: wanted.hash, height: 2 }] }, {
        match: (m, peer) => {
          if (!asked.includes(peer.addr)) asked.push(peer.addr);
          return m.command === "block";
        },
        retries: 3,
        timeout: 10_000,
      });
      let result: Awaited<typeof p> | undefined;
      void p.then((r) => result = r);
      await drive(clock, () => result !== undefined, "an answer", 1000, 60);
      assert.equal(result!.peer.addr, key("14.0.0.1", PORT));
      assert.ok(result!.attempts >= 1 && result!.attempts <= 4);
      assert.equal(result!.message.command, "block");
      await pool.stop();
    }
  });

  it("fails after its retries, and ends with the pool", async () => {
    const clock = new ManualClock();
    const pool = await network(clock);
    const silent = (peer: Peer) => peer.addr === key("11.0.0.1", PORT);
    const p = pool.request({ command: "getaddr" }, { match: () => false, filter: silent, retries: 1, timeout: 5_000 });
    const outcome = p.catch((e: unknown) => e);
    await clock.advance(10_000);
    const err = await outcome;
    assert.ok(err instanceof PoolError && err.kind === "request-failed", String(err));
    assert.match((err as Error).message, /after 2 attempts: 11\.0\.0\.1:18555 timeout, 11\.0\.0\.1:18555 timeout/);
    // A message no peer can take (an inv over the limit) fails at once with the codec's error.
    const tooBig = {
      command: "inv",
      invList: Array.from({ length: 50_001 }, () => ({ type: 1, hash: new Uint8Array(32), height: 0 })),
    };
    await assert.rejects(pool.request(tooBig as Message, { match: () => true }), MessageError);
    const pending = pool.request({ command: "getaddr" }, { match: () => false, filter: () => false }).catch((e) => e);
    const events = pool.events();
    await pool.stop();
    const ended = await pending;
    assert.ok(ended instanceof PoolError && ended.kind === "stopped", String(ended));
    const rest: string[] = [];
    for await (const e of events) rest.push(e.type);
    assert.deepEqual(rest, ["peer-left", "peer-left", "peer-left", "peer-left"]);
    assert.equal(clock.pendingTimers, 0);
  });
});

describe("Pool: misbehaving peers", () => {
  const LIMITED = ["addr", "getaddr", "getaddrcache", "inv", "getdata", "getblocks", "getheaders", "ping"];

  it("bans a peer over each command's rate limit", async () => {
    const clock = new ManualClock();
    const net = new FakeNet();
    const small = Object.fromEntries(LIMITED.map((c) => [c, { limit: 3, window: 60_000 }]));
    const pool = makePool(net, clock, { listen: [{ port: 18555 }], rateLimits: small });
    await pool.start();
    const hash = new Uint8Array(32).fill(1);
    const make = (c: typeof LIMITED[number], i: number): Message => {
      switch (c) {
        case "addr":
          return { command: c, addrList: [addr(`8.8.${i}.8`, PORT, clock.now())] };
        case "inv":
        case "getdata":
          return { command: c, invList: [{ type: InvType.BLOCK, hash, height: i }] };
        case "getblocks":
        case "getheaders":
          return { command: c, protocolVersion: 70013, blockLocatorHeight: [i], hashStop: new Uint8Array(32) };
        default:
          return { command: "ping", nonce: BigInt(i + 1) };
        case "getaddr":
          return { command: "getaddr" };
        case "getaddrcache":
          return { command: "getaddrcache" };
      }
    };
    await Promise.all(LIMITED.map(async (c, n) => {
      const host = `30.0.${n}.1`;
      const client = net.client(host);
      assert.ok(await client.ready);
      for (let i = 0; i < 3 + 12 && client.connected; i++) await client.queueMessage(make(c, i));
      await client.disconnected;
      assert.match(pool.bans().find((b) => b.host === host)?.reason ?? "", new RegExp(`${c} over its rate limit`));
    }));
    assert.ok(pool.stats().rateLimited >= LIMITED.length * 10);
    await pool.stop();
  });

  it("drops an addr flood of unroutable addresses and bans the flooder", async () => {
    const clock = new ManualClock();
    const net = new FakeNet();
    const pool = makePool(net, clock, { listen: [{ port: 18555 }] });
    await pool.start();
    const client = net.client("40.0.0.1");
    assert.ok(await client.ready);
    const now = clock.now();
    for (let m = 0; m < 20 && client.connected; m++) {
      const addrList = Array.from({ length: 1000 }, (_, i) => addr(`10.${m}.${i >> 8}.${i & 255}`, PORT, now));
      await client.queueMessage({ command: "addr", addrList });
    }
    await client.disconnected;
    assert.deepEqual(pool.stats().addresses, { new: 0, tried: 0 });
    assert.equal(pool.bans()[0]?.host, "40.0.0.1");
    await pool.stop();
  });

  it("scores mempool requests as soterd (33 decaying points), or disconnects without bloom support", async () => {
    const clock = new ManualClock();
    const net = new FakeNet();
    const pool = makePool(net, clock, {
      listen: [{ port: 18555 }],
      peer: { userAgentName: "pooltest", userAgentVersion: "1.0.0", services: ServiceFlag.NODE_BLOOM },
    });
    await pool.start();
    const client = net.client("41.0.0.1");
    assert.ok(await client.ready);
    for (let i = 0; i < 4 && client.connected; i++) await client.queueMessage({ command: "mempool" });
    await client.disconnected;
    assert.equal(pool.bans()[0]?.host, "41.0.0.1");
    await pool.stop();

    const plain = makePool(net, clock, { listen: [{ port: 18555 }] });
    await plain.start();
    const c2 = net.client("42.0.0.1");
    assert.ok(await c2.ready);
    await c2.queueMessage({ command: "mempool" });
    await c2.disconnected;
    assert.equal(plain.bans().length, 0);
    await plain.stop();
  });
});

describe("Pool: addresses and broadcast", () => {
  it("learns addresses from an outbound peer, answers an inbound getaddr once, and broadcasts", async () => {
    const clock = new ManualClock();
    const net = new FakeNet();
    const known = Array.from({ length: 40 }, (_, i) => addr(`${60 + i}.5.0.1`, PORT, clock.now()));
    net.add("50.0.0.1", PORT, { known });
    const pool = makePool(net, clock, { listen: [{ port: 18555 }], addPeers: [key("50.0.0.1", PORT)] });
    const events = pool.events();
    await pool.start();
    assert.equal(((await events.next()).value as PoolEvent).type, "peer-joined");
    await until(() => pool.stats().addresses.new === 40, "40 addresses learned");
    let addrs = 0;
    const client = net.client("70.0.0.1", { listeners: { onAddr: () => void addrs++ } });
    const joined = ((await events.next()).value as PoolEvent).peer;
    assert.ok(joined.inbound);
    await client.queueMessage({ command: "getaddr" });
    await client.queueMessage({ command: "getaddr" });
    // A ping after both: its pong comes after any answer to them.
    let pong = false;
    const nonce = 42n;
    const sub = client.messages();
    await client.queueMessage({ command: "ping", nonce });
    for await (const m of sub) {
      if (m.command === "pong" && m.nonce === nonce) {
        pong = true;
        break;
      }
    }
    assert.ok(pong);
    assert.equal(addrs, 1, "one addr answer for two getaddr");
    assert.equal(pool.broadcast({ command: "sendheaders" }), 2);
    assert.equal(pool.broadcast({ command: "sendheaders" }, { exclude: [joined] }), 1);
    assert.equal(pool.broadcast({ command: "sendheaders" }, { filter: (p) => p.inbound }), 1);
    await pool.stop();
  });
});

describe("Pool: lifecycle", () => {
  it("stops with a dial in flight and no peers, settling everything", async () => {
    const clock = new ManualClock();
    const net = new FakeNet();
    net.blackholes.add(key("2.2.2.2", PORT));
    const pool = makePool(net, clock, { addPeers: [key("2.2.2.2", PORT)] });
    await pool.start();
    assert.equal(pool.stats().dials.pending, 1);
    const ac = new AbortController();
    const events = pool.events();
    ac.abort();
    await pool.stop();
    assert.equal((await events.next()).done, true);
    assert.equal(clock.pendingTimers, 0);
    await assert.rejects(pool.start(), (e) => e instanceof PoolError && e.kind === "stopped");
    assert.equal(pool.connect("3.3.3.3:1"), false);
    assert.throws(() => pool.connect("nope"), ConfigError);
    assert.throws(() => makePool(net, clock, { addPeers: ["1.2.3.4"] }), /Invalid peer address/);
    assert.throws(() => makePool(net, clock, { whitelist: ["1.2.3.4/40"] }), ConfigError);
    assert.throws(() => makePool(net, clock, { targetOutbound: 0 }), ConfigError);
    assert.ok(SHARED_DAG.size > 0);
  });

  it("stops when the start signal is aborted", async () => {
    const clock = new ManualClock();
    const net = new FakeNet();
    const pool = makePool(net, clock);
    const ac = new AbortController();
    await pool.start(ac.signal);
    const events = pool.events();
    ac.abort();
    assert.equal((await events.next()).done, true);
  });
});
