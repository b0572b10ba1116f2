/**
 * Faults on connections and between hosts: partitions, and the handle on
 * an open connection that resets it mid-frame, corrupts its bytes or stops
 * one side reading.
 *
 * @module
 */
import type { SimHost } from "./host.ts";
import type { Link, LinkHost } from "./link.ts";

/** A partition between two groups of hosts; see {@linkcode SimNet.partition}. */
export interface SimPartition {
  /** Ends the partition: bytes held on the links between the groups flow again. */
  heal(): void;
  /** Whether it is still in force. */
  readonly active: boolean;
}

/** An open connection between two hosts, for faults; see {@linkcode SimNet.connections}. */
export interface SimConnection {
  /** Its name in the trace, e.g. `"c12"`. */
  readonly name: string;
  /** The host that connected. */
  readonly client: SimHost;
  /** The host that accepted. */
  readonly server: SimHost;
  /** Bytes sent client to server and server to client so far. */
  readonly bytes: { readonly up: number; readonly down: number };
  /** Resets the connection while the next chunk from `from` (default: the client) is on the wire, cutting it short. */
  resetMidFrame(from?: "client" | "server"): void;
  /** Flips one bit of the next chunk from `from` (default: the client). */
  corrupt(from?: "client" | "server"): void;
  /** The side `side` stops reading (its buffers fill, then the other side's writes wait); `false` resumes. */
  stopReading(side: "client" | "server", stopped?: boolean): void;
}

/** Internal: a partition in force. */
export class Partition implements SimPartition {
  readonly a: Set<LinkHost>;
  readonly b: Set<LinkHost>;
  readonly #onHeal: (p: Partition) => void;
  active = true;

  constructor(a: Set<LinkHost>, b: Set<LinkHost>, onHeal: (p: Partition) => void) {
    this.a = a;
    this.b = b;
    this.#onHeal = onHeal;
  }

  heal(): void {
    if (!this.active) return;
    this.active = false;
    this.#onHeal(this);
  }
}

/** Internal: the public view of a link. */
export function connectionView(link: Link): SimConnection {
  const pipe = (from: "client" | "server" = "client") => from === "client" ? link.a.out : link.b.out;
  const net = link.net;
  return {
    name: link.name,
    client: link.a.host as unknown as SimHost,
    server: link.b.host as unknown as SimHost,
    bytes: { up: link.a.out.sent, down: link.b.out.sent },
    resetMidFrame(from) {
      pipe(from).cut = true;
      net.record("fault.reset", `${link.name} from ${from ?? "client"}`);
    },
    corrupt(from) {
      pipe(from).corrupt++;
      net.record("fault.corrupt", `${link.name} from ${from ?? "client"}`);
    },
    stopReading(side, stopped = true) {
      const p = side === "client" ? link.b.out : link.a.out;
      p.stalled = stopped;
      net.record(stopped ? "fault.stall" : "fault.resume", `${link.name} ${side}`);
      if (!stopped) p.flush();
    },
  };
}

/** The kinds of fault {@linkcode scheduleFaults} applies. */
export type FaultKind =
  | "partition"
  | "crash"
  | "refuse"
  | "drop"
  | "reset"
  | "corrupt"
  | "stall";

/** Every fault kind, in a fixed order. */
export const FAULT_KINDS: readonly FaultKind[] = ["partition", "crash", "refuse", "drop", "reset", "corrupt", "stall"];

/**
 * One fault at one virtual time. Targets are numbers taken modulo what
 * exists when the fault fires (hosts, or connections open then), so a
 * list stays valid when a scenario shrinks.
 */
export interface FaultSpec {
  /** Virtual milliseconds since the start. */
  at: number;
  /** What happens. */
  kind: FaultKind;
  /** Which host or connection (modulo their number). */
  target: number;
  /**
   * How long it lasts, in virtual milliseconds: until a partition heals, a
   * crashed host restarts, a host accepts again, or a stalled reader
   * resumes. Ignored by `reset` and `corrupt`.
   */
  duration: number;
  /** For `crash`: a process crash (resets) rather than a machine crash (silence). */
  process?: boolean;
}

