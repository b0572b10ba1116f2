// The simulator's core: virtual time, links, connects and their failures,
// faults, and the same trace from the same seed. Everything runs on
// virtual time: no test waits on the real clock.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { ConnectionError } from "../src/adapters/errors.ts";
import type { Conn } from "../src/peer/conn.ts";
import { Peer } from "../src/peer/peer.ts";
import { SIMNET } from "../src/chain/params.ts";
import { type SimHost, SimNet } from "../src/sim/net.ts";
import { SimRandom } from "../src/sim/random.ts";
import { randomFaults, scheduleFaults } from "../src/sim/faults.ts";
import { PeerNetwork } from "../src/sim/workload.ts";

function peerConfig(host: SimHost) {
  return {
    network: SIMNET,
    userAgentName: "simtest",
    userAgentVersion: "1.0.0",
    clock: host.clock,
    random: host.random,
    sentNonces: host.sentNonces,
  };
}

/** Accepts every connection of a listener into an inbound peer. */
async function serve(host: SimHost, port: number, peers: Peer[]): Promise<() => void> {
  const listener = await host.listen({ port });
  void (async () => {
    for await (const conn of listener) {
      const peer = Peer.inbound(peerConfig(host));
      peers.push(peer);
      peer.associateConnection(conn);
    }
  })();
  return () => listener.close();
}

async function readAll(conn: Conn, into: Uint8Array[]): Promise<void> {
  const reader = conn.readable.getReader();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      into.push(value);
    }
  } catch {
    // A reset ends the reading too.
  }
}

function total(chunks: Uint8Array[]): number {
  return chunks.reduce((n, c) => n + c.length, 0);
}

async function failure(p: Promise<unknown>): Promise<ConnectionError> {
  let value: unknown;
  try {
    value = await p;
  } catch (err) {
    assert.ok(err instanceof ConnectionError, `expected a ConnectionError, got ${err}`);
    return err;
  }
  assert.fail(`expected a rejection, got ${value}`);
}

describe("SimRandom", () => {
  it("gives the same sequence for the same seed, and independent forks", () => {
    const a = new SimRandom(42);
    const b = new SimRandom(42);
    const seqA = Array.from({ length: 8 }, () => a.u32());
    assert.deepEqual(seqA, Array.from({ length: 8 }, () => b.u32()));
    assert.notDeepEqual(seqA, Array.from({ length: 8 }, () => new SimRandom(43).u32()));
    // A fork does not depend on what the parent drew.
    const f1 = new SimRandom(42).fork("x").u32();
    const parent = new SimRandom(42);
    parent.u32();
    assert.equal(parent.fork("x").u32(), f1);
    assert.notEqual(new SimRandom(42).fork("y").u32(), f1);
  });

  it("draws within bounds, roughly uniformly", () => {
    const r = new SimRandom(1);
    const counts = [0, 0, 0, 0, 0, 0];
    for (let i = 0; i < 60_000; i++) counts[r.below(6)]!++;
    for (const c of counts) assert.ok(c > 9_400 && c < 10_600, `bucket ${c}`);
    const bytes = new Uint8Array(7);
    r.fill(bytes);
    assert.ok(bytes.some((x) => x !== 0));
  });
});

