// Load and churn over loopback, both ends in this process: `peers` peer
// pairs handshake and exchange `messages` pings and pongs each, then
// `cycles` connect/disconnect cycles. Prints the time of each phase, the
// peak RSS, the memory per idle pair, and what was left after closing
// (timers, connections, listeners, file descriptors, uncollected peers:
// all must be 0). Runs under Deno, Bun and Node:
//
//   deno run -A bench/load.ts [peers=1000] [messages=100] [cycles=5000] [--idle-ms=6000] [--json]
//   bun bench/load.ts ...
//   npx tsx bench/load.ts ...
//
// Memory is measured with the pairs idle, after `--idle-ms` of idleness and
// a full, compacting collection (see bench/_load.ts), and given per peer
// (half a pair: one peer and its socket), both the average over the
// baseline (the process and its listener before any pair) and the marginal
// cost (half the pairs to all of them); RSS is the headline, the JS heap
// in use is shown beside it.
//
// 1000 pairs hold 2000 sockets plus the listener: raise the open-file limit
// first if it is lower (`ulimit -n 4096`). Exits with status 1 if anything
// leaked.
import process from "node:process";
import { type LeakCheck, openFileLimit, type PerPair, runLoad } from "./_load.ts";

const args = process.argv.slice(2).filter((a) => !a.startsWith("--"));
const json = process.argv.includes("--json");
const idleFlag = process.argv.find((a) => a.startsWith("--idle-ms="));
const idleMs = idleFlag === undefined ? 6000 : Number(idleFlag.slice("--idle-ms=".length));
if (!Number.isInteger(idleMs) || idleMs < 0) {
  throw new Error(`Invalid ${idleFlag}: not a non-negative integer of milliseconds`);
}
const num = (i: number, fallback: number) => {
  const v = args[i];
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`Invalid argument ${JSON.stringify(v)}: not a positive integer`);
  return n;
};
const peers = num(0, 1000);
const messages = num(1, 100);
const cycles = num(2, 5000);

const limit = openFileLimit();
const needed = 2 * peers + 64;
if (limit !== undefined && limit < needed) {
  console.error(
    `The open-file limit is ${limit}; ${peers} pairs need about ${needed}. Raise it first: ulimit -n ${
      Math.max(4096, needed)
    }`,
  );
  process.exit(2);
}

const MB = 1e6;
const report = await runLoad({ peers, messages, cycles, idleMs, log: (l) => json || console.log(`  ${l}`) });

const clean = (c: LeakCheck) =>
  c.timers === 0 && c.conns === 0 && c.abortListeners === 0 && (c.uncollectedPeers ?? 0) === 0 &&
  (c.socketDelta ?? 0) === 0;
const ok = clean(report.afterLoad) && clean(report.afterChurn);

if (json) {
  console.log(JSON.stringify({ ...report, ok }, null, 2));
} else {
  const r = report;
  const kb = (bytes: number) => `${(bytes / 1000).toFixed(1)} KB`;
  const perPeer = (p: PerPair) =>
    `${kb(p.rssPerPair / 2)} RSS, ${kb(p.heapPerPair / 2)} heap a peer (a pair: ${kb(p.rssPerPair)} RSS, ${
      kb(p.heapPerPair)
    } heap, ${kb(p.heapCommittedPerPair)} heap committed, ${kb(p.externalPerPair)} external)`;
  const rate = (n: number, ms: number) => (n / (ms / 1000)).toFixed(0);
  const left = (c: LeakCheck) =>
    [
      `timers ${c.timers}`,
      `conns ${c.conns}`,
      `abort listeners ${c.abortListeners}`,
      `uncollected peers ${c.uncollectedPeers ?? "n/a (no gc)"}`,
      `TCP sockets ${c.socketDelta === undefined ? "n/a" : (c.socketDelta > 0 ? "+" : "") + c.socketDelta}`,
    ].join(", ");
  const lines = [
    `runtime:           ${r.runtime}${r.gc ? "" : " (no gc: memory figures include garbage)"}`,
    `handshakes:        ${r.peers} pairs in ${(r.handshakeMs / 1000).toFixed(2)} s (${
      rate(r.peers, r.handshakeMs)
    } pairs/s)`,
    `memory:            measured after ${r.idleMs} ms idle and a full, compacting collection`,
    `idle, handshaken:  ${perPeer(r.idleAfterHandshake)}`,
    `  one more peer:   ${perPeer(r.idleMarginal)} (from ${r.peers >>> 1} to ${r.peers} pairs)`,
    `exchange:          ${r.exchanged} messages in ${(r.exchangeMs / 1000).toFixed(2)} s (${
      rate(r.exchanged, r.exchangeMs)
    } messages/s)`,
    `idle, after use:   ${perPeer(r.idleAfterExchange)}`,
    `close:             ${(r.closeMs / 1000).toFixed(2)} s; left: ${left(r.afterLoad)}`,
    `churn:             ${r.cycles} cycles in ${(r.churnMs / 1000).toFixed(2)} s (${
      rate(r.cycles, r.churnMs)
    } cycles/s); left: ${left(r.afterChurn)}`,
    `churn growth:      RSS ${(r.churnGrowth.rss / MB).toFixed(1)} MB, heap ${(r.churnGrowth.heap / MB).toFixed(1)} MB`,
    `peak RSS:          ${(r.peakRss / MB).toFixed(0)} MB (${(r.baseRss / MB).toFixed(0)} MB before)`,
    ok ? "nothing leaked" : "LEAK: something was left after closing",
  ];
  for (const line of lines) console.log(line);
}
if (!ok) process.exitCode = 1;
