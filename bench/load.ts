// Load and churn over loopback, both ends in this process: `peers` peer
// pairs handshake and exchange `messages` pings and pongs each, then
// `cycles` connect/disconnect cycles. Prints the time of each phase, the
// peak RSS, the memory per idle pair, and what was left after closing
// (timers, connections, listeners, file descriptors, uncollected peers:
// all must be 0). Runs under Deno, Bun and Node:
//
//   deno run -A bench/load.ts [peers=1000] [messages=100] [cycles=5000] [--json]
//   bun bench/load.ts ...
//   npx tsx bench/load.ts ...
//
// 1000 pairs hold 2000 sockets plus the listener: raise the open-file limit
// first if it is lower (`ulimit -n 4096`). Exits with status 1 if anything
// leaked.
import process from "node:process";
import { type LeakCheck, openFileLimit, type PerPair, runLoad } from "./_load.ts";

const args = process.argv.slice(2).filter((a) => !a.startsWith("--"));
const json = process.argv.includes("--json");
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
const report = await runLoad({ peers, messages, cycles, log: (l) => json || console.log(`  ${l}`) });

const clean = (c: LeakCheck) =>
  c.timers === 0 && c.conns === 0 && c.abortListeners === 0 && (c.uncollectedPeers ?? 0) === 0 &&
  (c.socketDelta ?? 0) === 0;
const ok = clean(report.afterLoad) && clean(report.afterChurn);

if (json) {
  console.log(JSON.stringify({ ...report, ok }, null, 2));
} else {
  const r = report;
  const kb = (bytes: number) => `${(bytes / 1000).toFixed(1)} KB`;
  const perPair = (p: PerPair) =>
    `${kb(p.rssPerPair)} RSS, ${kb(p.heapPerPair)} heap (${kb(p.heapCommittedPerPair)} committed), ${
      kb(p.externalPerPair)
    } external a pair (${kb(p.rssPerPair / 2)} RSS a peer)`;
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
    `idle, handshaken:  ${perPair(r.idleAfterHandshake)}`,
    `  compacting gc:   ${perPair(r.idleCompacted)}`,
    `exchange:          ${r.exchanged} messages in ${(r.exchangeMs / 1000).toFixed(2)} s (${
      rate(r.exchanged, r.exchangeMs)
    } messages/s)`,
    `idle, after use:   ${perPair(r.idleAfterExchange)}`,
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
