// Throughput of the codec in MB/s and messages/s beside the physical
// references measured in the same run: a Uint8Array.prototype.set copy and a
// native double SHA-256 of the same bytes. Every figure is the median of
// several passes with its min and max; the cases of a table are timed
// interleaved and every ratio is taken pass by pass between figures of this
// run (never against a figure from another machine). Runs under Deno, Bun
// and Node:
//   deno run -A bench/throughput.ts | bun bench/throughput.ts | npx tsx bench/throughput.ts
//   options: --passes N (default 7), --window MS (default 250), --json,
//   --only stream|block|messages (one table), --clock wall|cpu (time passes by
//   elapsed time, the default, or by this process's CPU time, steadier on a
//   machine shared with other work)
// Uses ../shared/bench/mixed-stream.bin (soterd's own stream) when present,
// otherwise a generated stream of the same mix.
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import process from "node:process";
import { fileURLToPath } from "node:url";
import {
  blockCodec,
  type BlockMessage,
  blockSerializeSize,
  type Command,
  decodePayload,
  encodePayload,
  FrameDecoder,
  type Hasher,
  jsHasher,
  type Message,
  MESSAGE_HEADER_SIZE,
  parseFrameHeader,
  PROTOCOL_VERSION,
  Reader,
  readTx,
  SIMNET,
  type Tx,
  varIntSize,
  Writer,
} from "../mod.ts";
import { nativeHasher } from "../src/adapters/native_hash.ts";
import { type Case, type Clock, mbps, measure, ratios, type Spread, spread, type Timings } from "./_passes.ts";
import { makeMixedStream, plainBlock, randomChunks, sampleMessages } from "./fixtures.ts";

const runtime = "Deno" in globalThis ? "deno" : "Bun" in globalThis ? "bun" : "node";
const args = process.argv.slice(2);
const option = (name: string, fallback: number) => {
  const i = args.indexOf(name);
  const v = i >= 0 ? Number(args[i + 1]) : fallback;
  if (!Number.isFinite(v) || v < 1) throw new Error(`Cannot parse ${name}: expected a positive number`);
  return v;
};
const PASSES = Math.max(5, option("--passes", 7));
const WINDOW_MS = option("--window", 250);
const json = args.includes("--json");
const clockAt = args.indexOf("--clock");
const clock = (clockAt >= 0 ? args[clockAt + 1] : "wall") as Clock;
if (clock !== "wall" && clock !== "cpu") {
  throw new Error(`Cannot parse --clock: expected wall or cpu, got ${JSON.stringify(clock)}`);
}
const onlyAt = args.indexOf("--only");
const only = onlyAt >= 0 ? args[onlyAt + 1] : undefined;
if (only !== undefined && !["stream", "block", "messages"].includes(only)) {
  throw new Error(`Cannot parse --only: expected stream, block or messages, got ${JSON.stringify(only)}`);
}
const wanted = (table: string) => only === undefined || only === table;

const shared = fileURLToPath(new URL("../../shared/bench/mixed-stream.bin", import.meta.url));
const haveShared = existsSync(shared);
const stream: Uint8Array = haveShared ? new Uint8Array(readFileSync(shared)) : makeMixedStream();
const chunks = randomChunks(stream);

/** The frames of a well-formed stream, split without checks. */
function splitFrames(bytes: Uint8Array): { command: Command; payload: Uint8Array }[] {
  const out: { command: Command; payload: Uint8Array }[] = [];
  for (let at = 0; at < bytes.length;) {
    const h = parseFrameHeader(bytes, at);
    const start = at + MESSAGE_HEADER_SIZE;
    out.push({ command: h.command as Command, payload: bytes.subarray(start, start + h.length) });
    at = start + h.length;
  }
  return out;
}
const frames = splitFrames(stream);

const progress = (what: string) => (done: number, total: number) => {
  if (process.stderr.isTTY) process.stderr.write(`\r${what}: pass ${done}/${total} `);
  if (done === total && process.stderr.isTTY) process.stderr.write("\r\x1b[K");
};
const log = (line = "") => {
  if (!json) console.log(line);
};
const num = (x: number) => x.toFixed(x < 10 ? 2 : 0);
const show = (s: Spread, unit: string) =>
  `${num(s.median).padStart(8)} ${unit}  (${num(s.min)}-${num(s.max)}, spread ${(s.max / s.min).toFixed(2)})`;