describe("SimNet hosts and connections", () => {
  it("adding a host and its traffic changes nothing the others draw", async () => {
    async function run(extra: boolean): Promise<string[]> {
      const net = new SimNet({ seed: 8, traceData: true, trace: { keep: true } });
      const [a, b] = [net.host({ ipv4: true }), net.host({ ipv4: true })];
      if (extra) {
        const c = net.host({ ipv4: true });
        const l = await a.listen({ port: 7 });
        void (async () => {
          for await (const conn of l) conn.close();
        })();
        void c.connect(a.ipv4!, 7).then((conn) => conn.close());
      }
      const l = await b.listen({ port: 9 });
      const got: Uint8Array[] = [];
      void (async () => {
        for await (const conn of l) await readAll(conn, got);
      })();
      const sent = a.connect(b.ipv4!, 9).then(async (conn) => {
        const w = conn.writable.getWriter();
        for (let i = 0; i < 20; i++) await w.write(new Uint8Array(1000));
        conn.close();
      });
      await net.run({ until: sent });
      await net.run({ for: 60_000 });
      return net.trace.lines().filter((l) => / h0->h1 /.test(l)).map((l) => l.replace(/ c\d+ /, " "));
    }
    const alone = await run(false);
    assert.ok(alone.length >= 20, alone.join("\n"));
    assert.deepEqual(await run(true), alone);
  });

  it("spreads hosts over realistic IPv4 /16 and IPv6 /32 groups, all unique", () => {
    const net = new SimNet({ seed: 5 });
    for (let i = 0; i < 500; i++) net.host();
    const v4 = net.hosts.flatMap((h) => (h.ipv4 === undefined ? [] : [h.ipv4]));
    const v6 = net.hosts.flatMap((h) => (h.ipv6 === undefined ? [] : [h.ipv6]));
    assert.equal(new Set([...v4, ...v6]).size, v4.length + v6.length);
    assert.ok(v4.length > 300 && v6.length > 100, `${v4.length} v4, ${v6.length} v6`);
    const groups16 = new Set(v4.map((a) => a.split(".").slice(0, 2).join(".")));
    assert.ok(groups16.size > 60 && groups16.size < v4.length / 2, `${groups16.size} /16 groups`);
    for (const a of v4) assert.ok(!/^(10|127|192\.168)\./.test(a), a);
    for (const h of net.hosts) assert.equal(net.lookup(h.addresses[0]!), h);
  });

  it("carries bytes with latency and bandwidth, in order, with backpressure", async () => {
    const net = new SimNet({ seed: 2, profile: () => ({ latency: 50, jitter: 5, bandwidth: 1_000_000 }) });
    const a = net.host({ ipv4: "198.51.100.1", ipv6: false });
    const b = net.host({ ipv6: "2a01:4f8::1", ipv4: false });
    const listener = await b.listen({ hostname: "::", port: 9000 });
    const received: Uint8Array[] = [];
    let server: Conn | undefined;
    void (async () => {
      for await (const conn of listener) {
        server = conn;
        await readAll(conn, received);
      }
    })();
    await assert.rejects(a.connect("2a01:4f8::1", 9000), (e: ConnectionError) => e.code === "unreachable");
    const a6 = net.host({ ipv4: "198.51.100.2", ipv6: "2a01:4f8::2" });
    const connected = a6.connect("2a01:4f8::1", 9000);
    await net.run({ until: connected });
    const conn = await connected;
    assert.ok(net.time >= 100 && net.time < 112, `one round trip: ${net.time}`);
    assert.equal(conn.remoteAddr.hostname, "2a01:4f8::1");
    const writer = conn.writable.getWriter();
    const start = net.time;
    const data = new Uint8Array(1_000_000).map((_, i) => i % 251);
    const written = (async () => {
      for (let i = 0; i < 10; i++) await writer.write(data.subarray(i * 100_000, (i + 1) * 100_000));
      await writer.close();
    })();
    await net.run({ until: () => total(received) === data.length });
    // A megabyte at a megabyte a second, plus the latency.
    assert.ok(net.time - start >= 1_050 && net.time - start < 1_100, `took ${net.time - start} ms`);
    await net.run({ until: written });
    const all = new Uint8Array(total(received));
    let at = 0;
    for (const c of received) {
      all.set(c, at);
      at += c.length;
    }
    assert.deepEqual(all, data);
    server?.close();
    conn.close();
    listener.close();
    await net.run();
    assert.equal(net.openConnections, 0);
    assert.equal(net.pendingEvents, 0);
  });

  it("a reader that stops reading stalls its writer; resuming lets it finish", async () => {
    const net = new SimNet({ seed: 3, profile: () => ({ latency: 10, jitter: 0, bandwidth: 10_000_000 }) });
    const a = net.host({ ipv4: "198.51.100.1" });
    const b = net.host({ ipv4: "198.51.100.2" });
    const listener = await b.listen({ port: 9000 });
    const received: Uint8Array[] = [];
    void (async () => {
      for await (const conn of listener) await readAll(conn, received);
    })();
    const p = a.connect("198.51.100.2", 9000);
    await net.run({ until: p });
    const conn = await p;
    net.connections()[0]!.stopReading("server");
    const writer = conn.writable.getWriter();
    let written = 0;
    const writes = (async () => {
      for (let i = 0; i < 100; i++) {
        await writer.write(new Uint8Array(16_384));
        written++;
      }
    })();
    await net.run({ for: 60_000 });
    assert.ok(written > 10 && written < 40, `${written} writes went through before the window filled`);
    assert.equal(total(received), 0, "nothing was read");
    net.connections()[0]!.stopReading("server", false);
    await net.run({ until: writes, for: 60_000 });
    assert.equal(written, 100);
    conn.close();
    listener.close();
    await net.run();
    assert.equal(total(received), 100 * 16_384);
  });

  it("bytes held by a partition keep their order after it heals (found by the search mode, seed 50166)", async () => {
    const net = new SimNet({ seed: 5, profile: () => ({ latency: 40, jitter: 0, bandwidth: 1_000_000 }) });
    const a = net.host({ ipv4: "198.51.100.1" });
    const b = net.host({ ipv4: "198.51.100.2" });
    const listener = await b.listen({ port: 9000 });
    const received: Uint8Array[] = [];
    let ended = false;
    void (async () => {
      for await (const conn of listener) {
        await readAll(conn, received);
        ended = true;
      }
    })();
    const p = a.connect("198.51.100.2", 9000);
    await net.run({ until: p });
    const conn = await p;
    const writer = conn.writable.getWriter();
    const partition = net.partition([a]);
    await writer.write(new Uint8Array(100).fill(1));
    await net.run({ for: 1_000 });
    assert.equal(total(received), 0, "held while partitioned");
    // More bytes and the end are on the wire when the partition heals: they must not overtake the held bytes.
    await writer.write(new Uint8Array(50).fill(2));
    conn.close();
    await net.run({ for: 20 });
    partition.heal();
    await net.run({ until: () => ended, for: 10_000 });
    assert.ok(ended);
    assert.deepEqual(received.map((c) => [c[0], c.length]), [[1, 100], [2, 50]]);
    listener.close();
    await net.run();
  });

  it("connects fail as with real sockets: refused, timed out, aborted", async () => {
    const net = new SimNet({ seed: 4 });
    const a = net.host({ ipv4: "198.51.100.1" });
    const b = net.host({ ipv4: "198.51.100.2" });
    const run = (p: Promise<unknown>) => net.run({ until: p.catch(() => {}) }).then(() => failure(p));
    assert.equal((await run(a.connect("198.51.100.2", 1))).code, "refused");
    const l = await b.listen({ port: 9000 });
    b.refuseConnections(10_000);
    assert.equal((await run(a.connect("198.51.100.2", 9000))).code, "refused");
    await net.run({ for: 10_000 });
    b.dropConnections(60_000);
    const t0 = net.time;
    const e = await run(a.connect("198.51.100.2", 9000, { timeout: 5_000 }));
    assert.equal(e.code, "timeout");
    assert.equal(net.time - t0, 5_000);
    assert.equal((await run(a.connect("203.0.113.99", 9000))).code, "timeout");
    assert.equal(net.time - t0, 5_000 + 127_000, "the default limit is Linux's");
    const ac = new AbortController();
    net.after(10, () => ac.abort());
    assert.equal((await run(a.connect("198.51.100.2", 9000, { signal: ac.signal }))).code, "aborted");
    await assert.rejects(b.listen({ port: 9000 }), /already in use/);
    await assert.rejects(b.listen({ hostname: "198.51.100.1" }), /not an address/);
    l.close();
    await net.run();
    assert.equal(net.pendingEvents, 0);
  });
});

