/**
 * `SimNet`: a whole soter network in one process, on virtual time,
 * reproducible from a seed.
 *
 * @module
 */
import { AddressBook, canonicalIp } from "./addresses.ts";
import { type CrashMode, Host, type HostNet, type SimHost } from "./host.ts";
import { End } from "./end.ts";
import { Link, type LinkHost, type LinkNet, type LinkProfile, type Pipe } from "./link.ts";
import { connectionView, Partition, type SimConnection, type SimPartition } from "./faults.ts";
import { Agenda, macrotaskYield, type SimEvent, Source } from "./queue.ts";
import { SimRandom } from "./random.ts";
import { Trace } from "./trace.ts";
import type { SimHostOptions, SimNetOptions, SimRunOptions, SimRunResult } from "./options.ts";

export type {
  CrashMode,
  LinkProfile,
  SimConnection,
  SimHost,
  SimHostOptions,
  SimNetOptions,
  SimPartition,
  SimRunOptions,
  SimRunResult,
};

/** 2020-01-15T00:00:00Z, as `ManualClock`. */
const DEFAULT_START = 1_579_046_400_000;
/** Linux gives up on a connect without answer after about 127 s (6 SYN retries). */
const DEFAULT_CONNECT_TIMEOUT = 127_000;
/** Access link speeds hosts are given: 10 Mbit/s, 100 Mbit/s, 1 Gbit/s (in bytes per second). */
const BANDWIDTHS = [1_250_000, 12_500_000, 125_000_000];
/** How many regions hosts are spread over. */
const REGIONS = 5;

/**
 * A deterministic network simulator: many hosts, each with addresses, a
 * virtual clock and a seeded random stream, whose `connect` and `listen`
 * have the adapters' signatures, joined by links with latency, jitter,
 * bandwidth and backpressure. Faults (refused and timed-out connects,
 * resets mid-frame, partitions, crashes, corrupted bytes, readers that
 * stop) are scheduled or random, and every one is in the trace.
 *
 * Virtual time moves only when all the work an instant started has
 * settled, so results never depend on the machine's speed: the same seed
 * and scenario give the same trace, byte for byte.
 *
 * @example Two peers on two simulated hosts
 * ```ts
 * import { Peer, SIMNET, SimNet } from "@soter/peer";
 * const net = new SimNet({ seed: 1 });
 * const server = net.host({ ipv4: "203.0.113.5" });
 * const client = net.host({ ipv4: "198.51.100.7" });
 * const listener = await server.listen({ port: 18555 });
 * void (async () => {
 *   for await (const conn of listener) {
 *     const { clock, random, sentNonces } = server;
 *     Peer.inbound({ network: SIMNET, clock, random, sentNonces }).associateConnection(conn);
 *   }
 * })();
 * const { clock, random, sentNonces } = client;
 * const peer = Peer.outbound("203.0.113.5:18555", { network: SIMNET, clock, random, sentNonces });
 * client.connect("203.0.113.5", 18555).then((conn) => peer.associateConnection(conn));
 * await net.run({ until: peer.ready, for: 60_000 });
 * console.log(peer.connected, net.time < 1000); // true true
 * peer.disconnect();
 * listener.close();
 * await net.run();
 * ```
 */
export class SimNet {
  /** Milliseconds since the Unix epoch at virtual time 0. */
  readonly start: number;
  /** Virtual milliseconds a connect without answer waits by default. */
  readonly connectTimeout: number;
  /** The trace of this simulation. */
  readonly trace: Trace;
  /** A random stream for the scenario itself (independent of the hosts' streams). */
  readonly random: SimRandom;
  readonly #root: SimRandom;
  readonly #agenda = new Agenda();
  readonly #src: Source;
  readonly #addresses: AddressBook;
  readonly #profileFn: ((a: SimHost, b: SimHost) => LinkProfile) | undefined;
  readonly #profiles = new Map<string, LinkProfile>();
  readonly #isolate: boolean;
  readonly #window: number;
  readonly #yield: (() => Promise<void>) | undefined;
  readonly #hosts: Host[] = [];
  readonly #byIp = new Map<string, Host>();
  readonly #fabric: HostNet & LinkNet;
  readonly #links = new Set<Link>();
  readonly #pairLinks = new Map<string, number>();
  #partitions: Partition[] = [];
  readonly #held = new Set<Pipe>();
  #errors: unknown[] = [];
  #time = 0;
  #sources = 0;
  #events = 0;
  #steps = 0;
  #linkCount = 0;
  #running = false;