const showRatio = (s: Spread) =>
  `${s.median.toFixed(3)}x (${s.min.toFixed(3)}-${s.max.toFixed(3)}, spread ${(s.max / s.min).toFixed(2)})`;

const report: Record<string, unknown> = {
  runtime,
  stream: haveShared ? "mixed-stream.bin" : "generated",
  bytes: stream.length,
  frames: frames.length,
  chunks: chunks.length,
  passes: PASSES,
  windowMs: WINDOW_MS,
  clock,
};
const figures: Record<string, Spread> = {};
const ratioFigures: Record<string, Spread> = {};
report.mbps = figures;
report.ratios = ratioFigures;

log(`runtime: ${runtime}`);
log(
  `stream: ${haveShared ? "soterd's mixed-stream.bin" : "generated mix"}, ${stream.length} bytes, ${frames.length} ` +
    `frames, in ${chunks.length} random chunks`,
);
log(
  `each figure: median of ${PASSES} passes of ${WINDOW_MS} ms (min-max), timed by ${
    clock === "cpu" ? "process CPU time" : "elapsed time"
  }; cases of a table interleaved`,
);

/** Prints a table of cases and records its figures. */
function table(title: string, cases: Case[], t: Timings, prefix: string): void {
  log(`\n${title}`);
  for (const c of cases) {
    const s = spread(mbps(c, t.get(c.name)!));
    figures[`${prefix}${c.name}`] = s;
    log(`  ${c.name.padEnd(40)} ${show(s, "MB/s")}`);
  }
}
function ratio(label: string, key: string, a: Case, b: Case, t: Timings): void {
  const s = spread(ratios(a, t.get(a.name)!, b, t.get(b.name)!));
  ratioFigures[key] = s;
  log(`  ${label.padEnd(40)} ${showRatio(s)}`);
}

let decoded = 0;
function decodeAll(hasher: Hasher, parts: Uint8Array[] = chunks): void {
  const dec = new FrameDecoder({ magic: SIMNET.magic, hasher });
  decoded = 0;
  for (const c of parts) {
    dec.push(c);
    for (let f = dec.next(); f !== undefined; f = dec.next()) decoded++;
  }
  dec.end();
}

