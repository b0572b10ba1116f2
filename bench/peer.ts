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
// The codec alone does, for the same messages, what the peer cannot avoid:
// encode and frame each message, and decode it with its checksum verified
// (native hasher on both sides), in the chunks the peer pair moves them in
// (one frame a chunk in lock-step, a burst of 64 frames a chunk otherwise,
// so the decoder checksums a chunk's small frames in batches as it does
// inside the peer; joining them is the peer's work and is not counted
// here). Each variant (this checkout, `--base` checkouts) is compared with
// its own codec (its `src/wire/`), so a change to the codec is not counted
// as a change to the peer. Both run on the one thread, alternating burst by
// burst (64 messages, or 64 round trips), so that both see the machine in
// the same state; the peer's own cost per message is the time per message
// moved (both directions counted) minus its codec's in the same pass. Rates
// are printed per direction. Each figure is the median of `--passes` passes
// (default 11, after 4 warm-up passes) with min and max; the variants take
// turns, in alternating order.
// Times are the process's CPU time (user + system, every thread), which
// other processes on a shared machine barely disturb; `--wall` uses the
// elapsed time instead. `--only=lock|pipelined|tx` runs one scenario.
//
//   deno run -A bench/peer.ts [--passes=11] [--base=DIR|COMMIT ...] [--only=tx] [--json]
//   bun bench/peer.ts ... | npx tsx bench/peer.ts ...
//
// `--base` also measures the Peer (and codec) of another checkout in the
// same run, as the "before" figure: a folder, or a commit of this
// repository, which is copied out with `git archive` into a temporary
// folder. More `--base`s add intermediate steps, named by their folder or
// commit. `deno task bench` runs it with `--base=b8de09c`, the commit before
// issue 10's work on the peer's cost.
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import process from "node:process";
import { fileURLToPath, pathToFileURL } from "node:url";
import { nativeHasher } from "../src/adapters/native_hash.ts";
import { SIMNET } from "../src/chain/params.ts";
import type * as PeerModule from "../src/peer/mod.ts";
import type * as DecoderModule from "../src/wire/decoder.ts";
import type * as FrameModule from "../src/wire/frame.ts";
import { encodeMessage } from "../src/wire/frame.ts";
import type { Message } from "../src/wire/message.ts";
import { type Spread, spread } from "./_passes.ts";
import { makeTx, prng } from "./fixtures.ts";

type PeerApi = typeof PeerModule;
type Peer = PeerModule.Peer;
/** A checkout's codec: what its Peer encodes and decodes with. */
interface WireApi {
  encodeMessage: typeof FrameModule.encodeMessage;
  FrameDecoder: typeof DecoderModule.FrameDecoder;
}

const runtime = "Deno" in globalThis ? "deno" : "Bun" in globalThis ? "bun" : "node";
const runtimeVersion = runtime === "deno"
  ? `Deno ${(globalThis as unknown as { Deno: { version: { deno: string } } }).Deno.version.deno}`
  : runtime === "bun"
  ? `Bun ${(globalThis as unknown as { Bun: { version: string } }).Bun.version}`
  : `Node ${process.version.slice(1)}`;
const argv = process.argv.slice(2);
const flag = (name: string) => argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const json = argv.includes("--json");
const passes = Number(flag("passes") ?? 11);
if (!Number.isInteger(passes) || passes < 1) throw new Error(`Invalid --passes: ${flag("passes")}`);
/** Other checkouts to measure in the same run (`--base=DIR`, repeatable; the first is "the base"). */
const bases = argv.filter((a) => a.startsWith("--base=")).map((a) => a.slice("--base=".length).replace(/\/$/, ""));
const wall = argv.includes("--wall");
const only = flag("only");

/** The time in milliseconds: CPU time of the process, or elapsed time with `--wall`. */
const now: () => number = wall ? () => performance.now() : () => {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1000;
};

/** Passes run before the counted ones, for the compilers to settle. */
const WARMUP = 4;
/** Messages per burst (one way), and bursts per pass of each scenario. */
const BURST = 64;
const BURSTS = 200;

const TX: Message = { command: "tx", ...makeTx(prng(5), false) };
const TX_FRAME_BYTES = encodeMessage(TX, { magic: SIMNET.magic }).length;

// ---------------------------------------------------------------------------
// The codec alone.

/** Joins frames `from` to `to` (exclusive) into one chunk, as the peer's writer does. */
function join(frames: readonly Uint8Array[], from: number, to: number): Uint8Array {
  if (to - from === 1) return frames[from]!;
  let total = 0;
  for (let i = from; i < to; i++) total += frames[i]!.length;
  const chunk = new Uint8Array(total);
  for (let i = from, at = 0; i < to; i++) {
    chunk.set(frames[i]!, at);
    at += frames[i]!.length;
  }
  return chunk;
}