  /**
   * Creates an empty network.
   *
   * @param options The seed, start time, trace and link options.
   */
  constructor(options: SimNetOptions = {}) {
    this.#root = new SimRandom(options.seed ?? 1);
    this.random = this.#root.fork("scenario");
    this.#addresses = new AddressBook(this.#root.fork("addresses"));
    this.start = options.start ?? DEFAULT_START;
    this.connectTimeout = options.connectTimeout ?? DEFAULT_CONNECT_TIMEOUT;
    this.trace = new Trace(options.trace);
    this.#profileFn = options.profile;
    this.#isolate = options.isolate ?? false;
    this.#window = Math.max(0, options.window ?? 0);
    this.#yield = options.yieldToMacrotasks;
    this.#fabric = this.#makeFabric(options);
    this.#src = this.#fabric.source();
  }

  /** Virtual milliseconds since the simulation started. */
  get time(): number {
    return this.#time;
  }

  /** The virtual time in milliseconds since the Unix epoch. */
  get now(): number {
    return this.start + this.#time;
  }

  /** Every host made so far, in order. */
  get hosts(): readonly SimHost[] {
    return this.#hosts;
  }

  /** Events run so far. */
  get events(): number {
    return this.#events;
  }

  /** Steps run so far: instants (or, isolated, events) after which the work settled. */
  get steps(): number {
    return this.#steps;
  }

  /** Events scheduled and not yet run (timers included). */
  get pendingEvents(): number {
    return this.#agenda.size;
  }

  /** Connections not yet closed at both ends. */
  get openConnections(): number {
    return this.#links.size;
  }

  /** Connections made so far. */
  get connectionsMade(): number {
    return this.#linkCount;
  }

