/**
 * The options of `SimNet`, of its hosts and of its runs.
 *
 * @module
 */
import type { SimHost } from "./host.ts";
import type { LinkProfile } from "./link.ts";
import type { TraceOptions } from "./trace.ts";

/** Options of `SimNet`. */
export interface SimNetOptions {
  /** The seed of everything random in the simulation; default 1. */
  seed?: number | string;
  /** The virtual start time, in milliseconds since the Unix epoch; default 2020-01-15T00:00:00Z. */
  start?: number;
  /** What the trace keeps (it always hashes and counts everything). */
  trace?: TraceOptions;
  /**
   * How the link between two hosts behaves. Default: 2 to 15 ms one way
   * within a region, 30 to 150 ms between regions, jitter a tenth of it,
   * the slower host's bandwidth.
   */
  profile?: (a: SimHost, b: SimHost) => LinkProfile;
  /** Puts every chunk delivered into the trace (for debugging; large). */
  traceData?: boolean;
  /** Virtual milliseconds a connect without answer waits by default; default 127 s, as Linux. */
  connectTimeout?: number;
  /**
   * Runs every event to quiescence before the next, even at the same
   * virtual time (slower; what invariant checks after every event need).
   * Default `false`: all events of one instant run, then everything they
   * started settles, then time moves.
   */
  isolate?: boolean;
  /**
   * Settles once per window of this many virtual milliseconds instead of
   * after every instant: the events of a window run back to back, then
   * what they started settles. Work an event starts may then see the clock
   * of a later event of its window (at most this much later). Faster for
   * large networks (a 10 ms window settles 20 times less often at 10,000
   * peers), still deterministic; default 0 (exact). Ignored with `isolate`.
   */
  window?: number;
  /**
   * Resolves once every pending promise job has run (a macrotask turn).
   * Default: `setImmediate`, else a `MessageChannel` message, else
   * `setTimeout(0)`.
   */
  yieldToMacrotasks?: () => Promise<void>;
}

/** Options of `SimNet.host`. */
export interface SimHostOptions {
  /** Its name in the trace; default `h<index>`. */
  name?: string;
  /**
   * Its IPv4 address: `true` for a generated one, `false` for none, or the
   * address. Default: generated for 80% of hosts (the rest are IPv6 only).
   */
  ipv4?: boolean | string;
  /**
   * Its IPv6 address: `true`, `false` or the address. Default: generated
   * for 30% of hosts, always when it has no IPv4 address.
   */
  ipv6?: boolean | string;
  /** Bytes per virtual second of its access link; default 10 Mbit/s, 100 Mbit/s or 1 Gbit/s. */
  bandwidth?: number;
  /** Its region, 0 to 4 (close hosts share one); default drawn. */
  region?: number;
  /**
   * The host's program: runs when the host starts and again after every
   * restart. Start listeners, connect, create `Peer`s here.
   */
  boot?: (host: SimHost) => void | Promise<void>;
}

/** Options of `SimNet.run`. */
export interface SimRunOptions {
  /** Virtual milliseconds to run for (default: until no event is left). */
  for?: number;
  /** Stops as soon as this holds (checked after every step) or this promise settles. */
  until?: (() => boolean) | Promise<unknown>;
  /** Called after every step, once its work has settled (e.g. to check invariants). */
  onStep?: () => void;
}

/** What `SimNet.run` reports. */
export interface SimRunResult {
  /** Why it stopped: the time ran out, `until` held, or nothing was left to do. */
  stopped: "time" | "until" | "idle";
  /** Events run during this call. */
  events: number;
  /** Virtual milliseconds since the simulation started. */
  time: number;
}
