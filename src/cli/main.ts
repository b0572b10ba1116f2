/**
 * The command-line tool without its runtime: `runCli` parses the
 * arguments and runs `probe`, `listen`, `crawl` or `sync` with the sockets, output and
 * interrupt signal that `cli.ts` gives it. Runtime-neutral.
 *
 * @module
 */
import { parseArgs, USAGE, UsageError, usageOf } from "./args.ts";
import { crawlCommand } from "./crawl.ts";
import type { CliIo } from "./io.ts";
import { listenCommand } from "./listen.ts";
import { probe } from "./probe.ts";
import { syncCommand } from "./sync.ts";

export type { CliIo } from "./io.ts";

/**
 * Runs the tool.
 *
 * @param argv The arguments, without the runtime and the script.
 * @param io Sockets, output and the interrupt signal.
 * @returns The exit code: 0 done, 1 runtime error, 2 usage error.
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  let cmd;
  try {
    cmd = parseArgs(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    io.err(`Error: ${err.message} (see --help)`);
    return 2;
  }
  switch (cmd.kind) {
    case "help":
      io.out(cmd.command === undefined ? USAGE : usageOf(cmd.command));
      return 0;
    case "probe":
      return await probe(cmd, io);
    case "listen":
      return await listenCommand(cmd, io);
    case "sync":
      return await syncCommand(cmd, io);
    case "crawl":
      return await crawlCommand(cmd, io);
  }
}
