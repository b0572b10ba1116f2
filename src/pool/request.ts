/**
 * `Pool.request`: ask one peer, and another when it times out, leaves or
 * answers `notfound`.
 *
 * @module
 */
import type { Clock } from "../peer/clock.ts";
import type { Peer } from "../peer/peer.ts";
import { randomBelow, type RandomSource } from "../peer/random.ts";
import type { Message } from "../wire/message.ts";
import { PoolError } from "./errors.ts";
import { DEFAULT_REQUEST_RETRIES, DEFAULT_REQUEST_TIMEOUT } from "./options.ts";

/** Options of {@linkcode Pool.request}. */
export interface RequestOptions {
  /**
   * Tells the answer apart from the other messages the peer sends, e.g.
   * `(msg) => msg.command === "headers"`. It sees every message the asked
   * peer sends while the request waits.
   */
  match: (msg: Message, peer: Peer) => boolean;
  /** Milliseconds each peer is given to answer; default 30 s. */
  timeout?: number;
  /** How many other peers to ask after the first fails; default 2. */
  retries?: number;
  /** Which peers may be asked (e.g. those with a service bit); default all. */
  filter?: (peer: Peer) => boolean;
  /** Abandons the request: it rejects with a `PoolError` of kind `aborted`. */
  signal?: AbortSignal;
}

/** What {@linkcode Pool.request} resolves with. */
export interface RequestResult {
  /** The peer that answered. */
  peer: Peer;
  /** Its answer. */
  message: Message;
  /** How many peers were asked, this one included. */
  attempts: number;
}

/** Follows one peer for a request: its messages and its leaving. */
export interface Watcher {
  /** A message from the peer. */
  message(msg: Message): void;
  /** The peer left. */
  gone(): void;
}

/** What a request needs from the pool. */
export interface RequestHost {
  /** The time source. */
  readonly clock: Clock;
  /** The random source (to pick a peer). */
  readonly random: RandomSource;
  /** The admitted peers. */
  peers(): Peer[];
  /** Follows a peer; returns the function that stops following it. */
  watch(peer: Peer, w: Watcher): () => void;
  /** Calls `fn` at the next peer admitted or at stop; returns the function that cancels it. */
  onJoinOrStop(fn: () => void): () => void;
  /** Whether the pool is stopping or stopped. */
  readonly stopping: boolean;
}

type Outcome =
  | { kind: "answer"; message: Message }
  | { kind: "timeout" | "gone" | "notfound" | "unsent" | "no-peer" | "aborted" | "stopped" };

