// The examples, the demo and the command-line tool, each run as a program
// by the runtime running this file (Deno, Bun or Node with tsx), with
// assertions on their output and exit codes. The programs run two at a
// time from the start; each test waits for its own.
import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import "./_guard.ts"; // fails the file on any unhandled rejection or uncaught exception
import { spawn } from "node:child_process";
import process from "node:process";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { REGTEST, SIMNET } from "../src/chain/params.ts";
import type { ChainParams } from "../src/chain/params.ts";
import { LruSet } from "../src/peer/lru.ts";
import { Peer } from "../src/peer/peer.ts";
import { Dag } from "../examples/lib/dag.ts";
import { DagNode } from "../examples/lib/node.ts";
import { cleanupsAfterAll, connect, listen, runtime } from "./_runtime.ts";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/** How the runtime running this file runs a TypeScript program. */
const PREFIX: readonly string[] = runtime === "deno" ? ["run", "-A"] : runtime === "bun" ? [] : ["--import", "tsx"];

type Signal = "SIGINT" | "SIGKILL";

interface Run {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  ms: number;
}

interface RunOptions {
  /** Called with the output so far, after each chunk of it. */
  onStdout?: (text: string, kill: (signal: Signal) => void) => void;
}

// A program still running after this long is hung, and killed (SIGKILL). Only a
// guard: every program here exits by itself in seconds, yet Node's tsx
// took over 20 s to start one on a loaded machine (scripts/stress.sh).
const HANG_MS = 120_000;

// Two programs at a time: this machine may have two cores, and a program
// competing for them must still answer its peers in time.
let running = 0;
const waiting: Array<() => void> = [];
async function slot<T>(task: () => Promise<T>): Promise<T> {
  if (running >= 2) await new Promise<void>((r) => waiting.push(r));
  running++;
  try {
    return await task();
  } finally {
    running--;
    waiting.shift()?.();
  }
}

