/**
 * `cli.ts crawl`: map the reachable soter network from seed addresses,
 * with bounded concurrency. Runtime-neutral.
 *
 * @module
 */
import type { ChainParams } from "../chain/params.ts";
import type { Clock } from "../peer/clock.ts";
import { LruSet } from "../peer/lru.ts";
import { Peer } from "../peer/peer.ts";
import { randomU64 } from "../peer/random.ts";
import { cryptoRandom } from "../peer/random.ts";
import type { Message } from "../wire/message.ts";
import type { NetAddress } from "../wire/netaddress.ts";
import type { HostPort } from "./args.ts";
import { CLI_NAME, CLI_VERSION, type CliIo, fineClock, formatHostPort } from "./io.ts";
import { formatNetAddress, formatServices } from "./summary.ts";

/** `crawl` and its options. */
export interface CrawlCommand {
  /** The command. */
  kind: "crawl";
  /** Where to start. */
  seeds: HostPort[];
  /** The network. */
  network: ChainParams;
  /** How many nodes are contacted at once. */
  concurrency: number;
  /** Milliseconds allowed per node: to connect, handshake and answer. */
  timeout: number;
  /** The most nodes to contact. */
  max: number;
  /** Print JSON instead of a table. */
  json: boolean;
}

/** Default of `--concurrency`. */
export const DEFAULT_CRAWL_CONCURRENCY = 16;
/** Default of `--max`. */
export const DEFAULT_CRAWL_MAX = 1000;

/** What the crawl learned about one node. */
export interface CrawledNode {
  /** `host:port`. */
  address: string;
  /** Whether it completed the handshake and answered. */
  answered: boolean;
  /** Why not, when it did not. */
  error?: string;
  /** Its user agent. */
  userAgent?: string;
  /** Its protocol version. */
  protocolVersion?: number;
  /** Its services, named. */
  services?: string;
  /** The height it announced in its version. */
  height?: number;
  /** Round trip of a ping, in milliseconds. */
  latencyMs?: number;
  /** The addresses it gave (`addr`, and the outbound and known lists of `addrcache`). */
  addresses: string[];
}

