/**
 * The simulator's search mode from a terminal: random scenarios of hosts
 * running peers under random faults (partitions, crashes, resets,
 * corruption, refused and dropped connects, stalled readers), with the
 * invariants checked after every event. A failure is shrunk to the
 * smallest scenario that still fails and printed with its seed and trace.
 *
 * ```sh
 * deno task sim [--seed N] [--minutes M] [--runs N] [--virtual M] [--json]
 * bun sim.ts --seed 42 --runs 1 --trace    # replay one scenario, print its trace
 * npx tsx sim.ts --help
 * ```
 *
 * `--minutes M` searches for M minutes of wall time (default 1); `--runs N`
 * stops after N scenarios; `--seed N` is the first seed (default: from the
 * clock); `--virtual M` fixes each scenario's virtual minutes (default:
 * drawn, 5 to 30). Exit codes: 0 nothing found, 1 a failure found, 2 usage
 * error.
 *
 * This file holds what the search needs from its runtime (arguments,
 * output, the exit code); the search itself is runtime-neutral.
 *
 * @module
 */
import process from "node:process";
import { randomScenario, runScenario, type Scenario, search, type SearchReport } from "./src/sim/search.ts";

const USAGE = `Usage: sim [--seed N] [--minutes M] [--runs N] [--virtual M] [--trace] [--json] [--scenario JSON]
  --seed N      first seed (default: from the clock)
  --minutes M   minutes of wall time to search (default 1)
  --runs N      stop after N scenarios
  --virtual M   virtual minutes per scenario (default: drawn, 5 to 30)
  --trace       with --runs 1: print the scenario's trace
  --json        one JSON report on standard output
  --scenario S  replay one scenario (as printed for a failure) and print its trace`;

/** Parsed command-line options. */
export interface SimArgs {
  /** First seed. */
  seed: number;
  /** Wall minutes. */
  minutes: number;
  /** Scenario limit. */
  runs: number | undefined;
  /** Virtual minutes per scenario. */
  virtual: number | undefined;
  /** Print the trace. */
  trace: boolean;
  /** JSON output. */
  json: boolean;
  /** A scenario to replay, as printed for a failure. */
  scenario: Scenario | undefined;
}

/**
 * Parses the arguments.
 *
 * @param argv The arguments, without the runtime and script.
 * @returns The options, or a usage error text.
 */
export function parseSimArgs(argv: readonly string[]): SimArgs | string {
  const out: SimArgs = {
    seed: Date.now() % 1_000_000_000,
    minutes: 1,
    runs: undefined,
    virtual: undefined,
    trace: false,
    json: false,
    scenario: undefined,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--json") out.json = true;
    else if (a === "--trace") out.trace = true;
    else if (a === "--help" || a === "-h") return USAGE;
    else if (a === "--scenario") {
      try {
        out.scenario = JSON.parse(argv[++i] ?? "") as Scenario;
      } catch (err) {
        return `Invalid --scenario: ${(err as Error).message}\n${USAGE}`;
      }
    } else if (["--seed", "--minutes", "--runs", "--virtual"].includes(a)) {
      const v = Number(argv[++i]);
      if (!Number.isFinite(v) || v < 0) return `Invalid value for ${a}: ${argv[i]}\n${USAGE}`;
      if (a === "--seed") out.seed = Math.floor(v);
      else if (a === "--minutes") out.minutes = v;
      else if (a === "--runs") out.runs = Math.floor(v);
      else out.virtual = v;
    } else return `Unknown argument: ${a}\n${USAGE}`;
  }
  return out;
}

function counts(record: Record<string, number>): string {
  return Object.entries(record).sort().map(([k, v]) => `${k} ${v}`).join(", ") || "none";
}

/**
 * Runs the search mode.
 *
 * @param argv The arguments.
 * @param out Writes a line to standard output.
 * @param progress Rewrites the progress line (standard error).
 * @returns The exit code.
 */
export async function runSim(
  argv: readonly string[],
  out: (line: string) => void,
  progress: (line: string) => void,
): Promise<number> {
  const args = parseSimArgs(argv);
  if (typeof args === "string") {
    out(args);
    return args === USAGE ? 0 : 2;
  }
  if (args.scenario !== undefined || (args.trace && args.runs === 1)) {
    const s = args.scenario ?? randomScenario(args.seed, args.virtual);
    const r = await runScenario(s, true);
    for (const line of r.trace) out(line);
    out(`seed ${s.seed}: ${r.violations.length === 0 ? "passed" : r.violations.join("; ")} (trace ${r.hash})`);
    return r.violations.length === 0 ? 0 : 1;
  }
  const report: SearchReport = await search({
    seed: args.seed,
    runs: args.runs,
    wallMs: args.runs === undefined ? args.minutes * 60_000 : undefined,
    minutes: args.virtual,
    now: () => performance.now(),
    onProgress: (r) => {
      if (args.json) return;
      progress(
        `searched ${r.scenarios} scenarios (seeds ${args.seed} to ${args.seed + r.scenarios - 1}), ${
          (r.events / 1e6).toFixed(2)
        } M events, ${(r.virtualMs / 3_600_000).toFixed(1)} virtual hours, ${(r.wallMs / 1000).toFixed(0)} s`,
      );
    },
  });
  progress("");
  if (args.json) {
    out(JSON.stringify(report));
    return report.failure === undefined ? 0 : 1;
  }
  const secs = report.wallMs / 1000;
  out(`Searched ${report.scenarios} scenarios from seed ${args.seed} in ${secs.toFixed(1)} s of wall time:`);
  out(
    `  ${(report.events / 1e6).toFixed(2)} M events (${(report.events / secs / 1000).toFixed(1)} k/s), ${
      (report.virtualMs / 3_600_000).toFixed(1)
    } virtual hours (${(report.virtualMs / 1000 / secs).toFixed(0)}x real time)`,
  );
  out(`  faults: ${counts(report.faults)}`);
  out(`  disconnects: ${counts(report.disconnects)}`);
  const f = report.failure;
  if (f === undefined) {
    out("  every invariant held");
    return 0;
  }
  out(`FAILURE at seed ${f.original.seed}: ${f.violations.join("; ")}`);
  out(`  shrunk from ${f.original.hosts} hosts, ${f.original.faults.length} faults, ${f.original.minutes} minutes to:`);
  out(`  ${JSON.stringify(f.shrunk)}`);
  out(`  its trace (${f.trace.length} lines):`);
  for (const line of f.trace) out(`    ${line}`);
  out(`  replay: deno task sim --scenario '${JSON.stringify(f.shrunk)}'`);
  return 1;
}

if ((import.meta as { main?: boolean }).main ?? process.argv[1]?.endsWith("sim.ts")) {
  const code = await runSim(
    process.argv.slice(2),
    (line) => console.log(line),
    (line) => process.stderr.isTTY ? process.stderr.write(`\r\x1b[K${line}`) : line !== "" && console.error(line),
  );
  process.exitCode = code;
}
