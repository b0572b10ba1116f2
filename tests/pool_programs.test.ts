// The pool's programs run as programs by the runtime running this file
// (Deno, Bun or Node with tsx): examples/pool.ts and `cli.ts crawl`.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import "./_guard.ts";
import { spawn } from "node:child_process";
import process from "node:process";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { netAddress } from "../src/wire/ip.ts";
import { DagNode } from "../examples/lib/node.ts";
import { SHARED_DAG } from "./_pool.ts";
import { cleanupsAfterAll, listen, runtime } from "./_runtime.ts";

const cleanups = cleanupsAfterAll();

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const PREFIX: readonly string[] = runtime === "deno" ? ["run", "-A"] : runtime === "bun" ? [] : ["--import", "tsx"];

/** What a program did. */
export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a TypeScript program of the repository with this runtime (killed after `timeout` ms). */
export function runProgram(script: string, args: readonly string[] = [], timeout = 40_000): Promise<Run> {
  return new Promise<Run>((resolve, reject) => {
    const child = spawn(process.execPath, [...PREFIX, script, ...args], {
      cwd: root,
      env: { ...process.env, NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "", stderr = "";
    const timer = setTimeout(() => {
      if (child.pid !== undefined && child.exitCode === null) process.kill(child.pid, "SIGKILL");
    }, timeout);
    child.stdout!.setEncoding("utf8");
    child.stderr!.setEncoding("utf8");
    child.stdout!.on("data", (s: string) => stdout += s);
    child.stderr!.on("data", (s: string) => stderr += s);
    child.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

function show(r: Run): string {
  return `exit ${r.code}\n--- stdout\n${r.stdout}--- stderr\n${r.stderr}`;
}

describe("examples/pool.ts", () => {
  it("keeps 8 outbound peers through 3 rounds of nodes killed and restarted, then stops by itself", async () => {
    const r = await runProgram("examples/pool.ts", ["3"]);
    assert.equal(r.code, 0, show(r));
    assert.match(r.stdout, /^16 nodes listening on 127\.0\.0\.1/m, show(r));
    assert.match(r.stdout, /^8 outbound peers in \d+ ms$/m, show(r));
    for (let i = 1; i <= 3; i++) {
      assert.match(
        r.stdout,
        new RegExp(`^round ${i}: killed nodes on ports [\\d, ]+; 8 outbound peers after \\d+ ms$`, "m"),
      );
    }
    assert.match(r.stdout, /^Summary: 3 of 3 rounds back to 8 outbound peers; (\d+) peers joined, \1 left$/m, show(r));
    assert.equal(r.stderr, "", show(r));
  });
});

describe("cli.ts crawl", () => {
  it("maps a chain of 6 loopback nodes from one seed, with a dead address among them", async () => {
    const listeners = await Promise.all(Array.from({ length: 6 }, () => listen({ hostname: "127.0.0.1", port: 0 })));
    const dead = await listen({ hostname: "127.0.0.1", port: 0 });
    const deadPort = dead.addr.port;
    await dead[Symbol.asyncDispose]();
    const now = Math.floor(Date.now() / 1000);
    const at = (port: number) => netAddress({ ip: "127.0.0.1", port, timestamp: now, services: 1n });
    listeners.forEach((l, i) => {
      // Each node knows the next one (and the first knows a dead address).
      const known = i + 1 < listeners.length ? [at(listeners[i + 1]!.addr.port)] : [];
      if (i === 0) known.push(at(deadPort));
      const node = new DagNode({ dag: SHARED_DAG, known });
      void node.serve(l);
      cleanups.push(() => node.close(), () => l.close());
    });
    const seed = `127.0.0.1:${listeners[0]!.addr.port}`;
    const r = await runProgram("cli.ts", ["crawl", seed, "--network", "simnet", "--concurrency", "3", "--json"]);
    assert.equal(r.code, 0, show(r));
    const report = JSON.parse(r.stdout) as {
      nodes: { address: string; answered: boolean; error?: string; userAgent?: string; addresses: string[] }[];
      tried: number;
      answered: number;
    };
    assert.equal(report.tried, 7, show(r));
    assert.equal(report.answered, 6, show(r));
    const failed = report.nodes.find((n) => !n.answered);
    assert.equal(failed?.address, `127.0.0.1:${deadPort}`);
    assert.match(failed?.error ?? "", /refused/i);
    const first = report.nodes.find((n) => n.address === seed)!;
    assert.match(first.userAgent ?? "", /soter-dag-node/);
    assert.ok(first.addresses.includes(`127.0.0.1:${listeners[1]!.addr.port}`));

    const table = await runProgram("cli.ts", ["crawl", seed, "--network", "simnet", "--max", "2"]);
    assert.equal(table.code, 0, show(table));
    const lines = table.stdout.trimEnd().split("\n");
    assert.match(lines[0]!, /^address\s+user agent\s+pver\s+services\s+height\s+latency\s+addresses$/);
    assert.equal(lines.length, 4, show(table));
    assert.match(lines[3]!, /^2 nodes tried, 2 answered, 0 failed, \d+ addresses left in the queue$/);
  });
});

describe("crawl arguments", () => {
  it("parses seeds, options and the --json flag, and refuses what is malformed", async () => {
    const { parseArgs, UsageError } = await import("../src/cli/args.ts");
    const cmd = parseArgs(["crawl", "127.0.0.1", "[::1]:9", "--network", "simnet", "--json", "--max=5"]);
    assert.equal(cmd.kind, "crawl");
    if (cmd.kind !== "crawl") return;
    assert.deepEqual(cmd.seeds, [{ host: "127.0.0.1", port: 18555 }, { host: "::1", port: 9 }]);
    assert.equal(cmd.json, true);
    assert.equal(cmd.max, 5);
    assert.equal(cmd.concurrency, 16);
    assert.throws(() => parseArgs(["crawl"]), UsageError);
    assert.throws(() => parseArgs(["crawl", "1.2.3.4", "--json=yes"]), /takes no value/);
    assert.throws(() => parseArgs(["crawl", "1.2.3.4", "--concurrency", "0"]), /positive integer/);
    assert.throws(() => parseArgs(["probe", "1.2.3.4", "--json"]), /does not apply to probe/);
  });
});
