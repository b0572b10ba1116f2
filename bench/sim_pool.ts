// The pool at scale on the simulator: 10,000 nodes (8,000 honest listeners,
// 2,000 attacker addresses in 6 address groups, all accepting connections,
// some dialling in to flood us with `addr`), random crashes and restarts of
// nodes, our pool (8 outbound) restarted every 30 virtual minutes with its
// address book, for 3 virtual hours. After every simulator step it counts
// the outbound slots the attacker holds; it prints the wall time and the
// attacker's largest share, the median (min to max) over passes with
// different seeds. Exits with 1 if the attacker ever held a majority.
//
//   deno run -A bench/sim_pool.ts [--nodes N] [--attackers A] [--groups G] [--minutes M] [--passes P] [--seed S] [--json]
//   bun bench/sim_pool.ts ...      npx tsx bench/sim_pool.ts ...
//
// The machine may be shared: wall time then exceeds CPU time; both are shown.
import process from "node:process";
import { numberFlag, runtimeName, withSpread } from "./_stats.ts";
import { type PoolScenarioResult, runPoolScenario } from "../tests/_sim_pool.ts";

const runtime = runtimeName;
const nodes = numberFlag("nodes", 10_000);
const attackers = numberFlag("attackers", Math.round(nodes / 5));
const groups = numberFlag("groups", 6);
const minutes = numberFlag("minutes", 180);
const passes = numberFlag("passes", 3);
const seed = numberFlag("seed", 1);
const json = process.argv.includes("--json");

interface Pass extends PoolScenarioResult {
  seed: number;
  wallMs: number;
  cpuMs: number;
}

async function pass(n: number): Promise<Pass> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const r = await runPoolScenario({
    seed: seed + n,
    honest: nodes - attackers - 1,
    attackers,
    attackerGroups: groups,
    attackerDialers: 20,
    minutes,
    // About one crash per node every 3 virtual hours.
    crashEvery: Math.max(0.1, 10_800 / nodes),
    restartEvery: 30,
    window: 10,
    onMinute: (m, s) => {
      if (json) return;
      const line = `pass ${
        n + 1
      }/${passes}: ${m}/${minutes} virtual min, attacker max ${s.maxAttackerOutbound}/8, ${s.attackerJoins} attacker and ${s.honestJoins} honest outbound joins, ${
        ((performance.now() - t0) / 1000).toFixed(0)
      } s`;
      process.stderr.write(`\r${line}   `);
    },
  });
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  if (!json) process.stderr.write("\r" + " ".repeat(110) + "\r");
  return { ...r, seed: seed + n, wallMs, cpuMs: (cpu.user + cpu.system) / 1000 };
}

const results: Pass[] = [];
for (let i = 0; i < passes; i++) results.push(await pass(i));
const worst = Math.max(...results.map((r) => r.maxAttackerOutbound));
if (json) {
  console.log(JSON.stringify({ runtime, nodes, attackers, groups, minutes, passes: results }));
} else {
  const s = (x: number) => `${(x / 1000).toFixed(1)} s`;
  const n = (x: number) => x.toFixed(0);
  console.log(
    `pool on the simulator (${runtime}): ${nodes} nodes, ${attackers} attacker addresses in ${groups} groups, ${minutes} virtual minutes, ${passes} passes (median, min to max)`,
  );
  console.log(`  wall time:               ${withSpread(results.map((r) => r.wallMs), s)}`);
  console.log(`  CPU time:                ${withSpread(results.map((r) => r.cpuMs), s)}`);
  console.log(`  simulator events:        ${withSpread(results.map((r) => r.events), n)}`);
  console.log(`  checkpoints:             ${withSpread(results.map((r) => r.checks), n)}`);
  console.log(`  attacker's max slots:    ${withSpread(results.map((r) => r.maxAttackerOutbound), n)} of 8`);
  console.log(`  mean outbound peers:     ${withSpread(results.map((r) => r.meanOutbound), (x) => x.toFixed(2))}`);
  console.log(`  outbound joins attacker: ${withSpread(results.map((r) => r.attackerJoins), n)}`);
  console.log(`  outbound joins honest:   ${withSpread(results.map((r) => r.honestJoins), n)}`);
  console.log(
    `  attacker share of book:  ${
      withSpread(results.map((r) => (100 * r.bookAttacker) / r.bookSize), (x) => `${x.toFixed(0)}%`)
    }`,
  );
  console.log(`  crashes:                 ${withSpread(results.map((r) => r.crashes), n)}`);
  console.log(`  trace hashes:            ${results.map((r) => `${r.seed}:${r.traceHash}`).join(" ")}`);
  console.log(
    worst * 2 > 8
      ? `  FAILED: the attacker held ${worst} of 8 outbound slots (${results.find((r) => r.violation)?.violation})`
      : `  the attacker never held a majority: at most ${worst} of 8 outbound slots`,
  );
}
if (worst * 2 > 8) process.exitCode = 1;