function sameHash(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Tells whether a `notfound` answers a request: it names something a
 * `getdata` asked for.
 *
 * @param req The request.
 * @param msg The message received.
 * @returns `true` for a `notfound` of one of the requested items.
 */
export function isNotFoundFor(req: Message, msg: Message): boolean {
  if (msg.command !== "notfound" || req.command !== "getdata") return false;
  return msg.invList.some((n) => req.invList.some((r) => r.type === n.type && sameHash(r.hash, n.hash)));
}

function pickPeer(host: RequestHost, filter: ((p: Peer) => boolean) | undefined, tried: Set<string>): Peer | undefined {
  const all = host.peers().filter((p) => p.connected && (filter === undefined || filter(p)));
  // By address: a permanent peer that reconnected is the same node.
  const fresh = all.filter((p) => !tried.has(p.addr));
  const from = fresh.length > 0 ? fresh : all;
  return from.length === 0 ? undefined : from[randomBelow(host.random, from.length)];
}

/** Waits for a peer to be admitted, for at most `ms`. */
function waitForPeer(host: RequestHost, ms: number, signal: AbortSignal | undefined): Promise<boolean> {
  return new Promise((resolve) => {
    const done = (ok: boolean) => {
      cancel();
      host.clock.clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      resolve(ok);
    };
    const onAbort = () => done(false);
    const cancel = host.onJoinOrStop(() => done(!host.stopping));
    const timer = host.clock.setTimeout(() => done(false), ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

function ask(host: RequestHost, peer: Peer, msg: Message, opts: RequestOptions, timeout: number): Promise<Outcome> {
  return new Promise<Outcome>((resolve, reject) => {
    let done = false;
    const settle = () => {
      done = true;
      unwatch();
      host.clock.clearTimeout(timer);
      opts.signal?.removeEventListener("abort", onAbort);
    };
    const finish = (o: Outcome) => {
      if (done) return;
      settle();
      resolve(o);
    };
    const onAbort = () => finish({ kind: "aborted" });
    const unwatch = host.watch(peer, {
      message: (m) => {
        if (opts.match(m, peer)) finish({ kind: "answer", message: m });
        else if (isNotFoundFor(msg, m)) finish({ kind: "notfound" });
      },
      gone: () => finish({ kind: "gone" }),
    });
    const timer = host.clock.setTimeout(() => finish({ kind: "timeout" }), timeout);
    opts.signal?.addEventListener("abort", onAbort, { once: true });
    let sent: Promise<boolean>;
    try {
      sent = peer.queueMessage(msg);
    } catch (err) {
      // The message cannot be encoded: no peer would take it.
      settle();
      reject(err);
      return;
    }
    sent.then((ok) => {
      if (!ok) finish({ kind: "unsent" });
    });
  });
}

/**
 * Runs a request: asks a random admitted peer (one not asked yet when
 * there is one), waits for an answer `match` accepts, and moves to another
 * peer when the asked one times out, leaves, or answers `notfound` for
 * something a `getdata` asked for. With no peer at hand it waits up to
 * `timeout` for one to be admitted.
 *
 * @param host The pool.
 * @param msg The request.
 * @param opts The match, timeout, retries, filter and signal.
 * @returns The answer and who gave it.
 * @throws {PoolError} `request-failed` when every attempt failed,
 *   `aborted`, or `stopped`.
 * @throws {MessageError} When `msg` cannot be encoded.
 */
export async function runRequest(host: RequestHost, msg: Message, opts: RequestOptions): Promise<RequestResult> {
  const timeout = opts.timeout ?? DEFAULT_REQUEST_TIMEOUT;
  const attempts = 1 + Math.max(0, Math.floor(opts.retries ?? DEFAULT_REQUEST_RETRIES));
  const tried = new Set<string>();
  const outcomes: string[] = [];
  for (let i = 0; i < attempts; i++) {
    if (opts.signal?.aborted) throw new PoolError("aborted", `Request ${msg.command} aborted`);
    if (host.stopping) throw new PoolError("stopped", `Cannot request ${msg.command}: the pool is stopping`);
    let peer = pickPeer(host, opts.filter, tried);
    if (peer === undefined) {
      await waitForPeer(host, timeout, opts.signal);
      peer = pickPeer(host, opts.filter, tried);
    }
    let o: Outcome;
    if (peer === undefined) o = { kind: opts.signal?.aborted ? "aborted" : host.stopping ? "stopped" : "no-peer" };
    else {
      tried.add(peer.addr);
      o = await ask(host, peer, msg, opts, timeout);
    }
    if (o.kind === "answer") return { peer: peer!, message: o.message, attempts: i + 1 };
    if (o.kind === "aborted") throw new PoolError("aborted", `Request ${msg.command} aborted`);
    if (o.kind === "stopped" || host.stopping) {
      throw new PoolError("stopped", `Request ${msg.command} ended: the pool is stopping`);
    }
    outcomes.push(peer === undefined ? "no peer available" : `${peer.addr} ${o.kind}`);
  }
  throw new PoolError(
    "request-failed",
    `No peer answered ${msg.command} after ${attempts} attempt${attempts === 1 ? "" : "s"}: ${outcomes.join(", ")}`,
  );
}
