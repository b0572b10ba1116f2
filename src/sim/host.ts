/**
 * A simulated machine: its addresses, its clock and random source, and the
 * adapters' `connect` and `listen`, so code written against an adapter runs
 * on it unchanged.
 *
 * @module
 */
import { QueueListener } from "../adapters/_accept.ts";
import { formatAddr } from "../adapters/_common.ts";
import { ConnectionError } from "../adapters/errors.ts";
import type { ConnectOptions, Listener, ListenOptions } from "../adapters/types.ts";
import type { Clock } from "../peer/clock.ts";
import { HostClock } from "./clock.ts";
import type { Conn, NetAddr } from "../peer/conn.ts";
import type { RandomSource } from "../peer/random.ts";
import { LruSet, MAX_SENT_NONCES } from "../peer/lru.ts";
import { canonicalIp, isIpv6 } from "./addresses.ts";
import type { End } from "./end.ts";
import type { Link, LinkHost, LinkProfile } from "./link.ts";
import type { SimEvent, Source } from "./queue.ts";
import type { SimRandom } from "./random.ts";

/** How a crash looks from the network. */
export type CrashMode =
  /** The machine stops: its peers hear nothing more (until it restarts and resets what they send). */
  | "machine"
  /** The process dies: its operating system resets every connection at once. */
  | "process";

/** What a host needs from its network (implemented by `SimNet`). */
export interface HostNet {
  /** Virtual milliseconds since the start. */
  readonly time: number;
  /** Milliseconds since the Unix epoch at the start. */
  readonly start: number;
  /** Virtual milliseconds a connect waits for an answer by default. */
  readonly connectTimeout: number;
  /** A new scheduling entity. */
  source(): Source;
  /** Cancels an event. */
  cancel(event: SimEvent): boolean;
  /** Records a trace entry. */
  record(kind: string, detail: string): void;
  /** Reports a failure of a program (a boot function). */
  fail(err: unknown): void;
  /** The host with this address. */
  lookup(ip: string): Host | undefined;
  /** The link profile between two hosts. */
  profile(a: Host, b: Host): LinkProfile;
  /** Whether a partition separates two hosts. */
  separated(a: LinkHost, b: LinkHost): boolean;
  /** Makes a link between two ends. */
  link(a: End, b: End, profile: LinkProfile): Link;
  /** Makes an end. */
  end(host: Host, local: NetAddr, remote: NetAddr): End;
}

/** Where and how to run a host. */
export interface SimHostInit
  extends Pick<SimHost, "index" | "name" | "ipv4" | "ipv6" | "bandwidth" | "region" | "rng"> {
  /** Runs at start and at every restart. */
  readonly boot: ((host: SimHost) => void | Promise<void>) | undefined;
}

interface Binding {
  readonly listener: QueueListener;
  readonly key: string;
}

interface PendingConnect {
  fail(err: ConnectionError): void;
}

const FIRST_EPHEMERAL = 49152;

/**
 * A simulated machine with one IPv4 address, one IPv6 address, or both.
 * Its {@linkcode SimHost.connect} and {@linkcode SimHost.listen} have the
 * adapters' signatures and make `Conn`s across the simulated network; its
 * {@linkcode SimHost.clock} and {@linkcode SimHost.random} are the ones to
 * give the `Peer`s (or pool, or sync engine) running on it. Make hosts with
 * `SimNet.host`.
 */