/** Runs `script` with this runtime. */
function run(script: string, args: readonly string[] = [], options: RunOptions = {}): Promise<Run> {
  return slot(() =>
    new Promise<Run>((resolve, reject) => {
      const t0 = performance.now();
      const child = spawn(process.execPath, [...PREFIX, script, ...args], {
        cwd: root,
        env: { ...process.env, NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let stdout = "", stderr = "";
      // process.kill rather than child.kill: Deno's child.kill reports the
      // signal as the cause of the exit even when the child handles it.
      const kill = (signal: Signal) => {
        if (child.pid !== undefined && child.exitCode === null) process.kill(child.pid, signal);
      };
      const timer = setTimeout(() => kill("SIGKILL"), HANG_MS);
      child.stdout!.setEncoding("utf8");
      child.stderr!.setEncoding("utf8");
      child.stdout!.on("data", (s: string) => {
        stdout += s;
        options.onStdout?.(stdout, kill);
      });
      child.stderr!.on("data", (s: string) => stderr += s);
      child.on("error", (err) => {
        clearTimeout(timer);
        reject(err);
      });
      child.on("close", (code, signal) => {
        clearTimeout(timer);
        resolve({ code, signal, stdout, stderr, ms: performance.now() - t0 });
      });
    })
  );
}

/** Explains a run in assertion messages. */
function show(r: Run): string {
  return `exit ${r.code} ${r.signal ?? ""} after ${r.ms.toFixed(0)} ms\n--- stdout\n${r.stdout}--- stderr\n${r.stderr}`;
}

/** A node serving a small DAG on loopback, for the command-line tests. */
async function startNode(network: ChainParams = SIMNET): Promise<{ port: number; close: () => Promise<void> }> {
  const node = new DagNode({ dag: Dag.generate({ network, height: 20, seed: 3 }) });
  const listener = await listen({ hostname: "127.0.0.1", port: 0 });
  const serving = node.serve(listener);
  return {
    port: listener.addr.port,
    close: async () => {
      listener.close();
      await serving;
      await node.close();
    },
  };
}

/** A port where nothing listens. */
async function deadPort(): Promise<number> {
  const l = await listen({ hostname: "127.0.0.1", port: 0 });
  const port = l.addr.port;
  await l[Symbol.asyncDispose]();
  return port;
}

const cleanups = cleanupsAfterAll();

// Every program starts before the first test; each test awaits its own.
const runs: Record<string, Promise<Run>> = {};

before(async () => {
  const simnet = await startNode();
  // A node with simnet's magic but regtest's genesis block.
  const odd = await startNode({ ...SIMNET, genesisBlock: REGTEST.genesisBlock, genesisHash: REGTEST.genesisHash });
  cleanups.push(simnet.close, odd.close);
  const dead = await deadPort();
  runs.demo = run("examples/demo.ts");
  runs.outbound = run("examples/outbound_peer.ts", ["0"]);
  runs.headers = run("examples/header_sync.ts");
  runs.crawler = run("examples/address_crawler.ts");
  runs.help = run("cli.ts", ["--help"]);
  runs.noAddress = run("cli.ts", ["probe"]);
  runs.badOption = run("cli.ts", ["probe", "127.0.0.1", "--network", "bitcoin"]);
  runs.refused = run("cli.ts", ["probe", `127.0.0.1:${dead}`, "--network", "simnet"]);
  runs.probe = run("cli.ts", ["probe", `127.0.0.1:${simnet.port}`, "--network", "simnet", "--count", "2"]);
  runs.wrongMagic = run("cli.ts", ["probe", `127.0.0.1:${simnet.port}`, "--network", "testnet1", "--timeout", "5000"]);
  runs.wrongGenesis = run("cli.ts", ["probe", `127.0.0.1:${odd.port}`, "--network", "simnet"]);
});

describe(`examples (${runtime})`, () => {
  it("outbound_peer: the ported Go example", async () => {
    const r = await runs.outbound!;
    assert.equal(r.code, 0, show(r));
    assert.match(r.stdout, /^outbound: received version \(\/soterwire:0\.6\.0\/peer:1\.0\.0\/\)$/m, show(r));
    assert.match(r.stdout, /^outbound: handshake with 127\.0\.0\.1:\d+ done, protocol version 70013$/m);
    assert.match(r.stdout, /^outbound: disconnected \(local\)$/m);
    assert.match(r.stdout, /^inbound: disconnected \(remote-closed\)$/m);
    assert.equal(r.stderr, "");
  });

  it("header_sync: SPV-style sync from a DAG node", async () => {
    const r = await runs.headers!;
    assert.equal(r.code, 0, show(r));
    const started = r.stdout.match(/serving (\d+) blocks up to height 300/);
    assert.ok(started, show(r));
    assert.match(r.stdout, /^round 1: inv of 500 blocks \(heights 1\.\.\d+\), \d+ headers, all hashes match$/m);
    // Every block but genesis.
    assert.match(r.stdout, new RegExp(`^synced ${Number(started[1]) - 1} headers to height 300 in \\d+ rounds`, "m"));
    assert.match(r.stdout, /the last headers:/);
  });

  it("address_crawler: getaddr/addr and getaddrcache/addrcache across three nodes", async () => {
    const r = await runs.crawler!;
    assert.equal(r.code, 0, show(r));
    assert.match(r.stdout, /soter-dag-node:0\.1\.0\/ height 10; \d+ addresses, new: 127\.0\.0\.1:\d+$/m, show(r));
    assert.match(r.stdout, /soter-dag-node:0\.2\.0\/ height 15/);
    assert.match(r.stdout, /soter-dag-node:0\.3\.0\/ height 20/);
    assert.match(r.stdout, /^127\.0\.0\.1:\d+: refused$/m);
    assert.match(r.stdout, /^3 of 4 nodes answered/m);
  });

  it("demo: node and client on loopback, live log and statistics, exits by itself", async () => {
    const r = await runs.demo!;
    assert.equal(r.code, 0, show(r));
    const out = r.stdout;
    assert.match(out, /node {3}listening on 127\.0\.0\.1:\d+, serving \d+ blocks up to height 60/, show(r));
    assert.match(out, /client handshake done: \/soterwire:0\.6\.0\/soter-dag-node:0\.1\.0\/, pver 70013/);
    assert.match(out, /matches simnet/);
    assert.match(out, /client ping round trip \d+\.\d+ ms/);
    assert.match(out, /client address cache: inbound 127\.0\.0\.1:\d+; outbound none; known 10\.0\.0\.7:18555/);
    assert.match(out, /client synced \d+ headers to height 60 in \d+ rounds/);
    assert.match(out, /client downloaded \d+ blocks, .* all check out/);
    assert.match(out, /node {3}mined block [0-9a-f]{64} at height 61/);
    assert.match(out, /client block [0-9a-f]{16}… at height 62 downloaded and checked/);
    assert.match(out, /^side +remote +dir +user agent +pver +msgs out +msgs in +bytes out +bytes in +ping +height$/m);
    assert.match(out, /^client +127\.0\.0\.1:\d+ +out +\/soterwire:0\.6\.0\/soter-dag-node:0\.1\.0\/ +70013 /m);
    assert.match(out, /^node +127\.0\.0\.1:\d+ +in +\/soterwire:0\.6\.0\/soter-peer-demo:0\.1\.0\/ +70013 /m);
    assert.match(out, /node {3}127\.0\.0\.1:\d+ disconnected: remote-closed/);
    assert.match(out, /demo {3}done\n$/);
    assert.equal(r.stderr, "");
  });
});

describe(`cli.ts (${runtime})`, () => {
  it("--help prints the usage", async () => {
    const r = await runs.help!;
    assert.equal(r.code, 0, show(r));
    assert.match(r.stdout, /^Usage:$/m);
    assert.match(r.stdout, /cli\.ts probe <host\[:port\]> \[--network NAME\] \[--count N\] \[--timeout MS\]/);
    assert.match(r.stdout, /cli\.ts listen \[--port N\]/);
  });

  it("usage errors: one line on stderr, exit code 2", async () => {
    for (const r of [await runs.noAddress!, await runs.badOption!]) {
      assert.equal(r.code, 2, show(r));
      assert.equal(r.stdout, "");
      assert.match(r.stderr, /^Error: [^\n]+ \(see --help\)\n$/);
    }
    assert.match((await runs.badOption!).stderr, /Unknown network: "bitcoin"/);
  });

  it("a refused connection: one line on stderr, exit code 1", async () => {
    const r = await runs.refused!;
    assert.equal(r.code, 1, show(r));
    assert.match(r.stderr, /^Error: Connection to 127\.0\.0\.1:\d+ refused\n$/, show(r));
  });

  it("probe prints the node's version, then its traffic until --count", async () => {
    const r = await runs.probe!;
    assert.equal(r.code, 0, show(r));
    const out = r.stdout;
    assert.match(out, /^Connected to 127\.0\.0\.1:\d+ \(simnet\)/m);
    assert.match(out, /^ {2}user agent {8}\/soterwire:0\.6\.0\/soter-dag-node:0\.1\.0\/$/m);
    assert.match(out, /^ {2}protocol version {2}70013$/m);
    assert.match(out, /^ {2}services {10}SFNodeNetwork\|SFNodeWitness \(0x9\)$/m);
    assert.match(out, /^ {2}last block {8}20$/m);
    assert.match(out, /^ {2}genesis {11}5f2694c9[0-9a-f]{56} \(matches simnet\)$/m);
    assert.match(out, /^\+\d+\.\d{3}s ← verack$/m);
    assert.match(out, /^\+\d+\.\d{3}s ← pong nonce 0x[0-9a-f]+ \(round trip \d+\.\d+ ms\)$/m);
    assert.match(out, /^Received 2 messages; disconnecting$/m);
    assert.equal(r.stderr, "");
  });

  it("probe on the wrong network: a clear error, exit code 1", async () => {
    const magic = await runs.wrongMagic!;
    assert.equal(magic.code, 1, show(magic));
    assert.match(
      magic.stderr,
      /^Error: 127\.0\.0\.1:\d+ closed the connection without sending anything: it may be on another network than testnet1 \(try --network\), or not a soter node\n$/,
      show(magic),
    );
    // Like soterd, the node reads our version first and rejects it.
    const genesis = await runs.wrongGenesis!;
    assert.equal(genesis.code, 1, show(genesis));
    assert.match(
      genesis.stderr,
      /^Error: 127\.0\.0\.1:\d+ rejected us: version REJECT_INVALID: peer genesis block hash different from ours \(5f2694c9[0-9a-f]{56} != 0f9188f1[0-9a-f]{56}\); it is on regtest: try --network regtest\n$/,
      show(genesis),
    );
  });

  it("listen logs a peer, and stops on SIGINT with exit code 0", async () => {
    const peers: Peer[] = [];
    let connecting: Promise<void> | undefined;
    let interrupted = false;
    const r = await run("cli.ts", ["listen", "--network", "simnet", "--host", "127.0.0.1", "--port", "0"], {
      onStdout: (text, kill) => {
        const m = text.match(/^Listening on 127\.0\.0\.1:(\d+) \(simnet\)/m);
        if (m && connecting === undefined) {
          connecting = (async () => {
            const peer = Peer.outbound(`127.0.0.1:${m[1]}`, {
              network: SIMNET,
              userAgentName: "tester",
              userAgentVersion: "1.0.0",
              sentNonces: new LruSet<bigint>(50),
            });
            peers.push(peer);
            peer.associateConnection(await connect("127.0.0.1", Number(m[1])));
          })();
        }
        if (/version: \/soterwire:0\.6\.0\/tester:1\.0\.0\//.test(text) && /← verack/.test(text)) {
          for (const p of peers) p.disconnect();
        }
        // Any disconnect line: a wrong reason fails the assertions below
        // rather than leaving the program to the timeout.
        if (/ disconnected: /.test(text) && !interrupted) {
          interrupted = true;
          kill("SIGINT");
        }
      },
    });
    await connecting;
    for (const p of peers) await p.disconnected;
    assert.equal(r.code, 0, show(r));
    assert.match(r.stdout, /^\+\d+\.\d{3}s 127\.0\.0\.1:\d+ connected$/m);
    assert.match(r.stdout, /127\.0\.0\.1:\d+ version: \/soterwire:0\.6\.0\/tester:1\.0\.0\/, pver 70013/);
    assert.match(r.stdout, /127\.0\.0\.1:\d+ disconnected: remote-closed/);
    assert.match(r.stdout, /^Stopped$/m);
  });
});
