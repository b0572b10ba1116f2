/**
 * The `Pool`: many peers at once, as soterd's server keeps them: a target
 * of outbound peers from the address book, one per address group,
 * permanent peers, inbound peers up to a maximum, bans, rate limits, and
 * requests that move from peer to peer.
 *
 * @module
 */
import type { NetAddr } from "../peer/conn.ts";
import type { Peer } from "../peer/peer.ts";
import type { Message } from "../wire/message.ts";
import { type BanEntry, canonicalHost } from "./bans.ts";
import { PoolCore } from "./core.ts";
import { PoolError } from "./errors.ts";
import type { PoolEvent } from "./events.ts";
import { checkPeerAddress, type PoolOptions, resolvePoolOptions } from "./options.ts";
import { type RequestHost, type RequestOptions, type RequestResult, runRequest } from "./request.ts";

/** A snapshot of the pool, from {@linkcode Pool.stats}. */
export interface PoolStats {
  /** Admitted peers (handshake complete), by kind, and those still handshaking. */
  peers: { total: number; outbound: number; inbound: number; permanent: number; handshaking: number };
  /** Outbound requests: dialling now, and permanent peers waiting to be dialled again. */
  dials: { pending: number; retrying: number };
  /** The address book's tables. */
  addresses: { new: number; tried: number };
  /** Bans in force. */
  bans: number;
  /** Inbound connections closed at once since start: banned host, over the per-minute limits, no room. */
  refused: { banned: number; rateLimited: number; full: number };
  /** Messages over their rate limit since start. */
  rateLimited: number;
}

/** Options of {@linkcode Pool.broadcast}. */
export interface BroadcastOptions {
  /** Peers not to send to (e.g. the one the message came from). */
  exclude?: readonly Peer[];
  /** Which peers to send to; default all. */
  filter?: (peer: Peer) => boolean;
}

/**
 * Many soter peers at once: soterd's connection manager and server around
 * {@linkcode Peer}. Give it an adapter's `connect` (and `listen` to accept
 * peers); it keeps `targetOutbound` outbound peers picked from its address
 * book (one per address group), dials permanent peers again with a
 * growing delay, accepts inbound peers up to `maxPeers`, scores and bans
 * misbehaving hosts, limits each peer's request rates and each source's
 * connection rate, and tells you who joins and leaves.
 *
 * Runtime-neutral: the connections, the clock, the random source and the
 * storage are given, so the same pool runs on sockets or in a simulator.
 *
 * @example A pool on loopback
 * ```ts ignore
 * import { Pool, SIMNET } from "@soter/peer";
 * import { connect, listen } from "@soter/peer/deno";
 * const pool = new Pool({
 *   network: SIMNET,
 *   connect,
 *   listenFn: listen,
 *   listen: [{ hostname: "127.0.0.1", port: 0 }],
 *   addPeers: ["127.0.0.1:18555"],
 *   peer: { userAgentName: "myapp", userAgentVersion: "1.0.0" },
 * });
 * await pool.start();
 * for await (const e of pool.events()) {
 *   console.log(e.type, e.peer.addr);
 *   if (e.type === "peer-joined") break;
 * }
 * await pool.stop();
 * ```
 */
export class Pool implements AsyncDisposable {
  readonly #core: PoolCore;

  /**
   * Creates a pool; nothing happens before {@linkcode Pool.start}.
   *
   * @param options The adapter functions and the knobs (see {@linkcode PoolOptions}).
   * @throws {ConfigError} For an option out of range, a malformed peer
   *   address or whitelist entry, or a missing function.
   */
  constructor(options: PoolOptions) {
    this.#core = new PoolCore(resolvePoolOptions(options));
  }

  /**
   * Starts: loads the bans (and the address book the pool made), binds the
   * listen addresses, dials the permanent peers and fills the outbound
   * slots. Aborting `signal` stops the pool.
   *
   * @param signal Stops the pool when aborted.
   * @returns A promise that settles once listening and dialling.
   * @throws {PoolError} `stopped` when started twice or after stop,
   *   `listen-failed` when an address cannot be bound (the pool is then stopped).
   */
  start(signal?: AbortSignal): Promise<void> {
    return this.#core.start(signal);
  }

