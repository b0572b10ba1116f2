// The search mode: scenarios from seeds, invariants, shrinking, the command
// line, and the failures it found, kept as regression tests.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { randomScenario, runScenario, type Scenario, search, shrinkScenario } from "../src/sim/search.ts";
import { parseSimArgs, runSim } from "../sim.ts";

describe("search mode", () => {
  it("draws the same scenario from the same seed", () => {
    assert.deepEqual(randomScenario(7), randomScenario(7));
    assert.notDeepEqual(randomScenario(7), randomScenario(8));
    const s = randomScenario(7, 3);
    assert.equal(s.minutes, 3);
    assert.ok(s.faults.every((f) => f.at < 3 * 60_000));
  });

  it("runs scenarios with faults, every invariant holding, and reports what it did", async () => {
    let progress = 0;
    const report = await search({ seed: 1, runs: 3, minutes: 3, now: () => 0, onProgress: () => progress++ });
    assert.equal(report.scenarios, 3);
    assert.equal(progress, 3);
    assert.equal(report.failure, undefined);
    assert.ok(report.events > 1_000, `${report.events} events`);
    assert.equal(report.virtualMs >= 3 * 3 * 60_000, true);
    assert.ok(Object.values(report.faults).reduce((a, b) => a + b, 0) > 0, "faults were injected");
  });

  it("shrinks a failing scenario to the faults, hosts and minutes that matter", async () => {
    const s: Scenario = {
      seed: 1,
      hosts: 30,
      outbound: 2,
      minutes: 20,
      faults: [
        { at: 60_000, kind: "partition", target: 1, duration: 1_000 },
        { at: 120_000, kind: "corrupt", target: 2, duration: 1_000 },
        { at: 180_000, kind: "crash", target: 3, duration: 1_000 },
        { at: 240_000, kind: "stall", target: 4, duration: 1_000 },
        { at: 300_000, kind: "reset", target: 5, duration: 1_000 },
      ],
    };
    // A made-up bug: a crash with more than two hosts around, before the end.
    const fails = (c: Scenario) =>
      Promise.resolve(c.hosts > 2 && c.faults.some((f) => f.kind === "crash" && f.at < c.minutes * 60_000));
    const shrunk = await shrinkScenario(s, fails);
    assert.deepEqual(shrunk.faults.map((f) => f.kind), ["crash"]);
    assert.equal(shrunk.hosts, 3);
    assert.equal(shrunk.outbound, 1);
    assert.equal(shrunk.minutes, 4);
  });

  it("the command line: usage, a short search, a replay", async () => {
    assert.equal(typeof parseSimArgs(["--bogus"]), "string");
    assert.equal(typeof parseSimArgs(["--seed", "x"]), "string");
    const args = parseSimArgs(["--seed", "5", "--runs", "2", "--virtual", "2", "--json"]);
    assert.ok(typeof args !== "string");
    assert.equal(args.seed, 5);
    const lines: string[] = [];
    assert.equal(await runSim(["--seed", "5", "--runs", "2", "--virtual", "2"], (l) => lines.push(l), () => {}), 0);
    assert.match(
      lines.join("\n"),
      /Searched 2 scenarios from seed 5 .*\n.*M events.*\n {2}faults: .*\n.*\n {2}every invariant held/,
    );
    const json: string[] = [];
    assert.equal(
      await runSim(["--seed", "5", "--runs", "1", "--virtual", "2", "--json"], (l) => json.push(l), () => {}),
      0,
    );
    assert.equal(JSON.parse(json[0]!).scenarios, 1);
    const trace: string[] = [];
    assert.equal(
      await runSim(["--seed", "5", "--runs", "1", "--virtual", "2", "--trace"], (l) => trace.push(l), () => {}),
      0,
    );
    assert.ok(trace.length > 20 && trace.at(-1)!.startsWith("seed 5: passed"), trace.at(-1));
  });
});

describe("failures the search found", () => {
  it("seed 50166: a stream's end overtook bytes a healed partition still held", async () => {
    // Shrunk by the search mode; before the fix: "c24 ended after 464 of 617 bytes".
    const s: Scenario = {
      seed: 50166,
      hosts: 23,
      outbound: 2,
      minutes: 8,
      faults: [
        { at: 11367, kind: "refuse", target: 17089, duration: 61429 },
        { at: 13018, kind: "drop", target: 5528, duration: 117840 },
        { at: 81026, kind: "corrupt", target: 62372, duration: 27809 },
        { at: 138102, kind: "corrupt", target: 46634, duration: 163749 },
        { at: 139642, kind: "crash", target: 1501, duration: 96164, process: false },
        { at: 265724, kind: "partition", target: 19891, duration: 104031 },
        { at: 310591, kind: "partition", target: 65254, duration: 161214 },
      ],
    };
    const r = await runScenario(s);
    assert.deepEqual(r.violations, []);
  });
});
