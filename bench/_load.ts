// The load and churn harness behind bench/load.ts and tests/load.test.ts.
// It runs under Deno, Bun and Node with the adapter of the runtime it runs
// in, both ends in one process: a listener whose connections each get an
// inbound Peer, and outbound Peers connecting to it over loopback.
//
// Phases:
// 1. handshake: `peers` outbound peers connect (at most `connectConcurrency`
//    at a time) and complete the handshake, in two halves; all stay
//    connected.
// 2. idle memory: RSS, heap and external memory with half the pairs and
//    with all of them connected and idle, each after `idleMs` idle and a
//    full, compacting collection (see `idleMemory`). Per pair: all of them
//    over the baseline (the same measure before the first pair, the
//    listener open), and the marginal cost from half the pairs to all.
// 3. exchange: every pair exchanges `messages` pings and pongs, lock-step
//    (a ping waits for the previous pong), all pairs at once.
// 4. close: every outbound peer disconnects; both sides must end.
// 5. churn: `cycles` times connect, handshake, disconnect, `churnConcurrency`
//    cycles at a time.
// After phases 4 and 5 it checks that nothing is left: no Peer timer (a
// counting clock wraps the system clock), no connection left unclosed, no
// listener left on the shared AbortSignal, the process's file descriptors
// back to where they were, and every Peer garbage collected.
import { setMaxListeners } from "node:events";
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import process from "node:process";
import v8 from "node:v8";
import vm from "node:vm";
import type * as DenoAdapter from "../src/adapters/deno.ts";
import type { Conn, Listener } from "../src/adapters/types.ts";
import { SIMNET } from "../src/chain/params.ts";
import type { Clock, TimerId } from "../src/peer/clock.ts";
import type { PeerConfig } from "../src/peer/config.ts";
import { LruSet } from "../src/peer/lru.ts";
import { Peer } from "../src/peer/peer.ts";
import { RAW, rawOf } from "../src/peer/raw.ts";

type Adapter = typeof DenoAdapter;

/** The runtime this runs in. */
export const runtime: "deno" | "bun" | "node" = "Deno" in globalThis ? "deno" : "Bun" in globalThis ? "bun" : "node";

/** The TCP adapter of this runtime. */
export const adapter: Adapter = runtime === "deno"
  ? await import("../src/adapters/deno.ts")
  : runtime === "bun"
  ? await import("../src/adapters/bun.ts")
  : await import("../src/adapters/node.ts");

/** The runtime's name and version, e.g. `deno 2.9.6`. */
export function runtimeVersion(): string {
  const g = globalThis as { Deno?: { version: { deno: string } }; Bun?: { version: string } };
  if (g.Deno !== undefined) return `deno ${g.Deno.version.deno}`;
  if (g.Bun !== undefined) return `bun ${g.Bun.version}`;
  return `node ${process.versions.node}`;
}

// ---------------------------------------------------------------------------
// Measuring.

type GcFn = (options?: object) => void;

/** The collector, without command-line flags in any runtime. */
const gcFn: GcFn | undefined = (() => {
  const g = globalThis as { gc?: GcFn; Bun?: { gc(force: boolean): void } };
  if (g.Bun !== undefined) {
    const bun = g.Bun;
    return () => bun.gc(true);
  }
  if (typeof g.gc === "function") return g.gc;
  try {
    v8.setFlagsFromString("--expose-gc");
    const fn = vm.runInNewContext("gc") as unknown;
    return typeof fn === "function" ? (fn as GcFn) : undefined;
  } catch {
    return undefined;
  }
})();

/**
 * The most thorough collection each runtime offers, after the plain full
 * ones: in V8, the one run before giving up for lack of memory (it
 * compacts the old generation and shrinks the young one, so the heap keeps
 * little more than what is alive; Node 20's V8 ignores the option, see
 * {@linkcode idleMemory}); in Bun, a synchronous full collection, then
 * `Bun.shrink()`, which hands the freed memory back to the system.
 */
function compactingGc(): void {
  if (gcFn === undefined) return;
  const bun = (globalThis as { Bun?: { shrink?: () => void } }).Bun;
  if (bun !== undefined) {
    gcFn();
    bun.shrink?.();
  } else {
    gcFn({ type: "major", execution: "sync", flavor: "last-resort" });
  }
}

function pause(ms = 0): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Whether {@linkcode settleMemory} can collect garbage in this runtime. */
export const canCollectGarbage: boolean = gcFn !== undefined;

/** Collects garbage a few times, letting finalizers and pending callbacks run. */
export async function settleMemory(): Promise<void> {
  for (let i = 0; i < 4; i++) {
    gcFn?.();
    await pause(10);
  }
}