export interface SimHost {
  /** The host's number in its network (0, 1, ...). */
  readonly index: number;
  /** Its name in the trace, e.g. `"h12"`. */
  readonly name: string;
  /** Its IPv4 address, if it has one. */
  readonly ipv4: string | undefined;
  /** Its IPv6 address, if it has one. */
  readonly ipv6: string | undefined;
  /** Its addresses, IPv4 first. */
  readonly addresses: string[];
  /** Bytes per virtual second of its access link. */
  readonly bandwidth: number;
  /** Its region: hosts of one region are a few milliseconds apart, others tens to a hundred and fifty. */
  readonly region: number;
  /** Virtual time: give it to every `Peer` on this host. Its timers die when the host crashes. */
  readonly clock: Clock;
  /** The host's own seeded random stream, for the code running on it. */
  readonly rng: SimRandom;
  /** A `RandomSource` drawing from a stream of its own (for `PeerConfig.random`). */
  readonly random: RandomSource;
  /**
   * The nonces of the `version`s its peers sent (for
   * `PeerConfig.sentNonces`): the process-wide default would make every
   * simulated connection look like a connection to self.
   */
  readonly sentNonces: LruSet<bigint>;
  /** Whether the host is running (not crashed). */
  readonly up: boolean;
  /** How many times the host has started. */
  readonly incarnation: number;
  /** Timers of its clock that are scheduled and not yet fired or cleared. */
  readonly pendingTimers: number;
  /** How many listeners are bound. */
  readonly listeners: number;
  /** Connects in flight (neither established nor failed yet). */
  readonly pendingConnects: number;
  /** Open ends of connections on this host. */
  readonly openConnections: number;
  /**
   * Opens a connection, as the adapters' `connect`: the `Conn` arrives
   * after one round trip, or the promise rejects with a `ConnectionError`:
   * `refused` (nothing listens there, or the host refuses), `timeout` (no
   * answer within `options.timeout`, or the network's limit, 127 s by
   * default: the address is unknown, the host is down, or a partition is
   * in the way), `aborted`, `unreachable` (no address of that family here,
   * a host name, or this host is down).
   *
   * @param hostname An IPv4 or IPv6 address (names do not resolve here).
   * @param port The port.
   * @param options The abort signal and timeout (`noDelay` changes nothing).
   * @returns The connection.
   */
  connect(hostname: string, port: number, options?: ConnectOptions): Promise<Conn>;
  /**
   * Binds a listener, as the adapters' `listen`. `"0.0.0.0"` (the default)
   * accepts on the IPv4 address, `"::"` on both, an address of this host on
   * that address alone. It rejects with a `ConnectionError`: `other` when
   * the address is not this host's or the port is taken, `unreachable`
   * when the host is down.
   *
   * @param options The address, port (`0` or none picks a free one) and
   *   abort signal.
   * @returns The listener.
   */
  listen(options?: ListenOptions): Promise<Listener>;
  /**
   * Crashes the host: its connections die (silently for a `"machine"`
   * crash, with resets for a `"process"` crash), its listeners close, its
   * clock's timers are dropped, and connects in flight fail. Code still
   * holding its objects sees them fail, as a process would.
   *
   * @param mode How the crash looks from the network; default `"machine"`.
   */
  crash(mode?: CrashMode): void;
  /** Starts a crashed host again with the same addresses, and runs its boot function. */
  restart(): void;
  /**
   * Answers connection attempts with a reset for a while (a full backlog,
   * a firewall that rejects).
   *
   * @param ms How long, in virtual milliseconds.
   */
  refuseConnections(ms: number): void;
  /**
   * Ignores connection attempts for a while, so they time out (a firewall
   * that drops).
   *
   * @param ms How long, in virtual milliseconds.
   */
  dropConnections(ms: number): void;
}

/** Internal: the host behind a {@linkcode SimHost}. */
export class Host implements SimHost, LinkHost {
  /** The host's number in its network (0, 1, ...). */
  readonly index: number;
  /** Its name in the trace, e.g. `"h12"`. */
  readonly name: string;
  /** Its IPv4 address, if it has one. */
  readonly ipv4: string | undefined;
  /** Its IPv6 address, if it has one. */
  readonly ipv6: string | undefined;
  /** Bytes per virtual second of its access link. */
  readonly bandwidth: number;
  /** Its region: hosts of one region are a few milliseconds apart, others tens to a hundred and fifty. */
  readonly region: number;
  /** Virtual time: give it to every `Peer` on this host. Its timers die when the host crashes. */
  readonly clock: Clock;
  /** The host's own seeded random stream, for the code running on it. */
  readonly rng: SimRandom;
  /** {@linkcode SimHost.rng} as a `RandomSource` (for `PeerConfig.random`). */
  readonly random: RandomSource;
  /** Nonces of the versions its peers sent. */
  readonly sentNonces: LruSet<bigint> = new LruSet(MAX_SENT_NONCES);
  /** The open ends of connections on this host. */
  readonly ends: Set<End> = new Set();
  readonly #net: HostNet;
  readonly #clock: HostClock;
  readonly #src: Source;
  readonly #boot: ((host: SimHost) => void | Promise<void>) | undefined;
  readonly #bindings = new Map<string, Binding>();
  readonly #pending = new Set<PendingConnect>();
  #up = true;
  #incarnation = 1;
  #nextPort = FIRST_EPHEMERAL;
  #refuseUntil = -1;
  #dropUntil = -1;

  constructor(net: HostNet, init: SimHostInit) {
    this.#net = net;
    this.index = init.index;
    this.name = init.name;
    this.ipv4 = init.ipv4;
    this.ipv6 = init.ipv6;
    this.bandwidth = init.bandwidth;
    this.region = init.region;
    this.rng = init.rng;
    const stream = init.rng.fork("random");
    this.random = (bytes) => stream.fill(bytes);
    this.#boot = init.boot;
    this.#clock = new HostClock(this, net);
    this.clock = this.#clock;
    this.#src = net.source();
  }

