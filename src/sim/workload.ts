/**
 * A ready-made workload for the simulator: hosts running `Peer`s that
 * listen, connect, ping, announce inventory, reconnect after failures, and
 * check the invariants a correct peer keeps (no message delivered twice or
 * after its connection closed, a reason for every disconnect, every queued
 * promise settled, nothing left behind). The scale benchmark, the search
 * mode and the tests run it; use it as a model for your own.
 *
 * @module
 */
import { SIMNET } from "../chain/params.ts";
import type { PeerConfig } from "../peer/config.ts";
import { Peer } from "../peer/peer.ts";
import { InvType } from "../wire/invvect.ts";
import type { SimHost } from "./host.ts";
import type { SimNet } from "./net.ts";

/** The port simulated nodes listen on. */
export const SIM_PORT = 18555;

const REASONS = new Set([
  "local",
  "aborted",
  "listener-error",
  "newest-block-error",
  "send-queue-full",
  "remote-closed",
  "read-failed",
  "write-failed",
  "handshake-timeout",
  "version-not-first",
  "self-connection",
  "genesis-mismatch",
  "incompatible-user-agent",
  "version-rejected",
  "obsolete-version",
  "duplicate-version",
  "duplicate-verack",
  "malformed",
  "bloom-not-supported",
  "stalled",
  "idle-timeout",
]);

/** Options of {@linkcode PeerNetwork}. */
export interface PeerNetworkOptions {
  /** How many hosts (default 10). */
  hosts?: number;
  /** The share of hosts that listen (default 0.5); the others connect. */
  listening?: number;
  /** Outbound connections each connecting host keeps (default 1). */
  outbound?: number;
  /** Connecting hosts start at random within this many virtual milliseconds (default 60 s). */
  startWithin?: number;
  /** Reconnect after a disconnect, after this many virtual milliseconds (default 30 s; 0 never). */
  reconnectAfter?: number;
  /** Inventory announcements per virtual minute across the network (default 60). */
  invPerMinute?: number;
  /** Configuration shared by every peer (the network defaults to simnet). */
  peer?: PeerConfig;
}

/** What the workload counted. */
export interface PeerNetworkStats {
  /** Connections established (`connect` resolved). */
  connects: number;
  /** Connects that failed, by error code. */
  connectFailures: Record<string, number>;
  /** Peers that completed the handshake. */
  handshakes: number;
  /** Disconnects, by reason. */
  disconnects: Record<string, number>;
  /** Inventory announced, and received. */
  invSent: number;
  /** Inventory vectors received. */
  invReceived: number;
  /** Pongs that answered our pings. */
  pongs: number;
}

/** A hash that names an announcement: the sender's host and a counter. */
function invHash(host: number, n: number): Uint8Array {
  const h = new Uint8Array(32);
  const v = new DataView(h.buffer);
  v.setUint32(0, host, true);
  v.setUint32(4, n, true);
  h[31] = 0x5a;
  return h;
}

/**
 * Hosts running `Peer`s on a {@linkcode SimNet}, with invariant checks.
 * Violations are collected in {@linkcode PeerNetwork.violations} (the
 * search mode stops at the first).
 */
export class PeerNetwork {
  /** The network. */
  readonly net: SimNet;
  /** Peers not yet disconnected. */
  readonly live: Set<Peer> = new Set();
  /** The same peers in a list, for drawing one at random. */
  readonly #liveList: Peer[] = [];
  readonly #liveIndex = new Map<Peer, number>();
  /** The hosts that listen. */
  readonly #servers: SimHost[] = [];
  /** What went wrong: one sentence each. */
  readonly violations: string[] = [];
  /** Counters. */
  readonly stats: PeerNetworkStats = {
    connects: 0,
    connectFailures: {},
    handshakes: 0,
    disconnects: {},
    invSent: 0,
    invReceived: 0,
    pongs: 0,
  };
  readonly #options: Required<Omit<PeerNetworkOptions, "peer">> & { peer: PeerConfig };
  readonly #listeners: (() => void)[] = [];
  readonly #seen = new WeakMap<Peer, Set<string>>();
  #pendingWrites = 0;
  #invCounter = 0;
  #stopped = false;

