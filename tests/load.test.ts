// Load and churn over loopback, CI-sized: 100 peer pairs exchange 20 pings
// and pongs each, then 300 connect/disconnect cycles; afterwards nothing may
// be left (timers, connections, listeners, TCP sockets, peers not garbage
// collected). The full-sized run is bench/load.ts. One file for Deno, Bun
// and Node.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { assertNoUnhandled } from "./_guard.ts";
import { canCollectGarbage, type LeakCheck, runLoad, settleMemory } from "../bench/_load.ts";
import { adapter, runtime } from "./_runtime.ts";
import { SIMNET } from "../src/chain/params.ts";
import type { Conn } from "../src/peer/conn.ts";
import { LruSet } from "../src/peer/lru.ts";
import { Peer } from "../src/peer/peer.ts";
import { connPair } from "../src/peer/pipe.ts";

function assertClean(c: LeakCheck, phase: string): void {
  assert.equal(c.timers, 0, `${phase}: peer timers left`);
  assert.equal(c.conns, 0, `${phase}: connections never closed`);
  assert.equal(c.abortListeners, 0, `${phase}: listeners left on the AbortSignal`);
  if (c.socketDelta !== undefined) assert.equal(c.socketDelta, 0, `${phase}: TCP sockets left open`);
  if (c.uncollectedPeers !== undefined) assert.equal(c.uncollectedPeers, 0, `${phase}: peers not collected`);
}

describe(`load and churn over loopback (${runtime})`, () => {
  it("100 pairs x 20 pings, then 300 connect/disconnect cycles: nothing is left", async () => {
    const r = await runLoad({ peers: 100, messages: 20, cycles: 300 });
    assert.equal(r.exchanged, 100 * 20 * 2);
    assertClean(r.afterLoad, "after 100 pairs");
    assertClean(r.afterChurn, "after 300 cycles");
    // Generous bounds (measured: 20-55 KB of heap a pair; external memory,
    // which holds the read buffers, 0.4-9 KB a pair).
    assert.ok(r.idleAfterHandshake.heapPerPair < 200_000, `${r.idleAfterHandshake.heapPerPair} B of heap a pair`);
    assert.ok(
      r.idleAfterHandshake.externalPerPair < 32_000,
      `${r.idleAfterHandshake.externalPerPair} B of external memory a pair (a 64 KiB read buffer per socket?)`,
    );
    assert.ok(r.churnGrowth.heap < 16e6, `the heap grew ${r.churnGrowth.heap} B over 300 cycles`);
    await assertNoUnhandled();
  });

  it("a closed peer is collected while its connection is still referenced", {
    skip: !canCollectGarbage && "no garbage collection available",
  }, async () => {
    let collected = 0;
    const registry = new FinalizationRegistry<number>(() => collected++);
    const held: Conn[] = [];
    const listener = await adapter.listen({ hostname: "127.0.0.1", port: 0 });
    const incoming = listener[Symbol.asyncIterator]();
    // Peers are made in a plain function: a suspended async function may
    // keep its own locals alive.
    const start = (a: Conn, b: Conn): Promise<unknown> => {
      const server = Peer.inbound({ network: SIMNET, sentNonces: new LruSet<bigint>(50) });
      const client = Peer.outbound("127.0.0.1:1", { network: SIMNET, sentNonces: new LruSet<bigint>(50) });
      registry.register(server, 0);
      registry.register(client, 0);
      server.associateConnection(a);
      client.associateConnection(b);
      return client.ready.then(() => {
        client.disconnect(); // the side that closes, and its remote
        return Promise.all([client.disconnected, server.disconnected]);
      });
    };
    for (let i = 0; i < 3; i++) {
      const [a, b] = connPair();
      held.push(a, b);
      await start(a, b);
    }
    for (let i = 0; i < 3; i++) {
      const next = incoming.next();
      const b = await adapter.connect("127.0.0.1", listener.addr.port);
      const a = (await next).value as Conn;
      held.push(a, b);
      await start(a, b);
    }
    await settleMemory();
    listener.close();
    assert.equal(held.length, 12);
    assert.equal(collected, 12, `${12 - collected} of 12 closed peers kept alive by their connections`);
    await assertNoUnhandled();
  });
});
