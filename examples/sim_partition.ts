/**
 * Testing your own code in the simulator: does my SPV client survive a
 * partition?
 *
 * The client below is written against the adapters' `connect` signature
 * and takes a `Clock` and a `RandomSource`, as real code should; in
 * production you give it `connect` from `@soter/peer/deno` (or `/bun`,
 * `/node`), `systemClock` and `cryptoRandom`. Here it runs on a simulated
 * host among five simulated nodes that announce a block a minute. Twenty
 * minutes in, a partition cuts the client and two nodes off from the other
 * three for twenty minutes: its peer goes quiet, the client must notice
 * (soterd's 5 minute idle timeout), reconnect to a node it can still reach,
 * and miss no block announced after that. An hour of network time takes
 * about a second, and the same seed gives the same run every time.
 *
 * ```sh
 * deno run -A examples/sim_partition.ts [seed]
 * bun examples/sim_partition.ts
 * npx tsx examples/sim_partition.ts
 * ```
 *
 * @module
 */
import {
  type Clock,
  type Conn,
  type ConnectOptions,
  InvType,
  LruSet,
  Peer,
  type RandomSource,
  type SimHost,
  SIMNET,
  SimNet,
} from "../mod.ts";
import { args, isMain } from "./lib/runtime.ts";

/** What the client needs from its environment: an adapter's `connect`, a clock, a random source. */
export interface ClientIo {
  /** An adapter's `connect`. */
  connect(hostname: string, port: number, options?: ConnectOptions): Promise<Conn>;
  /** The time source for the peers and the client's own waits. */
  clock: Clock;
  /** The random source for the peers and the choice of node. */
  random: RandomSource;
}

/** A minimal SPV client: one peer at a time, reconnecting to another node when it goes. */
export class SpvClient {
  /** Block hashes announced to us (as hex). */
  readonly blocks: Set<string> = new Set();
  /** One line per connection: when, to whom, and why it ended. */
  readonly log: string[] = [];
  readonly #io: ClientIo;
  readonly #nodes: readonly string[];
  readonly #sentNonces = new LruSet<bigint>(50);
  #peer: Peer | undefined;
  #stopped = false;

  /**
   * @param io The environment.
   * @param nodes The nodes it may use, as IP addresses (port 18555).
   */
  constructor(io: ClientIo, nodes: readonly string[]) {
    this.#io = io;
    this.#nodes = nodes;
  }

