/**
 * The command line of `cli.ts`: parsing its arguments into a command, and
 * the usage text. Runtime-neutral: it is given the arguments.
 *
 * @module
 */
import { type ChainParams, networkByName, TESTNET1 } from "../chain/params.ts";
import { type CrawlCommand, DEFAULT_CRAWL_CONCURRENCY, DEFAULT_CRAWL_MAX } from "./crawl.ts";

/** The usage text printed by `--help`. */
export const USAGE: string = `soter-peer: talk to soter nodes (soterd) over the peer-to-peer protocol

Usage:
  cli.ts probe <host[:port]> [--network NAME] [--count N] [--timeout MS]
  cli.ts listen [--port N] [--host ADDRESS] [--network NAME]
  cli.ts crawl <host[:port]>... [--network NAME] [--concurrency N] [--timeout MS] [--max N] [--json]
  cli.ts sync <host[:port]>... [--network NAME] [--dir DIR] [--timeout MS] [--json]
  cli.ts --help

Commands:
  probe    Connect to a node, print its version (user agent, protocol version,
           services, last block, whether its genesis block matches), then every
           message exchanged, one line each, until Ctrl-C or --count messages
           have been received.
  listen   Accept peers and log them (their version, their messages, why they
           left) until Ctrl-C.
  crawl    From seed nodes, map the reachable network: ask each node for the
           addresses it knows (getaddr; getaddrcache only when getaddr gave
           none, as it crashes soterd 4.2.0 nodes that know an IPv6 address)
           and contact those too, a few at a time, with a live progress line;
           then print a table of each node's user agent, protocol version,
           services, height, ping latency and how many addresses it gave
           (--json: everything).
  sync     Download the blockDAG from the nodes given, all at once, verify
           each block, and store it in --dir, with a progress bar; then print
           the blocks and bytes stored, the tips reached and the time taken.
           Run it again to resume: what is stored is not downloaded again.

Options:
  --network NAME   simnet, regtest, testnet1 or mainnet (default: testnet1)
  --count N        probe: stop after receiving N messages after the version
  --timeout MS     probe, sync: time allowed to connect and to handshake (default: 10000);
                   crawl: time allowed per node, answers included (default: 10000)
  --concurrency N  crawl: nodes contacted at once (default: 16)
  --max N          crawl: the most nodes to contact (default: 1000)
  --port N         listen: the port (default: the network's, e.g. 18555 on simnet; 0 picks one)
  --host ADDRESS   listen: the address to bind (default: 0.0.0.0)
  --dir DIR        sync: where the block store lives (default: soter-<network>)
  --json           crawl: print the result as JSON; sync: the summary as one JSON object, no progress bar
  -h, --help       Show this help

Exit codes: 0 done, 1 runtime error (refused, timeout, wrong network, not a
soter node, disconnected), 2 usage error.

Examples:
  deno run -A cli.ts probe 127.0.0.1:18555 --network simnet --count 5
  bun cli.ts listen --network simnet --port 18555
  npx tsx cli.ts probe 134.209.59.43
  deno run -A cli.ts crawl 127.0.0.1:18555 --network simnet --concurrency 4 --json
  deno run -A cli.ts sync 127.0.0.1:18555 127.0.0.1:18565 --network simnet --dir blocks`;

/** The tool's commands. */
export type CommandName = "probe" | "listen" | "crawl" | "sync";

const COMMANDS: readonly string[] = ["probe", "listen", "crawl", "sync"] satisfies CommandName[];

function isCommand(name: string): name is CommandName {
  return COMMANDS.includes(name);
}

/**
 * The usage text of one command (`cli.ts sync --help`): the parts of
 * {@linkcode USAGE} that concern it.
 *
 * @param command The command.
 * @returns The text.
 */
export function usageOf(command: CommandName): string {
  const sections = USAGE.split("\n\n");
  const out: string[] = [];
  for (const section of sections) {
    const [title, ...lines] = section.split("\n");
    if (title === "Usage:" || title === "Examples:") {
      const mine = lines.filter((l) => l.includes(`cli.ts ${command} `));
      out.push([title, ...mine].join("\n"));
    } else if (title === "Commands:") {
      out.push([title, ...block(lines, (head) => head.startsWith(`  ${command} `))].join("\n"));
    } else if (title === "Options:") {
      // The options that apply to it (and --help).
      out.push(
        [
          title,
          ...block(lines, (head) => {
            const name = head.match(/--([a-z]+)/)?.[1] ?? "";
            return OPTIONS[name]?.includes(command) ?? true;
          }),
        ].join("\n"),
      );
    } else {
      out.push(section);
    }
  }
  return out.join("\n\n");
}

