// The pool on real loopback sockets with the adapter of the runtime running
// this file: 24 listening nodes, 8 outbound peers kept, inbound peers, an
// inbound flood from one address, and a banned address coming back.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { assertNoUnhandled } from "./_guard.ts";
import { SIMNET } from "../src/chain/params.ts";
import type { Conn } from "../src/peer/conn.ts";
import { LruSet } from "../src/peer/lru.ts";
import { Peer } from "../src/peer/peer.ts";
import { netAddress } from "../src/wire/ip.ts";
import { AddrManager } from "../src/pool/addrmgr.ts";
import type { PoolEvent } from "../src/pool/events.ts";
import { Pool } from "../src/pool/pool.ts";
import { DagNode } from "../examples/lib/node.ts";
import { SHARED_DAG, until } from "./_pool.ts";
import { cleanupsAfterAll, connect, listen } from "./_runtime.ts";

const cleanups = cleanupsAfterAll();

async function nextOf(events: AsyncIterator<PoolEvent>, type: PoolEvent["type"]): Promise<PoolEvent> {
  for (;;) {
    const r = await events.next();
    if (r.done) throw new Error(`events ended before a ${type}`);
    if (r.value.type === type) return r.value;
  }
}

describe("Pool on loopback sockets", () => {
  it("keeps 8 outbound peers among 24 nodes, accepts inbound peers, refuses a flood and a banned address", async () => {
    const nonces = new LruSet<bigint>(1000);
    const nodes: DagNode[] = [];
    const now = Math.floor(Date.now() / 1000);
    const am = new AddrManager({ allowUnroutable: true });
    const src = netAddress({ ip: "127.0.0.1", port: 1, timestamp: now });
    for (let i = 0; i < 24; i++) {
      const l = await listen({ hostname: "127.0.0.1", port: 0 });
      const node = new DagNode({ dag: SHARED_DAG, peer: { sentNonces: nonces } });
      void node.serve(l);
      nodes.push(node);
      cleanups.push(() => node.close(), () => l.close());
      am.addAddresses([netAddress({ ip: "127.0.0.1", port: l.addr.port, timestamp: now, services: 1n })], src);
    }
    const pool = new Pool({
      network: SIMNET,
      connect,
      listenFn: listen,
      listen: [{ hostname: "127.0.0.1", port: 0 }],
      addrManager: am,
      allowUnroutable: true,
      anyPort: true,
      peer: { userAgentName: "pooltest", userAgentVersion: "1.0.0" },
    });
    cleanups.push(() => pool.stop());
    const events = pool.events();
    await pool.start();
    for (let i = 0; i < 8; i++) await nextOf(events, "peer-joined");
    assert.equal(pool.stats().peers.outbound, 8);
    assert.equal(new Set(pool.peers().map((p) => p.addr)).size, 8, "no two connections to one address");

    // Three inbound peers.
    const { port } = pool.listenAddrs[0]!;
    const clients: Peer[] = [];
    for (let i = 0; i < 3; i++) {
      const c = Peer.outbound(`127.0.0.1:${port}`, {
        network: SIMNET,
        userAgentName: "client",
        userAgentVersion: "1.0.0",
        sentNonces: nonces,
      });
      c.associateConnection(await connect("127.0.0.1", port));
      clients.push(c);
      await nextOf(events, "peer-joined");
    }
    assert.equal(pool.stats().peers.inbound, 3);

    // A flood from the same address: 10 a minute are let in, the rest closed at once.
    const flood: Conn[] = [];
    for (let i = 0; i < 12; i++) flood.push(await connect("127.0.0.1", port));
    await until(() => pool.stats().refused.rateLimited === 5, "5 refused");
    for (const c of flood) c.close();

    // Banned: everyone from 127.0.0.1 goes, and a new connection is closed before a byte is read.
    pool.banHost("127.0.0.1", "test");
    await Promise.all(clients.map((c) => c.disconnected));
    const again = await connect("127.0.0.1", port);
    const r = await again.readable.getReader().read();
    assert.equal(r.done, true);
    again.close();
    assert.equal(pool.stats().refused.banned, 1);
    await pool.stop();
    assert.equal(pool.peers().length, 0);
    await assertNoUnhandled();
  });
});
