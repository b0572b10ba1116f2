/**
 * The soter-peer demo: in one process, on loopback, a small soter node
 * built on this library serves a generated blockDAG, and a client peer
 * connects to it. The live log shows the handshake, a ping round trip,
 * the address cache, an SPV-style header sync, the block download (every
 * block checked against its parents), a newly mined block announced and
 * fetched, then a table of statistics per peer. No outside node, no flags;
 * it exits by itself.
 *
 * ```sh
 * deno task demo            # deno run -A examples/demo.ts
 * bun examples/demo.ts
 * npx tsx examples/demo.ts
 * ```
 *
 * @module
 */
import { type Clock, hashToHex, LruSet, netAddress, Peer, ServiceFlag, SIMNET, systemClock } from "../mod.ts";
import { summarizeMessage } from "../src/cli/summary.ts";
import { downloadBlocks, fetchAddresses, Inbox, syncHeaders } from "./lib/client.ts";
import { Dag } from "./lib/dag.ts";
import { bytes, LiveLog, statsTable, Traffic } from "./lib/log.ts";
import { DagNode } from "./lib/node.ts";
import { connect, isMain, listen, runtime } from "./lib/runtime.ts";
import { formatNetAddress, formatServices } from "../src/cli/summary.ts";

/** Options of {@linkcode demo}. */
export interface DemoOptions {
  /** The height of the generated DAG; default 60. */
  height?: number;
  /** Where the log goes; default `console.log`. */
  out?: (line: string) => void;
  /** Milliseconds to pause between the phases, so the log reads live; default 250. */
  pause?: number;
  /** Blocks the node mines at the end, each announced and fetched; default 2. */
  mine?: number;
}

/** What the demo did, for tests. */
export interface DemoResult {
  /** Headers synced. */
  headers: number;
  /** Blocks downloaded and checked (the mined one included). */
  blocks: number;
  /** The ping round trip in milliseconds. */
  pingMs: number;
}

/** A clock with sub-millisecond resolution, so ping round trips on loopback are measurable. */
const fineClock: Clock = { ...systemClock, now: () => performance.timeOrigin + performance.now() };

/**
 * Runs the demo.
 *
 * @param options DAG height and output.
 * @returns What was synced and downloaded.
 */
