// The pool at scale on the simulator: hundreds of listening nodes, churn,
// restarts of our node, and an attacker holding many addresses in six
// address groups (more groups than half our outbound slots, so the
// one-outbound-per-group rule alone would let it take a majority) who
// floods our address book from inbound and outbound peers. The attacker
// must never hold a majority of the 8 outbound slots, at any simulator
// step. The 10,000-node run is bench/sim_pool.ts.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { type PoolScenarioOptions, runPoolScenario } from "./_sim_pool.ts";

const CI: PoolScenarioOptions = {
  seed: 7,
  honest: 120,
  attackers: 180,
  attackerGroups: 6,
  attackerDialers: 3,
  minutes: 30,
  crashEvery: 5,
  restartEvery: 5,
};

describe("Pool on the simulator", () => {
  it("never gives an attacker with addresses in six groups a majority of its outbound slots", async () => {
    const r = await runPoolScenario(CI);
    assert.equal(r.violation, undefined, `attacker majority at ${r.violation}`);
    assert.ok(r.maxAttackerOutbound * 2 <= 8, `attacker held ${r.maxAttackerOutbound} of 8 slots`);
    // The scenario did what it claims: the pool kept its 8 outbound peers
    // in 8 groups through churn and restarts, the flood reached the book,
    // and the attacker did get outbound slots now and then.
    assert.equal(r.maxOutbound, 8);
    assert.ok(r.meanOutbound > 6, `mean outbound ${r.meanOutbound}`);
    assert.ok(r.finalOutbound >= 6, `${r.finalOutbound} outbound peers at the end`);
    assert.equal(r.outboundGroups, r.finalOutbound, "one outbound peer per address group");
    assert.ok(r.bookAttacker >= CI.attackers / 2, `attacker addresses in the book: ${r.bookAttacker}`);
    assert.ok(r.attackerJoins > 0, "the attacker never got an outbound slot: the scenario tests nothing");
    assert.ok(r.honestJoins > 8, "churn and restarts made the pool dial again");
    assert.ok(r.crashes > 100 && r.restarts === CI.minutes / CI.restartEvery! - 1);
    assert.ok(r.checks > 1000, `only ${r.checks} checkpoints`);
  });

  it("sees an eclipse when there is one: with no honest node the attacker takes one slot per group", async () => {
    // A control of the check itself: every address the pool can learn is
    // the attacker's, so the one-per-group rule is all that is left.
    const r = await runPoolScenario({ ...CI, honest: 0, minutes: 3, restartEvery: 60 });
    assert.equal(r.maxAttackerOutbound, CI.attackerGroups);
    assert.equal(r.honestJoins, 0);
    assert.match(r.violation ?? "", /of 8 outbound slots/);
  });

  it("gives the same trace hash for the same seed, another for another seed", async () => {
    const small = { ...CI, minutes: 8, restartEvery: 4 };
    const a = await runPoolScenario(small);
    const b = await runPoolScenario(small);
    assert.equal(a.traceHash, b.traceHash);
    assert.deepEqual(a, b);
    const c = await runPoolScenario({ ...small, seed: 8 });
    assert.notEqual(c.traceHash, a.traceHash);
  });
});