/** What {@linkcode scheduleFaults} needs of a network. */
export interface FaultTarget {
  /** Virtual milliseconds since the start. */
  readonly time: number;
  /** The hosts. */
  readonly hosts: readonly SimHost[];
  /** Runs a function later. */
  after(ms: number, fn: () => void): () => void;
  /** Separates two groups of hosts. */
  partition(a: readonly SimHost[], b?: readonly SimHost[]): SimPartition;
  /** The open connections. */
  connections(): SimConnection[];
}

/**
 * Schedules faults on a network; each one is in the trace when it fires.
 *
 * @param net The network (a `SimNet`).
 * @param faults The faults.
 *
 * @example A partition of one minute, then a crash
 * ```ts
 * import { scheduleFaults, SimNet } from "@soter/peer";
 * const net = new SimNet({ seed: 3, trace: { keep: true } });
 * for (let i = 0; i < 4; i++) net.host();
 * scheduleFaults(net, [
 *   { at: 1_000, kind: "partition", target: 1, duration: 60_000 },
 *   { at: 2_000, kind: "crash", target: 2, duration: 30_000 },
 * ]);
 * await net.run({ for: 120_000 });
 * console.log(net.trace.lines().filter((l) => l.includes("fault.")).length); // 4
 * ```
 */
export function scheduleFaults(net: FaultTarget, faults: readonly FaultSpec[]): void {
  for (const f of faults) net.after(f.at - net.time, () => applyFault(net, f));
}

function applyFault(net: FaultTarget, f: FaultSpec): void {
  const hosts = net.hosts;
  if (hosts.length === 0) return;
  const host = hosts[f.target % hosts.length]!;
  switch (f.kind) {
    case "partition": {
      // Hosts whose number shares the target's parity (or remainder) on one side.
      const k = 2 + (f.target % 3);
      const side = hosts.filter((h) => h.index % k === f.target % k);
      if (side.length === 0 || side.length === hosts.length) return;
      const p = net.partition(side);
      net.after(f.duration, () => p.heal());
      return;
    }
    case "crash":
      if (!host.up) return;
      host.crash(f.process === true ? "process" : "machine");
      net.after(f.duration, () => host.restart());
      return;
    case "refuse":
      host.refuseConnections(f.duration);
      return;
    case "drop":
      host.dropConnections(f.duration);
      return;
  }
  const conns = net.connections();
  if (conns.length === 0) return;
  const conn = conns[f.target % conns.length]!;
  const side = (f.target >> 4) % 2 === 0 ? "client" : "server";
  switch (f.kind) {
    case "reset":
      conn.resetMidFrame(side);
      return;
    case "corrupt":
      conn.corrupt(side);
      return;
    case "stall":
      conn.stopReading(side);
      net.after(f.duration, () => conn.stopReading(side, false));
      return;
  }
}

/** Options of {@linkcode randomFaults}. */
export interface RandomFaultOptions {
  /** Faults per virtual minute on average (default 1). */
  perMinute?: number;
  /** Over how many virtual minutes. */
  minutes: number;
  /** Which kinds (default all). */
  kinds?: readonly FaultKind[];
  /** The longest a fault lasts, in virtual milliseconds (default 5 minutes). */
  maxDuration?: number;
}

/**
 * Draws a random list of faults (Poisson arrivals) for
 * {@linkcode scheduleFaults}.
 *
 * @param random The stream to draw from (e.g. `net.random`).
 * @param options Rate, span and kinds.
 * @returns The faults, in time order.
 */
export function randomFaults(
  random: { float(): number; below(n: number): number; u32(): number },
  options: RandomFaultOptions,
): FaultSpec[] {
  const rate = (options.perMinute ?? 1) / 60_000;
  const kinds = options.kinds ?? FAULT_KINDS;
  const maxDuration = options.maxDuration ?? 300_000;
  const end = options.minutes * 60_000;
  const out: FaultSpec[] = [];
  if (rate <= 0 || kinds.length === 0) return out;
  for (let t = -Math.log(1 - random.float()) / rate; t < end; t += -Math.log(1 - random.float()) / rate) {
    const kind = kinds[random.below(kinds.length)]!;
    const spec: FaultSpec = {
      at: Math.floor(t),
      kind,
      target: random.below(1 << 16),
      duration: 1_000 + random.below(maxDuration),
    };
    if (kind === "crash") spec.process = random.below(2) === 0;
    out.push(spec);
  }
  return out;
}
