// DagSync against the examples' mini nodes over loopback: several nodes
// serving the same DAG, blocks yielded once each, parents first, with the
// exact bytes; the store written along the way.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import "./_guard.ts";
import { Dag } from "../examples/lib/dag.ts";
import { BlockStore, DagSync, MemoryStorage, type SyncedBlock } from "../mod.ts";
import { cleanupsAfterAll } from "./_runtime.ts";
import { assertWholeDag, nodes } from "./_sync_helpers.ts";

const cleanups = cleanupsAfterAll();

describe("DagSync over loopback", () => {
  it("downloads a DAG from three nodes, every block once, parents first, exact bytes", async () => {
    const dag = Dag.generate({ height: 300, maxWidth: 3, seed: 11 });
    const peers = await nodes(dag, 3, cleanups);
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
