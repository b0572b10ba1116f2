/**
 * Output helpers of the examples: a live log with elapsed time, message
 * counters fed by a peer's `onRead`/`onWrite` listeners, and a text table.
 * Runtime-neutral.
 *
 * @module
 */
import type { Message, Peer, PeerListeners } from "../../mod.ts";

/** A log whose lines start with the milliseconds since it was created and who speaks. */
export class LiveLog {
  readonly #start = performance.now();
  readonly #out: (line: string) => void;

  /**
   * Starts the clock of the log.
   *
   * @param out Where lines go; default `console.log`.
   */
  constructor(out: (line: string) => void = console.log) {
    this.#out = out;
  }

  /**
   * Writes one line.
   *
   * @param who Who speaks (`node`, `client`…).
   * @param text What happened.
   */
  line(who: string, text: string): void {
    const ms = (performance.now() - this.#start).toFixed(1).padStart(7);
    this.#out(`${ms} ms  ${who.padEnd(6)} ${text}`);
  }

  /**
   * Makes a writer of lines for one speaker.
   *
   * @param who Who speaks.
   * @returns A function writing lines for `who`.
   */
  for(who: string): (text: string) => void {
    return (text) => this.line(who, text);
  }

  /**
   * Writes a line without a time (a title, a table).
   *
   * @param text The text, maybe several lines.
   */
  plain(text: string): void {
    this.#out(text);
  }
}

/** Messages counted per peer and direction. */
export interface Counts {
  /** Messages written. */
  sent: number;
  /** Messages read. */
  received: number;
}

/** Counts the messages of peers, through their `onRead` and `onWrite` listeners. */
export class Traffic {
  readonly #counts = new Map<Peer, Counts>();

  /**
   * Gives the counts of one peer.
   *
   * @param peer A peer whose listeners came from {@linkcode Traffic.listeners}.
   * @returns Its counts so far.
   */
  of(peer: Peer): Counts {
    let c = this.#counts.get(peer);
    if (c === undefined) this.#counts.set(peer, c = { sent: 0, received: 0 });
    return c;
  }

  /**
   * Listeners that count, and report each message to `each`.
   *
   * @param each Called for every message read (`"←"`) or written (`"→"`).
   * @returns `onRead` and `onWrite`, to put in a peer's listeners.
   */
  listeners(each?: (peer: Peer, dir: "←" | "→", msg: Message) => void): Pick<PeerListeners, "onRead" | "onWrite"> {
    return {
      onRead: (peer, _bytes, msg) => {
        if (msg === undefined) return;
        this.of(peer).received++;
        each?.(peer, "←", msg);
      },
      onWrite: (peer, _bytes, msg, err) => {
        if (err !== undefined) return;
        this.of(peer).sent++;
        each?.(peer, "→", msg);
      },
    };
  }
}

/**
 * Lays out rows as a text table; columns whose every cell is a number are
 * aligned to the right.
 *
 * @param head The column titles.
 * @param rows The rows, one string per column.
 * @returns The table, several lines.
 */
export function table(head: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const numeric = head.map((_, i) => rows.length > 0 && rows.every((r) => /^[-+]?[\d.,]+( \S+)?$/.test(r[i] ?? "")));
  const fmt = (cells: readonly string[]) =>
    cells.map((c, i) => numeric[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)).join("  ").trimEnd();
  return [fmt(head), widths.map((w) => "─".repeat(w)).join("  "), ...rows.map(fmt)].join("\n");
}

/**
 * Formats a byte count: `812 B`, `84.2 kB`, `4.00 MB`.
 *
 * @param n Bytes.
 * @returns The text.
 */
export function bytes(n: number): string {
  if (n < 1000) return `${n} B`;
  if (n < 1_000_000) return `${(n / 1000).toFixed(1)} kB`;
  return `${(n / 1_000_000).toFixed(2)} MB`;
}

/**
 * A table of peers' statistics: one row per peer, from its
 * `statsSnapshot()` and the counts of `traffic`.
 *
 * @param rows Who sees each peer (`client`, `node`) and the peer.
 * @param traffic The message counts.
 * @returns The table.
 */
export function statsTable(rows: readonly { side: string; peer: Peer }[], traffic: Traffic): string {
  return table(
    ["side", "remote", "dir", "user agent", "pver", "msgs out", "msgs in", "bytes out", "bytes in", "ping", "height"],
    rows.map(({ side, peer }) => {
      const s = peer.statsSnapshot();
      const c = traffic.of(peer);
      return [
        side,
        s.addr,
        s.inbound ? "in" : "out",
        s.userAgent,
        String(s.version),
        String(c.sent),
        String(c.received),
        bytes(s.bytesSent),
        bytes(s.bytesRecv),
        s.lastPingMicros > 0 ? `${s.lastPingMicros} µs` : "-",
        String(s.lastBlock),
      ];
    }),
  );
}
