// DagSync against the examples' mini nodes over loopback: several nodes
// serving the same DAG, blocks yielded once each, parents first, with the
// exact bytes; the store written along the way.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import "./_guard.ts";
import { Dag } from "../examples/lib/dag.ts";
import { BlockStore, bytesEqual, DagSync, encodePayload, MemoryStorage, type Peer, type SyncedBlock } from "../mod.ts";
import { cleanupsAfterAll } from "./_runtime.ts";
import { client, serve } from "./_sync_helpers.ts";

const cleanups = cleanupsAfterAll();

async function nodes(dag: Dag, n: number): Promise<Peer[]> {
  const peers: Peer[] = [];
  for (let i = 0; i < n; i++) {
    const s = await serve(dag);
    cleanups.push(() => s.close());
    const p = await client(s.port);
    cleanups.push(() => p.disconnect());
    peers.push(p);
  }
  return peers;
}

/** Checks that `got` is the whole DAG but genesis, once each, every parent first. */
function assertWholeDag(dag: Dag, got: SyncedBlock[]): void {
  const seen = new Map<string, number>();
  for (const b of got) {
    assert.ok(!seen.has(b.hex), `block ${b.hex} yielded twice`);
    for (const p of b.block.parents.parents) {
      const ph = dag.get(p.hash)!.hex;
      assert.ok(ph === dag.blocks()[0]!.hex || seen.has(ph), `block ${b.hex} before its parent ${ph}`);
    }
    const want = dag.get(b.hex)!;
    assert.equal(b.height, want.height);
    assert.ok(bytesEqual(b.payload, encodePayload(want.block)), `bytes of ${b.hex}`);
    seen.set(b.hex, b.height);
  }
  assert.equal(got.length, dag.size - 1);
}

describe("DagSync over loopback", () => {
  it("downloads a DAG from three nodes, every block once, parents first, exact bytes", async () => {
    const dag = Dag.generate({ height: 300, maxWidth: 3, seed: 11 });
    const peers = await nodes(dag, 3);
    const store = await BlockStore.open(new MemoryStorage());
    const sync = new DagSync({ network: dag.network, peers, store });
    const got: SyncedBlock[] = [];
    for await (const b of sync) got.push(b);
    assertWholeDag(dag, got);
    const p = sync.progress();
    assert.equal(p.blocks, dag.size - 1);
    assert.equal(p.height, dag.height);
    assert.equal(p.invalid, 0);
    assert.equal(store.size, dag.size - 1);
    assert.deepEqual(store.tips().map((t) => t.hex).sort(), dag.tips().map((t) => t.hex).sort());
    assert.equal(store.checkpoint, dag.height);
    // More than one node served blocks.
    assert.ok(new Set(got.map((b) => b.from)).size > 1, "blocks came from several peers");
  });
});
