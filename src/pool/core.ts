/**
 * The machinery of the `Pool`: its peers, the connection manager, the
 * listeners, admission, and what happens when a peer leaves. Internal:
 * `Pool` is the public face.
 *
 * @module
 */
import type { Listener } from "../adapters/types.ts";
import type { Conn } from "../peer/conn.ts";
import type { DisconnectError } from "../peer/errors.ts";
import { splitHostPort } from "../peer/handshake.ts";
import { LruSet, MAX_SENT_NONCES } from "../peer/lru.ts";
import { Peer } from "../peer/peer.ts";
import type { Message } from "../wire/message.ts";
import type { NetAddress } from "../wire/netaddress.ts";
import { NET_ADDRESS_TIME_VERSION } from "../wire/protocol.ts";
import { canonicalHost } from "./bans.ts";
import { ConnManager, type ConnReq } from "./connmgr.ts";
import { PoolError } from "./errors.ts";
import { EventHub } from "./events.ts";
import { Guard } from "./guard.ts";
import { type ListenerHost, poolListeners } from "./listeners.ts";
import { disconnectPenalty } from "./misbehavior.ts";
import type { ResolvedPoolOptions } from "./options.ts";
import { PeerRateLimiter } from "./ratelimit.ts";
import type { Watcher } from "./request.ts";
import { outboundGroup, pickOutbound } from "./slots.ts";

/** What the pool keeps per peer. */
export interface Entry {
  readonly peer: Peer;
  readonly host: string;
  readonly req: ConnReq | undefined;
  readonly limiter: PeerRateLimiter;
  readonly watchers: Set<Watcher>;
  joined: boolean;
}

/** Where the pool is in its life. */
export type PoolState = "new" | "starting" | "running" | "stopping" | "stopped";

/** Describes an error for a log line. */
export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The pool's machinery (see `Pool`). */
export class PoolCore {
  readonly o: ResolvedPoolOptions;
  readonly cm: ConnManager;
  readonly guard: Guard;
  readonly hub: EventHub = new EventHub();
  readonly entries: Map<Peer, Entry> = new Map();
  readonly joinWaiters: Set<() => void> = new Set();
  readonly listeners: Listener[] = [];
  readonly #acceptLoops: Promise<void>[] = [];
  readonly #nonces: LruSet<bigint>;
  readonly #listenerHost: ListenerHost;
  #state: PoolState = "new";
  #stopping: Promise<void> | undefined;
  #signal: { signal: AbortSignal; onAbort: () => void } | undefined;