  /** Whether a peer is connected now and past its handshake. */
  get connected(): boolean {
    return (this.#peer?.connected ?? false) && (this.#peer?.verAckReceived ?? false);
  }

  /** Connects, and reconnects after every disconnect, until stopped. */
  async run(): Promise<void> {
    const io = this.#io;
    const pick = new Uint8Array(1);
    while (!this.#stopped) {
      io.random(pick);
      const node = this.#nodes[pick[0]! % this.#nodes.length]!;
      const peer = Peer.outbound(`${node}:18555`, {
        network: SIMNET,
        userAgentName: "spv",
        userAgentVersion: "1.0.0",
        clock: io.clock,
        random: io.random,
        sentNonces: this.#sentNonces,
        listeners: {
          onInv: (_peer, msg) => {
            for (const iv of msg.invList) {
              if (iv.type === InvType.BLOCK) this.blocks.add([...iv.hash.subarray(0, 4)].join("."));
            }
          },
        },
      });
      this.#peer = peer;
      const since = io.clock.now();
      try {
        peer.associateConnection(await io.connect(node, 18555, { timeout: 10_000 }));
      } catch {
        peer.disconnect();
      }
      const why = await peer.disconnected;
      this.log.push(`${new Date(since).toISOString().slice(11, 19)} ${node}: ${why.reason}`);
      // Wait a little before the next attempt.
      if (!this.#stopped) await new Promise<void>((resolve) => io.clock.setTimeout(resolve, 5_000));
    }
  }

  /** Stops reconnecting and disconnects. */
  stop(): void {
    this.#stopped = true;
    this.#peer?.disconnect();
  }
}

/** What {@linkcode partitionExample} found. */
export interface PartitionResult {
  /** Blocks announced by the nodes. */
  announced: number;
  /** Blocks the client heard of. */
  received: number;
  /** Blocks announced after the client was back in touch that it missed. */
  missedAfterRecovery: number;
  /** Whether it was connected at the end. */
  connectedAtEnd: boolean;
  /** Its connections. */
  log: string[];
  /** The trace hash of the run (the same for the same seed). */
  hash: string;
}

/** A full node: accepts peers and announces every new block to them. */
function fullNode(host: SimHost, peers: Set<Peer>): void {
  void (async () => {
    const listener = await host.listen({ port: 18555 });
    for await (const conn of listener) {
      const peer = Peer.inbound({
        network: SIMNET,
        userAgentName: "node",
        userAgentVersion: "1.0.0",
        clock: host.clock,
        random: host.random,
        sentNonces: host.sentNonces,
      });
      peers.add(peer);
      void peer.disconnected.then(() => peers.delete(peer));
      peer.associateConnection(conn);
    }
  })();
}

/**
 * Runs the scenario: five nodes, one client, a block a minute for an hour,
 * a partition from minute 20 to minute 40.
 *
 * @param seed The seed.
 * @returns What the client saw.
 */
export async function partitionExample(seed = 1): Promise<PartitionResult> {
  const net = new SimNet({ seed });
  const peers = new Set<Peer>();
  const nodes = Array.from({ length: 5 }, () => net.host({ ipv4: true, ipv6: false, boot: (h) => fullNode(h, peers) }));
  const me = net.host({ ipv4: true, ipv6: false });
  const client = new SpvClient(me, nodes.map((n) => n.ipv4!));
  const running = client.run();

  // A block a minute, announced by every node to every peer it has.
  let announced = 0;
  let recovered = Infinity;
  const missed = new Set<string>();
  const announce = () => {
    const hash = new Uint8Array(32);
    hash[0] = ++announced;
    for (const peer of peers) peer.queueInventory({ type: InvType.BLOCK, hash, height: announced });
    const key = [...hash.subarray(0, 4)].join(".");
    if (announced >= recovered) missed.add(key);
    if (announced < 60) net.after(60_000, announce);
  };
  net.after(60_000, announce);

  // Minute 20: the client and two nodes are cut off from the other three.
  net.after(20 * 60_000, () => {
    const partition = net.partition([me, nodes[0]!, nodes[1]!]);
    net.after(20 * 60_000, () => partition.heal());
  });
  // A minute more than the last block, for it to arrive.
  await net.run({
    for: 61 * 60_000,
    onStep: () => {
      // Back in touch: connected again after the partition began.
      if (recovered === Infinity && net.time > 20 * 60_000 && client.connected && client.log.length > 0) {
        recovered = announced + 1;
      }
    },
  });
  const connectedAtEnd = client.connected;
  client.stop();
  for (const key of client.blocks) missed.delete(key);
  await net.run({ until: running });
  return {
    announced,
    received: client.blocks.size,
    missedAfterRecovery: missed.size,
    connectedAtEnd,
    log: client.log,
    hash: net.trace.hash,
  };
}

if (isMain(import.meta)) {
  const seed = Number(args()[0] ?? 1);
  const r = await partitionExample(seed);
  console.log(`seed ${seed}: ${r.announced} blocks announced, the client heard of ${r.received}`);
  for (const line of r.log) console.log(`  connection at ${line}`);
  console.log(
    r.missedAfterRecovery === 0 && r.connectedAtEnd
      ? `survived the partition: no block missed once reconnected (trace ${r.hash})`
      : `FAILED: ${r.missedAfterRecovery} blocks missed after reconnecting, connected at the end: ${r.connectedAtEnd}`,
  );
}
