// `cli.ts sync` against mini nodes on loopback: the summary (text and
// JSON), the store written to disk, a second run that resumes with nothing
// to do, and nodes that cannot be reached.
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import "./_guard.ts";
import { Dag } from "../examples/lib/dag.ts";
import { parseArgs, UsageError } from "../src/cli/args.ts";
import type { CliIo } from "../src/cli/io.ts";
import { runCli } from "../src/cli/main.ts";
import { adapter, cleanupsAfterAll, connect, listen } from "./_runtime.ts";
import { serve } from "./_sync_helpers.ts";

const cleanups = cleanupsAfterAll();
const root = await fs.mkdtemp(path.join(os.tmpdir(), "soter-sync-cli-"));
after(() => fs.rm(root, { recursive: true, force: true }));

function io(): { io: CliIo; out: string[]; err: string[]; status: string[] } {
  const out: string[] = [], err: string[] = [], status: string[] = [];
  return {
    io: {
      connect,
      listen,
      out: (l) => out.push(l),
      err: (l) => err.push(l),
      interrupt: new AbortController().signal,
      fileStorage: adapter.fileStorage,
      status: (l) => status.push(l),
    },
    out,
    err,
    status,
  };
}

describe("cli sync", () => {
  it("parses its arguments", () => {
    const cmd = parseArgs(["sync", "127.0.0.1:1", "[::1]:2", "--network", "simnet", "--json", "--dir=d"]);
    assert.deepEqual(cmd, {
      kind: "sync",
      targets: [{ host: "127.0.0.1", port: 1 }, { host: "::1", port: 2 }],
      network: cmd.kind === "sync" ? cmd.network : undefined,
      dir: "d",
      timeout: 10_000,
      json: true,
    });
    assert.equal(cmd.kind === "sync" && cmd.network.name, "simnet");
    assert.equal(parseArgs(["sync", "h", "--network", "regtest"]).kind === "sync", true);
    assert.throws(() => parseArgs(["sync"]), UsageError);
    assert.throws(() => parseArgs(["sync", "h", "--json=1"]), /takes no value/);
    assert.throws(() => parseArgs(["probe", "h", "--dir", "x"]), /does not apply/);
  });

  it("syncs from two nodes into a directory, prints the summary, and resumes with nothing to do", async () => {
    const dag = Dag.generate({ height: 80, maxWidth: 3, seed: 51 });
    const a = await serve(dag);
    const b = await serve(dag);
    cleanups.push(() => a.close(), () => b.close());
    const dir = path.join(root, "blocks");
    const args = ["sync", `127.0.0.1:${a.port}`, `127.0.0.1:${b.port}`, "--network", "simnet", "--dir", dir];
    const first = io();
    assert.equal(await runCli(args, first.io), 0, first.err.join("\n"));
    const text = first.out.join("\n");
    assert.match(text, new RegExp(`Synced: ${dag.size - 1} blocks`));
    assert.match(text, new RegExp(`Stored: ${dag.size - 1} blocks, [0-9.]+ MB, up to height ${dag.height}`));
    for (const t of dag.tips()) assert.ok(text.includes(t.hex), `tip ${t.hex} listed`);
    assert.match(text, /height 80\/80 .* blk\/s .* MB\/s .* peers? +ETA 0s/);
    assert.ok((await fs.readdir(dir)).includes("blocks.dat"));
    assert.equal(first.status.at(-1), "", "the live line is cleared at the end");

    const second = io();
    assert.equal(await runCli([...args, "--json"], second.io), 0, second.err.join("\n"));
    assert.equal(second.out.length, 1, "one JSON line and nothing else");
    const summary = JSON.parse(second.out[0]!);
    assert.equal(summary.blocks, 0, "nothing downloaded again");
    assert.equal(summary.storedBlocks, dag.size - 1);
    assert.equal(summary.height, dag.height);
    assert.deepEqual(summary.tips.map((t: { hash: string }) => t.hash).sort(), dag.tips().map((t) => t.hex).sort());
    assert.equal(second.status.length, 0, "no progress bar with --json");
  });

  it("stops cleanly on Ctrl-C, says so, and the next run resumes", async () => {
    const dag = Dag.generate({ height: 300, maxWidth: 3, seed: 53 });
    const a = await serve(dag);
    cleanups.push(() => a.close());
    const dir = path.join(root, "interrupted");
    const args = ["sync", `127.0.0.1:${a.port}`, "--network", "simnet", "--dir", dir];
    const first = io();
    const ctrlC = new AbortController();
    // Interrupted at the first redraw of the progress line, i.e. after the first block.
    first.io = { ...first.io, interrupt: ctrlC.signal, status: (l) => l !== "" && ctrlC.abort() };
    assert.equal(await runCli(args, first.io), 0, first.err.join("\n"));
    assert.match(first.out.join("\n"), /Interrupted \(run again to resume\)/);
    const stored = Number(/Stored: (\d+) blocks/.exec(first.out.join("\n"))![1]);
    assert.ok(stored >= 1 && stored < dag.size - 1, `${stored} blocks stored before the interrupt`);
    const second = io();
    assert.equal(await runCli([...args, "--json"], second.io), 0, second.err.join("\n"));
    const summary = JSON.parse(second.out[0]!);
    assert.equal(summary.interrupted, false);
    assert.equal(summary.blocks, dag.size - 1 - stored, "only what was missing");
    assert.equal(summary.storedBlocks, dag.size - 1);
  });

  it("goes on without a node it cannot reach, and fails when it reaches none", async () => {
    const dag = Dag.generate({ height: 10, seed: 52 });
    const a = await serve(dag);
    cleanups.push(() => a.close());
    const closed = await listen({ hostname: "127.0.0.1", port: 0 });
    const deadPort = closed.addr.port;
    closed.close();
    const dir = path.join(root, "partial");
    const run = io();
    const args = [
      "sync",
      `127.0.0.1:${a.port}`,
      `127.0.0.1:${deadPort}`,
      "--network",
      "simnet",
      "--dir",
      dir,
      "--json",
    ];
    assert.equal(await runCli(args, run.io), 0);
    assert.match(run.err.join("\n"), new RegExp(`Cannot sync from 127.0.0.1:${deadPort}: .*refused`, "i"));
    assert.equal(JSON.parse(run.out[0]!).storedBlocks, dag.size - 1);
    const none = io();
    assert.equal(await runCli(["sync", `127.0.0.1:${deadPort}`, "--network", "simnet", "--dir", dir], none.io), 1);
    assert.match(none.err.join("\n"), /no node to sync from/);
  });

  it("names the network to try when a node is on another one", async () => {
    const dag = Dag.generate({ height: 3, seed: 53 });
    const node = await serve(dag); // a simnet node
    cleanups.push(() => node.close());
    const run = io();
    const args = ["sync", `127.0.0.1:${node.port}`, "--network", "regtest", "--dir", path.join(root, "wrong")];
    assert.equal(await runCli(args, run.io), 1);
    assert.match(run.err.join("\n"), new RegExp(`Cannot sync from 127.0.0.1:${node.port}: .*try --network`));
  });
});
