/**
 * The connection manager: keeps a target number of outbound connections,
 * dials permanent peers again with a growing delay, and stops cleanly.
 * soterd's `connmgr`, on an injected clock and dial function.
 *
 * @module
 */
import type { Clock, TimerId } from "../peer/clock.ts";
import type { Conn } from "../peer/conn.ts";

/** soterd's `defaultTargetOutbound`: outbound connections to keep. */
export const DEFAULT_TARGET_OUTBOUND = 8;
/** soterd's `connectionRetryInterval`: the base delay before dialling again, in milliseconds. */
export const DEFAULT_RETRY_INTERVAL = 5_000;
/** soterd's `maxRetryDuration`: the longest delay before dialling a permanent peer again (5 minutes). */
export const DEFAULT_MAX_RETRY_INTERVAL = 300_000;
/**
 * soterd's `maxFailedAttempts`: after this many failures in a row, new
 * addresses are tried once per retry interval instead of at once.
 */
export const DEFAULT_MAX_FAILED_ATTEMPTS = 25;
/** soterd's `defaultConnectTimeout`: time allowed to establish a TCP connection (30 s). */
export const DEFAULT_DIAL_TIMEOUT = 30_000;

/**
 * Where a connection request is (soterd's `ConnState`): `pending` while
 * dialling, `established` while connected, `failing` while a permanent
 * peer waits to be dialled again; `disconnected` and `canceled` once
 * forgotten.
 */
export type ConnState = "pending" | "failing" | "established" | "disconnected" | "canceled";

/** A request for an outbound connection (soterd's `ConnReq`). */
export interface ConnReq {
  /** A number unique in this manager. */
  readonly id: number;
  /** `host:port` (`[v6]:port`). */
  readonly addr: string;
  /** Dialled again whenever it fails or disconnects (`--addpeer`, `--connect`). */
  readonly permanent: boolean;
  /** Where it is. */
  readonly state: ConnState;
  /** Failures since it was last established. */
  readonly retryCount: number;
}

interface Req {
  id: number;
  addr: string;
  permanent: boolean;
  state: ConnState;
  retryCount: number;
  abort: AbortController | undefined;
}

/**
 * Dials, settling at once when `signal` is aborted even if `dial` ignores
 * it (a connection that arrives later is closed).
 */
function dialUntilAborted(
  dial: (addr: string, signal: AbortSignal) => Promise<Conn>,
  addr: string,
  signal: AbortSignal,
): Promise<Conn> {
  return new Promise<Conn>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    let p: Promise<Conn>;
    try {
      p = dial(addr, signal);
    } catch (err) {
      p = Promise.reject(err);
    }
    p.then((conn) => {
      signal.removeEventListener("abort", onAbort);
      if (signal.aborted) conn.close();
      else resolve(conn);
    }, (err) => {
      signal.removeEventListener("abort", onAbort);
      reject(err);
    });
  });
}

/** What a {@linkcode ConnManager} is given. */
export interface ConnManagerConfig {
  /** Outbound connections to keep (permanent ones count). */
  targetOutbound: number;
  /** Base delay in milliseconds before dialling again. */
  retryInterval: number;
  /** Longest delay before dialling a permanent peer again. */
  maxRetryInterval: number;
  /** Failures in a row after which new addresses are tried once per retry interval. */
  maxFailedAttempts: number;
  /**
   * Milliseconds a dial may take, on `clock`: then its signal is aborted
   * and it counts as failed, whether or not `dial` honours the signal.
   */
  dialTimeout: number;
  /** The time source. */
  clock: Clock;
  /**
   * Opens a connection to `addr`; rejects when it cannot (the manager
   * passes a signal aborted at stop).
   */
  dial: (addr: string, signal: AbortSignal) => Promise<Conn>;
  /**
   * Picks an address to dial to fill a slot, or `undefined` when none
   * fits now. Without it (connect-only mode) only permanent peers are
   * dialled.
   */
  getNewAddress?: () => string | undefined;
  /** A dial is starting (for the address book's attempt bookkeeping). */
  onAttempt?: (req: ConnReq) => void;
  /**
   * A connection is established. The owner runs it and calls
   * {@linkcode ConnManager.disconnected} when it ends.
   */
  onConnection: (req: ConnReq, conn: Conn) => void;
  /** A dial failed. */
  onFailure?: (req: ConnReq, err: unknown) => void;
}