  /**
   * Adds the hosts to `net` (their programs start when it runs).
   *
   * @param net The network.
   * @param options Size and behaviour.
   */
  constructor(net: SimNet, options: PeerNetworkOptions = {}) {
    this.net = net;
    this.#options = {
      hosts: options.hosts ?? 10,
      listening: options.listening ?? 0.5,
      outbound: options.outbound ?? 1,
      startWithin: options.startWithin ?? 60_000,
      reconnectAfter: options.reconnectAfter ?? 30_000,
      invPerMinute: options.invPerMinute ?? 60,
      peer: options.peer ?? {},
    };
    const n = this.#options.hosts;
    const listening = Math.max(1, Math.round(n * this.#options.listening));
    for (let i = 0; i < n; i++) {
      const server = i < listening;
      // Listeners are dual-stack, so every host can reach some of them.
      const host = net.host(
        server ? { ipv4: true, ipv6: true, boot: (h) => this.#serve(h) } : { boot: (h) => this.#client(h) },
      );
      if (server) this.#servers.push(host);
    }
    if (this.#options.invPerMinute > 0) this.#announce();
  }

  /** Queued messages whose promise has not settled yet. */
  get pendingWrites(): number {
    return this.#pendingWrites;
  }

  #config(host: SimHost): PeerConfig {
    const base = this.#options.peer;
    const listeners = base.listeners ?? {};
    return {
      network: SIMNET,
      userAgentName: "simnode",
      userAgentVersion: "1.0.0",
      ...base,
      clock: host.clock,
      random: host.random,
      sentNonces: host.sentNonces,
      listeners: {
        ...listeners,
        onInv: (peer, msg, payload) => {
          this.#check(peer, "inv");
          const seen = this.#seen.get(peer) ?? new Set<string>();
          this.#seen.set(peer, seen);
          for (const iv of msg.invList) {
            const key = `${iv.hash[0]},${iv.hash[1]},${iv.hash[4]},${iv.hash[5]},${iv.hash[6]}`;
            if (seen.has(key)) this.#violate(`${peer} delivered inventory ${key} twice`);
            seen.add(key);
            this.stats.invReceived++;
          }
          return listeners.onInv?.(peer, msg, payload);
        },
        onPong: (peer, msg, payload) => {
          this.#check(peer, "pong");
          this.stats.pongs++;
          return listeners.onPong?.(peer, msg, payload);
        },
      },
    };
  }

  #check(peer: Peer, what: string): void {
    if (!peer.connected || peer.disconnectReason !== undefined) {
      this.#violate(`${peer} delivered a ${what} after it disconnected (${peer.disconnectReason?.reason})`);
    }
  }

  #violate(text: string): void {
    this.violations.push(`${(this.net.time / 1000).toFixed(3)} s: ${text}`);
    this.net.note("violation", text);
  }