/**
 * The memory of an idle process: it collects, sits idle for `idleMs`
 * (nothing runs: no peer timer is due that soon), then collects fully and
 * compactingly. The wait is what lets V8 shrink its young generation where
 * it has no explicit way to (Node 20): it does so on a full collection
 * after some 5 seconds of allocating less than 1 MB/s since the previous
 * collection, as in a server whose peers sit idle.
 */
async function idleMemory(idleMs: number): Promise<Mem> {
  if (idleMs > 0) {
    await settleMemory();
    await pause(idleMs);
  }
  await settleMemory();
  compactingGc();
  await pause(10);
  return mem();
}

interface Mem {
  rss: number;
  heap: number;
  heapTotal: number;
  external: number;
}

function mem(): Mem {
  const m = process.memoryUsage();
  return { rss: m.rss, heap: m.heapUsed, heapTotal: m.heapTotal, external: m.external };
}

/**
 * The TCP sockets this process holds open, where /proc tells (Linux): its
 * socket descriptors whose inode is in /proc/net/tcp or tcp6 (runtimes open
 * other sockets of their own, such as a Unix socket pair once).
 */
function openTcpSockets(): number | undefined {
  try {
    const inodes = new Set<string>();
    for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
      for (const line of readFileSync(table, "utf8").split("\n").slice(1)) {
        const inode = line.trim().split(/\s+/)[9];
        if (inode !== undefined && inode !== "0") inodes.add(inode);
      }
    }
    let n = 0;
    for (const fd of readdirSync("/proc/self/fd")) {
      let target: string;
      try {
        target = readlinkSync(`/proc/self/fd/${fd}`);
      } catch {
        continue; // closed meanwhile
      }
      const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
      if (inode !== undefined && inodes.has(inode)) n++;
    }
    return n;
  } catch {
    return undefined;
  }
}

/** The soft limit on open files, where /proc tells (Linux). */
export function openFileLimit(): number | undefined {
  try {
    const line = readFileSync("/proc/self/limits", "utf8").split("\n").find((l) => l.startsWith("Max open files"));
    const soft = line?.split(/\s{2,}/)[1];
    return soft === undefined || soft === "unlimited" ? undefined : Number(soft);
  } catch {
    return undefined;
  }
}

/** Samples RSS every 20 ms for the peak. */
class PeakSampler {
  peak = 0;
  readonly #timer: ReturnType<typeof setInterval>;

  constructor() {
    this.sample();
    this.#timer = setInterval(() => this.sample(), 20);
  }

  sample(): void {
    this.peak = Math.max(this.peak, process.memoryUsage().rss);
  }

  stop(): void {
    this.sample();
    clearInterval(this.#timer);
  }
}

/** The system clock, counting the timers the peers leave scheduled. */
export class CountingClock implements Clock {
  readonly #active = new Set<TimerId>();
  /** Timers ever scheduled. */
  created = 0;

  now(): number {
    return Date.now();
  }

  setTimeout(callback: () => void, delayMs: number): TimerId {
    this.created++;
    const id = setTimeout(() => {
      this.#active.delete(id);
      callback();
    }, delayMs);
    this.#active.add(id);
    return id;
  }

  clearTimeout(id: TimerId): void {
    this.#active.delete(id);
    clearTimeout(id as ReturnType<typeof setTimeout>);
  }

  /** Timers scheduled and neither fired nor cleared. */
  get pending(): number {
    return this.#active.size;
  }
}

/** An AbortSignal that counts the listeners added to it and not removed. */
function countingSignal(): { signal: AbortSignal; listeners: () => number } {
  const signal = new AbortController().signal;
  // Every peer listens to it: Node warns beyond 10 listeners unless told.
  setMaxListeners(0, signal);
  let count = 0;
  const add = signal.addEventListener.bind(signal);
  const remove = signal.removeEventListener.bind(signal);
  signal.addEventListener = (...args: Parameters<AbortSignal["addEventListener"]>) => {
    count++;
    add(...args);
  };
  signal.removeEventListener = (...args: Parameters<AbortSignal["removeEventListener"]>) => {
    count--;
    remove(...args);
  };
  return { signal, listeners: () => count };
}

/** Forwards the pongs of client `i` to its waiter (a closure over nothing else). */
function pongListener(waiters: Array<((nonce: bigint) => void) | undefined>, i: number): (nonce: bigint) => void {
  return (nonce) => waiters[i]?.(nonce);
}

/** Counts connections opened and closed (every Peer closes its own). */
class ConnCounter {
  opened = 0;
  closed = 0;