/** The entries of an indented list (an entry and its deeper continuation lines) that `keep` accepts. */
function block(lines: readonly string[], keep: (head: string) => boolean): string[] {
  const kept: string[] = [];
  for (let i = 0; i < lines.length;) {
    let j = i + 1;
    while (j < lines.length && /^ {5,}/.test(lines[j]!)) j++;
    if (keep(lines[i]!)) kept.push(...lines.slice(i, j));
    i = j;
  }
  return kept;
}

/** A mistake in the command line; `cli.ts` exits with code 2. */
export class UsageError extends Error {
  /**
   * Creates an error.
   *
   * @param message What is wrong, for a person.
   */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** A host and a port. */
export interface HostPort {
  /** An IP address or a host name (IPv6 without brackets). */
  host: string;
  /** The TCP port. */
  port: number;
}

/** `probe` and its options. */
export interface ProbeCommand {
  /** The command. */
  kind: "probe";
  /** The node to probe. */
  target: HostPort;
  /** The network. */
  network: ChainParams;
  /** Stop after this many messages received after the version; `undefined` for never. */
  count: number | undefined;
  /** Milliseconds allowed to connect, and then to handshake. */
  timeout: number;
}

/** `listen` and its options. */
export interface ListenCommand {
  /** The command. */
  kind: "listen";
  /** The address to bind. */
  host: string;
  /** The port to bind; 0 picks a free one. */
  port: number;
  /** The network. */
  network: ChainParams;
}

/** `sync` and its options. */
export interface SyncCommand {
  /** The command. */
  kind: "sync";
  /** The nodes to sync from. */
  targets: HostPort[];
  /** The network. */
  network: ChainParams;
  /** The block store's directory. */
  dir: string;
  /** Milliseconds allowed to connect, and then to handshake. */
  timeout: number;
  /** Print the summary as JSON, without a progress bar. */
  json: boolean;
}

/** What the command line asks for. */
export type CliCommand = ProbeCommand | ListenCommand | CrawlCommand | SyncCommand | {
  kind: "help";
  /** The command asked about, if one was named. */
  command?: CommandName;
};

/** Default of `--timeout`, in milliseconds. */
export const DEFAULT_TIMEOUT = 10_000;

/**
 * Parses `host`, `host:port`, `[v6]:port` or a bare IPv6 address.
 *
 * @param text The address.
 * @param defaultPort The port when none is given.
 * @returns The host and port.
 * @throws {UsageError} for a malformed address or port.
 */
export function parseHostPort(text: string, defaultPort: number): HostPort {
  let host = text;
  let port: string | undefined;
  if (text.startsWith("[")) {
    const end = text.indexOf("]");
    if (end < 0) throw new UsageError(`Invalid address: ${text}: missing ']'`);
    host = text.slice(1, end);
    const rest = text.slice(end + 1);
    if (rest !== "") {
      if (!rest.startsWith(":")) throw new UsageError(`Invalid address: ${text}`);
      port = rest.slice(1);
    }
  } else {
    const first = text.indexOf(":");
    // More than one colon: a bare IPv6 address.
    if (first >= 0 && first === text.lastIndexOf(":")) {
      host = text.slice(0, first);
      port = text.slice(first + 1);
    }
  }
  if (host === "") throw new UsageError(`Invalid address: ${JSON.stringify(text)}: no host`);
  return { host, port: port === undefined ? defaultPort : parsePort(port, `port in ${text}`) };
}

function parsePort(text: string, what: string): number {
  const n = /^\d{1,5}$/.test(text) ? Number(text) : NaN;
  if (!(n >= 0 && n <= 65535)) throw new UsageError(`Invalid ${what}: ${JSON.stringify(text)} is not 0 to 65535`);
  return n;
}

function parsePositive(text: string, what: string): number {
  const n = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!(n >= 1 && Number.isSafeInteger(n))) {
    throw new UsageError(`Invalid ${what}: ${JSON.stringify(text)} is not a positive integer`);
  }
  return n;
}

const OPTIONS: Record<string, readonly CommandName[]> = {
  network: ["probe", "listen", "crawl", "sync"],
  count: ["probe"],
  timeout: ["probe", "crawl", "sync"],
  port: ["listen"],
  host: ["listen"],
  concurrency: ["crawl"],
  max: ["crawl"],
  dir: ["sync"],
  json: ["crawl", "sync"],
};