  /** Its addresses: IPv4 first. */
  get addresses(): string[] {
    const list: string[] = [];
    if (this.ipv4 !== undefined) list.push(this.ipv4);
    if (this.ipv6 !== undefined) list.push(this.ipv6);
    return list;
  }

  /** Whether the host is running (not crashed). */
  get up(): boolean {
    return this.#up;
  }

  /** How many times the host has started. */
  get incarnation(): number {
    return this.#incarnation;
  }

  /** Timers of its clock that are scheduled and not yet fired or cleared. */
  get pendingTimers(): number {
    return this.#clock.timers.size;
  }

  /** Open ends of connections on this host. */
  get openConnections(): number {
    return this.ends.size;
  }

  /** How many listeners are bound. */
  get listeners(): number {
    return this.#bindings.size;
  }

  /** Connects in flight (neither established nor failed yet). */
  get pendingConnects(): number {
    return this.#pending.size;
  }

  /** Runs the boot function (at creation and at every restart). */
  boot(): void {
    if (this.#boot === undefined) return;
    try {
      const out = this.#boot(this);
      if (out instanceof Promise) out.catch((err) => this.#net.fail(err));
    } catch (err) {
      this.#net.fail(err);
    }
  }

  #port(): number {
    for (let i = 0; i < 16384; i++) {
      const port = this.#nextPort;
      this.#nextPort = port >= 65535 ? FIRST_EPHEMERAL : port + 1;
      if (!this.#bound(port)) return port;
    }
    throw new ConnectionError("other", `No free port on ${this.name}: every ephemeral port is bound`);
  }

  #bound(port: number): boolean {
    for (const b of this.#bindings.values()) if (b.listener.addr.port === port) return true;
    return false;
  }

  /** The listener that accepts connections to `ip:port`. */
  #listenerFor(ip: string, port: number): QueueListener | undefined {
    const b = this.#bindings.get(`${ip}|${port}`) ??
      (isIpv6(ip) ? undefined : this.#bindings.get(`0.0.0.0|${port}`)) ??
      this.#bindings.get(`::|${port}`);
    return b?.listener;
  }

  connect(hostname: string, port: number, options: ConnectOptions = {}): Promise<Conn> {
    const net = this.#net;
    const ip = canonicalIp(hostname);
    const target = `${ip !== undefined && isIpv6(ip) ? `[${ip}]` : hostname}:${port}`;
    if (!this.#up) {
      return Promise.reject(new ConnectionError("unreachable", `Cannot connect to ${target}: ${this.name} is down`));
    }
    if (ip === undefined) {
      return Promise.reject(
        new ConnectionError("unreachable", `Cannot resolve ${hostname}: the simulator has no names, use an address`),
      );
    }
    const local = isIpv6(ip) ? this.ipv6 : this.ipv4;
    if (local === undefined) {
      return Promise.reject(
        new ConnectionError(
          "unreachable",
          `Cannot connect to ${target}: ${this.name} has no ${isIpv6(ip) ? "IPv6" : "IPv4"} address`,
        ),
      );
    }
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      return Promise.reject(new ConnectionError("other", `Cannot connect to ${target}: invalid port ${port}`));
    }
    const signal = options.signal;
    if (signal?.aborted) {
      return Promise.reject(
        new ConnectionError("aborted", `Connection to ${target} aborted`, { cause: signal.reason }),
      );
    }
    let localPort: number;
    try {
      localPort = this.#port();
    } catch (err) {
      return Promise.reject(err);
    }
    const incarnation = this.#incarnation;
    const from = `${local.includes(":") ? `[${local}]` : local}:${localPort}`;
    net.record("connect", `${this.name} ${from} -> ${target}`);
    return new Promise<Conn>((resolve, reject) => {
      let timer: SimEvent | undefined;
      let settled = false;
      const onAbort = () => finish(new ConnectionError("aborted", `Connection to ${target} aborted`));
      const finish = (err: ConnectionError | undefined, conn?: End) => {
        if (settled) return;
        settled = true;
        this.#pending.delete(pending);
        if (timer !== undefined) net.cancel(timer);
        signal?.removeEventListener("abort", onAbort);
        if (err !== undefined) {
          net.record(`connect.${err.code}`, `${this.name} ${from} -> ${target}`);
          reject(err);
        } else {
          net.record("connected", `${this.name} ${from} -> ${target}`);
          resolve(conn!);
        }
      };
      const pending: PendingConnect = { fail: (err) => finish(err) };
      this.#pending.add(pending);
      signal?.addEventListener("abort", onAbort, { once: true });
      const limit = options.timeout ?? net.connectTimeout;
      timer = this.#src.at(net.time + Math.max(0, limit), () => {
        timer = undefined;
        finish(new ConnectionError("timeout", `Connection to ${target} timed out after ${limit / 1000} s`));
      });
      const remote = net.lookup(ip);
      const profile = remote === undefined ? undefined : net.profile(this, remote);
      const latency = profile?.latency ?? 0;
      this.#src.at(net.time + latency, () => {
        // The SYN arrives: silence, a reset, or a connection.
        if (settled || remote === undefined || profile === undefined) return;
        if (!remote.up || net.separated(this, remote) || remote.#dropUntil > net.time) return;
        const listener = remote.#listenerFor(ip, port);
        if (listener === undefined || remote.#refuseUntil > net.time) {
          this.#src.at(net.time + latency, () => {
            finish(new ConnectionError("refused", `Connection to ${target} refused`));
          });
          return;
        }
        const clientEnd = net.end(this, { hostname: local, port: localPort }, { hostname: ip, port });
        const serverEnd = net.end(remote, { hostname: ip, port }, { hostname: local, port: localPort });
        const link = net.link(clientEnd, serverEnd, profile);
        listener.push(serverEnd);
        this.#src.at(net.time + latency, () => {
          if (settled || !this.#up || this.#incarnation !== incarnation) {
            // We gave up (or crashed) meanwhile: our stack resets the connection.
            link.reset(clientEnd, "connect abandoned");
            link.resetLater(serverEnd, "connect abandoned");
            return;
          }
          finish(undefined, clientEnd);
        });
      });
    });
  }

  listen(options: ListenOptions = {}): Promise<Listener> {
    const hostname = options.hostname ?? "0.0.0.0";
    const ip = hostname === "0.0.0.0" || hostname === "::" ? hostname : canonicalIp(hostname);
    if (!this.#up) {
      return Promise.reject(new ConnectionError("unreachable", `Cannot listen on ${hostname}: ${this.name} is down`));
    }
    if (ip === undefined || (ip !== "0.0.0.0" && ip !== "::" && ip !== this.ipv4 && ip !== this.ipv6)) {
      return Promise.reject(
        new ConnectionError("other", `Cannot listen on ${hostname}: not an address of ${this.name}`),
      );
    }
    let port = options.port ?? 0;
    if (port === 0) {
      try {
        port = this.#port();
      } catch (err) {
        return Promise.reject(err);
      }
    } else if (!Number.isInteger(port) || port < 1 || port > 65535) {
      return Promise.reject(new ConnectionError("other", `Cannot listen on port ${port}: not a port number`));
    }
    const key = `${ip}|${port}`;
    const wild = this.#bindings.get(`::|${port}`) ?? (isIpv6(ip) ? undefined : this.#bindings.get(`0.0.0.0|${port}`));
    if (this.#bindings.has(key) || wild !== undefined || (ip === "::" && this.#bound(port))) {
      return Promise.reject(
        new ConnectionError("other", `Cannot listen on ${hostname}:${port}: address already in use`),
      );
    }
    const addr: NetAddr = { hostname: ip, port };
    const net = this.#net;
    const listener: QueueListener = new QueueListener(addr, () => {
      if (this.#bindings.get(key)?.listener === listener) {
        this.#bindings.delete(key);
        net.record("unlisten", `${this.name} ${formatAddr(ip, port)}`);
      }
      return Promise.resolve();
    }, options.signal);
    this.#bindings.set(key, { listener, key });
    net.record("listen", `${this.name} ${formatAddr(ip, port)}`);
    return Promise.resolve(listener);
  }

  crash(mode: CrashMode = "machine"): void {
    if (!this.#up) return;
    this.#up = false;
    this.#net.record("fault.crash", `${this.name} ${mode}`);
    for (const end of [...this.ends]) {
      end.link.reset(end, "host crashed");
      if (mode === "process") end.link.resetLater(end.link.other(end), `${this.name} process died`);
    }
    for (const b of [...this.#bindings.values()]) b.listener.close();
    this.#bindings.clear();
    this.#clock.cancelAll();
    for (const p of [...this.#pending]) {
      p.fail(new ConnectionError("closed", `Connection attempt abandoned: ${this.name} crashed`));
    }
  }

  restart(): void {
    if (this.#up) return;
    this.#up = true;
    this.#incarnation++;
    this.#net.record("fault.restart", this.name);
    this.boot();
  }

  refuseConnections(ms: number): void {
    this.#refuseUntil = this.#net.time + ms;
    this.#net.record("fault.refuse", `${this.name} for ${ms} ms`);
  }

  dropConnections(ms: number): void {
    this.#dropUntil = this.#net.time + ms;
    this.#net.record("fault.drop", `${this.name} for ${ms} ms`);
  }

  /** The host as the trace names it, with its addresses. */
  toString(): string {
    return `${this.name} (${this.addresses.join(", ")})`;
  }
}
