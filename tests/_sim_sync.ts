// DagSync on the simulator (not a test file: the leading `_`): mini nodes
// serving a DAG of large blocks over bandwidth-limited simulated links, and a
// partition of some of them mid-sync. Shared by tests/sim_sync.test.ts and
// bench/sim_sync.ts.
import { Dag, type DagBlock, merkleRoot, tipsHash } from "../examples/lib/dag.ts";
import { DagNode } from "../examples/lib/node.ts";
import {
  blockHash,
  type BlockMessage,
  bytesEqual,
  DagSync,
  hashToHex,
  Peer,
  type SimHost,
  SimNet,
  type SyncedBlock,
  type SyncProgress,
  txHash,
  ZERO_HASH,
} from "../mod.ts";

/**
 * The blocks of another DAG, each with an output of `padding` bytes added
 * to its coinbase (so it is `padding` bytes larger), with the hashes,
 * merkle roots and tips hashes that follow: the same shape, large blocks.
 */
export class PaddedDag extends Dag {
  readonly #byHex = new Map<string, DagBlock>();
  readonly #byHeight: DagBlock[][] = [];
  readonly #children = new Set<string>();

  /**
   * Rebuilds `base` with larger blocks.
   *
   * @param base The DAG whose shape to copy.
   * @param padding Bytes to add to each block but genesis.
   */
  constructor(base: Dag, padding: number) {
    super(base.network);
    const fat = new Map<string, DagBlock>();
    for (const b of base.blocks()) {
      let block: BlockMessage = b.block;
      if (b.height > 0) {
        const parents = b.block.parents.parents.map((p) => fat.get(hashToHex(p.hash))!);
        const coinbase = b.block.transactions[0]!;
        const pad = new Uint8Array(padding).map((_, i) => (i * 31 + b.height) & 0xff);
        const tx = { ...coinbase, txOut: [...coinbase.txOut, { value: 0n, pkScript: pad }] };
        block = {
          ...b.block,
          header: {
            ...b.block.header,
            prevBlock: tipsHash(parents.map((p) => p.hash)),
            merkleRoot: merkleRoot([txHash(tx)]),
          },
          parents: { ...b.block.parents, parents: parents.map((p) => ({ hash: p.hash, data: new Uint8Array(32) })) },
          transactions: [tx],
        };
        for (const p of parents) this.#children.add(p.hex);
      }
      const hash = b.height === 0 ? b.hash : blockHash(block.header);
      const d: DagBlock = { block, hash, hex: hashToHex(hash), height: b.height };
      fat.set(b.hex, d);
      this.#byHex.set(d.hex, d);
      (this.#byHeight[d.height] ??= []).push(d);
    }
  }

  override get(hash: Uint8Array | string): DagBlock | undefined {
    return this.#byHex.get(typeof hash === "string" ? hash : hashToHex(hash));
  }

  override blocks(): DagBlock[] {
    return this.#byHeight.flat();
  }

  override atHeight(height: number): DagBlock[] {
    return this.#byHeight[height]?.slice() ?? [];
  }

  override tips(): DagBlock[] {
    return this.blocks().filter((b) => !this.#children.has(b.hex));
  }

  override newest(): DagBlock {
    const top = this.#byHeight[this.height]!;
    return top[top.length - 1]!;
  }

  override get height(): number {
    return this.#byHeight.length - 1;
  }

  override get size(): number {
    return this.#byHex.size;
  }

  override locate(locator: readonly number[], hashStop: Uint8Array, max: number): DagBlock[] {
    // soterd's locateInventory, as Dag's: above the locator height, up to the stop block's.
    const stop = bytesEqual(hashStop, ZERO_HASH) ? this.newest() : this.get(hashStop);
    const start = locator[0];
    if (stop === undefined || max < 1) return [];
    if (start === undefined) return [stop];
    return this.blocks().filter((b) => b.height > start && b.height <= stop.height).slice(0, max);
  }
}

/** Options of {@linkcode runSyncScenario}. */
export interface SyncScenarioOptions {
  /** The seed of the simulation. */
  seed: number;
  /** The DAG the nodes serve. */
  dag: Dag;
  /** How many nodes serve it (the client connects to each). */
  servers: number;
  /** Bytes per virtual second of every link (default 1 MB/s). */
  bandwidth?: number;
  /** One-way latency of every link in virtual ms (default 20, jitter a tenth of it). */
  latency?: number;
  /**
   * Cut the client off from the first `hosts` serving nodes once `after`
   * blocks were yielded, and heal after `forMs` virtual milliseconds.
   */
  partition?: { after: number; hosts: number; forMs: number };
}

/** What {@linkcode runSyncScenario} saw. */
export interface SyncScenarioResult {
  /** The blocks yielded, in order. */
  blocks: SyncedBlock[];
  /** Virtual milliseconds from the start of the sync to its last block. */
  virtualMs: number;
  /** The sync's progress at the end. */
  progress: SyncProgress;
  /** Blocks served by each node, by its address. */
  servedBy: Record<string, number>;
  /** Virtual milliseconds at which the partition started and healed, if any. */
  partitionAt: number | undefined;
  healedAt: number | undefined;
  /** The trace hash of the whole run. */
  traceHash: string;
  /** Simulator events run. */
  events: number;
}

/**
 * Serves `dag` from `servers` simulated mini nodes over links of a fixed
 * bandwidth and latency, connects a client peer to each, and runs
 * `DagSync` to the end (with a partition of some nodes if asked).
 *
 * @param o The DAG, the nodes, the links, the partition.
 * @returns The blocks, the virtual time taken and the trace hash.
 */
export async function runSyncScenario(o: SyncScenarioOptions): Promise<SyncScenarioResult> {
  const latency = o.latency ?? 20;
  const bandwidth = o.bandwidth ?? 1_000_000;
  const net = new SimNet({ seed: o.seed, profile: () => ({ latency, jitter: latency / 10, bandwidth }) });
  const port = o.dag.network.defaultPort;
  const nodes: DagNode[] = [];
  const servers: SimHost[] = [];
  for (let i = 0; i < o.servers; i++) {
    servers.push(net.host({
      name: `node${i}`,
      ipv4: true,
      ipv6: false,
      boot: async (host) => {
        const node = new DagNode({
          dag: o.dag,
          peer: { clock: host.clock, random: host.random, sentNonces: host.sentNonces },
        });
        nodes.push(node);
        await node.serve(await host.listen({ port }));
      },
    }));
  }
  const client = net.host({ name: "client", ipv4: true, ipv6: false });
  await net.run({ for: 1 });
  const peers: Peer[] = [];
  for (const server of servers) {
    const peer = Peer.outbound(`${server.ipv4}:${port}`, {
      network: o.dag.network,
      userAgentName: "sim-sync",
      userAgentVersion: "1.0.0",
      clock: client.clock,
      random: client.random,
      sentNonces: client.sentNonces,
    });
    client.connect(server.ipv4!, port).then((conn) => peer.associateConnection(conn), () => peer.disconnect());
    peers.push(peer);
  }
  await net.run({ until: Promise.all(peers.map((p) => p.ready)) });
  const sync = new DagSync({ network: o.dag.network, peers, clock: client.clock, random: client.random });
  const blocks: SyncedBlock[] = [];
  const servedBy: Record<string, number> = {};
  let partitionAt: number | undefined;
  let healedAt: number | undefined;
  const started = net.time;
  let ended = started;
  const done = (async () => {
    for await (const b of sync) {
      blocks.push(b);
      servedBy[b.from] = (servedBy[b.from] ?? 0) + 1;
      ended = net.time;
      const p = o.partition;
      if (p !== undefined && blocks.length === p.after) {
        partitionAt = net.time;
        const cut = net.partition([client], servers.slice(0, p.hosts));
        net.after(p.forMs, () => {
          healedAt = net.time;
          cut.heal();
        });
      }
    }
  })();
  await net.run({ until: done });
  await done;
  for (const peer of peers) peer.disconnect();
  for (const node of nodes) void node.close();
  await net.run({ for: 600_000 });
  return {
    blocks,
    virtualMs: ended - started,
    progress: sync.progress(),
    servedBy,
    partitionAt,
    healedAt,
    traceHash: net.trace.hash,
    events: net.events,
  };
}
