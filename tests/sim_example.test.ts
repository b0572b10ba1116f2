// The simulator example a user copies: an SPV client that must survive a
// partition, run on virtual time, the same way for the same seed.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { partitionExample } from "../examples/sim_partition.ts";

describe("examples/sim_partition.ts", () => {
  it("the SPV client reconnects across a partition and misses no block after that, the same way each run", async () => {
    const r = await partitionExample(1);
    assert.equal(r.announced, 60);
    assert.equal(r.missedAfterRecovery, 0);
    assert.ok(r.connectedAtEnd);
    // It lost its node to the partition (idle timeout) and found another.
    assert.ok(r.log.length >= 2 && r.log[0]!.endsWith("idle-timeout"), r.log.join("; "));
    assert.ok(r.received >= 50 && r.received < 60, `${r.received} blocks heard of`);
    assert.equal((await partitionExample(1)).hash, r.hash);
  });
});