/** Options that take no value. */
const FLAGS: ReadonlySet<string> = new Set(["json"]);

/**
 * Parses the arguments (without the runtime and the script).
 *
 * @param argv The arguments.
 * @returns The command.
 * @throws {UsageError} for anything malformed, unknown or missing.
 *
 * @example
 * ```ts ignore
 * parseArgs(["probe", "127.0.0.1:18555", "--network", "simnet", "--count", "5"]);
 * ```
 */
export function parseArgs(argv: readonly string[]): CliCommand {
  if (argv.some((a) => a === "-h" || a === "--help" || a === "help")) {
    const named = argv.find(isCommand);
    return named === undefined ? { kind: "help" } : { kind: "help", command: named };
  }
  const [command, ...rest] = argv;
  if (command === undefined) throw new UsageError("No command given: probe, listen, crawl or sync");
  if (!isCommand(command)) {
    throw new UsageError(`Unknown command: ${JSON.stringify(command)} (expected probe, listen, crawl or sync)`);
  }
  const options = new Map<string, string>();
  const positional: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i]!;
    if (!arg.startsWith("-")) {
      positional.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    if (!arg.startsWith("--") || !(name in OPTIONS)) throw new UsageError(`Unknown option: ${arg}`);
    if (!OPTIONS[name]!.includes(command)) throw new UsageError(`Option --${name} does not apply to ${command}`);
    let value: string | undefined;
    if (FLAGS.has(name)) {
      if (eq >= 0) throw new UsageError(`Option --${name} takes no value`);
      value = "";
    } else if (eq >= 0) value = arg.slice(eq + 1);
    else {
      value = rest[++i];
      if (value === undefined) throw new UsageError(`Option --${name} needs a value`);
    }
    if (options.has(name)) throw new UsageError(`Option --${name} given twice`);
    options.set(name, value);
  }
  const netName = options.get("network");
  let network: ChainParams = TESTNET1;
  if (netName !== undefined) {
    const found = networkByName(netName);
    if (found === undefined) {
      throw new UsageError(
        `Unknown network: ${JSON.stringify(netName)} (expected simnet, regtest, testnet1 or mainnet)`,
      );
    }
    network = found;
  }
  if (command === "probe") {
    if (positional.length === 0) throw new UsageError("probe needs an address: probe <host[:port]>");
    if (positional.length > 1) throw new UsageError(`Unexpected argument: ${positional[1]}`);
    const count = options.get("count");
    const timeout = options.get("timeout");
    return {
      kind: "probe",
      target: parseHostPort(positional[0]!, network.defaultPort),
      network,
      count: count === undefined ? undefined : parsePositive(count, "--count"),
      timeout: timeout === undefined ? DEFAULT_TIMEOUT : parsePositive(timeout, "--timeout"),
    };
  }
  if (command === "crawl") {
    if (positional.length === 0) throw new UsageError("crawl needs at least one address: crawl <host[:port]>...");
    const num = (name: string, fallback: number) => {
      const v = options.get(name);
      return v === undefined ? fallback : parsePositive(v, `--${name}`);
    };
    return {
      kind: "crawl",
      seeds: positional.map((p) => parseHostPort(p, network.defaultPort)),
      network,
      concurrency: num("concurrency", DEFAULT_CRAWL_CONCURRENCY),
      timeout: num("timeout", DEFAULT_TIMEOUT),
      max: num("max", DEFAULT_CRAWL_MAX),
      json: options.has("json"),
    };
  }
  if (command === "sync") {
    if (positional.length === 0) throw new UsageError("sync needs at least one address: sync <host[:port]>...");
    const timeout = options.get("timeout");
    return {
      kind: "sync",
      targets: positional.map((a) => parseHostPort(a, network.defaultPort)),
      network,
      dir: options.get("dir") ?? `soter-${network.name}`,
      timeout: timeout === undefined ? DEFAULT_TIMEOUT : parsePositive(timeout, "--timeout"),
      json: options.has("json"),
    };
  }
  if (positional.length > 0) throw new UsageError(`Unexpected argument: ${positional[0]}`);
  const port = options.get("port");
  return {
    kind: "listen",
    host: options.get("host") ?? "0.0.0.0",
    port: port === undefined ? network.defaultPort : parsePort(port, "--port"),
    network,
  };
}
