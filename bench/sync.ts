// Sync throughput: a generated DAG of about 10,000 blocks served by 4 mini
// nodes on loopback, synced by DagSync from all 4 and from 1, beside the
// frame decoder's throughput on the same blocks' bytes (and decoding plus
// the sync's verification), all measured in the same run. Median of the
// passes with min and max. Runs under Deno, Bun and Node:
//   deno run -A bench/sync.ts | bun bench/sync.ts | npx tsx bench/sync.ts
// Options: --passes N (default 5), --height H (default 5000: about 10,000 blocks).
import { Dag } from "../examples/lib/dag.ts";
import { DagNode } from "../examples/lib/node.ts";
import { adapter, args, runtime } from "../examples/lib/runtime.ts";
import {
  blockHash,
  type BlockMessage,
  DagSync,
  defaultHasher,
  encodeMessage,
  encodePayload,
  FrameDecoder,
  type Listener,
  LruSet,
  Peer,
} from "../mod.ts";
import { checkBlockContent } from "../src/sync/verify.ts";
import { spread } from "./_passes.ts";

function option(name: string, fallback: number): number {
  const a = args();
  const i = a.indexOf(`--${name}`);
  return i >= 0 && a[i + 1] !== undefined ? Number(a[i + 1]) : fallback;
}

const passes = Math.max(1, option("passes", 5));
const height = Math.max(1, option("height", 5000));

const t0 = performance.now();
const dag = Dag.generate({ height, maxWidth: 3, seed: 2026 });
const blocks = dag.blocks().slice(1);
const payloads = blocks.map((b) => encodePayload(b.block));
const totalBytes = payloads.reduce((n, p) => n + p.length, 0);
console.log(`runtime: ${runtime}`);
console.log(
  `DAG: ${blocks.length} blocks (genesis excluded) to height ${dag.height}, ${(totalBytes / 1e6).toFixed(2)} MB, ` +
    `generated in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
);

// Serve it from 4 nodes.
const servers: { node: DagNode; listener: Listener; served: Promise<void> }[] = [];
for (let i = 0; i < 4; i++) {
  const node = new DagNode({ dag });
  const listener = await adapter.listen({ hostname: "127.0.0.1", port: 0 });
  servers.push({ node, listener, served: node.serve(listener) });
}

const nonces = new LruSet<bigint>(100);
async function clients(n: number): Promise<Peer[]> {
  return await Promise.all(
    servers.slice(0, n).map(async (s) => {
      const peer = Peer.outbound(`127.0.0.1:${s.listener.addr.port}`, {
        network: dag.network,
        userAgentName: "bench",
        userAgentVersion: "1.0.0",
        sentNonces: nonces,
      });
      peer.associateConnection(await adapter.connect("127.0.0.1", s.listener.addr.port));
      if (!(await peer.ready)) throw new Error("handshake failed");
      return peer;
    }),
  );
}

async function syncOnce(n: number): Promise<number> {
  const peers = await clients(n);
  const start = performance.now();
  let count = 0;
  for await (const _ of new DagSync({ network: dag.network, peers })) count++;
  const ms = performance.now() - start;
  for (const p of peers) p.disconnect();
  if (count !== blocks.length) throw new Error(`synced ${count} of ${blocks.length} blocks`);
  return ms;
}

// The same blocks as frames, in 64 KiB chunks, as a socket would give them.
const frames = blocks.map((b) => encodeMessage(b.block, { magic: dag.network.magic }));
const stream = new Uint8Array(frames.reduce((n, f) => n + f.length, 0));
let at = 0;
for (const f of frames) {
  stream.set(f, at);
  at += f.length;
}
const chunks: Uint8Array[] = [];
for (let i = 0; i < stream.length; i += 65536) chunks.push(stream.subarray(i, i + 65536));
const hasher = defaultHasher();

function decodeOnce(verify: boolean): number {
  const start = performance.now();
  const dec = new FrameDecoder({ magic: dag.network.magic, hasher });
  let n = 0;
  for (const c of chunks) {
    dec.push(c);
    for (let f = dec.next(); f !== undefined; f = dec.next()) {
      n++;
      if (verify) {
        const block = f.message as BlockMessage;
        const h = hasher.doubleSha256(f.payload.subarray(0, 80));
        if (checkBlockContent(block, h, blockHash(block.header, hasher), dag.network, hasher)) throw new Error("bad");
      }
    }
  }
  if (n !== blocks.length) throw new Error(`decoded ${n} frames`);
  return performance.now() - start;
}

const results: Record<string, number[]> = { sync4: [], sync1: [], decode: [], verify: [] };
await syncOnce(4); // warm-up
decodeOnce(true);
for (let i = 0; i < passes; i++) {
  results.sync4!.push(await syncOnce(4));
  results.sync1!.push(await syncOnce(1));
  results.decode!.push(decodeOnce(false));
  results.verify!.push(decodeOnce(true));
  console.log(`pass ${i + 1}/${passes} done`);
}

const line = (label: string, ms: number[]) => {
  const s = spread(ms.map((x) => totalBytes / 1e6 / (x / 1000)));
  const b = spread(ms.map((x) => blocks.length / (x / 1000)));
  console.log(
    `  ${label.padEnd(36)} ${s.median.toFixed(1).padStart(7)} MB/s (min ${s.min.toFixed(1)}, max ${
      s.max.toFixed(1)
    })  ${b.median.toFixed(0).padStart(7)} blocks/s`,
  );
  return s.median;
};
console.log(`\nmedian of ${passes} passes (the machine is shared: noisy), same bytes throughout:`);
const s4 = line("DagSync, 4 nodes on loopback", results.sync4!);
const s1 = line("DagSync, 1 node on loopback", results.sync1!);
const dec = line("FrameDecoder alone (64 KiB chunks)", results.decode!);
const ver = line("FrameDecoder + block verification", results.verify!);
console.log(
  `\n  sync (4 nodes) = ${(s4 / dec).toFixed(2)} x decoder, ${(s4 / ver).toFixed(2)} x decoder+verification; ` +
    `4 nodes = ${(s4 / s1).toFixed(2)} x 1 node`,
);

for (const s of servers) {
  s.listener.close();
  await s.node.close();
  await s.served.catch(() => {});
}
