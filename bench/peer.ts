// The cost a `Peer` adds per message, against the codec alone on the same
// messages in the same run. A handshaken Peer pair on an in-memory connPair
// moves small messages:
//
// - ping/pong, lock-step: one side pings, waits for the pong, pings again
//   (every message crosses the whole path alone: latency-bound);
// - ping/pong, pipelined: one side queues pings in bursts of 64 and the
//   other answers each with a pong (both directions busy at once);
// - tx stream: one side queues a 375-byte transaction in bursts of 64, the
//   other counts them (one direction, throughput-bound).
//
// The codec alone does, for the same messages, encode + frame + decode with
// the checksum verified (native hasher on both sides). Both run on the one
// thread, so the peer's own cost per message is the time per message moved
// (both directions counted) minus the codec's in the same pass; rates are
// printed per direction. Each figure is the median of `--passes` passes
// (default 11) with min and max; passes interleave the variants so that
// noise hits all.
// Times are the process's CPU time (user + system, every thread), which
// other processes on a shared machine barely disturb; `--wall` uses the
// elapsed time instead.
//
//   deno run -A bench/peer.ts [--passes=7] [--base=DIR] [--json]
//   bun bench/peer.ts ... | npx tsx bench/peer.ts ...
//
// `--base=DIR` also measures the Peer of another checkout of this
// repository (e.g. `git archive <commit> | tar -x -C /tmp/base`, with
// node_modules linked in) in the same run, as the "before" figure; more
// `--base=DIR`s add intermediate steps, named by their folder.
import process from "node:process";
import { pathToFileURL } from "node:url";
import { nativeHasher } from "../src/adapters/native_hash.ts";
import { SIMNET } from "../src/chain/params.ts";
import type * as PeerModule from "../src/peer/mod.ts";
import { FrameDecoder } from "../src/wire/decoder.ts";
import { encodeMessage } from "../src/wire/frame.ts";
import type { Message } from "../src/wire/message.ts";
import { type Spread, spread } from "./_passes.ts";
import { makeTx, prng } from "./fixtures.ts";

type PeerApi = typeof PeerModule;
type Peer = PeerModule.Peer;

const runtime = "Deno" in globalThis ? "deno" : "Bun" in globalThis ? "bun" : "node";
const argv = process.argv.slice(2);
const flag = (name: string) => argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const json = argv.includes("--json");
const passes = Number(flag("passes") ?? 11);
if (!Number.isInteger(passes) || passes < 1) throw new Error(`Invalid --passes: ${flag("passes")}`);
/** Other checkouts to measure in the same run (`--base=DIR`, repeatable; the first is "the base"). */
const baseDirs = argv.filter((a) => a.startsWith("--base=")).map((a) => a.slice("--base=".length).replace(/\/$/, ""));
const wall = argv.includes("--wall");

/** A stopwatch in milliseconds: CPU time of the process, or elapsed time with `--wall`. */
function stopwatch(): () => number {
  if (wall) {
    const t0 = performance.now();
    return () => performance.now() - t0;
  }
  const c0 = process.cpuUsage();
  return () => {
    const c = process.cpuUsage(c0);
    return (c.user + c.system) / 1000;
  };
}

/** Messages per pass of each scenario. */
const ROUND_TRIPS = 2000;
const PIPELINED_PINGS = 8000;
const TXS = 8000;
const BURST = 64;

const TX: Message = { command: "tx", ...makeTx(prng(5), false) };
const TX_FRAME_BYTES = encodeMessage(TX, { magic: SIMNET.magic }).length;

// ---------------------------------------------------------------------------
// The codec alone.

/** Encodes, frames and decodes (checksum verified) `n` messages made by `make`; returns ms. */
function codecPass(n: number, make: (i: number) => Message): number {
  const opts = { magic: SIMNET.magic, hasher: nativeHasher };
  const dec = new FrameDecoder({ ...opts, encoding: "witness" });
  const elapsed = stopwatch();
  for (let i = 0; i < n; i++) {
    dec.push(encodeMessage(make(i), opts));
    if (dec.next() === undefined) throw new Error("The codec lost a frame");
  }
  return elapsed();
}

const ping = (i: number): Message => ({ command: i & 1 ? "pong" : "ping", nonce: BigInt(i + 1) });
const tx = (): Message => TX;