// The mixed stream, with the references and where the time goes.
if (wanted("stream")) {
  const n = stream.length;
  // The copies write into buffers allocated once: a fresh 13 MB buffer per run
  // would time the kernel's page faults, not the copy.
  const copyTarget = new Uint8Array(n);
  const copy: Case = { name: "copy (Uint8Array.set)", bytes: n, run: () => copyTarget.set(stream) };
  const native: Case = {
    name: "native double SHA-256, one call",
    bytes: n,
    run: () => createHash("sha256").update(createHash("sha256").update(stream).digest()).digest(),
  };
  const checksums: Case = {
    name: "checksums alone, frame by frame",
    bytes: n,
    run: () => {
      for (const f of frames) nativeHasher.doubleSha256(f.payload);
    },
  };
  const payloads: Case = {
    name: "payload decode alone, no checksum",
    bytes: n,
    run: () => {
      for (const f of frames) decodePayload(f.command, f.payload);
    },
  };
  // The same hasher without frameChecksums: every frame hashed by its own call.
  const oneByOne: Hasher = { sha256: nativeHasher.sha256, doubleSha256: nativeHasher.doubleSha256 };
  const small = frames.filter((f) => f.payload.length < 1024).map((f) => f.payload);
  const large = frames.filter((f) => f.payload.length >= 1024).map((f) => f.payload);
  const sums = new Int32Array(small.length);
  const batches: Case = {
    name: "checksums alone, small frames in batches",
    bytes: n,
    run: () => {
      for (let i = 0; i < small.length; i += 64) {
        const part = small.slice(i, i + 64);
        if (nativeHasher.frameChecksums) nativeHasher.frameChecksums(part, part.length, sums);
        else for (const p of part) nativeHasher.doubleSha256(p);
      }
      for (const p of large) nativeHasher.doubleSha256(p);
    },
  };
  const decodeNative: Case = { name: "stream decode, native hasher", bytes: n, run: () => decodeAll(nativeHasher) };
  const decodeOneByOne: Case = {
    name: "stream decode, native, frame by frame",
    bytes: n,
    run: () => decodeAll(oneByOne),
  };
  // Where the time goes: the same, with no frame spanning chunks (nothing
  // gathered, nothing allocated for payloads).
  const decodeWhole: Case = {
    name: "stream decode, native, as one chunk",
    bytes: n,
    run: () => decodeAll(nativeHasher, [stream]),
  };
  const decodeJs: Case = { name: "stream decode, plain-JS hasher", bytes: n, run: () => decodeAll(jsHasher) };
  const streamCases = [
    copy,
    native,
    checksums,
    batches,
    payloads,
    decodeNative,
    decodeOneByOne,
    decodeWhole,
    decodeJs,
  ];
  // Settled: each case is timed in its own steady state, not in the
  // transition from the case before it (see `measure`).
  const st = measure(streamCases, PASSES, WINDOW_MS, progress("mixed stream"), clock, true);
  table(`mixed stream (${decoded} frames), checksums included unless said:`, streamCases, st, "stream: ");
  log("  ratios, pass by pass:");
  ratio("decode (native hasher) / native dSHA", "decode/native-dsha", decodeNative, native, st);
  ratio("decode (native hasher) / copy", "decode/copy", decodeNative, copy, st);
  ratio("decode, batched / frame by frame", "decode batched/one-by-one", decodeNative, decodeOneByOne, st);
  ratio("decode, random chunks / one chunk", "decode chunks/whole", decodeNative, decodeWhole, st);
  ratio("checksums alone / native dSHA", "checksums/native-dsha", checksums, native, st);
  ratio("checksums in batches / native dSHA", "batched checksums/native-dsha", batches, native, st);
  ratio("payload decode alone / native dSHA", "payloads/native-dsha", payloads, native, st);
}

