// The simulator at scale: 10,000 peers (5,000 connections) handshake and
// keep alive for one virtual hour (pings every 2 minutes, inventory
// trickled), reporting wall time, CPU time, events per second and memory
// per simulated peer as the median (min-max) of several passes.
//
//   bun bench/sim_scale.ts [--peers N] [--minutes M] [--passes P] [--window MS] [--json]
//   deno run -A --v8-flags=--expose-gc,--max-semi-space-size=64 bench/sim_scale.ts ...
//   node --expose-gc --import tsx bench/sim_scale.ts ...
//
// The machine may be shared: wall time then exceeds CPU time; both are shown.
import process from "node:process";
import { SimNet } from "../src/sim/net.ts";
import { PeerNetwork } from "../src/sim/workload.ts";
import { medianOf, withSpread } from "./_stats.ts";

interface Pass {
  wallMs: number;
  cpuMs: number;
  events: number;
  steps: number;
  handshakes: number;
  pongs: number;
  invReceived: number;
  connected: number;
  bytesPerPeer: number;
  hash: string;
}

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

function collect(): void {
  const g = globalThis as { gc?: () => void; Bun?: { gc(force: boolean): void } };
  if (g.Bun !== undefined) g.Bun.gc(true);
  else g.gc?.();
}

const runtime = "Deno" in globalThis ? "deno" : "Bun" in globalThis ? "bun" : "node";
const peers = flag("peers", 10_000);
const minutes = flag("minutes", 60);
const passes = flag("passes", 3);
const window = flag("window", 10);
const json = process.argv.includes("--json");

async function pass(n: number): Promise<Pass> {
  collect();
  const heap0 = process.memoryUsage().heapUsed;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const net = new SimNet({ seed: 10_000 + n, window });
  // Every host runs one peer: half listen, half connect once.
  const work = new PeerNetwork(net, { hosts: peers, listening: 0.5, outbound: 1, invPerMinute: 600 });
  let lastLog = 0;
  await net.run({
    for: minutes * 60_000,
    onStep: () => {
      const now = performance.now();
      if (!json && now - lastLog > 1000) {
        lastLog = now;
        const line = `pass ${n + 1}/${passes}: ${(net.time / 60_000).toFixed(1)}/${minutes} virtual min, ${
          (net.events / 1e6).toFixed(2)
        } M events, ${work.live.size} peers live, ${((now - t0) / 1000).toFixed(0)} s`;
        process.stderr.write(`\r${line}   `);
      }
    },
  });
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  // Live memory, not garbage (Bun always; Deno and Node with --v8-flags=--expose-gc / --expose-gc).
  collect();
  const heap1 = process.memoryUsage().heapUsed;
  const result: Pass = {
    wallMs,
    cpuMs: (cpu.user + cpu.system) / 1000,
    events: net.events,
    steps: net.steps,
    handshakes: work.stats.handshakes,
    pongs: work.stats.pongs,
    invReceived: work.stats.invReceived,
    connected: [...work.live].filter((p) => p.connected).length,
    bytesPerPeer: (heap1 - heap0) / peers,
    hash: net.trace.hash,
  };
  if (!json) process.stderr.write("\r" + " ".repeat(100) + "\r");
  work.stop();
  await net.run();
  return result;
}

const results: Pass[] = [];
for (let i = 0; i < passes; i++) {
  const r = await pass(i);
  results.push(r);
  if (!json) {
    console.log(
      `pass ${i + 1}: wall ${(r.wallMs / 1000).toFixed(1)} s, CPU ${(r.cpuMs / 1000).toFixed(1)} s, ${
        (r.events / 1e6).toFixed(2)
      } M events, ${(r.bytesPerPeer / 1024).toFixed(1)} KiB a peer, ${r.connected} connected, trace ${r.hash}`,
    );
  }
}
const evps = results.map((r) => r.events / (r.wallMs / 1000));
const evpsCpu = results.map((r) => r.events / (r.cpuMs / 1000));
if (json) {
  console.log(JSON.stringify({ runtime, peers, minutes, window, passes: results }));
} else {
  const s = (x: number) => `${(x / 1000).toFixed(1)} s`;
  const k = (x: number) => `${(x / 1000).toFixed(0)} k/s`;
  console.log(
    `simulator scale on ${runtime}: ${peers} peers, ${minutes} virtual minutes, window ${window} ms, ${passes} passes (median, min to max)`,
  );
  console.log(`  wall time:        ${withSpread(results.map((r) => r.wallMs), s)}`);
  console.log(`  CPU time:         ${withSpread(results.map((r) => r.cpuMs), s)}`);
  console.log(
    `  events:           ${(medianOf(results.map((r) => r.events)) / 1e6).toFixed(2)} M in ${
      medianOf(results.map((r) => r.steps))
    } steps`,
  );
  console.log(`  events/s (wall):  ${withSpread(evps, k)}`);
  console.log(`  events/s (CPU):   ${withSpread(evpsCpu, k)}`);
  console.log(
    `  memory per peer:  ${withSpread(results.map((r) => r.bytesPerPeer), (x) => `${(x / 1024).toFixed(1)} KiB`)}`,
  );
  const r = results[0]!;
  console.log(
    `  first pass: ${r.handshakes} handshakes, ${r.connected} connected at the end, ${r.pongs} pongs, ${r.invReceived} inventory received`,
  );
}