// ---------------------------------------------------------------------------
// A peer pair.

interface Pair {
  client: Peer;
  server: Peer;
  /** Called with each pong's nonce the client reads. */
  onPong: ((nonce: bigint) => void) | undefined;
  /** Transactions the server has read. */
  txs: number;
  onTx: (() => void) | undefined;
}

async function makePair(api: PeerApi): Promise<Pair> {
  const [a, b] = api.connPair();
  const common = { network: SIMNET, hasher: nativeHasher, userAgentName: "bench", userAgentVersion: "1.0.0" };
  const pair: Pair = { client: undefined!, server: undefined!, onPong: undefined, txs: 0, onTx: undefined };
  pair.server = api.Peer.inbound({
    ...common,
    sentNonces: new api.LruSet<bigint>(50),
    listeners: {
      onTx: () => {
        pair.txs++;
        pair.onTx?.();
      },
    },
  });
  pair.client = api.Peer.outbound(`${a.localAddr.hostname}:${a.localAddr.port}`, {
    ...common,
    sentNonces: new api.LruSet<bigint>(50),
    listeners: { onPong: (_p, msg) => pair.onPong?.(msg.nonce) },
  });
  pair.server.associateConnection(a);
  pair.client.associateConnection(b);
  if (!(await pair.client.ready) || !(await pair.server.ready)) throw new Error("Handshake failed");
  while (!pair.client.verAckReceived || !pair.server.verAckReceived) await new Promise((r) => setTimeout(r, 0));
  return pair;
}

async function closePair(pair: Pair): Promise<void> {
  pair.client.disconnect();
  await pair.client.disconnected;
  await pair.server.disconnected;
}

/** Lock-step round trips; returns ms. */
async function lockStep(pair: Pair, n: number): Promise<number> {
  const elapsed = stopwatch();
  for (let i = 1; i <= n; i++) {
    const nonce = BigInt(i);
    const pong = new Promise<void>((resolve) => {
      pair.onPong = (got) => got === nonce && resolve();
    });
    void pair.client.queueMessage({ command: "ping", nonce });
    await pong;
  }
  return elapsed();
}

/** Pings in bursts, each answered by a pong; returns ms once every pong is read. */
async function pipelined(pair: Pair, n: number): Promise<number> {
  let pongs = 0;
  const all = new Promise<void>((resolve) => {
    pair.onPong = () => {
      if (++pongs === n) resolve();
    };
  });
  const elapsed = stopwatch();
  for (let i = 1; i <= n;) {
    let last: Promise<boolean> | undefined;
    for (const end = Math.min(n, i + BURST - 1); i <= end; i++) {
      last = pair.client.queueMessage({ command: "ping", nonce: BigInt(i) });
    }
    if (!(await last)) throw new Error("A ping was dropped");
  }
  await all;
  return elapsed();
}

/** Transactions in bursts, one way; returns ms once every one is read. */
async function txStream(pair: Pair, n: number): Promise<number> {
  pair.txs = 0;
  const all = new Promise<void>((resolve) => {
    pair.onTx = () => pair.txs === n && resolve();
  });
  const elapsed = stopwatch();
  for (let i = 0; i < n;) {
    let last: Promise<boolean> | undefined;
    for (const end = Math.min(n, i + BURST); i < end; i++) last = pair.client.queueMessage(TX);
    if (!(await last)) throw new Error("A transaction was dropped");
  }
  await all;
  return elapsed();
}

// ---------------------------------------------------------------------------
// The run.

interface Scenario {
  name: string;
  /** Messages moved per pass, both directions together. */
  moved: number;
  /** Directions carrying messages. */
  directions: number;
  peer: (pair: Pair) => Promise<number>;
  codec: () => number;
}

const scenarios: Scenario[] = [
  {
    name: "ping/pong lock-step",
    moved: 2 * ROUND_TRIPS,
    directions: 2,
    peer: (p) => lockStep(p, ROUND_TRIPS),
    codec: () => codecPass(2 * ROUND_TRIPS, ping),
  },
  {
    name: "ping/pong pipelined",
    moved: 2 * PIPELINED_PINGS,
    directions: 2,
    peer: (p) => pipelined(p, PIPELINED_PINGS),
    codec: () => codecPass(2 * PIPELINED_PINGS, ping),
  },
  {
    name: `tx stream (${TX_FRAME_BYTES - 24}-byte tx)`,
    moved: TXS,
    directions: 1,
    peer: (p) => txStream(p, TXS),
    codec: () => codecPass(TXS, tx),
  },
];

