// The multi-buffer lever of issue 10, measured: the checksums of the small
// frames of the mixed stream (payloads under 1 KiB: transactions, pings,
// the version) by a four-lane WebAssembly SIMD double SHA-256 four frames
// per call (src/hash/multibuffer.ts), against one
// call per frame of the adapters' native hasher and of the plain-TypeScript
// hash, timed interleaved in the same run. Runs under Deno, Bun and Node:
//   deno run -A bench/multibuffer.ts | bun bench/multibuffer.ts | npx tsx bench/multibuffer.ts
//   options: --passes N (default 7), --window MS (default 250), --clock wall|cpu
import { existsSync, readFileSync } from "node:fs";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { doubleSha256, MESSAGE_HEADER_SIZE, parseFrameHeader } from "../mod.ts";
import { nativeHasher } from "../src/adapters/native_hash.ts";
import { type Case, type Clock, mbps, measure, ratios, spread } from "./_passes.ts";
import { laneChecksums, lanesAvailable } from "../src/hash/multibuffer.ts";
import { makeMixedStream } from "./fixtures.ts";

const args = process.argv.slice(2);
const option = (name: string, fallback: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] ?? fallback : fallback;
};
const PASSES = Math.max(5, Number(option("--passes", "7")));
const WINDOW_MS = Number(option("--window", "250"));
const clock = option("--clock", "wall") as Clock;

const shared = fileURLToPath(new URL("../../shared/bench/mixed-stream.bin", import.meta.url));
const stream: Uint8Array = existsSync(shared) ? new Uint8Array(readFileSync(shared)) : makeMixedStream();
const small: Uint8Array[] = [];
for (let at = 0; at < stream.length;) {
  const h = parseFrameHeader(stream, at);
  const start = at + MESSAGE_HEADER_SIZE;
  if (h.length < 1024) small.push(stream.subarray(start, start + h.length));
  at = start + h.length;
}
const bytes = small.reduce((n, p) => n + p.length, 0);

if (!lanesAvailable()) throw new Error("Cannot run the four-lane hash: no WebAssembly SIMD here");
const checksumsX4 = (out: Int32Array) => laneChecksums(small, small.length, out);

// Check the lanes against the plain hash before timing anything.
const got = new Int32Array(small.length);
checksumsX4(got);
small.forEach((p, i) => {
  if (new DataView(doubleSha256(p).buffer).getInt32(0, true) !== got[i]) {
    throw new Error(`Four-lane hash differs from the plain hash at frame ${i}`);
  }
});

const x4: Case = { name: "WebAssembly SIMD, four frames a call", bytes, run: () => checksumsX4(got) };
const nat: Case = {
  name: "native hasher, a call a frame",
  bytes,
  run: () => {
    for (const p of small) nativeHasher.doubleSha256(p);
  },
};
const ts: Case = {
  name: "plain TypeScript, a call a frame",
  bytes,
  run: () => {
    for (const p of small) doubleSha256(p);
  },
};
const cases = [nat, ts, x4];
const t = measure(cases, PASSES, WINDOW_MS, undefined, clock);
const runtime = "Deno" in globalThis ? "deno" : "Bun" in globalThis ? "bun" : "node";
console.log(
  `${runtime}: double SHA-256 of the ${small.length} payloads under 1 KiB (${bytes} bytes), median of ${PASSES} ` +
    `passes (min-max), ${clock} clock`,
);
for (const c of cases) {
  const s = spread(mbps(c, t.get(c.name)!));
  console.log(
    `  ${c.name.padEnd(40)} ${s.median.toFixed(0).padStart(6)} MB/s (${s.min.toFixed(0)}-${s.max.toFixed(0)})`,
  );
}
const r = spread(ratios(x4, t.get(x4.name)!, nat, t.get(nat.name)!));
console.log(
  `  four-lane / native, pass by pass       ${r.median.toFixed(2)}x (${r.min.toFixed(2)}-${r.max.toFixed(2)})`,
);
