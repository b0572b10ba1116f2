// DagSync on the simulator: a generated DAG of large blocks (12 kB each, one
// to three parents) served by 1, 2, 4 and 8 mini nodes over links of 1 MB/s
// and 20 ms one way (virtual time), then from 4 nodes with 3 of them cut off
// mid-sync for 60 virtual seconds. Prints the virtual time of each sync, the
// speedup over one peer, and the wall time, as the median (min to max) over
// passes with different seeds (the link jitter and the peers' order change).
// Exits with 1 if a sync loses or repeats a block, or if 4 peers are less
// than 3x faster than 1.
//
//   deno run -A bench/sim_sync.ts [--height H] [--padding BYTES] [--passes P] [--json]
//   bun bench/sim_sync.ts ...      npx tsx bench/sim_sync.ts ...
import process from "node:process";
import { medianOf, numberFlag, runtimeName, withSpread } from "./_stats.ts";
import { Dag } from "../examples/lib/dag.ts";
import { PaddedDag, runSyncScenario, type SyncScenarioOptions } from "../tests/_sim_sync.ts";

const runtime = runtimeName;
const height = numberFlag("height", 300);
const padding = numberFlag("padding", 12_000);
const passes = numberFlag("passes", 5);
const json = process.argv.includes("--json");

const dag = new PaddedDag(Dag.generate({ height, maxWidth: 3, seed: 5 }), padding);
const bytes = dag.blocks().slice(1).reduce((n, b) => n + 80 + b.block.transactions[0]!.txOut[1]!.pkScript.length, 0);

interface Row {
  name: string;
  options: Omit<SyncScenarioOptions, "seed" | "dag">;
  virtualMs: number[];
  wallMs: number[];
  rerequested: number[];
}

const rows: Row[] = [
  ...[1, 2, 4, 8].map((servers) => ({ name: `${servers} peer${servers === 1 ? "" : "s"}`, options: { servers } })),
  {
    name: "4 peers, 3 cut off 60 s",
    options: { servers: 4, partition: { after: Math.floor(dag.size / 5), hosts: 3, forMs: 60_000 } },
  },
].map((r) => ({ ...r, virtualMs: [], wallMs: [], rerequested: [] }));

let failed = "";
for (let p = 0; p < passes; p++) {
  for (const row of rows) {
    if (!json) process.stderr.write(`\rpass ${p + 1}/${passes}: ${row.name}...          `);
    const t0 = performance.now();
    const r = await runSyncScenario({ seed: 100 + p, dag, ...row.options });
    row.wallMs.push(performance.now() - t0);
    row.virtualMs.push(r.virtualMs);
    row.rerequested.push(r.progress.rerequested);
    const seen = new Set(r.blocks.map((b) => b.hex));
    if (seen.size !== r.blocks.length || r.blocks.length !== dag.size - 1) {
      failed ||= `${row.name}, seed ${100 + p}: ${r.blocks.length} blocks yielded, ${seen.size} distinct, ${
        dag.size - 1
      } in the DAG`;
    }
  }
}
if (!json) process.stderr.write("\r" + " ".repeat(70) + "\r");

const one = rows[0]!.virtualMs;
const speedups = rows.map((r) => r.virtualMs.map((v, i) => one[i]! / v));
const four = speedups[2]!;
if (medianOf(four) < 3 || Math.min(...four) < 3) {
  failed ||= `4 peers only ${Math.min(...four).toFixed(2)}x faster than 1`;
}
if (json) {
  console.log(JSON.stringify({ runtime, blocks: dag.size - 1, bytes, passes, rows, speedups, failed }));
} else {
  console.log(
    `DagSync on the simulator (${runtime}): ${dag.size - 1} blocks, ${(bytes / 1e6).toFixed(1)} MB, ` +
      `links 1 MB/s and 20 ms, ${passes} passes (median, min to max)`,
  );
  const s = (x: number) => `${(x / 1000).toFixed(2)} s`;
  for (const [i, row] of rows.entries()) {
    console.log(
      `  ${row.name.padEnd(24)} virtual ${withSpread(row.virtualMs, s)}, ${
        withSpread(speedups[i]!, (x) => `${x.toFixed(2)}x`)
      }, wall ${withSpread(row.wallMs, s)}, re-requested ${withSpread(row.rerequested, (x) => x.toFixed(0))}`,
    );
  }
  console.log(failed === "" ? "  every sync yielded every block exactly once" : `  FAILED: ${failed}`);
}
if (failed !== "") process.exitCode = 1;
