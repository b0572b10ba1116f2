// Throughput of the codec in MB/s and messages/s, with the physical
// references measured in the same run: a Uint8Array.prototype.set copy and a
// native double SHA-256 of the same bytes. Runs under Deno, Bun and Node:
//   deno run -A bench/throughput.ts | bun bench/throughput.ts | npx tsx bench/throughput.ts
// Uses ../shared/bench/mixed-stream.bin (soterd's own stream) when present,
// otherwise a generated stream of the same mix.
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import {
  decodePayload,
  encodeMessage,
  encodePayload,
  FrameDecoder,
  type Hasher,
  jsHasher,
  type Message,
  SIMNET,
} from "../mod.ts";
import { nativeHasher } from "../src/adapters/native_hash.ts";
import { makeMixedStream, randomChunks, sampleMessages } from "./fixtures.ts";

const runtime = "Deno" in globalThis ? "deno" : "Bun" in globalThis ? "bun" : "node";

function best(fn: () => void, minMs = 400, minRuns = 3): number {
  let bestMs = Infinity;
  const start = performance.now();
  for (let runs = 0; runs < minRuns || performance.now() - start < minMs; runs++) {
    const t = performance.now();
    fn();
    bestMs = Math.min(bestMs, performance.now() - t);
  }
  return bestMs;
}

const mbps = (bytes: number, ms: number) => bytes / 1e6 / (ms / 1000);
const fmt = (x: number) => x.toFixed(x < 10 ? 2 : 0).padStart(8);

const shared = fileURLToPath(new URL("../../shared/bench/mixed-stream.bin", import.meta.url));
const haveShared = existsSync(shared);
const stream: Uint8Array = haveShared ? new Uint8Array(readFileSync(shared)) : makeMixedStream();
const chunks = randomChunks(stream);

console.log(`runtime: ${runtime}`);
console.log(
  `stream: ${
    haveShared ? "soterd's mixed-stream.bin" : "generated mix"
  }, ${stream.length} bytes in ${chunks.length} random chunks`,
);

const copyMs = best(() => new Uint8Array(stream.length).set(stream));
const nativeMs = best(() => {
  const a = createHash("sha256").update(stream).digest();
  createHash("sha256").update(a).digest();
});

let frames = 0;
function decodeAll(hasher: Hasher): void {
  const dec = new FrameDecoder({ magic: SIMNET.magic, hasher });
  frames = 0;
  for (const c of chunks) {
    dec.push(c);
    for (let f = dec.next(); f !== undefined; f = dec.next()) frames++;
  }
  dec.end();
}
const jsMs = best(() => decodeAll(jsHasher));
const natMs = best(() => decodeAll(nativeHasher));

console.log(`\nmixed stream (${frames} frames), checksums included:`);
console.log(`  copy (Uint8Array.set)          ${fmt(mbps(stream.length, copyMs))} MB/s`);
console.log(`  native double SHA-256          ${fmt(mbps(stream.length, nativeMs))} MB/s`);
console.log(
  `  decode, native-hash hasher     ${fmt(mbps(stream.length, natMs))} MB/s   = ${
    (nativeMs / natMs).toFixed(2)
  } x native dSHA, ${(copyMs / natMs).toFixed(3)} x copy, ${
    (mbps(stream.length, natMs) / 89).toFixed(1)
  } x soterd's 89 MB/s`,
);
console.log(
  `  decode, plain-JS hasher        ${fmt(mbps(stream.length, jsMs))} MB/s   = ${
    (nativeMs / jsMs).toFixed(2)
  } x native dSHA`,
);

console.log(`\nsingle messages (payload only, no checksum):`);
const samples = sampleMessages() as Record<string, Message>;
for (const [name, msg] of Object.entries(samples)) {
  const payload = encodePayload(msg);
  const reps = Math.max(1, Math.floor(2_000_000 / (payload.length + 100)));
  const dMs = best(() => {
    for (let i = 0; i < reps; i++) decodePayload(msg.command, payload);
  }, 300);
  const eMs = best(() => {
    for (let i = 0; i < reps; i++) encodePayload(msg);
  }, 300);
  const cMs = best(() => {
    for (let i = 0; i < reps; i++) new Uint8Array(payload.length).set(payload);
  }, 300);
  console.log(
    `  ${name.padEnd(8)} ${String(payload.length).padStart(8)} B  decode ${
      fmt(mbps(payload.length * reps, dMs))
    } MB/s ${fmt(reps / dMs * 1000)} msg/s (${(cMs / dMs).toFixed(3)} x copy)   encode ${
      fmt(mbps(payload.length * reps, eMs))
    } MB/s`,
  );
}

const frame = encodeMessage(samples.block!, { magic: SIMNET.magic });
const ckJs = best(() => jsHasher.doubleSha256(frame));
const ckNat = best(() => nativeHasher.doubleSha256(frame));
console.log(`\nchecksum alone over a ${frame.length}-byte block frame:`);
console.log(`  plain JS ${fmt(mbps(frame.length, ckJs))} MB/s, native hasher ${fmt(mbps(frame.length, ckNat))} MB/s`);