  /**
   * Stops: closes the listeners, aborts the dials, disconnects every peer
   * and waits for them, ends the event iterators and the requests in
   * flight (they reject with `stopped`), and saves the bans and the
   * address book. Calling it again returns the same promise.
   *
   * @returns A promise that settles once everything is closed.
   */
  stop(): Promise<void> {
    return this.#core.stop();
  }

  /**
   * Stops the pool, for `await using`.
   *
   * @returns A promise that settles once stopped.
   */
  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }

  /** The addresses the pool listens on (with the real ports when 0 was asked). */
  get listenAddrs(): NetAddr[] {
    return this.#core.listeners.map((l) => ({ ...l.addr }));
  }

  // -------------------------------------------------------------------
  // Peers.

  /**
   * The admitted peers: connected, handshake complete.
   *
   * @returns A new array.
   */
  peers(): Peer[] {
    return this.#core.peers();
  }

  /**
   * Iterates over peers joining and leaving, from now on, until the pool
   * stops. Each iterator buffers what it has not read yet; leaving the
   * loop detaches it.
   *
   * @returns An async iterator of events.
   */
  events(): AsyncIterableIterator<PoolEvent> {
    return this.#core.hub.subscribe();
  }

  /**
   * Asks for a connection to `addr` (soterd's `addnode`).
   *
   * @param addr `host:port`.
   * @param permanent Dial it again whenever it fails or leaves (default `true`).
   * @returns `false` when it is already connected or being dialled, or the pool is stopping.
   * @throws {ConfigError} When `addr` is not `host:port`.
   */
  connect(addr: string, permanent = true): boolean {
    checkPeerAddress(addr);
    const state = this.#core.state;
    if (state === "stopping" || state === "stopped") return false;
    return this.#core.cm.connect(addr, permanent) !== undefined;
  }

  /**
   * Queues a message to every admitted peer.
   *
   * @param msg The message.
   * @param options Peers to leave out.
   * @returns How many peers it was queued to (a peer whose protocol
   *   version cannot carry the message is skipped).
   */
  broadcast(msg: Message, options: BroadcastOptions = {}): number {
    let n = 0;
    for (const peer of this.peers()) {
      if (options.exclude?.includes(peer) || (options.filter !== undefined && !options.filter(peer))) continue;
      try {
        void peer.queueMessage(msg);
        n++;
      } catch {
        // Too new for this peer's protocol version.
      }
    }
    return n;
  }

  /**
   * Sends a request to one peer and waits for the answer `match` accepts;
   * when the peer times out, leaves, or answers `notfound` for what a
   * `getdata` asked, asks another, up to `retries` more.
   *
   * @param msg The request.
   * @param options How to recognise the answer, how long to wait, how many peers to try.
   * @returns The answer and the peer that gave it.
   * @throws {PoolError} `request-failed`, `aborted` or `stopped`.
   *
   * @example Asking for headers
   * ```ts ignore
   * const { message } = await pool.request(
   *   { command: "getheaders", protocolVersion: 70013, blockLocatorHeight: [0], hashStop: new Uint8Array(32) },
   *   { match: (m) => m.command === "headers", timeout: 10_000 },
   * );
   * ```
   */
  request(msg: Message, options: RequestOptions): Promise<RequestResult> {
    const core = this.#core;
    if (core.state !== "running") {
      return Promise.reject(new PoolError("not-started", `Cannot request ${msg.command}: the pool is not running`));
    }
    const host: RequestHost = {
      clock: core.o.clock,
      random: core.o.random,
      peers: () => core.peers(),
      watch: (peer, w) => {
        const set = core.entries.get(peer)?.watchers;
        if (set === undefined) {
          w.gone();
          return () => {};
        }
        set.add(w);
        return () => set.delete(w);
      },
      onJoinOrStop: (fn) => {
        core.joinWaiters.add(fn);
        return () => core.joinWaiters.delete(fn);
      },
      get stopping() {
        return core.state !== "running";
      },
    };
    return runRequest(host, msg, options);
  }

  // -------------------------------------------------------------------
  // Scores and bans.

  /**
   * Raises a peer's ban score by persistent points (the peer did something
   * a correct node never does); at the threshold the host is banned and
   * disconnected. Whitelisted hosts are exempt.
   *
   * @param peer The peer.
   * @param points Points that never decay.
   * @param reason Why, for the log and the ban.
   */
  misbehaving(peer: Peer, points: number, reason: string): void {
    this.addBanScore(peer, points, 0, reason);
  }

  /**
   * Raises a peer's ban score (soterd's `addBanScore`): `persistent`
   * points stay, `transient` ones decay with a 60 s half-life. At
   * `banThreshold` the host is banned for `banDuration` and every
   * connection from it is closed. Nothing happens with `disableBanning`
   * or for a whitelisted host.
   *
   * @param peer The peer.
   * @param persistent Points that never decay.
   * @param transient Points that decay.
   * @param reason Why.
   */
  addBanScore(peer: Peer, persistent: number, transient: number, reason: string): void {
    this.#core.addBanScore(peer, persistent, transient, reason);
  }

  /**
   * A peer's ban score now (its host's, kept across connections).
   *
   * @param peer The peer.
   * @returns The score.
   */
  banScore(peer: Peer): number {
    const host = this.#core.hostOf(peer);
    return host === undefined ? 0 : this.#core.guard.score(host);
  }

  /**
   * Bans a peer's host for `banDuration` and disconnects it (and any other
   * connection from that host). A whitelisted host is not banned.
   *
   * @param peer The peer.
   * @param reason Why.
   */
  ban(peer: Peer, reason: string): void {
    const host = this.#core.hostOf(peer);
    if (host === undefined) {
      peer.disconnect();
      return;
    }
    this.banHost(host, reason);
  }

  /**
   * Bans a host (an IP address) and closes its connections.
   *
   * @param host The host.
   * @param reason Why.
   * @param durationMs For how long; default `banDuration`.
   * @returns `false` when the host is whitelisted (not banned).
   */
  banHost(host: string, reason: string, durationMs: number = this.#core.o.banDuration): boolean {
    const key = canonicalHost(host);
    if (!this.#core.guard.ban(key, reason, durationMs)) return false;
    this.#core.disconnectHost(key);
    return true;
  }

  /**
   * Lifts a ban.
   *
   * @param host The host.
   * @returns `true` when it was banned.
   */
  unban(host: string): boolean {
    return this.#core.guard.unban(host);
  }

  /**
   * The bans in force.
   *
   * @returns Each host, until when and why.
   */
  bans(): BanEntry[] {
    return this.#core.guard.list();
  }

  /**
   * A snapshot of the pool.
   *
   * @returns Counts of peers, dials, addresses, bans and refusals.
   */
  stats(): PoolStats {
    const peers = { total: 0, outbound: 0, inbound: 0, permanent: 0, handshaking: 0 };
    for (const e of this.#core.entries.values()) {
      if (!e.joined) {
        peers.handshaking++;
        continue;
      }
      peers.total++;
      if (e.peer.inbound) peers.inbound++;
      else {
        peers.outbound++;
        if (e.req?.permanent) peers.permanent++;
      }
    }
    const dials = { pending: 0, retrying: 0 };
    for (const r of this.#core.cm.requests()) {
      if (r.state === "pending") dials.pending++;
      else if (r.state === "failing") dials.retrying++;
    }
    const a = this.#core.o.addrManager.stats();
    return {
      peers,
      dials,
      addresses: { new: a.new, tried: a.tried },
      bans: this.#core.guard.list().length,
      refused: { ...this.#core.guard.refused },
      rateLimited: this.#core.guard.rateLimited,
    };
  }
}
