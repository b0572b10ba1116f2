/**
 * The simulator's trace: one line per event that matters (connections,
 * closes, faults, what the scenario notes), hashed as it grows so two runs
 * compare in constant memory.
 *
 * @module
 */

/** One traced event. */
export interface TraceEntry {
  /** Virtual milliseconds since the simulation started. */
  readonly at: number;
  /** What happened, e.g. `"connect"`, `"fault.partition"`. */
  readonly kind: string;
  /** Who and how, e.g. `"h3 [2a01:4f8::3]:18555 -> h7"`. */
  readonly detail: string;
}

/**
 * Formats a trace entry as its one line: time (ms, 3 decimals), kind,
 * detail.
 *
 * @param entry The entry.
 * @returns The line, e.g. `"1520.250 connect h1 -> h2"`.
 */
export function traceLine(entry: TraceEntry): string {
  return `${entry.at.toFixed(3)} ${entry.kind} ${entry.detail}`;
}

/** FNV-1a, 64 bits, over the UTF-16 code units of each line, in two 32-bit halves. */
class Fnv64 {
  hi = 0xcbf29ce4;
  lo = 0x84222325;

  update(text: string): void {
    let hi = this.hi;
    let lo = this.lo;
    for (let i = 0; i < text.length; i++) {
      lo ^= text.charCodeAt(i);
      // h * (2^40 + 0x1b3) mod 2^64.
      const l = (lo >>> 0) * 0x1b3;
      const carry = Math.floor(l / 2 ** 32);
      hi = ((hi >>> 0) * 0x1b3 + carry + ((lo << 8) >>> 0)) >>> 0;
      lo = l >>> 0;
    }
    this.hi = hi;
    this.lo = lo;
  }

  hex(): string {
    return (this.hi >>> 0).toString(16).padStart(8, "0") + (this.lo >>> 0).toString(16).padStart(8, "0");
  }
}

/** Options of {@linkcode Trace}. */
export interface TraceOptions {
  /**
   * How many entries to keep: `true` for all, `false` (the default) for
   * none, a number for the most recent ones. The hash and the count cover
   * every entry either way.
   */
  keep?: boolean | number;
  /** Called with every entry as it is recorded. */
  onEntry?: (entry: TraceEntry) => void;
}

/**
 * The record of a simulation: a 64-bit FNV-1a hash and a count over every
 * entry, and as many entries as asked to keep.
 *
 * @example
 * ```ts
 * import { Trace } from "@soter/peer";
 * const trace = new Trace({ keep: true });
 * trace.record(0, "note", "hello");
 * console.log(trace.count, trace.lines()); // 1 [ "0.000 note hello" ]
 * ```
 */
export class Trace {
  readonly #fnv = new Fnv64();
  readonly #limit: number;
  readonly #onEntry: ((entry: TraceEntry) => void) | undefined;
  #entries: TraceEntry[] = [];
  #count = 0;

  /**
   * Creates an empty trace.
   *
   * @param options What to keep, and a listener.
   */
  constructor(options: TraceOptions = {}) {
    const keep = options.keep ?? false;
    this.#limit = keep === true ? Infinity : keep === false ? 0 : Math.max(0, Math.floor(keep));
    this.#onEntry = options.onEntry;
  }

  /**
   * Records an entry.
   *
   * @param at Virtual milliseconds since the start.
   * @param kind What happened.
   * @param detail Who and how.
   */
  record(at: number, kind: string, detail: string): void {
    const entry: TraceEntry = { at, kind, detail };
    this.#fnv.update(traceLine(entry));
    this.#fnv.update("\n");
    this.#count++;
    if (this.#limit > 0) {
      this.#entries.push(entry);
      if (this.#entries.length > this.#limit * 2) this.#entries = this.#entries.slice(-this.#limit);
    }
    this.#onEntry?.(entry);
  }

  /** How many entries were recorded. */
  get count(): number {
    return this.#count;
  }

  /** The hash of every line so far, 16 hex digits. */
  get hash(): string {
    return this.#fnv.hex();
  }

  /**
   * The entries kept, oldest first.
   *
   * @returns A copy of the list.
   */
  entries(): TraceEntry[] {
    return this.#entries.slice(-this.#limit);
  }

  /**
   * The entries kept, as lines.
   *
   * @returns The lines, oldest first.
   */
  lines(): string[] {
    return this.entries().map(traceLine);
  }
}