  #track(peer: Peer, host: SimHost): void {
    this.live.add(peer);
    this.#liveIndex.set(peer, this.#liveList.length);
    this.#liveList.push(peer);
    void peer.ready.then((ok) => {
      if (ok) this.stats.handshakes++;
    });
    void peer.disconnected.then((why) => {
      this.live.delete(peer);
      // Swap-remove from the list.
      const i = this.#liveIndex.get(peer)!;
      const last = this.#liveList.pop()!;
      if (last !== peer) {
        this.#liveList[i] = last;
        this.#liveIndex.set(last, i);
      }
      this.#liveIndex.delete(peer);
      const d = this.stats.disconnects;
      d[why.reason] = (d[why.reason] ?? 0) + 1;
      if (!REASONS.has(why.reason) || why.message === "") {
        this.#violate(`${peer} disconnected without a known reason: ${why.reason} ${why.message}`);
      }
      if (peer.connected) this.#violate(`${peer} reports connected after it disconnected`);
      this.net.note("peer.gone", `${host.name} ${peer.inbound ? "in" : "out"} ${why.reason}`);
    });
  }

  async #serve(host: SimHost): Promise<void> {
    if (this.#stopped) return;
    const listener = await host.listen({ hostname: "::", port: SIM_PORT });
    this.#listeners.push(() => listener.close());
    for await (const conn of listener) {
      if (this.#stopped) {
        conn.close();
        continue;
      }
      const peer = Peer.inbound(this.#config(host));
      this.#track(peer, host);
      peer.associateConnection(conn);
    }
  }

  #client(host: SimHost): void {
    if (this.#stopped) return;
    for (let i = 0; i < this.#options.outbound; i++) {
      const delay = host.rng.below(Math.max(1, this.#options.startWithin));
      host.clock.setTimeout(() => void this.#dial(host), delay);
    }
  }

  async #dial(host: SimHost): Promise<void> {
    if (this.#stopped || !host.up) return;
    const incarnation = host.incarnation;
    const target = this.#servers[host.rng.below(this.#servers.length)];
    if (target === undefined || target === host) return;
    const ip = host.ipv4 !== undefined && target.ipv4 !== undefined ? target.ipv4 : target.ipv6!;
    const address = ip.includes(":") ? `[${ip}]:${SIM_PORT}` : `${ip}:${SIM_PORT}`;
    const peer = Peer.outbound(address, this.#config(host));
    this.#track(peer, host);
    try {
      const conn = await host.connect(ip, SIM_PORT, { timeout: 20_000 });
      this.stats.connects++;
      peer.associateConnection(conn);
    } catch (err) {
      const code = (err as { code?: string }).code ?? "other";
      this.stats.connectFailures[code] = (this.stats.connectFailures[code] ?? 0) + 1;
      peer.disconnect();
    }
    await peer.disconnected;
    if (this.#stopped || this.#options.reconnectAfter <= 0 || host.incarnation !== incarnation || !host.up) return;
    host.clock.setTimeout(() => void this.#dial(host), this.#options.reconnectAfter);
  }

  #announce(): void {
    const every = 60_000 / this.#options.invPerMinute;
    const tick = () => {
      if (this.#stopped) return;
      const peer = this.#liveList[this.net.random.below(this.#liveList.length)];
      if (peer !== undefined && peer.connected) {
        const n = ++this.#invCounter;
        peer.queueInventory({ type: InvType.TX, hash: invHash(0, n), height: 0 });
        this.stats.invSent++;
        // A message with a promise, to check that every promise settles.
        this.#pendingWrites++;
        void peer.queueMessage({ command: "getaddr" }).then(() => this.#pendingWrites--);
      }
      this.net.after(every, tick);
    };
    this.net.after(every, tick);
  }

  /**
   * Checks what must hold after every step: disconnected peers are not
   * live, no host that is down holds an open connection.
   */
  checkStep(): void {
    for (const peer of this.live) {
      if (peer.disconnectReason !== undefined && peer.connected) {
        this.#violate(`${peer} is connected with a disconnect reason`);
      }
    }
    for (const host of this.net.hosts) {
      if (!host.up && host.openConnections > 0) this.#violate(`${host.name} is down with open connections`);
    }
  }

  /**
   * Stops every program: disconnects every peer and closes every listener.
   * Run the network afterwards, then {@linkcode PeerNetwork.checkEnd}.
   */
  stop(): void {
    this.#stopped = true;
    for (const close of this.#listeners) close();
    for (const peer of [...this.live]) peer.disconnect();
  }

  /** Checks that nothing was left behind once stopped and run to idle. */
  checkEnd(): void {
    const net = this.net;
    if (this.live.size > 0) this.#violate(`${this.live.size} peers never reported their disconnect`);
    if (this.#pendingWrites > 0) this.#violate(`${this.#pendingWrites} queued message promises never settled`);
    if (net.openConnections > 0) this.#violate(`${net.openConnections} connections left open`);
    for (const host of net.hosts) {
      if (host.pendingTimers > 0) this.#violate(`${host.name} has ${host.pendingTimers} timers left`);
      if (host.listeners > 0) this.#violate(`${host.name} has ${host.listeners} listeners left`);
      if (host.pendingConnects > 0) this.#violate(`${host.name} has ${host.pendingConnects} connects in flight`);
    }
    if (net.pendingEvents > 0) this.#violate(`${net.pendingEvents} events left scheduled`);
  }
}