  constructor(o: ResolvedPoolOptions) {
    this.o = o;
    this.guard = new Guard(o);
    this.#nonces = o.peer.sentNonces ?? new LruSet<bigint>(MAX_SENT_NONCES);
    const connectOnly = o.connectPeers.length > 0;
    this.cm = new ConnManager({
      targetOutbound: o.targetOutbound,
      retryInterval: o.retryInterval,
      maxRetryInterval: o.maxRetryInterval,
      maxFailedAttempts: o.maxFailedAttempts,
      dialTimeout: o.dialTimeout,
      clock: o.clock,
      dial: (addr, signal) => this.#dial(addr, signal),
      ...(connectOnly ? {} : {
        getNewAddress: () =>
          pickOutbound({
            addrManager: o.addrManager,
            requests: this.cm.requests(),
            maxPerGroup: o.maxOutboundPerGroup,
            allowUnroutable: o.allowUnroutable,
            network: o.anyPort ? undefined : o.network,
            banned: (host) => this.guard.banOf(host) !== undefined,
          }),
      }),
      onAttempt: (req) => this.#book(() => o.addrManager.attempt(req.addr)),
      onConnection: (req, conn) => this.#outbound(req, conn),
      onFailure: (req, err) => o.log(`Cannot connect to ${req.addr}: ${errorText(err)}`),
    });
    this.#listenerHost = {
      countMessage: (peer, msg) => this.#countMessage(peer, msg),
      addBanScore: (peer, p, t, reason) => this.addBanScore(peer, p, t, reason),
      received: (peer, msg) => {
        for (const w of this.entries.get(peer)?.watchers ?? []) w.message(msg);
      },
      learn: (peer, list) => this.#learn(peer, list),
      addressCache: () => o.addrManager.addressCache(),
      addrCacheLists: () => this.#addrCacheLists(),
      services: o.peer.services ?? 0n,
      now: () => o.clock.now(),
      log: o.log,
    };
  }

  get state(): PoolState {
    return this.#state;
  }

  /** Starts (see `Pool.start`). */
  async start(signal?: AbortSignal): Promise<void> {
    if (this.#state !== "new") throw new PoolError("stopped", "Cannot start the pool: it was started before");
    this.#state = "starting";
    const o = this.o;
    await this.guard.load();
    if (o.ownAddrManager) await o.addrManager.start();
    for (const opts of o.listen) {
      try {
        const l = await o.listenFn!(opts);
        this.listeners.push(l);
      } catch (err) {
        await this.stop();
        throw new PoolError(
          "listen-failed",
          `Cannot listen on ${opts.hostname ?? "0.0.0.0"}:${opts.port ?? 0}: ${errorText(err)}`,
          { cause: err },
        );
      }
    }
    if (this.#state !== "starting") throw new PoolError("stopped", "The pool was stopped while starting");
    this.#state = "running";
    for (const l of this.listeners) this.#acceptLoops.push(this.#acceptLoop(l));
    const permanent = o.connectPeers.length > 0 ? o.connectPeers : o.addPeers;
    for (const addr of permanent) this.cm.connect(addr, true);
    this.cm.start();
    if (signal !== undefined) {
      if (signal.aborted) void this.stop();
      else {
        const onAbort = () => void this.stop();
        signal.addEventListener("abort", onAbort, { once: true });
        this.#signal = { signal, onAbort };
      }
    }
  }

  /** Stops (see `Pool.stop`). */
  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    const wasStarted = this.#state !== "new";
    this.#state = "stopping";
    if (this.#signal !== undefined) this.#signal.signal.removeEventListener("abort", this.#signal.onAbort);
    for (const l of this.listeners) l.close();
    await this.cm.stop();
    const peers = [...this.entries.keys()];
    for (const p of peers) p.disconnect();
    await Promise.all(peers.map((p) => p.disconnected));
    await Promise.allSettled(this.#acceptLoops);
    for (const fn of [...this.joinWaiters]) fn();
    this.hub.close();
    await this.guard.flush();
    if (wasStarted && this.o.ownAddrManager) await this.o.addrManager.stop();
    this.#state = "stopped";
  }

  /** The admitted peers. */
  peers(): Peer[] {
    const out: Peer[] = [];
    for (const e of this.entries.values()) if (e.joined && e.peer.connected) out.push(e.peer);
    return out;
  }

  /** Raises a peer's host's score, disconnecting the host when banned. */
  addBanScore(peer: Peer, persistent: number, transient: number, reason: string): void {
    const host = this.hostOf(peer);
    if (host !== undefined && this.guard.addScore(host, persistent, transient, reason, String(peer))) {
      this.disconnectHost(host);
    }
  }

  hostOf(peer: Peer): string | undefined {
    const e = this.entries.get(peer);
    if (e !== undefined) return e.host;
    const hp = splitHostPort(peer.addr);
    return hp === undefined ? undefined : canonicalHost(hp.host);
  }

  disconnectHost(host: string): void {
    for (const e of this.entries.values()) if (e.host === host) e.peer.disconnect();
  }

  /** Runs an address-book call that may refuse an address (a host name), ignoring the refusal. */
  #book(fn: () => void): void {
    try {
      fn();
    } catch {
      // Not an address the book keeps.
    }
  }

  #dial(addr: string, signal: AbortSignal): Promise<Conn> {
    const hp = splitHostPort(addr);
    if (hp === undefined) return Promise.reject(new TypeError(`Invalid peer address: ${addr} is not host:port`));
    const ban = this.guard.banOf(canonicalHost(hp.host));
    if (ban !== undefined) {
      return Promise.reject(new Error(`${hp.host} is banned until ${new Date(ban.until).toISOString()}`));
    }
    return this.o.connect(hp.host, hp.port, { signal, timeout: this.o.dialTimeout });
  }

  #peerConfig() {
    const o = this.o;
    return {
      ...o.peer,
      network: o.network,
      clock: o.clock,
      random: o.random,
      sentNonces: this.#nonces,
      listeners: poolListeners(this.#listenerHost, o.peer.listeners),
    };
  }

  #outbound(req: ConnReq, conn: Conn): void {
    let peer: Peer;
    try {
      peer = Peer.outbound(req.addr, this.#peerConfig());
    } catch (err) {
      this.o.log(`Cannot make a peer for ${req.addr}: ${errorText(err)}`);
      conn.close();
      this.cm.disconnected(req.id, false);
      return;
    }
    const hp = splitHostPort(req.addr)!;
    this.#track(peer, conn, canonicalHost(hp.host), req);
  }

  async #acceptLoop(l: Listener): Promise<void> {
    try {
      for await (const conn of l) this.#inbound(conn);
    } catch (err) {
      if (this.#state === "running") this.o.log(`Listener ${l.addr.hostname}:${l.addr.port} failed: ${errorText(err)}`);
    }
  }

  /** An inbound connection: refused at once (before reading a byte) or handed to a new peer. */
  #inbound(conn: Conn): void {
    const o = this.o;
    if (this.#state !== "running") {
      conn.close();
      return;
    }
    const host = canonicalHost(conn.remoteAddr.hostname);
    const group = outboundGroup(host.includes(":") ? `[${host}]:0` : `${host}:0`, o.allowUnroutable);
    if (this.guard.checkInbound(host, group) !== undefined) {
      conn.close();
      return;
    }
    let inbound = 0;
    for (const e of this.entries.values()) if (e.peer.inbound) inbound++;
    if (inbound >= o.maxPeers - o.targetOutbound) {
      this.guard.refused.full++;
      conn.close();
      return;
    }
    let peer: Peer;
    try {
      peer = Peer.inbound(this.#peerConfig());
    } catch (err) {
      o.log(`Cannot make an inbound peer: ${errorText(err)}`);
      conn.close();
      return;
    }
    this.#track(peer, conn, host, undefined);
  }

  #track(peer: Peer, conn: Conn, host: string, req: ConnReq | undefined): void {
    const entry: Entry = {
      peer,
      host,
      req,
      limiter: new PeerRateLimiter(this.o.rateLimits, this.o.clock),
      watchers: new Set(),
      joined: false,
    };
    this.entries.set(peer, entry);
    void peer.ready.then((ok) => {
      if (ok) this.#admit(entry);
    });
    void peer.disconnected.then((why) => this.#gone(entry, why));
    peer.associateConnection(conn);
  }

  /** The handshake is done: soterd's `OnVersion` and `handleAddPeerMsg`. */
  #admit(e: Entry): void {
    const { peer } = e;
    const o = this.o;
    if (!peer.connected) return;
    if (this.#state !== "running" || this.guard.banOf(e.host) !== undefined) {
      peer.disconnect();
      return;
    }
    if (this.peers().length >= o.maxPeers) {
      o.log(`Max peers reached [${o.maxPeers}] - disconnecting peer ${peer}`);
      peer.disconnect();
      return;
    }
    e.joined = true;
    if (e.req !== undefined) {
      if (peer.protocolVersion >= NET_ADDRESS_TIME_VERSION && o.addrManager.needMoreAddresses()) {
        void peer.queueMessage({ command: "getaddr" });
        // soterd ignores getaddr on simnet but answers getaddrcache, when it does not crash on it.
        if (o.askAddrCache) void peer.queueMessage({ command: "getaddrcache" });
      }
      const addr = e.req.addr;
      this.#book(() => o.addrManager.good(addr));
    }
    this.hub.emit({ type: "peer-joined", peer });
    for (const fn of [...this.joinWaiters]) fn();
  }

  #gone(e: Entry, why: DisconnectError): void {
    const { peer } = e;
    this.entries.delete(peer);
    for (const w of [...e.watchers]) w.gone();
    if (e.joined) this.hub.emit({ type: "peer-left", peer, reason: why });
    const penalty = disconnectPenalty(why);
    if (penalty !== undefined && this.guard.banOf(e.host) === undefined) {
      this.addBanScore(peer, penalty.persistent, penalty.transient, `disconnected: ${why.message}`);
    }
    if (e.req !== undefined) {
      const addr = e.req.addr;
      if (peer.verAckReceived && peer.versionKnown) this.#book(() => this.o.addrManager.connected(addr));
      this.cm.disconnected(e.req.id, this.#state === "running");
    }
  }

  #countMessage(peer: Peer, msg: Message): void {
    const e = this.entries.get(peer);
    if (e === undefined || e.limiter.allow(msg)) return;
    this.guard.rateLimited++;
    this.addBanScore(peer, 0, this.o.rateLimitPenalty, `${msg.command} over its rate limit`);
  }

  #learn(peer: Peer, list: readonly NetAddress[]): void {
    const src = peer.na;
    if (src === undefined || list.length === 0) return;
    const added = this.o.addrManager.addAddresses(list, src);
    if (added > 0) this.cm.fill();
  }

  #addrCacheLists(): { inbound: NetAddress[]; outbound: NetAddress[]; known: NetAddress[] } {
    const inbound: NetAddress[] = [];
    const outbound: NetAddress[] = [];
    for (const p of this.peers()) {
      if (p.na === undefined) continue;
      (p.inbound ? inbound : outbound).push(p.na);
    }
    return { inbound, outbound, known: this.o.addrManager.allAddresses() };
  }
}
