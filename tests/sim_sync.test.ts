// DagSync on the simulator: mini nodes serve a DAG of ~12 kB blocks over
// links of 1 MB/s (virtual time). From 4 peers the sync must be at least 3x
// faster than from 1; a partition of 3 of the 4 nodes mid-sync, short
// (healed while the sync runs, the held bytes arriving late) or long (the
// blocks asked again from the node left), ends with every block yielded
// exactly once, parents first, exact bytes; and a run gives the same trace
// hash every time. Figures at 10,000-block scale: bench/sim_sync.ts.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Dag } from "../examples/lib/dag.ts";
import { assertWholeDag } from "./_sync_helpers.ts";
import { PaddedDag, runSyncScenario } from "./_sim_sync.ts";

const dag = new PaddedDag(Dag.generate({ height: 100, maxWidth: 3, seed: 5 }), 12_000);

describe("DagSync on the simulator", () => {
  it("is at least 3x faster from 4 peers than from 1 over bandwidth-limited links", async () => {
    const one = await runSyncScenario({ seed: 1, dag, servers: 1 });
    const four = await runSyncScenario({ seed: 1, dag, servers: 4 });
    assertWholeDag(dag, one.blocks);
    assertWholeDag(dag, four.blocks);
    // At 1 MB/s the blocks alone take over 2 s from one peer: bandwidth is the limit.
    const bytes = one.blocks.reduce((n, b) => n + b.payload.length, 0);
    assert.ok(one.virtualMs >= bytes / 1000, `one peer took ${one.virtualMs} ms for ${bytes} bytes`);
    const speedup = one.virtualMs / four.virtualMs;
    assert.ok(
      speedup >= 3,
      `4 peers ${four.virtualMs.toFixed(0)} ms, 1 peer ${one.virtualMs.toFixed(0)} ms: ${speedup}x`,
    );
    assert.equal(Object.keys(four.servedBy).length, 4, "every node served blocks");
  });

  it("loses and repeats no block through a short partition healed mid-sync", async () => {
    const partition = { after: 60, hosts: 3, forMs: 400 };
    const r = await runSyncScenario({ seed: 2, dag, servers: 4, partition });
    assert.ok(r.partitionAt !== undefined && r.healedAt !== undefined);
    assert.ok(r.healedAt < r.partitionAt + r.virtualMs, "healed before the sync ended");
    assertWholeDag(dag, r.blocks);
    // The cut-off nodes served blocks after the heal (what they held arrived late).
    assert.equal(Object.keys(r.servedBy).length, 4);
    assert.equal(r.progress.invalid, 0);
  });

  it("loses and repeats no block through a long partition, asking the node left", async () => {
    const partition = { after: 60, hosts: 3, forMs: 60_000 };
    const a = await runSyncScenario({ seed: 3, dag, servers: 4, partition });
    assertWholeDag(dag, a.blocks);
    assert.ok(a.progress.rerequested > 0, "blocks in flight from the cut-off nodes were asked again");
    assert.ok(a.virtualMs < partition.forMs, "finished before the partition healed");
    // Same seed, same run: same trace hash, same blocks in the same order from the same peers.
    const b = await runSyncScenario({ seed: 3, dag, servers: 4, partition });
    assert.equal(b.traceHash, a.traceHash);
    assert.deepEqual(b.blocks.map((x) => `${x.hex} ${x.from}`), a.blocks.map((x) => `${x.hex} ${x.from}`));
    assert.equal(b.virtualMs, a.virtualMs);
  });
});
