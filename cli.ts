/**
 * The soter-peer command-line tool: probe a soter node, or listen for
 * peers and log them.
 *
 * ```sh
 * deno run -A jsr:@soter/peer/cli probe 127.0.0.1:18555 --network simnet
 * deno run -A cli.ts probe <host[:port]> [--network NAME] [--count N] [--timeout MS]
 * bun cli.ts listen [--port N] [--host ADDRESS] [--network NAME]
 * deno run -A cli.ts sync <host[:port]>... [--network NAME] [--dir DIR] [--json]
 * deno run -A cli.ts crawl <host[:port]>... [--network NAME] [--concurrency N] [--timeout MS] [--max N] [--json]
 * npx tsx cli.ts --help
 * ```
 *
 * `probe` prints the node's version (user agent, protocol version, named
 * services, last block, whether its genesis block matches the network),
 * then every message exchanged, one line each, until Ctrl-C or `--count`
 * messages. `listen` accepts peers and logs their versions, messages and
 * departures until Ctrl-C. `sync` downloads the blockDAG from several nodes
 * at once into a block store, with a progress bar, and resumes where it
 * stopped. Failures are one line on standard error: a
 * refused connection, a timeout, a wrong network (bad magic, another
 * genesis block), a peer that is not a soter node.
 *
 * Exit codes: 0 done, 1 runtime error, 2 usage error.
 *
 * This file holds everything the tool needs from its runtime (arguments,
 * output, Ctrl-C, the exit code, the TCP adapter); the tool itself is
 * runtime-neutral.
 *
 * @module
 */
import { realpathSync } from "node:fs";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { runCli } from "./src/cli/main.ts";
import type * as DenoAdapter from "./src/adapters/deno.ts";

/** Whether this module is the program being run, not imported. */
function isMain(): boolean {
  const main = (import.meta as { main?: unknown }).main;
  if (typeof main === "boolean") return main;
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    // Node gives the module's real path, and argv[1] as typed.
    return fileURLToPath(import.meta.url) === realpathSync(script);
  } catch {
    return false;
  }
}

async function main(): Promise<number> {
  const runtime = "Deno" in globalThis ? "deno" : "Bun" in globalThis ? "bun" : "node";
  // Literal specifiers, so that bundlers and JSR see every adapter.
  const adapter: typeof DenoAdapter = runtime === "deno"
    ? await import("./src/adapters/deno.ts")
    : runtime === "bun"
    ? await import("./src/adapters/bun.ts")
    : await import("./src/adapters/node.ts");
  const interrupt = new AbortController();
  let interrupted = 0;
  const onSigint = () => {
    // The first Ctrl-C stops cleanly, a second one at once.
    if (++interrupted > 1) process.exit(130);
    interrupt.abort(new Error("Interrupted"));
  };
  process.on("SIGINT", onSigint);
  try {
    return await runCli(process.argv.slice(2), {
      connect: adapter.connect,
      listen: adapter.listen,
      out: (line) => console.log(line),
      err: (line) => console.error(line),
      interrupt: interrupt.signal,
      fileStorage: adapter.fileStorage,
      ...(process.stderr.isTTY ? { status: (line: string) => process.stderr.write(`\r\x1b[2K${line}`) } : {}),
    });
  } catch (err) {
    console.error(`Error: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  } finally {
    process.off("SIGINT", onSigint);
  }
}

if (isMain()) process.exit(await main());