/** What the crawl did in all. */
export interface CrawlReport {
  /** Every node contacted, in the order they finished. */
  nodes: CrawledNode[];
  /** Nodes contacted. */
  tried: number;
  /** Nodes that answered. */
  answered: number;
  /** Addresses learned and not contacted (over `--max`, or interrupted). */
  queued: number;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Contacts one node: handshake, a ping for the latency, then its addresses. */
async function visit(address: HostPort, cmd: CrawlCommand, io: CliIo, clock: Clock): Promise<CrawledNode> {
  const node: CrawledNode = { address: formatHostPort(address), answered: false, addresses: [] };
  const deadline = AbortSignal.any([AbortSignal.timeout(cmd.timeout), io.interrupt]);
  const given = new Set<string>();
  const pongs = new Map<bigint, (at: number) => void>();
  const learn = (list: readonly NetAddress[]) => {
    for (const na of list) if (na.port !== 0) given.add(formatNetAddress(na));
  };
  let peer: Peer | undefined;
  try {
    const conn = await io.connect(address.host, address.port, { signal: deadline });
    peer = Peer.outbound(node.address, {
      network: cmd.network,
      userAgentName: CLI_NAME,
      userAgentVersion: CLI_VERSION,
      clock,
      sentNonces: new LruSet<bigint>(4),
      handshakeTimeout: cmd.timeout,
      signal: deadline,
      listeners: {
        onAddr: (_p, msg) => learn(msg.addrList),
        onAddrCache: (_p, msg) => learn([...msg.outbound, ...msg.known]),
        onPong: (_p, msg) => pongs.get(msg.nonce)?.(clock.now()),
      },
    });
    peer.associateConnection(conn);
    if (!(await peer.ready)) throw (await peer.disconnected);
    node.userAgent = peer.userAgent;
    node.protocolVersion = peer.protocolVersion;
    node.services = formatServices(peer.services);
    node.height = peer.startingHeight;
    const ping = (p: Peer): Promise<number | undefined> => {
      const nonce = randomU64(cryptoRandom);
      const sent = clock.now();
      return new Promise((resolve) => {
        pongs.set(nonce, (at) => resolve(at - sent));
        void p.disconnected.then(() => resolve(undefined));
        void p.queueMessage({ command: "ping", nonce } satisfies Message);
      });
    };
    const rtt = await ping(peer);
    if (rtt !== undefined) node.latencyMs = Math.round(rtt * 100) / 100;
    // The remote answers in order: the pong of a ping sent after an
    // address request comes after its answer.
    void peer.queueMessage({ command: "getaddr" });
    if ((await ping(peer)) === undefined) throw (await peer.disconnected);
    // soterd 4.2.0 crashes answering getaddrcache once it knows one IPv6
    // address or peer, so it is asked only of a node that gave nothing for
    // getaddr (a simnet soterd ignores getaddr and keeps no address book).
    if (given.size === 0) {
      void peer.queueMessage({ command: "getaddrcache" });
      if ((await ping(peer)) === undefined) throw (await peer.disconnected);
    }
    node.answered = true;
  } catch (err) {
    node.error = deadline.aborted && !io.interrupt.aborted ? `no answer within ${cmd.timeout} ms` : errorText(err);
  } finally {
    peer?.disconnect();
  }
  node.addresses = [...given];
  return node;
}

function parseAddress(text: string): HostPort | undefined {
  const v6 = text.startsWith("[");
  const colon = text.lastIndexOf(":");
  if (colon < 0) return undefined;
  const host = v6 ? text.slice(1, text.indexOf("]")) : text.slice(0, colon);
  const port = Number(text.slice(colon + 1));
  if (host === "" || host === "0.0.0.0" || host === "::" || !(port > 0 && port < 65536)) return undefined;
  return { host, port };
}

/**
 * Crawls from the seeds: contacts up to `concurrency` nodes at once, and
 * each address a node gives that was not seen yet, up to `max` nodes.
 *
 * @param cmd The seeds and options.
 * @param io Sockets, output and the interrupt signal.
 * @param clock The time source for latencies (default a sub-millisecond clock).
 * @returns What was found.
 */
export async function crawlNetwork(cmd: CrawlCommand, io: CliIo, clock: Clock = fineClock): Promise<CrawlReport> {
  const seen = new Set<string>();
  const queue: HostPort[] = [];
  const push = (a: HostPort) => {
    const k = formatHostPort(a);
    if (seen.has(k)) return;
    seen.add(k);
    queue.push(a);
  };
  for (const s of cmd.seeds) push(s);
  const report: CrawlReport = { nodes: [], tried: 0, answered: 0, queued: 0 };
  let active = 0;
  const progress = () =>
    io.status?.(
      `crawl: ${report.tried} tried, ${report.answered} answered, ${active} in progress, ${queue.length} queued`,
    );
  // Workers with nothing to do wait for one that is still busy to find addresses.
  const idle: Array<() => void> = [];
  const wakeAll = () => {
    for (const w of idle.splice(0)) w();
  };
  const worker = async () => {
    for (;;) {
      while (queue.length === 0 && active > 0 && !io.interrupt.aborted) {
        await new Promise<void>((r) => idle.push(r));
      }
      const next = queue.shift();
      if (next === undefined || report.tried >= cmd.max || io.interrupt.aborted) break;
      report.tried++;
      active++;
      progress();
      const node = await visit(next, cmd, io, clock);
      active--;
      report.nodes.push(node);
      if (node.answered) report.answered++;
      for (const a of node.addresses) {
        const hp = parseAddress(a);
        if (hp !== undefined) push(hp);
      }
      progress();
      wakeAll();
    }
    wakeAll();
  };
  const onInterrupt = () => wakeAll();
  io.interrupt.addEventListener("abort", onInterrupt, { once: true });
  await Promise.all(Array.from({ length: cmd.concurrency }, worker));
  io.interrupt.removeEventListener("abort", onInterrupt);
  report.queued = queue.length;
  io.status?.("");
  return report;
}

/**
 * Lays the report out as a table, one row per node, and a summary line.
 *
 * @param r The report.
 * @returns The lines.
 */
export function crawlTable(r: CrawlReport): string[] {
  const head = ["address", "user agent", "pver", "services", "height", "latency", "addresses"];
  const rows = r.nodes.map((n) =>
    n.answered
      ? [
        n.address,
        n.userAgent ?? "",
        String(n.protocolVersion ?? ""),
        n.services ?? "",
        String(n.height ?? ""),
        n.latencyMs === undefined ? "-" : `${n.latencyMs} ms`,
        String(n.addresses.length),
      ]
      : [n.address, `(${n.error ?? "no answer"})`, "", "", "", "", String(n.addresses.length)]
  );
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join("  ").trimEnd();
  return [
    line(head),
    ...rows.map(line),
    `${r.tried} nodes tried, ${r.answered} answered, ${
      r.tried - r.answered
    } failed, ${r.queued} addresses left in the queue`,
  ];
}

/**
 * Runs `crawl`.
 *
 * @param cmd The command.
 * @param io Sockets, output and the interrupt signal.
 * @returns The exit code: 0 when some node answered, 1 otherwise.
 */
export async function crawlCommand(cmd: CrawlCommand, io: CliIo): Promise<number> {
  const report = await crawlNetwork(cmd, io);
  if (cmd.json) io.out(JSON.stringify(report, null, 2));
  else for (const l of crawlTable(report)) io.out(l);
  return report.answered > 0 ? 0 : 1;
}