const variants: Array<{ name: string; api: PeerApi }> = [];
for (const [i, dir] of baseDirs.entries()) {
  const url = pathToFileURL(`${dir}/src/peer/mod.ts`).href;
  const name = i === 0 ? "base" : dir.slice(dir.lastIndexOf("/") + 1);
  variants.push({ name, api: (await import(url)) as PeerApi });
}
variants.push({ name: "this", api: await import("../src/peer/mod.ts") });

/** Nanoseconds per message moved, per pass: [scenario][variant or codec]. */
const samples: number[][][] = scenarios.map(() => Array.from({ length: variants.length + 1 }, () => []));
const progress = (line: string) => {
  if (!json && process.stdout.isTTY) process.stdout.write(`\r${line.padEnd(70)}`);
};

// One warm-up pass (not counted), then the passes.
for (let pass = 0; pass <= passes; pass++) {
  for (const [si, sc] of scenarios.entries()) {
    progress(`pass ${pass}/${passes}: ${sc.name}`);
    const codecMs = sc.codec();
    if (pass > 0) samples[si]![variants.length]!.push((codecMs * 1e6) / sc.moved);
    for (const [vi, v] of variants.entries()) {
      const pair = await makePair(v.api);
      const ms = await sc.peer(pair);
      await closePair(pair);
      if (pass > 0) samples[si]![vi]!.push((ms * 1e6) / sc.moved);
    }
  }
}
progress("");
if (!json && process.stdout.isTTY) process.stdout.write("\r");

interface Row {
  scenario: string;
  variant: string;
  /** Nanoseconds per message moved (both directions counted). */
  nsPerMessage: Spread;
  /** Messages per second per direction (from the median). */
  perDirection: number;
  /** The peer's own nanoseconds per message: per pass, the peer's minus the codec's. */
  overheadNs?: Spread;
}

const rows: Row[] = [];
for (const [si, sc] of scenarios.entries()) {
  const codec = spread(samples[si]![variants.length]!);
  const rate = (ns: number) => 1e9 / ns / sc.directions;
  rows.push({ scenario: sc.name, variant: "codec alone", nsPerMessage: codec, perDirection: rate(codec.median) });
  for (const [vi, v] of variants.entries()) {
    const st = spread(samples[si]![vi]!);
    const codecNs = samples[si]![variants.length]!;
    const own = spread(samples[si]![vi]!.map((ns, pass) => ns - codecNs[pass]!));
    rows.push({
      scenario: sc.name,
      variant: `Peer (${v.name})`,
      nsPerMessage: st,
      perDirection: rate(st.median),
      overheadNs: own,
    });
  }
}

if (json) {
  console.log(
    JSON.stringify({ runtime, passes, time: wall ? "elapsed" : "cpu", bases: baseDirs, rows }, null, 2),
  );
} else {
  const us = (ns: number) => (ns / 1000).toFixed(2);
  console.log(
    `runtime: ${runtime}; ${
      wall ? "elapsed" : "CPU"
    } time, median of ${passes} passes (min-max); per message = both directions counted`,
  );
  for (const sc of scenarios) {
    console.log(`\n${sc.name}:`);
    const own = rows.filter((r) => r.scenario === sc.name);
    for (const r of own) {
      const s = r.nsPerMessage;
      const o = r.overheadNs;
      const over = o === undefined ? "" : `   own cost ${us(o.median)} µs/msg (${us(o.min)}-${us(o.max)})`;
      console.log(
        `  ${r.variant.padEnd(Math.max(12, ...own.map((x) => x.variant.length)))} ${us(s.median).padStart(7)} µs/msg (${
          us(s.min)
        }-${us(s.max)})  ${r.perDirection.toFixed(0).padStart(7)} msg/s per direction${over}`,
      );
    }
    const base = own.find((r) => r.variant === "Peer (base)");
    for (const r of own) {
      if (r === base || base?.overheadNs === undefined || r.overheadNs === undefined) continue;
      console.log(`  own cost, ${r.variant} / base: ${(r.overheadNs.median / base.overheadNs.median).toFixed(2)}`);
    }
  }
}
