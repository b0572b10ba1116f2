// The pool's programs run as programs by the runtime running this file
// (Deno, Bun or Node with tsx): examples/pool.ts and `cli.ts crawl`.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import "./_guard.ts";
import { spawn } from "node:child_process";
import process from "node:process";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { runtime } from "./_runtime.ts";

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