/**
 * Keeps `targetOutbound` outbound connections: it asks for addresses,
 * dials them, and when a connection fails or ends, replaces it (a
 * permanent peer is dialled again after `retryCount × retryInterval`,
 * capped at `maxRetryInterval`). It never dials an address it is already
 * dialling or connected to. {@linkcode ConnManager.stop} aborts the dials
 * in flight and clears every timer.
 */
export class ConnManager {
  readonly #cfg: ConnManagerConfig;
  readonly #reqs = new Map<number, Req>();
  readonly #timers = new Set<TimerId>();
  readonly #dials = new Set<Promise<void>>();
  #nextId = 0;
  #failedAttempts = 0;
  #started = false;
  #stopped = false;
  #fillScheduled: TimerId | undefined;

  /**
   * Creates a manager; nothing happens before {@linkcode ConnManager.start}.
   *
   * @param config What it needs.
   */
  constructor(config: ConnManagerConfig) {
    this.#cfg = config;
  }

  /** Starts filling the outbound slots. */
  start(): void {
    if (this.#started || this.#stopped) return;
    this.#started = true;
    for (const r of this.#reqs.values()) if (r.state === "pending" && r.abort === undefined) this.#dial(r);
    this.#fill();
  }

  /**
   * Asks for a connection to `addr`, dialled at once when started (else at
   * start).
   *
   * @param addr `host:port`.
   * @param permanent Dial it again whenever it fails or ends.
   * @returns The request, or `undefined` when `addr` is already being
   *   dialled or connected, or the manager is stopped.
   */
  connect(addr: string, permanent: boolean): ConnReq | undefined {
    if (this.#stopped || this.has(addr)) return undefined;
    const r: Req = { id: ++this.#nextId, addr, permanent, state: "pending", retryCount: 0, abort: undefined };
    this.#reqs.set(r.id, r);
    if (this.#started) this.#dial(r);
    return r;
  }

  /**
   * Tells whether an address is being dialled, connected, or waiting to be
   * dialled again.
   *
   * @param addr `host:port`.
   * @returns `true` when a request holds it.
   */
  has(addr: string): boolean {
    for (const r of this.#reqs.values()) if (r.addr === addr) return true;
    return false;
  }

  /** The requests held: pending, established, or waiting to retry. */
  requests(): ConnReq[] {
    return [...this.#reqs.values()];
  }

  /**
   * How many outbound slots are taken: dialling, established, or a
   * permanent peer waiting to be dialled again (it keeps its slot).
   */
  get active(): number {
    return this.#reqs.size;
  }

  /**
   * An established connection ended. A permanent peer is dialled again
   * after its backoff; another slot is refilled (soterd's
   * `Disconnect`).
   *
   * @param id The request's id.
   * @param retry `false` forgets the request even when permanent (soterd's `Remove`).
   */
  disconnected(id: number, retry = true): void {
    const r = this.#reqs.get(id);
    if (r === undefined) return;
    if (r.state !== "established") {
      r.state = "canceled";
      r.abort?.abort();
      this.#reqs.delete(id);
      return;
    }
    if (this.#stopped || !retry || !r.permanent) {
      r.state = "disconnected";
      this.#reqs.delete(id);
      if (!this.#stopped) this.#failed();
      return;
    }
    this.#retry(r);
  }

  #setTimer(ms: number, fn: () => void): TimerId {
    const id = this.#cfg.clock.setTimeout(() => {
      this.#timers.delete(id);
      if (!this.#stopped) fn();
    }, ms);
    this.#timers.add(id);
    return id;
  }

  #retry(r: Req): void {
    r.state = "failing";
    r.abort = undefined;
    r.retryCount++;
    const delay = Math.min(r.retryCount * this.#cfg.retryInterval, this.#cfg.maxRetryInterval);
    this.#setTimer(delay, () => {
      if (this.#reqs.get(r.id) === r) this.#dial(r);
    });
  }

  /** A non-permanent slot was lost: soterd's `handleFailedConn`. */
  #failed(): void {
    this.#failedAttempts++;
    if (this.#failedAttempts >= this.#cfg.maxFailedAttempts) this.#scheduleFill(this.#cfg.retryInterval);
    else this.#scheduleFill(0);
  }

  #scheduleFill(ms: number): void {
    if (this.#fillScheduled !== undefined || this.#stopped) return;
    this.#fillScheduled = this.#setTimer(ms, () => {
      this.#fillScheduled = undefined;
      this.#fill();
    });
  }

  /**
   * Dials new addresses until the target is reached. Called at start, when
   * a slot is lost, and whenever the owner learns something that may help
   * (new addresses, a peer gone).
   */
  fill(): void {
    if (this.#started) this.#fill();
  }

  #fill(): void {
    const getNew = this.#cfg.getNewAddress;
    if (this.#stopped || getNew === undefined) return;
    while (this.active < this.#cfg.targetOutbound) {
      const addr = getNew();
      if (addr === undefined || this.has(addr)) {
        // Nothing to dial now: look again after the retry interval.
        this.#scheduleFill(this.#cfg.retryInterval);
        return;
      }
      const r: Req = { id: ++this.#nextId, addr, permanent: false, state: "pending", retryCount: 0, abort: undefined };
      this.#reqs.set(r.id, r);
      this.#dial(r);
    }
  }

  #dial(r: Req): void {
    const abort = new AbortController();
    r.abort = abort;
    r.state = "pending";
    this.#cfg.onAttempt?.(r);
    const clock = this.#cfg.clock;
    const ms = this.#cfg.dialTimeout;
    const timer = clock.setTimeout(() => abort.abort(new Error(`Dial timed out after ${ms} ms`)), ms);
    const p = dialUntilAborted(this.#cfg.dial, r.addr, abort.signal).then(
      (conn) => this.#established(r, abort, conn),
      (err) => this.#dialFailed(r, abort, err),
    ).finally(() => {
      clock.clearTimeout(timer);
      this.#dials.delete(p);
    });
    this.#dials.add(p);
  }

  #established(r: Req, abort: AbortController, conn: Conn): void {
    if (this.#stopped || r.abort !== abort || this.#reqs.get(r.id) !== r) {
      // Stopped or canceled while dialling: nobody wants it.
      conn.close();
      return;
    }
    r.state = "established";
    r.retryCount = 0;
    this.#failedAttempts = 0;
    this.#cfg.onConnection(r, conn);
  }

  #dialFailed(r: Req, abort: AbortController, err: unknown): void {
    if (this.#stopped || r.abort !== abort || this.#reqs.get(r.id) !== r) return;
    r.state = "failing";
    this.#cfg.onFailure?.(r, err);
    if (r.permanent) {
      this.#retry(r);
      return;
    }
    this.#reqs.delete(r.id);
    this.#failed();
  }

  /**
   * Stops: no more dials, every dial in flight aborted, every timer
   * cleared. Established connections are the owner's to close.
   *
   * @returns A promise that settles once every dial has settled.
   */
  async stop(): Promise<void> {
    if (!this.#stopped) {
      this.#stopped = true;
      for (const t of this.#timers) this.#cfg.clock.clearTimeout(t);
      this.#timers.clear();
      this.#fillScheduled = undefined;
      for (const r of this.#reqs.values()) {
        if (r.state !== "established") r.abort?.abort();
      }
    }
    while (this.#dials.size > 0) await Promise.allSettled([...this.#dials]);
  }
}
