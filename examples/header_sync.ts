/**
 * SPV-style header sync against a peer serving a blockDAG.
 *
 * soter headers carry no height and a block may have several parents, so
 * each round asks `getblocks` for the next blocks (an `inv` whose entries
 * carry their heights, at most 500) and then `getheaders` up to the last
 * of them; every header must hash to an announced block. Without an
 * address it starts a small soter node on loopback (built on this
 * library, serving a generated DAG) and syncs from it.
 *
 * ```sh
 * deno run -A examples/header_sync.ts [host:port [network]]   # network: simnet (default), regtest, testnet1, mainnet
 * bun examples/header_sync.ts
 * npx tsx examples/header_sync.ts
 * ```
 *
 * A real soterd ignores `getheaders` until it considers itself synced; the
 * sync then stops with a timeout.
 *
 * @module
 */
import { type ChainParams, hashToHex, networkByName, Peer, SIMNET } from "../mod.ts";
import { type HostPort, parseHostPort } from "../src/cli/args.ts";
import { LruSet } from "../mod.ts";
import { type HeaderSync, Inbox, syncHeaders } from "./lib/client.ts";
import { Dag } from "./lib/dag.ts";
import { table } from "./lib/log.ts";
import { DagNode } from "./lib/node.ts";
import { args, connect, isMain, listen, setExitCode } from "./lib/runtime.ts";

/** Options of {@linkcode headerSyncExample}. */
export interface HeaderSyncExampleOptions {
  /** The node to sync from; default a node started here. */
  target?: HostPort;
  /** The network; default simnet. */
  network?: ChainParams;
  /** The height of the DAG of the node started here; default 300. */
  height?: number;
  /** Where lines go; default `console.log`. */
  out?: (line: string) => void;
}

/**
 * Runs the example.
 *
 * @param options The node and network.
 * @returns The headers synced.
 * @throws {Error} when the connection, the handshake or a round fails.
 */
export async function headerSyncExample(options: HeaderSyncExampleOptions = {}): Promise<HeaderSync> {
  const out = options.out ?? console.log;
  const network = options.network ?? SIMNET;
  let target = options.target;
  let local: { node: DagNode; close: () => Promise<void> } | undefined;
  if (target === undefined) {
    // No node given: serve a generated DAG on loopback.
    const node = new DagNode({ dag: Dag.generate({ network, height: options.height ?? 300, seed: 11 }) });
    const listener = await listen({ hostname: "127.0.0.1", port: 0 });
    const serving = node.serve(listener);
    target = { host: "127.0.0.1", port: listener.addr.port };
    local = {
      node,
      close: async () => {
        listener.close();
        await serving;
        await node.close();
      },
    };
    out(
      `started a node on 127.0.0.1:${target.port} serving ${node.dag.size} blocks up to height ${node.dag.height}`,
    );
  }
  const address = target.host.includes(":") ? `[${target.host}]:${target.port}` : `${target.host}:${target.port}`;
  const peer = Peer.outbound(address, {
    network,
    userAgentName: "soter-spv-example",
    userAgentVersion: "0.1.0",
    sentNonces: new LruSet<bigint>(50),
  });
  const inbox = new Inbox(peer);
  try {
    peer.associateConnection(await connect(target.host, target.port, { timeout: 5000 }));
    const version = await inbox.next("version", 10_000);
    await inbox.next("verack", 10_000);
    out(`connected to ${address}: ${version.userAgent}, height ${version.lastBlock}`);
    const t0 = performance.now();
    const sync = await syncHeaders(peer, inbox, { log: out });
    const ms = performance.now() - t0;
    out(
      `synced ${sync.headers.length} headers to height ${sync.height} in ${sync.rounds} rounds, ${ms.toFixed(0)} ms`,
    );
    if (sync.height < version.lastBlock) out(`the node is at height ${version.lastBlock}: some blocks are missing`);
    const tail = sync.headers.slice(-5).map((k) => [
      String(k.height),
      k.hex,
      new Date(k.header.timestamp * 1000).toISOString(),
      `0x${k.header.bits.toString(16).padStart(8, "0")}`,
      hashToHex(k.header.prevBlock).slice(0, 16) + "…",
    ]);
    if (tail.length > 0) {
      out("\nthe last headers:\n" + table(["height", "hash", "time", "bits", "prevBlock (tips hash)"], tail));
    }
    return sync;
  } finally {
    peer.disconnect();
    await peer.disconnected;
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
      await headerSyncExample({
        network,
        ...(addr === undefined ? {} : { target: parseHostPort(addr, network.defaultPort) }),
      });
    } catch (err) {
      console.error(`Error: ${(err as Error).message}`);
      setExitCode(1);
    }
  }
}