describe("SimNet with peers", () => {
  it("two peers keep alive for a virtual hour, pinging every 2 minutes", async () => {
    const net = new SimNet({ seed: 1 });
    const server = net.host({ ipv4: "203.0.113.5" });
    const client = net.host({ ipv4: "198.51.100.7" });
    const inbound: Peer[] = [];
    const stop = await serve(server, 18555, inbound);
    const peer = Peer.outbound("203.0.113.5:18555", peerConfig(client));
    client.connect("203.0.113.5", 18555).then((conn) => peer.associateConnection(conn));
    await net.run({ until: peer.ready, for: 60_000 });
    assert.ok(peer.connected);
    await net.run({ for: 3_600_000 });
    assert.ok(peer.connected && inbound[0]!.connected);
    const rtt = peer.lastPingMicros / 1000;
    assert.ok(rtt > 4 && rtt < 400, `round trip ${rtt} ms`);
    // 30 pings each way, 32 bytes each, plus the handshake.
    assert.ok(peer.bytesSent > 30 * 32 * 2 && peer.bytesSent < 3_000, `${peer.bytesSent} bytes sent`);
    peer.disconnect();
    stop();
    await net.run();
    assert.equal((await inbound[0]!.disconnected).reason, "remote-closed");
    assert.equal(net.openConnections, 0);
    assert.equal(server.pendingTimers + client.pendingTimers, 0);
  });

  it("the scale benchmark's workload at a tenth: 1,000 peers keep alive for 10 virtual minutes", async () => {
    // bench/sim_scale.ts runs 10,000 peers for an hour; this is its shape.
    const net = new SimNet({ seed: 7, window: 10 });
    const work = new PeerNetwork(net, { hosts: 1000, listening: 0.5, outbound: 1, invPerMinute: 60 });
    await net.run({ for: 600_000 });
    const live = [...work.live];
    assert.equal(live.length, 1000);
    assert.ok(live.every((p) => p.connected), "every peer still connected");
    assert.equal(work.stats.handshakes, 1000);
    // A ping every 2 minutes from each side of 500 connections (the first
    // one 2 minutes after its handshake, which took up to a minute).
    assert.ok(work.stats.pongs >= 4 * 1000, `${work.stats.pongs} pongs`);
    assert.ok(work.stats.invReceived > 0, "inventory trickled");
    // Idle peers cost their pings and idle checks, not a tick every 10-15 s.
    assert.ok(net.events < 40_000, `${net.events} events (about 90,000 with always-running ticks)`);
    work.stop();
    await net.run();
    work.checkEnd();
    assert.deepEqual(work.violations, []);
    assert.equal(net.openConnections, 0);
  });

  it("settling once per window: the same handshakes and pongs in fewer steps", async () => {
    const results: { steps: number; events: number; pongs: number; handshakes: number }[] = [];
    for (const window of [0, 50]) {
      const net = new SimNet({ seed: 21, window });
      const work = new PeerNetwork(net, { hosts: 40, reconnectAfter: 0, invPerMinute: 0, startWithin: 5_000 });
      await net.run({ for: 600_000 });
      results.push({
        steps: net.steps,
        events: net.events,
        pongs: work.stats.pongs,
        handshakes: work.stats.handshakes,
      });
      work.stop();
      await net.run();
      work.checkEnd();
      assert.deepEqual(work.violations, []);
    }
    const [exact, windowed] = results as [(typeof results)[0], (typeof results)[0]];
    assert.equal(windowed.handshakes, exact.handshakes);
    assert.equal(windowed.pongs, exact.pongs);
    assert.ok(windowed.steps < exact.steps * 0.9, `${windowed.steps} steps windowed, ${exact.steps} exact`);
  });

  it("a partition starves peers into idle-timeout; corruption and resets disconnect with a reason", async () => {
    const net = new SimNet({ seed: 9 });
    const work = new PeerNetwork(net, { hosts: 12, reconnectAfter: 0, invPerMinute: 0, startWithin: 1_000 });
    await net.run({ for: 10_000 });
    assert.equal(work.stats.handshakes, 12, "six connections, two peers each");
    const conns = net.connections();
    conns[0]!.corrupt("client");
    conns[1]!.resetMidFrame("server");
    await net.run({ for: 180_000 });
    const d = work.stats.disconnects;
    // The corrupted ping fails its checksum: reject, disconnect; the other side sees the close.
    assert.equal(d["malformed"], 1, JSON.stringify(d));
    // The reset mid-frame ends both reads; a reset by the remote is reported as remote-closed.
    assert.equal(d["remote-closed"], 3, JSON.stringify(d));
    assert.equal(d["read-failed"], undefined, JSON.stringify(d));
    // Hosts 0 to 5 listen; 6 to 11 connect: cut off the first three of each.
    net.partition([0, 1, 2, 6, 7, 8].map((i) => net.hosts[i]!));
    await net.run({ for: 600_000 });
    assert.ok((d["idle-timeout"] ?? 0) >= 2, JSON.stringify(d));
    work.stop();
    await net.run();
    work.checkEnd();
    assert.deepEqual(work.violations, []);
  });

  it("a crashed host's peers time out (machine) or reset (process); it serves again after restart", async () => {
    for (const mode of ["machine", "process"] as const) {
      const net = new SimNet({ seed: 11 });
      const work = new PeerNetwork(net, { hosts: 6, listening: 1 / 6, invPerMinute: 0, startWithin: 1_000 });
      await net.run({ for: 5_000 });
      assert.equal(work.stats.handshakes, 10);
      net.hosts[0]!.crash(mode);
      net.after(60_000, () => net.hosts[0]!.restart());
      await net.run({ for: 600_000 });
      const d = work.stats.disconnects;
      // A process crash resets every connection at once (reported as remote-closed); a machine crash goes silent,
      // and its peers time out or meet the reset of the restarted machine.
      if (mode === "process") assert.equal(d["remote-closed"], 10, JSON.stringify(d));
      else assert.ok((d["idle-timeout"] ?? 0) + (d["remote-closed"] ?? 0) >= 5, JSON.stringify(d));
      assert.ok(work.stats.handshakes >= 20, `${work.stats.handshakes} handshakes, reconnected after the restart`);
      work.stop();
      await net.run();
      work.checkEnd();
      assert.deepEqual(work.violations, []);
    }
  });
});

describe("determinism", () => {
  async function scenario(
    seed: number,
    hosts = 200,
    minutes = 3,
  ): Promise<{ hash: string; count: number; violations: string[] }> {
    const net = new SimNet({ seed });
    const work = new PeerNetwork(net, { hosts, invPerMinute: 120, startWithin: 30_000 });
    scheduleFaults(net, randomFaults(net.random, { minutes, perMinute: 12 }));
    await net.run({ for: minutes * 60_000, onStep: () => work.checkStep() });
    work.stop();
    await net.run();
    work.checkEnd();
    return { hash: net.trace.hash, count: net.trace.count, violations: work.violations };
  }

  it("the same seed gives the same trace, byte for byte (200 hosts, about 36 faults, 3 minutes)", async () => {
    const first = await scenario(2026);
    const second = await scenario(2026);
    assert.deepEqual(first.violations, []);
    assert.ok(first.count > 700, `${first.count} trace entries`);
    assert.equal(second.hash, first.hash);
    assert.equal(second.count, first.count);
    const other = await scenario(2026, 20);
    assert.notEqual(other.hash, first.hash);
    assert.equal((await scenario(2026, 20)).hash, other.hash);
    assert.notEqual((await scenario(2027, 20)).hash, other.hash);
  });
});