/** The codec alone: encodes, frames and decodes bursts of messages. */
class CodecRun {
  readonly #wire: WireApi;
  readonly #opts = { magic: SIMNET.magic, hasher: nativeHasher };
  readonly #dec: InstanceType<WireApi["FrameDecoder"]>;
  readonly #frames: Uint8Array[] = [];

  constructor(wire: WireApi) {
    this.#wire = wire;
    this.#dec = new wire.FrameDecoder({ ...this.#opts, encoding: "witness" });
  }

  /**
   * Encodes and frames the `n` messages made by `make` and decodes them
   * with their checksums verified, `perChunk` frames to a chunk as the
   * peer pair moves them; returns the ms this took. Joining a chunk's
   * frames is the peer's writing, not the codec's, so the time of joining
   * them once more, just after, is deducted (which also deducts the cost
   * of reading the clock, as the peer's time includes it once).
   */
  burst(n: number, perChunk: number, make: (i: number) => Message): number {
    const frames = this.#frames;
    const dec = this.#dec;
    const t0 = now();
    for (let i = 0; i < n;) {
      const from = i;
      for (const end = Math.min(n, i + perChunk); i < end; i++) {
        frames.push(this.#wire.encodeMessage(make(i), this.#opts));
      }
      dec.push(join(frames, from, i));
      for (let k = from; k < i; k++) {
        if (dec.next() === undefined) throw new Error("The codec lost a frame");
      }
    }
    const t1 = now();
    if (perChunk === 1) {
      frames.length = 0;
      return t1 - t0;
    }
    for (let i = 0; i < n; i += perChunk) join(frames, i, Math.min(n, i + perChunk));
    const t2 = now();
    frames.length = 0;
    return t1 - t0 - (t2 - t1);
  }
}

const ping = (i: number): Message => ({ command: i & 1 ? "pong" : "ping", nonce: BigInt(i + 1) });
const tx = (): Message => TX;

// ---------------------------------------------------------------------------
// A peer pair.

interface Pair {
  client: Peer;
  server: Peer;
  /** Pongs the client has read. */
  pongs: number;
  /** Transactions the server has read. */
  txs: number;
  /** Called after each pong or transaction read. */
  onRead: (() => void) | undefined;
}

async function makePair(api: PeerApi): Promise<Pair> {
  const [a, b] = api.connPair();
  const common = { network: SIMNET, hasher: nativeHasher, userAgentName: "bench", userAgentVersion: "1.0.0" };
  const pair: Pair = { client: undefined!, server: undefined!, pongs: 0, txs: 0, onRead: undefined };
  pair.server = api.Peer.inbound({
    ...common,
    sentNonces: new api.LruSet<bigint>(50),
    listeners: {
      onTx: () => {
        pair.txs++;
        pair.onRead?.();
      },
    },
  });
  pair.client = api.Peer.outbound(`${a.localAddr.hostname}:${a.localAddr.port}`, {
    ...common,
    sentNonces: new api.LruSet<bigint>(50),
    listeners: {
      onPong: () => {
        pair.pongs++;
        pair.onRead?.();
      },
    },
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

/** Resolves once `count()` reaches `n`. */
function readAll(pair: Pair, count: () => number, n: number): Promise<void> {
  return new Promise<void>((resolve) => {
    pair.onRead = () => count() === n && resolve();
  });
}

let nonce = 0n;

/** `n` lock-step round trips: a ping, its pong read, the next ping. */
async function lockStep(pair: Pair, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const pong = readAll(pair, () => pair.pongs, pair.pongs + 1);
    void pair.client.queueMessage({ command: "ping", nonce: ++nonce });
    await pong;
  }
}

/** `n` pings queued at once, each answered by a pong; resolves once every pong is read. */
async function pipelined(pair: Pair, n: number): Promise<void> {
  const all = readAll(pair, () => pair.pongs, pair.pongs + n);
  let last: Promise<boolean> | undefined;
  for (let i = 0; i < n; i++) last = pair.client.queueMessage({ command: "ping", nonce: ++nonce });
  if (!(await last)) throw new Error("A ping was dropped");
  await all;
}

/** `n` transactions queued at once, one way; resolves once every one is read. */
async function txStream(pair: Pair, n: number): Promise<void> {
  const all = readAll(pair, () => pair.txs, pair.txs + n);
  let last: Promise<boolean> | undefined;
  for (let i = 0; i < n; i++) last = pair.client.queueMessage(TX);
  if (!(await last)) throw new Error("A transaction was dropped");
  await all;
}

// ---------------------------------------------------------------------------
// The run.

interface Scenario {
  key: string;
  name: string;
  /** Messages moved per burst, both directions together. */
  moved: number;
  /** Directions carrying messages. */
  directions: number;
  /** One burst through the peer pair. */
  peer: (pair: Pair) => Promise<void>;
  /** The same messages through the codec alone; returns ms. */
  codec: (run: CodecRun) => number;
}

const allScenarios: Scenario[] = [
  {
    key: "lock",
    name: "ping/pong lock-step",
    moved: 2 * BURST,
    directions: 2,
    peer: (p) => lockStep(p, BURST),
    codec: (run) => run.burst(2 * BURST, 1, ping),
  },
  {
    key: "pipelined",
    name: "ping/pong pipelined",
    moved: 2 * BURST,
    directions: 2,
    peer: (p) => pipelined(p, BURST),
    codec: (run) => run.burst(2 * BURST, BURST, ping),
  },
  {
    key: "tx",
    name: `tx stream (${TX_FRAME_BYTES - 24}-byte tx)`,
    moved: BURST,
    directions: 1,
    peer: (p) => txStream(p, BURST),
    codec: (run) => run.burst(BURST, BURST, tx),
  },
];
const scenarios = allScenarios.filter((sc) => only === undefined || sc.key === only);
if (scenarios.length === 0) throw new Error(`Invalid --only: ${only} (lock, pipelined or tx)`);

interface Variant {
  name: string;
  api: PeerApi;
  wire: WireApi;
}

async function loadVariant(name: string, dir: string): Promise<Variant> {
  const url = (path: string) => pathToFileURL(`${dir}/${path}`).href;
  const api = (await import(url("src/peer/mod.ts"))) as PeerApi;
  const frame = (await import(url("src/wire/frame.ts"))) as typeof FrameModule;
  const decoder = (await import(url("src/wire/decoder.ts"))) as typeof DecoderModule;
  return { name, api, wire: { encodeMessage: frame.encodeMessage, FrameDecoder: decoder.FrameDecoder } };
}

/** This checkout's root. */
const root = fileURLToPath(new URL("..", import.meta.url)).replace(/\/$/, "");

/**
 * The folder of a base: itself, or for a commit (not a folder) a copy of it
 * made by `git archive` in a temporary folder (removed at exit) with this
 * checkout's node_modules linked in; `undefined` when git cannot make it.
 */
function checkout(base: string): string | undefined {
  if (existsSync(`${base}/src/peer/mod.ts`)) return base;
  const dir = mkdtempSync(`${tmpdir()}/soter-peer-base-`);
  process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
  try {
    const tar = execFileSync("git", ["-C", root, "archive", base], { maxBuffer: 1 << 30 });
    execFileSync("tar", ["-x", "-C", dir], { input: tar });
    if (existsSync(`${root}/node_modules`)) symlinkSync(`${root}/node_modules`, `${dir}/node_modules`);
    return dir;
  } catch (err) {
    console.error(`Skipping the base ${base}: ${err instanceof Error ? err.message.split("\n")[0] : err}`);
    return undefined;
  }
}

const variants: Variant[] = [];
for (const base of bases) {
  const dir = checkout(base);
  if (dir === undefined) continue;
  const name = variants.length === 0 ? "base" : base.slice(base.lastIndexOf("/") + 1);
  variants.push(await loadVariant(name, dir));
}
const hasBase = variants.length > 0;
variants.push(await loadVariant("this", root));

/** Nanoseconds per message moved, per pass: [scenario][variant]. */
const peerNs: number[][][] = scenarios.map(() => variants.map(() => []));
/** The same for the variant's codec alone. */
const codecNs: number[][][] = scenarios.map(() => variants.map(() => []));
const progress = (line: string) => {
  if (!json && process.stdout.isTTY) process.stdout.write(`\r${line.padEnd(70)}`);
};

// Warm-up passes (not counted), then the passes; the variants take turns
// in one order, then in the reverse, so that a drift of the machine's speed
// during a pass hits them alike.
for (let pass = 1 - WARMUP; pass <= passes; pass++) {
  for (const [si, sc] of scenarios.entries()) {
    progress(pass > 0 ? `pass ${pass}/${passes}: ${sc.name}` : `warming up: ${sc.name}`);
    const order = [...variants.entries()];
    if (pass % 2 === 0) order.reverse();
    for (const [vi, v] of order) {
      const pair = await makePair(v.api);
      const codec = new CodecRun(v.wire);
      let codecMs = 0;
      let peerMs = 0;
      for (let k = 0; k < BURSTS; k++) {
        codecMs += sc.codec(codec);
        const t = now();
        await sc.peer(pair);
        peerMs += now() - t;
      }
      await closePair(pair);
      if (pass <= 0) continue;
      codecNs[si]![vi]!.push((codecMs * 1e6) / (BURSTS * sc.moved));
      peerNs[si]![vi]!.push((peerMs * 1e6) / (BURSTS * sc.moved));
    }
  }
}
progress("");
if (!json && process.stdout.isTTY) process.stdout.write("\r");

interface Row {
  scenario: string;
  variant: string;
  /** Nanoseconds per message moved by the Peer pair (both directions counted). */
  peerNs: Spread;
  /** Nanoseconds per message through the variant's codec alone. */
  codecNs: Spread;
  /** Messages per second per direction, Peer pair and codec alone (from the medians). */
  peerPerDirection: number;
  codecPerDirection: number;
  /** The peer's own nanoseconds per message: per pass, the peer's minus its codec's. */
  ownNs: Spread;
  /** Own cost against the first variant's (the base), from the medians. */
  ownVsBase?: number;
}

const rows: Row[] = [];
for (const [si, sc] of scenarios.entries()) {
  const rate = (ns: number) => 1e9 / ns / sc.directions;
  let baseOwn: number | undefined;
  for (const [vi, v] of variants.entries()) {
    const peer = spread(peerNs[si]![vi]!);
    const codec = spread(codecNs[si]![vi]!);
    const own = spread(peerNs[si]![vi]!.map((ns, pass) => ns - codecNs[si]![vi]![pass]!));
    const row: Row = {
      scenario: sc.name,
      variant: v.name,
      peerNs: peer,
      codecNs: codec,
      peerPerDirection: rate(peer.median),
      codecPerDirection: rate(codec.median),
      ownNs: own,
    };
    if (hasBase && vi === 0) baseOwn = own.median;
    else if (baseOwn !== undefined) row.ownVsBase = own.median / baseOwn;
    rows.push(row);
  }
}

if (json) {
  console.log(
    JSON.stringify(
      { runtime: runtimeVersion, passes, time: wall ? "elapsed" : "cpu", bases, rows, samples: { peerNs, codecNs } },
      null,
      2,
    ),
  );
} else {
  const us = (s: Spread) =>
    `${(s.median / 1000).toFixed(2)} (${(s.min / 1000).toFixed(2)}-${(s.max / 1000).toFixed(2)})`;
  const kps = (n: number) => `${(n / 1000).toFixed(1)}k/s`;
  // A ratio of own costs means something only when both are above zero: a
  // cost below zero is a pair faster than its codec alone.
  const versus = (own: number, ratio: number) =>
    own <= 0 ? "below zero" : ratio <= 0 ? "n/a (the base's cost is below zero)" : `${ratio.toFixed(2)}x`;
  console.log(
    `${runtimeVersion}; ${
      wall ? "elapsed" : "CPU"
    } time per message moved (both directions counted), µs, median of ${passes} passes (min-max); rates per direction`,
  );
  const w = Math.max(5, ...variants.map((v) => v.name.length));
  for (const sc of scenarios) {
    console.log(`\n${sc.name}:`);
    console.log(
      `  ${"".padEnd(w)}  ${"codec alone".padEnd(26)}${"Peer pair".padEnd(26)}Peer's own cost (Peer - codec)`,
    );
    for (const r of rows.filter((x) => x.scenario === sc.name)) {
      const vs = r.ownVsBase === undefined ? "" : `  = ${versus(r.ownNs.median, r.ownVsBase)} base`;
      console.log(
        `  ${r.variant.padEnd(w)}  ${us(r.codecNs).padEnd(17)} ${kps(r.codecPerDirection).padStart(8)}  ${
          us(r.peerNs).padEnd(17)
        } ${kps(r.peerPerDirection).padStart(8)}  ${us(r.ownNs)}${vs}`,
      );
    }
  }
  if (!hasBase) {
    console.log("\nNo base measured: --base=b8de09c (a commit or a folder) adds the figures before, in the same run.");
  } else {
    console.log(
      `\nThe Peer's own cost per message (Peer pair minus its codec alone), ${runtimeVersion}, ${
        wall ? "elapsed" : "CPU"
      } time, µs, median (min-max) of ${passes} passes; base (${bases[0]}) → this:`,
    );
    for (const sc of scenarios) {
      const mine = rows.filter((x) => x.scenario === sc.name);
      const base = mine[0]!;
      const self = mine[mine.length - 1]!;
      console.log(
        `  ${sc.name.padEnd(28)} ${us(base.ownNs)} → ${us(self.ownNs)}: ${versus(self.ownNs.median, self.ownVsBase!)}`,
      );
    }
  }
}