  wrap(conn: Conn): Conn {
    this.opened++;
    let done = false;
    // The streams are passed on when asked for, and the callback side the
    // adapters offer a Peer too, so that counting changes nothing.
    return {
      get readable() {
        return conn.readable;
      },
      get writable() {
        return conn.writable;
      },
      [RAW]: () => rawOf(conn),
      localAddr: conn.localAddr,
      remoteAddr: conn.remoteAddr,
      close: () => {
        if (!done) {
          done = true;
          this.closed++;
        }
        conn.close();
      },
    } as Conn;
  }

  get open(): number {
    return this.opened - this.closed;
  }
}

// ---------------------------------------------------------------------------
// The run.

/** What to run. */
export interface LoadOptions {
  /** Concurrent peer pairs (default 1000). */
  peers?: number;
  /** Pings (each answered by a pong) per pair (default 100). */
  messages?: number;
  /** Connect/disconnect cycles (default 5000). */
  cycles?: number;
  /** Connections being established at once (default 100). */
  connectConcurrency?: number;
  /** Churn cycles in flight at once (default 50). */
  churnConcurrency?: number;
  /**
   * Milliseconds the process sits idle before each memory measurement
   * (default 0; `bench/load.ts` waits 6000, see {@linkcode idleMemory}).
   */
  idleMs?: number;
  /** Progress lines. */
  log?: (line: string) => void;
}

/**
 * Memory growth per pair (bytes): RSS, JS heap in use and committed (what
 * the heap holds from the system, in use or not), and external
 * (ArrayBuffers, native). A pair is two peers and their two sockets.
 */
export interface PerPair {
  rssPerPair: number;
  heapPerPair: number;
  heapCommittedPerPair: number;
  externalPerPair: number;
}

function perPair(now: Mem, before: Mem, pairs: number): PerPair {
  return {
    rssPerPair: (now.rss - before.rss) / pairs,
    heapPerPair: (now.heap - before.heap) / pairs,
    heapCommittedPerPair: (now.heapTotal - before.heapTotal) / pairs,
    externalPerPair: (now.external - before.external) / pairs,
  };
}

/** What is left after a phase; every figure must be 0. */
export interface LeakCheck {
  /** Peer timers still scheduled. */
  timers: number;
  /** Connections given to peers and never closed. */
  conns: number;
  /** Listeners left on the AbortSignal every peer was given. */
  abortListeners: number;
  /** Peers of the phase not yet garbage collected (undefined without gc). */
  uncollectedPeers: number | undefined;
  /** Open TCP sockets now minus before the phase (undefined off Linux). */
  socketDelta: number | undefined;
}

/** The figures of a run. */
export interface LoadReport {
  runtime: string;
  peers: number;
  messages: number;
  cycles: number;
  gc: boolean;
  /** Milliseconds until every pair completed its handshake. */
  handshakeMs: number;
  /**
   * Memory per idle connected pair after the handshakes, over the baseline
   * (the process with its listener, before any pair), each measured after
   * `idleMs` idle and a full, compacting collection (bytes).
   */
  idleAfterHandshake: PerPair;
  /** The cost of one more idle pair: from half the pairs to all of them, measured the same way. */
  idleMarginal: PerPair;
  /** Milliseconds idle before each memory measurement. */
  idleMs: number;
  /** Milliseconds for every pair to exchange its pings and pongs. */
  exchangeMs: number;
  /** Messages (pings and pongs) exchanged. */
  exchanged: number;
  /** Memory per idle connected pair after the exchange (bytes). */
  idleAfterExchange: PerPair;
  /** Milliseconds until both sides of every pair ended after the disconnects. */
  closeMs: number;
  /** What was left after closing every pair. */
  afterLoad: LeakCheck;
  /** Milliseconds for every churn cycle. */
  churnMs: number;
  /** Memory after the churn minus before it, after garbage collection (bytes). */
  churnGrowth: { rss: number; heap: number };
  /** What was left after the churn. */
  afterChurn: LeakCheck;
  /** The highest RSS sampled (bytes), and the RSS before any connection. */
  peakRss: number;
  baseRss: number;
}

/** Runs the phases and returns the figures. */
export async function runLoad(options: LoadOptions = {}): Promise<LoadReport> {
  const peers = options.peers ?? 1000;
  const messages = options.messages ?? 100;
  const cycles = options.cycles ?? 5000;
  const connectConcurrency = options.connectConcurrency ?? 100;
  const churnConcurrency = options.churnConcurrency ?? 50;
  const idleMs = options.idleMs ?? 0;
  const log = options.log ?? (() => {});
  const HOST = "127.0.0.1";

  const sampler = new PeakSampler();
  const clock = new CountingClock();
  const abort = countingSignal();
  const conns = new ConnCounter();
  const serverNonces = new LruSet<bigint>(50);
  const clientNonces = new LruSet<bigint>(50);
  let finalized = 0;
  const registry = new FinalizationRegistry<number>(() => finalized++);

  const base: PeerConfig = { network: SIMNET, clock, signal: abort.signal };
  const serverConfig: PeerConfig = {
    ...base,
    userAgentName: "load-server",
    userAgentVersion: "1.0.0",
    sentNonces: serverNonces,
  };

  // The server: an inbound Peer per connection.
  let serverPeers: Peer[] = [];
  let serverEnded = 0;
  const listener: Listener = await adapter.listen({ hostname: HOST, port: 0 });
  const port = listener.addr.port;
  // (A suspended async function may keep its last locals alive: peers are
  // made and handled in plain functions, so that only they hold them.)
  function accept(conn: Conn): void {
    const peer = Peer.inbound(serverConfig);
    registry.register(peer, 0);
    serverPeers.push(peer);
    void peer.disconnected.then(() => serverEnded++);
    peer.associateConnection(conns.wrap(conn));
  }
  const connections = listener[Symbol.asyncIterator]();
  async function acceptNext(): Promise<boolean> {
    const r = await connections.next();
    if (r.done === true) return false;
    accept(r.value);
    return true;
  }
  const accepting = (async () => {
    while (await acceptNext());
  })();

  /** Connects one outbound peer and waits for its handshake. */
  async function connectOne(onPong?: (nonce: bigint) => void): Promise<Peer> {
    const config: PeerConfig = {
      ...base,
      userAgentName: "load-client",
      userAgentVersion: "1.0.0",
      sentNonces: clientNonces,
    };
    if (onPong !== undefined) config.listeners = { onPong: (_p, msg) => onPong(msg.nonce) };
    const peer = Peer.outbound(`${HOST}:${port}`, config);
    registry.register(peer, 1);
    const conn = await adapter.connect(HOST, port, { timeout: 30_000 });
    peer.associateConnection(conns.wrap(conn));
    if (!(await peer.ready)) throw new Error(`Handshake failed: ${peer.disconnectReason?.message}`);
    while (!peer.verAckReceived) {
      if (!peer.connected) throw new Error(`Handshake failed: ${peer.disconnectReason?.message}`);
      await pause(1);
    }
    return peer;
  }

  async function waitFor(cond: () => boolean, what: string, ms = 60_000): Promise<void> {
    const end = Date.now() + ms;
    while (!cond()) {
      if (Date.now() > end) throw new Error(`Timed out waiting for ${what}`);
      await pause(2);
    }
  }

  /** What is left; `peersMade` counts every Peer created since the start. */
  async function leakCheck(socketsBefore: number | undefined, peersMade: number): Promise<LeakCheck> {
    await settleMemory();
    // Bun's collector scans the stack conservatively and now and then keeps
    // an object a little longer: give stragglers a few more rounds.
    for (let i = 0; i < 20 && gcFn !== undefined && finalized < peersMade; i++) {
      await pause(20);
      await settleMemory();
    }
    const sockets = openTcpSockets();
    return {
      timers: clock.pending,
      conns: conns.open,
      abortListeners: abort.listeners(),
      uncollectedPeers: gcFn === undefined ? undefined : peersMade - finalized,
      socketDelta: sockets === undefined || socketsBefore === undefined ? undefined : sockets - socketsBefore,
    };
  }

  // A warm-up pair, so that what the runtime sets up once (threads, file
  // descriptors, compiled code) is in the baseline.
  async function warmUp(): Promise<void> {
    const peer = await connectOne();
    peer.disconnect();
    await peer.disconnected;
    await waitFor(() => serverEnded === 1, "the warm-up pair to end");
    serverPeers.length = 0;
  }
  await warmUp();
  const before = await idleMemory(idleMs);
  const socketsBefore = openTcpSockets();
  log(`${runtimeVersion()}: ${peers} pairs x ${messages} pings, then ${cycles} churn cycles`);

  // 1. Handshakes, in two halves: the memory between them gives the cost
  // of one more pair.
  const pongWaiters: Array<((nonce: bigint) => void) | undefined> = [];
  let clients: Peer[] = new Array(peers);
  async function handshakes(from: number, to: number): Promise<number> {
    const t0 = performance.now();
    let next = from;
    await Promise.all(Array.from({ length: Math.min(connectConcurrency, to - from) }, async () => {
      while (next < to) {
        const i = next++;
        clients[i] = await connectOne(pongListener(pongWaiters, i));
      }
    }));
    await waitFor(
      () => serverPeers.length === to && serverPeers.every((p) => p.verAckReceived),
      "server handshakes",
    );
    return performance.now() - t0;
  }
  const half = peers >>> 1;
  let handshakeMs = await handshakes(0, half);
  // 2. Idle memory, at half the pairs and at all of them.
  const idleHalf = half > 0 ? await idleMemory(idleMs) : before;
  handshakeMs += await handshakes(half, peers);
  log(`handshake: ${peers} pairs in ${handshakeMs.toFixed(0)} ms`);
  const idleFull = await idleMemory(idleMs);
  const idleAfterHandshake = perPair(idleFull, before, peers);
  const idleMarginal = perPair(idleFull, idleHalf, peers - half);
  sampler.sample();

  // 3. Exchange, lock-step per pair.
  async function exchange(clients: readonly Peer[]): Promise<number> {
    let exchanged = 0;
    await Promise.all(clients.map(async (client, i) => {
      for (let m = 0; m < messages; m++) {
        const nonce = BigInt(i) * 1_000_000n + BigInt(m) + 1n;
        const pong = new Promise<void>((resolve) => {
          pongWaiters[i] = (n) => {
            if (n === nonce) resolve();
          };
        });
        if (!(await client.queueMessage({ command: "ping", nonce }))) {
          throw new Error(`Ping not written: ${client.disconnectReason?.message}`);
        }
        await pong;
        exchanged += 2;
      }
      pongWaiters[i] = undefined;
    }));
    return exchanged;
  }
  let t0 = performance.now();
  const exchanged = await exchange(clients);
  const exchangeMs = performance.now() - t0;
  log(`exchange: ${exchanged} messages in ${exchangeMs.toFixed(0)} ms`);
  const idle2 = await idleMemory(idleMs);
  const idleAfterExchange = perPair(idle2, before, peers);
  sampler.sample();

  // 4. Close.
  async function closeAll(clients: readonly Peer[]): Promise<void> {
    clients.forEach((c) => c.disconnect());
    await Promise.all(clients.map((c) => c.disconnected));
    await waitFor(() => serverEnded === 1 + peers, "the server side to end");
    const reasons = new Set(serverPeers.map((p) => p.disconnectReason?.reason));
    if (reasons.size !== 1 || !reasons.has("remote-closed")) {
      throw new Error(`Unexpected server-side reasons: ${[...reasons].join(", ")}`);
    }
  }
  t0 = performance.now();
  await closeAll(clients);
  const closeMs = performance.now() - t0;
  // Emptied, not only dropped: Bun kept the arrays themselves alive.
  clients.length = 0;
  clients = [];
  serverPeers.length = 0;
  serverPeers = [];
  const afterLoad = await leakCheck(socketsBefore, 2 + 2 * peers);
  log(`close: ${closeMs.toFixed(0)} ms; left: ${JSON.stringify(afterLoad)}`);

  // 5. Churn.
  const churnBefore = mem();
  const socketsBeforeChurn = openTcpSockets();
  const serverEndedBefore = serverEnded;
  t0 = performance.now();
  let cycle = 0;
  await Promise.all(Array.from({ length: Math.min(churnConcurrency, cycles) }, async () => {
    while (cycle < cycles) {
      cycle++;
      const peer = await connectOne();
      peer.disconnect();
      await peer.disconnected;
    }
  }));
  await waitFor(() => serverEnded - serverEndedBefore === cycles, "the server side of every cycle to end");
  const churnMs = performance.now() - t0;
  serverPeers.length = 0;
  serverPeers = [];
  await settleMemory();
  const churnAfter = mem();
  const afterChurn = await leakCheck(socketsBeforeChurn, 2 + 2 * peers + 2 * cycles);
  log(`churn: ${cycles} cycles in ${churnMs.toFixed(0)} ms; left: ${JSON.stringify(afterChurn)}`);

  listener.close();
  await accepting;
  sampler.stop();
  return {
    runtime: runtimeVersion(),
    peers,
    messages,
    cycles,
    gc: gcFn !== undefined,
    handshakeMs,
    idleAfterHandshake,
    idleMarginal,
    idleMs,
    exchangeMs,
    exchanged,
    idleAfterExchange,
    closeMs,
    afterLoad,
    churnMs,
    churnGrowth: { rss: churnAfter.rss - churnBefore.rss, heap: churnAfter.heap - churnBefore.heap },
    afterChurn,
    peakRss: sampler.peak,
    baseRss: before.rss,
  };
}