  /**
   * Adds a host. Its boot function (if any) runs at the current virtual
   * time, within {@linkcode SimNet.run}.
   *
   * @param options Its addresses, bandwidth, region and program.
   * @returns The host.
   * @throws {TypeError} for an address that is not an IP address or is
   *   taken.
   */
  host(options: SimHostOptions = {}): SimHost {
    const index = this.#hosts.length;
    const rng = this.#root.fork(`host ${index}`);
    const props = rng.fork("props");
    const addr = rng.fork("addr");
    // A host without IPv6 has IPv4, and the other way round.
    const v4Default = props.chance(0.8) || options.ipv6 === false;
    const v6Default = !v4Default || props.chance(0.3) || options.ipv4 === false;
    const ipv4 = this.#address(options.ipv4 ?? v4Default, "ipv4", () => this.#addresses.ipv4(addr));
    const ipv6 = this.#address(options.ipv6 ?? v6Default, "ipv6", () => this.#addresses.ipv6(addr));
    const bandwidth = options.bandwidth ?? props.pick(BANDWIDTHS);
    const region = options.region ?? props.below(REGIONS);
    const host = new Host(this.#fabric, {
      index,
      name: options.name ?? `h${index}`,
      ipv4,
      ipv6,
      bandwidth,
      region,
      rng,
      boot: options.boot,
    });
    this.#hosts.push(host);
    for (const ip of host.addresses) this.#byIp.set(ip, host);
    this.#record("host", `${host.name} ${host.addresses.join(" ")} r${region} ${bandwidth}B/s`);
    if (options.boot !== undefined) this.#src.at(this.#time, () => host.boot());
    return host;
  }

  #address(want: boolean | string, family: "ipv4" | "ipv6", make: () => string): string | undefined {
    if (want === false) return undefined;
    if (want === true) return make();
    const ip = canonicalIp(want);
    if (ip === undefined || (family === "ipv6") !== ip.includes(":")) {
      throw new TypeError(`Invalid ${family} address for a simulated host: ${JSON.stringify(want)}`);
    }
    if (!this.#addresses.claim(ip)) throw new TypeError(`Address ${ip} is already taken by another simulated host`);
    return ip;
  }

  /**
   * The host that has `address`.
   *
   * @param address An IPv4 or IPv6 address.
   * @returns The host, or `undefined`.
   */
  lookup(address: string): SimHost | undefined {
    const ip = canonicalIp(address);
    return ip === undefined ? undefined : this.#byIp.get(ip);
  }

  /**
   * Runs `fn` after `ms` virtual milliseconds (within {@linkcode SimNet.run}).
   *
   * @param ms The delay.
   * @param fn What to run; a throw stops the run with that error.
   * @returns A function cancelling it.
   */
  after(ms: number, fn: () => void): () => void {
    const event = this.#src.at(this.#time + Math.max(0, ms), fn);
    return () => this.#agenda.cancel(event);
  }

  /**
   * Adds a line to the trace (for the scenario's own milestones).
   *
   * @param kind What happened.
   * @param detail Who and how.
   */
  note(kind: string, detail: string): void {
    this.#record(kind, detail);
  }

  /**
   * Separates two groups of hosts: connects between them time out, and
   * bytes on connections between them are held (as TCP retransmits) until
   * the partition heals.
   *
   * @param a One group.
   * @param b The other; default every other host.
   * @returns The partition, to heal.
   */
  partition(a: readonly SimHost[], b?: readonly SimHost[]): SimPartition {
    const setA = new Set<LinkHost>(a.map((h) => this.#own(h)));
    const setB = new Set<LinkHost>((b ?? this.#hosts.filter((h) => !setA.has(h))).map((h) => this.#own(h)));
    const p = new Partition(setA, setB, (x) => this.#heal(x));
    this.#partitions.push(p);
    this.#record("fault.partition", `${[...setA].map((h) => h.name).join(",")} | ${setB.size} hosts`);
    return p;
  }

  #heal(p: Partition): void {
    this.#partitions = this.#partitions.filter((x) => x !== p);
    this.#record("fault.heal", `${[...p.a].map((h) => h.name).join(",")} | ${p.b.size} hosts`);
    const held = [...this.#held];
    this.#held.clear();
    for (const pipe of held) pipe.heal();
  }

  /**
   * The connections open now, oldest first (for faults on them).
   *
   * @returns A list of views.
   */
  connections(): SimConnection[] {
    return [...this.#links].map((link) => connectionView(link));
  }

  /**
   * Runs the simulation: events in order of virtual time, each instant's
   * work settling before time moves on.
   *
   * @param options How long, until what, and a hook after every step.
   * @returns Why it stopped, and how far it got.
   * @throws {Error} the first error thrown by a scheduled function or a
   *   host's boot function.
   */
  async run(options: SimRunOptions = {}): Promise<SimRunResult> {
    if (this.#running) throw new Error("SimNet.run is already running: await it before running again");
    this.#running = true;
    const end = options.for === undefined ? Infinity : this.#time + Math.max(0, options.for);
    let until = typeof options.until === "function" ? options.until : undefined;
    if (options.until instanceof Promise) {
      let settled = false;
      const mark = () => {
        settled = true;
      };
      options.until.then(mark, mark);
      until = () => settled;
    }
    const channel = this.#yield === undefined ? macrotaskYield() : undefined;
    const settle = this.#yield ?? channel!.yield;
    const first = this.#events;
    let stopped: SimRunResult["stopped"] = "idle";
    try {
      await settle();
      for (;;) {
        this.#rethrow();
        if (until?.()) {
          stopped = "until";
          break;
        }
        const next = this.#agenda.peek();
        if (next === undefined) break;
        if (next.at > end) {
          stopped = "time";
          break;
        }
        if (next.at > this.#time) this.#time = next.at;
        if (this.#isolate) {
          this.#runOne();
        } else if (this.#window > 0) {
          const limit = Math.min(end, (Math.floor(next.at / this.#window) + 1) * this.#window);
          for (
            let e: SimEvent | undefined = next;
            e !== undefined && (e.at < limit || e === next);
            e = this.#agenda.peek()
          ) {
            if (e.at > this.#time) this.#time = e.at;
            this.#runOne();
          }
        } else {
          while (this.#agenda.peek()?.at === next.at) this.#runOne();
        }
        await settle();
        this.#steps++;
        options.onStep?.();
      }
      if (stopped !== "until" && end !== Infinity) this.#time = Math.max(this.#time, end);
      if (stopped === "idle" && end !== Infinity) stopped = "time";
      this.#rethrow();
    } finally {
      channel?.close();
      this.#running = false;
    }
    return { stopped, events: this.#events - first, time: this.#time };
  }

  #runOne(): void {
    const run = this.#agenda.pop();
    if (run === undefined) return;
    this.#events++;
    try {
      run();
    } catch (err) {
      this.#fail(err);
    }
  }

  #rethrow(): void {
    if (this.#errors.length === 0) return;
    const err = this.#errors[0];
    this.#errors = [];
    throw err;
  }

  // -------------------------------------------------------------------------
  // Internal: for hosts and links.

  #makeFabric(options: SimNetOptions): HostNet & LinkNet {
    // deno-lint-ignore no-this-alias
    const net = this;
    return {
      get time() {
        return net.#time;
      },
      start: this.start,
      exact: this.#isolate,
      traceData: options.traceData ?? false,
      connectTimeout: this.connectTimeout,
      source: () => new Source(this.#agenda, this.#sources++),
      cancel: (event: SimEvent) => this.#agenda.cancel(event),
      record: (kind, detail) => this.#record(kind, detail),
      fail: (err) => this.#fail(err),
      lookup: (ip) => this.#byIp.get(ip),
      profile: (a, b) => this.#profile(a, b),
      separated: (a, b) => this.#separated(a, b),
      hold: (pipe) => this.#held.add(pipe),
      end: (host, local, remote) => new End(host, local, remote),
      link: (a, b, profile) => this.#link(a, b, profile),
      closed: (link) => this.#closed(link),
    };
  }

  /** Records a trace entry at the current time (`note` is the public name). */
  #record(kind: string, detail: string): void {
    this.trace.record(this.#time, kind, detail);
  }

  /** A program failed; the run stops with the error. */
  #fail(err: unknown): void {
    this.#record("error", err instanceof Error ? `${err.name}: ${err.message}` : String(err));
    this.#errors.push(err);
  }

  #own(host: SimHost): Host {
    const h = this.#hosts[host.index];
    if (h === undefined || h !== host) throw new TypeError(`Host ${host.name} belongs to another SimNet`);
    return h;
  }

  /** The link profile between two hosts (the same for every connection between them). */
  #profile(a: Host, b: Host): LinkProfile {
    const key = a.index < b.index ? `${a.index} ${b.index}` : `${b.index} ${a.index}`;
    let p = this.#profiles.get(key);
    if (p === undefined) {
      if (this.#profileFn !== undefined) {
        p = this.#profileFn(a, b);
      } else {
        const r = this.#root.fork(`profile ${key}`);
        const latency = a.region === b.region ? 2 + r.float() * 13 : 30 + r.float() * 120;
        p = { latency, jitter: latency / 10, bandwidth: Math.min(a.bandwidth, b.bandwidth) };
      }
      this.#profiles.set(key, p);
    }
    return p;
  }

  #separated(a: LinkHost, b: LinkHost): boolean {
    for (const p of this.#partitions) {
      if ((p.a.has(a) && p.b.has(b)) || (p.a.has(b) && p.b.has(a))) return true;
    }
    return false;
  }

  #link(a: End, b: End, profile: LinkProfile): Link {
    const n = ++this.#linkCount;
    const name = `c${n}`;
    const f = this.#fabric;
    // The link's stream is named after its two hosts and their own count of
    // links, so a connection elsewhere does not change its draws.
    const pair = `${(a.host as Host).index}>${(b.host as Host).index}`;
    const k = (this.#pairLinks.get(pair) ?? 0) + 1;
    this.#pairLinks.set(pair, k);
    const link = new Link(
      f,
      name,
      a,
      b,
      [f.source(), f.source(), f.source()],
      profile,
      this.#root.fork(`link ${pair} ${k}`),
    );
    this.#links.add(link);
    return link;
  }

  #closed(link: Link): void {
    this.#links.delete(link);
    this.#record("closed", `${link.name} ${link.a.out.sent}/${link.b.out.sent} bytes`);
  }
}
