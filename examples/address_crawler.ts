/**
 * An address crawler: it connects to a node, asks it for addresses with
 * `getaddr` (answered with `addr`) and `getaddrcache` (answered with
 * `addrcache`: the node's inbound peers, outbound peers and other known
 * addresses), then visits every address it learnt, breadth first, and
 * prints what it found.
 *
 * Addresses of a node's inbound peers are listed but not dialled: their
 * ports are usually the peers' ephemeral ones. Without an address it starts
 * three small soter nodes on loopback that know each other (and one
 * address where nothing listens) and crawls from the first.
 *
 * ```sh
 * deno run -A examples/address_crawler.ts [host:port [network]]   # network: simnet (default), regtest, testnet1, mainnet
 * bun examples/address_crawler.ts
 * npx tsx examples/address_crawler.ts
 * ```
 *
 * @module
 */
import {
  type ChainParams,
  ConnectionError,
  type Listener,
  LruSet,
  type NetAddress,
  netAddress,
  networkByName,
  Peer,
  ServiceFlag,
  SIMNET,
} from "../mod.ts";
import { formatNetAddress, formatServices } from "../src/cli/summary.ts";
import { type HostPort, parseHostPort } from "../src/cli/args.ts";
import { fetchAddresses, Inbox } from "./lib/client.ts";
import { Dag } from "./lib/dag.ts";
import { table } from "./lib/log.ts";
import { DagNode } from "./lib/node.ts";
import { args, connect, isMain, listen, setExitCode } from "./lib/runtime.ts";

/** What the crawler learnt about one address. */
export interface CrawlResult {
  /** `host:port`. */
  address: string;
  /** `ok`, or why it could not be visited. */
  status: string;
  /** The node's user agent, when visited. */
  userAgent: string;
  /** Its services, when visited. */
  services: bigint;
  /** Its height, when visited. */
  height: number;
  /** How many addresses it gave. */
  learnt: number;
}

/** Options of {@linkcode crawl}. */
export interface CrawlOptions {
  /** The network; default simnet. */
  network?: ChainParams;
  /** The most nodes to visit; default 50. */
  limit?: number;
  /** Milliseconds to connect, and then to get answers; default 3000. */
  timeout?: number;
  /** Progress, one line per node. */
  log?: (line: string) => void;
}

function key(h: HostPort): string {
  return h.host.includes(":") ? `[${h.host}]:${h.port}` : `${h.host}:${h.port}`;
}

function hostPortOf(na: NetAddress): HostPort {
  const text = formatNetAddress(na);
  return parseHostPort(text, na.port);
}

/** Visits one node: handshake, addresses, goodbye. */
async function visit(target: HostPort, network: ChainParams, timeout: number): Promise<
  { result: CrawlResult; found: NetAddress[]; inbound: NetAddress[] }
> {
  const address = key(target);
  const result: CrawlResult = { address, status: "", userAgent: "", services: 0n, height: 0, learnt: 0 };
  const peer = Peer.outbound(address, {
    network,
    userAgentName: "soter-crawler-example",
    userAgentVersion: "0.1.0",
    sentNonces: new LruSet<bigint>(50),
    handshakeTimeout: timeout,
  });
  const inbox = new Inbox(peer);
  try {
    peer.associateConnection(await connect(target.host, target.port, { timeout }));
    if (!(await peer.ready)) {
      result.status = (await peer.disconnected).reason;
      return { result, found: [], inbound: [] };
    }
    result.userAgent = peer.userAgent;
    result.services = peer.services;
    result.height = peer.startingHeight;
    const got = await fetchAddresses(peer, inbox, timeout);
    const found = [...got.addr, ...got.outbound, ...got.known];
    result.learnt = found.length + got.inbound.length;
    result.status = "ok";
    return { result, found, inbound: got.inbound };
  } catch (err) {
    result.status = err instanceof ConnectionError ? err.code : (err as Error).message;
    return { result, found: [], inbound: [] };
  } finally {
    peer.disconnect();
    await peer.disconnected;
  }
}

/**
 * Crawls from `start`, breadth first.
 *
 * @param start The first node.
 * @param options Network, limit, timeout, log.
 * @returns One result per address visited, and the inbound addresses seen.
 */
