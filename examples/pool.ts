/**
 * A pool keeping 8 outbound peers up while the network churns: 16 small
 * nodes listen on loopback; the pool learns their addresses and connects
 * to 8 of them; each round kills 3 of the nodes it is connected to
 * (their listeners close, their peers drop), waits until the pool is back
 * to 8 outbound peers from the nodes still up, then restarts the killed
 * nodes on the same ports. It ends by itself after the rounds (or after
 * 20 seconds) with a summary; the exit code is 1 if a round did not get
 * back to 8.
 *
 * ```sh
 * deno run -A examples/pool.ts [rounds]   # default 5
 * bun examples/pool.ts [rounds]
 * npx tsx examples/pool.ts [rounds]
 * ```
 *
 * @module
 */
import { AddrManager, type Listener, LruSet, netAddress, Pool, type PoolEvent, SIMNET } from "../mod.ts";
import { Dag } from "./lib/dag.ts";
import { DagNode } from "./lib/node.ts";
import { args, connect, isMain, listen, setExitCode } from "./lib/runtime.ts";

const NODES = 16;
const TARGET = 8;
const KILL_PER_ROUND = 3;

/** One node of the local network: its port, and while it runs, its listener and node. */
interface LocalNode {
  port: number;
  running: { listener: Listener; node: DagNode } | undefined;
}

const dag = Dag.generate({ height: 10 });
// The nodes share one nonce set: they never connect to each other.
const nonces = new LruSet<bigint>(1000);

async function startNode(n: LocalNode): Promise<void> {
  const listener = await listen({ hostname: "127.0.0.1", port: n.port });
  n.port = listener.addr.port;
  const node = new DagNode({ dag, peer: { sentNonces: nonces } });
  void node.serve(listener);
  n.running = { listener, node };
}

async function killNode(n: LocalNode): Promise<void> {
  const r = n.running;
  n.running = undefined;
  if (r === undefined) return;
  r.listener.close();
  await r.node.close();
}

/** What the example reports. */
export interface PoolExampleResult {
  /** Rounds run. */
  rounds: number;
  /** Rounds after which the pool was back to 8 outbound peers. */
  recovered: number;
  /** Peers that joined and left over the run. */
  joined: number;
  /** Peers that left. */
  left: number;
}

/**
 * Runs the example.
 *
 * @param rounds How many kill-and-restart rounds.
 * @param out Where lines go.
 * @returns The counts.
 */
export async function poolExample(rounds = 5, out: (line: string) => void = console.log): Promise<PoolExampleResult> {
  const deadline = AbortSignal.timeout(20_000);
  const nodes: LocalNode[] = Array.from({ length: NODES }, () => ({ port: 0, running: undefined }));
  for (const n of nodes) await startNode(n);
  out(`${NODES} nodes listening on 127.0.0.1 ports ${nodes.map((n) => n.port).join(", ")}`);

  // The address book, as if a seed had told us about the nodes.
  const book = new AddrManager({ allowUnroutable: true });
  const now = Math.floor(Date.now() / 1000);
  const seed = netAddress({ ip: "127.0.0.1", port: 1, timestamp: now });
  book.addAddresses(
    nodes.map((n) => netAddress({ ip: "127.0.0.1", port: n.port, timestamp: now, services: 1n })),
    seed,
  );

  const pool = new Pool({
    network: SIMNET,
    connect,
    addrManager: book,
    targetOutbound: TARGET, // soterd's default, written out
    allowUnroutable: true, // loopback addresses, each its own group
    anyPort: true, // the nodes are not on the simnet port
    retryInterval: 250, // soterd waits 5 s; the example is short
    peer: { userAgentName: "pool-example", userAgentVersion: "1.0.0", sentNonces: new LruSet<bigint>(50) },
  });
  const result: PoolExampleResult = { rounds: 0, recovered: 0, joined: 0, left: 0 };
  let waiter: (() => void) | undefined;
  const events = pool.events();
  const watching = (async () => {
    for await (const e of events as AsyncIterable<PoolEvent>) {
      if (e.type === "peer-joined") result.joined++;
      else result.left++;
      waiter?.();
    }
  })();
  /** Waits until the pool has 8 outbound peers (or the deadline). */
  const backToTarget = async () => {
    while (pool.stats().peers.outbound < TARGET && !deadline.aborted) {
      await new Promise<void>((resolve) => {
        const done = () => {
          deadline.removeEventListener("abort", done);
          resolve();
        };
        waiter = done;
        deadline.addEventListener("abort", done, { once: true });
      });
    }
    return pool.stats().peers.outbound >= TARGET;
  };

  await pool.start(deadline);
  const t0 = performance.now();
  if (await backToTarget()) out(`${TARGET} outbound peers in ${Math.round(performance.now() - t0)} ms`);
  for (let round = 1; round <= rounds && !deadline.aborted; round++) {
    result.rounds = round;
    const peers = pool.peers().slice(0, KILL_PER_ROUND);
    const victims = peers.map((p) => nodes.find((n) => p.addr.endsWith(`:${n.port}`))!);
    const t = performance.now();
    for (const n of victims) await killNode(n);
    await Promise.all(peers.map((p) => p.disconnected));
    const ok = await backToTarget();
    const ms = Math.round(performance.now() - t);
    const ports = victims.map((n) => n.port).join(", ");
    out(`round ${round}: killed nodes on ports ${ports}; ${pool.stats().peers.outbound} outbound peers after ${ms} ms`);
    if (ok) result.recovered++;
    for (const n of victims) await startNode(n);
  }
  await pool.stop();
  await watching;
  for (const n of nodes) await killNode(n);
  out(
    `Summary: ${result.recovered} of ${result.rounds} rounds back to ${TARGET} outbound peers; ` +
      `${result.joined} peers joined, ${result.left} left`,
  );
  return result;
}

if (isMain(import.meta)) {
  const rounds = Number(args()[0] ?? 5);
  const r = await poolExample(Number.isInteger(rounds) && rounds > 0 ? rounds : 5);
  setExitCode(r.recovered === r.rounds && r.rounds > 0 ? 0 : 1);
}