export async function demo(options: DemoOptions = {}): Promise<DemoResult> {
  const log = new LiveLog(options.out);
  const pauseMs = options.pause ?? 250;
  const pause = () => new Promise((resolve) => setTimeout(resolve, pauseMs));
  const say = log.for("demo");
  const client = log.for("client");
  log.plain(`soter-peer demo (${runtime}): a soter node and a client peer on loopback, simnet\n`);

  // The node: a generated DAG, served on a free loopback port.
  const dag = Dag.generate({ network: SIMNET, height: options.height ?? 60, maxWidth: 3, seed: 7 });
  const traffic = new Traffic();
  const node = new DagNode({
    dag,
    userAgentName: "soter-dag-node",
    userAgentVersion: "0.1.0",
    known: [
      netAddress({
        ip: "10.0.0.7",
        port: SIMNET.defaultPort,
        services: ServiceFlag.NODE_NETWORK,
        timestamp: 1_700_000_000,
      }),
      netAddress({
        ip: "2001:db8::7",
        port: SIMNET.defaultPort,
        services: ServiceFlag.NODE_NETWORK,
        timestamp: 1_700_000_000,
      }),
    ],
    log: log.for("node"),
    peer: { clock: fineClock, listeners: traffic.listeners() },
  });
  const listener = await listen({ hostname: "127.0.0.1", port: 0 });
  const serving = node.serve(listener);
  const port = listener.addr.port;
  const widest = Math.max(...dag.blocks().map((b) => b.block.parents.parents.length));
  log.line(
    "node",
    `listening on 127.0.0.1:${port}, serving ${dag.size} blocks up to height ${dag.height} (up to ${widest} parents per block, ${dag.tips().length} tips)`,
  );

  // The client: an outbound peer that logs its traffic (blocks are summed up per batch).
  const peer = Peer.outbound(`127.0.0.1:${port}`, {
    network: SIMNET,
    userAgentName: "soter-peer-demo",
    userAgentVersion: "0.1.0",
    sentNonces: new LruSet<bigint>(50),
    clock: fineClock,
    listeners: traffic.listeners((_p, dir, msg) => {
      if (msg.command !== "block") client(`${dir} ${summarizeMessage(msg)}`);
    }),
  });
  const inbox = new Inbox(peer);
  try {
    client(`connecting to 127.0.0.1:${port}`);
    peer.associateConnection(await connect("127.0.0.1", port, { timeout: 5000 }));
    const version = await inbox.next("version");
    await inbox.next("verack");
    client(
      `handshake done: ${version.userAgent}, pver ${peer.protocolVersion}, services ${
        formatServices(version.services)
      }, height ${version.lastBlock}, genesis ${hashToHex(version.genesisHash).slice(0, 16)}… matches simnet`,
    );

    // Ping.
    await pause();
    const nonce = 0x5eed_0000_0000n + BigInt(port);
    const t0 = performance.now();
    void peer.queueMessage({ command: "ping", nonce });
    const pong = await inbox.next("pong");
    const pingMs = performance.now() - t0;
    if (pong.nonce !== nonce) throw new Error("pong with another nonce");
    client(`ping round trip ${pingMs.toFixed(2)} ms`);

    // Addresses.
    await pause();
    const addrs = await fetchAddresses(peer, inbox);
    const list = (l: typeof addrs.known) => l.length === 0 ? "none" : l.map(formatNetAddress).join(", ");
    client(`addr: ${list(addrs.addr)}`);
    client(
      `address cache: inbound ${list(addrs.inbound)}; outbound ${list(addrs.outbound)}; known ${list(addrs.known)}`,
    );

    // Header sync.
    await pause();
    say("SPV-style header sync: getblocks for heights, getheaders for headers");
    const sync = await syncHeaders(peer, inbox, { log: client });
    client(`synced ${sync.headers.length} headers to height ${sync.height} in ${sync.rounds} rounds`);

    // Block download.
    await pause();
    say("block download: getdata in batches, each block checked against its parents");
    const known = new Map([[hashToHex(SIMNET.genesisHash), 0]]);
    const got = await downloadBlocks(peer, inbox, sync.headers, { batch: 64, log: client, known });
    client(
      `downloaded ${got.blocks} blocks, ${
        bytes(got.bytes)
      }, up to ${got.maxParents} parents each; prevBlock = tips hash of the parents, merkle roots and heights all check out`,
    );

    // New blocks, announced and fetched.
    let fresh = 0;
    for (let i = 0; i < (options.mine ?? 2); i++) {
      await pause();
      say("the node mines a block on its tips");
      const mined = node.mine();
      const inv = await inbox.next("inv");
      const announced = inv.invList[0];
      if (announced === undefined || hashToHex(announced.hash) !== mined.hex) throw new Error("no announcement");
      peer.updateMaxBlockHeight(announced.height);
      fresh += (await downloadBlocks(peer, inbox, [announced], { known })).blocks;
      client(`block ${mined.hex.slice(0, 16)}… at height ${announced.height} downloaded and checked`);
    }

    // Goodbye.
    await pause();
    const served = node.peers;
    say("statistics per peer");
    log.plain(
      "\n" + statsTable([{ side: "client", peer }, ...served.map((p) => ({ side: "node", peer: p }))], traffic) +
        "\n",
    );
    peer.disconnect();
    const why = await peer.disconnected;
    client(`disconnected (${why.reason})`);
    await Promise.all(served.map((p) => p.disconnected));
    return { headers: sync.headers.length, blocks: got.blocks + fresh, pingMs };
  } finally {
    peer.disconnect();
    listener.close();
    await serving;
    await node.close();
    say("done");
  }
}

if (isMain(import.meta)) await demo();