export async function crawl(
  start: HostPort,
  options: CrawlOptions = {},
): Promise<{ visited: CrawlResult[]; inboundSeen: string[] }> {
  const network = options.network ?? SIMNET;
  const limit = options.limit ?? 50;
  const timeout = options.timeout ?? 3000;
  const log = options.log ?? (() => {});
  const queue: HostPort[] = [start];
  const queued = new Set([key(start)]);
  const visited: CrawlResult[] = [];
  const inboundSeen = new Set<string>();
  while (queue.length > 0 && visited.length < limit) {
    const target = queue.shift()!;
    const { result, found, inbound } = await visit(target, network, timeout);
    visited.push(result);
    const fresh: string[] = [];
    for (const na of found) {
      const hp = hostPortOf(na);
      const k = key(hp);
      if (queued.has(k)) continue;
      queued.add(k);
      queue.push(hp);
      fresh.push(k);
    }
    for (const na of inbound) inboundSeen.add(formatNetAddress(na));
    log(
      result.status === "ok"
        ? `${result.address}: ${result.userAgent} height ${result.height}; ${result.learnt} addresses, new: ${
          fresh.length === 0 ? "none" : fresh.join(", ")
        }`
        : `${result.address}: ${result.status}`,
    );
  }
  return { visited, inboundSeen: [...inboundSeen] };
}

/** Three nodes on loopback that know each other, plus an address where nothing listens. */
async function localNetwork(network: ChainParams): Promise<{ start: HostPort; close: () => Promise<void> }> {
  const nodes: DagNode[] = [];
  const listeners: Listener[] = [];
  const serving: Promise<void>[] = [];
  for (let i = 0; i < 3; i++) {
    const node = new DagNode({
      dag: Dag.generate({ network, height: 10 + 5 * i, seed: 100 + i }),
      userAgentName: "soter-dag-node",
      userAgentVersion: `0.${i + 1}.0`,
    });
    const listener = await listen({ hostname: "127.0.0.1", port: 0 });
    nodes.push(node);
    listeners.push(listener);
    serving.push(node.serve(listener));
  }
  // A port where nothing listens any more.
  const gone = await listen({ hostname: "127.0.0.1", port: 0 });
  const deadPort = gone.addr.port;
  await gone[Symbol.asyncDispose]();
  const na = (port: number) =>
    netAddress({ ip: "127.0.0.1", port, services: ServiceFlag.NODE_NETWORK, timestamp: Math.floor(Date.now() / 1000) });
  const [a, b, c] = nodes as [DagNode, DagNode, DagNode];
  const [la, lb, lc] = listeners as [Listener, Listener, Listener];
  a.addKnown(na(lb.addr.port));
  b.addKnown(na(lc.addr.port));
  b.addKnown(na(deadPort));
  c.addOutbound(na(la.addr.port));
  return {
    start: { host: "127.0.0.1", port: la.addr.port },
    close: async () => {
      for (const l of listeners) l.close();
      await Promise.all(serving);
      await Promise.all(nodes.map((n) => n.close()));
    },
  };
}

/**
 * Runs the example.
 *
 * @param start The first node; default a local network started here.
 * @param network The network; default simnet.
 * @param out Where lines go; default `console.log`.
 * @returns What was visited.
 */
export async function addressCrawlerExample(
  start?: HostPort,
  network: ChainParams = SIMNET,
  out: (line: string) => void = console.log,
): Promise<CrawlResult[]> {
  let local: { start: HostPort; close: () => Promise<void> } | undefined;
  if (start === undefined) {
    local = await localNetwork(network);
    start = local.start;
    out(`started 3 nodes on loopback; crawling from ${key(start)}`);
  }
  try {
    const { visited, inboundSeen } = await crawl(start, { network, log: out });
    const rows = visited.map((r) => [
      r.address,
      r.status,
      r.userAgent,
      r.status === "ok" ? formatServices(r.services) : "",
      r.status === "ok" ? String(r.height) : "",
      r.status === "ok" ? String(r.learnt) : "",
    ]);
    out("\n" + table(["address", "status", "user agent", "services", "height", "addresses"], rows));
    const ok = visited.filter((r) => r.status === "ok").length;
    out(`\n${ok} of ${visited.length} nodes answered; ${inboundSeen.length} inbound peer addresses seen, not dialled`);
    return visited;
  } finally {
    await local?.close();
  }
}

if (isMain(import.meta)) {
  const [addr, net] = args();
  const network = net === undefined ? SIMNET : networkByName(net);
  if (network === undefined) {
    console.error(`Unknown network: ${net}`);
    setExitCode(2);
  } else {
    try {
      const start = addr === undefined ? undefined : parseHostPort(addr, network.defaultPort);
      const visited = await addressCrawlerExample(start, network);
      if (!visited.some((r) => r.status === "ok")) setExitCode(1);
    } catch (err) {
      console.error(`Error: ${(err as Error).message}`);
      setExitCode(1);
    }
  }
}