// A block of the stream (1.5 MB in soterd's fixture): decode against encode.
if (wanted("block")) {
  const blockFrame = frames.find((f) => f.command === "block");
  const decodedMsg = blockFrame ? decodePayload("block", blockFrame.payload) : sampleMessages().block;
  const blockPayload = encodePayload(decodedMsg);
  // A block as a user builds it: plain objects, every byte field its own array.
  const builtMsg = plainBlock(decodePayload("block", blockPayload));
  // A decoded block whose transactions are never read (a relay's).
  const untouchedMsg = decodePayload("block", blockPayload);
  const bn = blockPayload.length;
  const txCount = builtMsg.transactions.length;
  const first = blockSerializeSize({ ...builtMsg, transactions: [] }) - 1 + varIntSize(txCount);
  const bCopyTarget = new Uint8Array(bn);
  const bCopy: Case = { name: "copy", bytes: bn, run: () => bCopyTarget.set(blockPayload) };
  // Part of encoding: the fresh buffer it returns, filled. Writing into fresh
  // memory is what costs (page faults), more than allocating it.
  const bFresh: Case = {
    name: "copy into a fresh buffer",
    bytes: bn,
    run: () => new Uint8Array(bn).set(blockPayload),
  };
  // Decoding checks every transaction but builds them on first access: timed
  // without reading them (a relay) and with reading every input and output
  // (an indexer), against the eager decoding lazy blocks replaced (readTx one
  // transaction after another).
  const bDecode: Case = { name: "decode", bytes: bn, run: () => decodePayload("block", blockPayload) };
  let seen = 0;
  const readAll = (txs: readonly Tx[]) => {
    for (const tx of txs) seen += tx.txIn.length + tx.txOut.length;
  };
  const bDecodeAll: Case = {
    name: "decode and read the transactions",
    bytes: bn,
    run: () => readAll(decodePayload("block", blockPayload).transactions),
  };
  const bEager: Case = {
    name: "readTx one by one (the eager decode)",
    bytes: bn,
    run: () => {
      const r = new Reader(blockPayload, "block");
      r.pos = first;
      const txs: Tx[] = new Array(txCount);
      for (let i = 0; i < txCount; i++) txs[i] = readTx(r, "witness");
      readAll(txs);
    },
  };
  const bEncode: Case = { name: "encode a built block", bytes: bn, run: () => encodePayload(builtMsg) };
  const bReencode: Case = {
    name: "re-encode a decoded block, untouched",
    bytes: bn,
    run: () => encodePayload(untouchedMsg),
  };
  // The encoder's own work: the same into a Writer reused from run to run.
  const reused = new Writer(bn, "block");
  const into = (msg: BlockMessage) => () => {
    reused.pos = 0;
    blockCodec.encode(reused, msg, PROTOCOL_VERSION, "witness");
  };
  const bEncodeInto: Case = { name: "encode a built block, reused buffer", bytes: bn, run: into(builtMsg) };
  const bReencodeInto: Case = { name: "re-encode untouched, reused buffer", bytes: bn, run: into(untouchedMsg) };
  const blockCases = [bCopy, bFresh, bDecode, bDecodeAll, bEager, bEncode, bReencode, bEncodeInto, bReencodeInto];
  const bt = measure(blockCases, PASSES, WINDOW_MS, progress("block"), clock);
  if (seen === 0) throw new Error("Cannot time reading the transactions: none was read");
  table(`block of ${txCount} transactions, ${bn} bytes (payload only):`, blockCases, bt, "block: ");
  log("  ratios, pass by pass (targets: encode >= 0.5x decode, read >= 1x eager):");
  ratio("encode (built) / decode and read", "block encode/decode-read", bEncode, bDecodeAll, bt);
  ratio("  … into a reused buffer", "block encode-into/decode-read", bEncodeInto, bDecodeAll, bt);
  ratio("re-encode (untouched) / decode", "block reencode/decode", bReencode, bDecode, bt);
  ratio("  … into a reused buffer", "block reencode-into/decode", bReencodeInto, bDecode, bt);
  ratio("re-encode (untouched) / fresh-buffer copy", "block reencode/fresh-copy", bReencode, bFresh, bt);
  ratio("decode and read / eager decode", "block decode-read/eager", bDecodeAll, bEager, bt);
  ratio("decode / copy", "block decode/copy", bDecode, bCopy, bt);
}

// Single messages.
if (wanted("messages")) {
  log(`\nsingle messages (payload only, no checksum), MB/s and messages/s:`);
  const messages: Record<string, unknown> = {};
  report.messages = messages;
  const samples = sampleMessages() as Record<string, Message>;
  for (const [name, msg] of Object.entries(samples)) {
    if (name === "block") continue;
    const payload = encodePayload(msg);
    const reps = Math.max(1, Math.floor(200_000 / (payload.length + 100)));
    const bytes = payload.length * reps;
    const dec: Case = {
      name: "decode",
      bytes,
      run: () => {
        for (let i = 0; i < reps; i++) decodePayload(msg.command, payload);
      },
    };
    const enc: Case = {
      name: "encode",
      bytes,
      run: () => {
        for (let i = 0; i < reps; i++) encodePayload(msg);
      },
    };
    const t = measure([dec, enc], PASSES, WINDOW_MS / 2, progress(name), clock);
    const d = spread(t.get("decode")!.map((ms) => reps / ms * 1000));
    const e = spread(t.get("encode")!.map((ms) => reps / ms * 1000));
    messages[name] = { bytes: payload.length, decodeMsgPerS: d, encodeMsgPerS: e };
    const k = (x: number) => `${(x / 1000).toFixed(0)}k`;
    log(
      `  ${name.padEnd(8)} ${String(payload.length).padStart(7)} B  decode ${k(d.median).padStart(6)} msg/s (${
        k(d.min)
      }-${k(d.max)})   encode ${k(e.median).padStart(6)} msg/s (${k(e.min)}-${k(e.max)})`,
    );
  }
}

if (json) console.log(JSON.stringify(report, null, 2));
