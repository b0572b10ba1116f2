/**
 * What misbehaviour costs: the ban-score points of each way a peer can end
 * a connection badly, and the per-host book of scores.
 *
 * @module
 */
import type { Clock } from "../peer/clock.ts";
import type { DisconnectError, DisconnectReason } from "../peer/errors.ts";
import { MessageError } from "../wire/errors.ts";
import { DynamicBanScore } from "./banscore.ts";

/** Points added to a ban score: a persistent part and a decaying part. */
export interface Penalty {
  /** Points that never decay. */
  persistent: number;
  /** Points that decay with a 60 s half-life. */
  transient: number;
}

/**
 * The points a disconnect costs, by reason. soterd bans at once (100
 * persistent) for a bloom filter command it does not serve; the rest are
 * protocol violations soterd answers by disconnecting only, scored here so
 * that a host that keeps coming back to repeat them ends up banned:
 *
 * | reason | points | why |
 * |---|---|---|
 * | `malformed` (undecodable bytes) | 100 | a correct node never sends them; TCP checksums rule out noise |
 * | `bloom-not-supported` | 100 | soterd's `enforceNodeBloomFlag` |
 * | `version-not-first` | 50 transient | a confused or probing client |
 * | `duplicate-version`, `duplicate-verack` | 20 transient | as Bitcoin Core (1 point there, but per connection) |
 *
 * A `malformed` that is only a frame cut short by the remote closing (a
 * node killed mid-write) costs nothing. Reasons not listed (timeouts, a
 * wrong network, a closed connection, a local decision) cost nothing.
 */
export const DISCONNECT_PENALTIES: Readonly<Partial<Record<DisconnectReason, Penalty>>> = {
  "malformed": { persistent: 100, transient: 0 },
  "bloom-not-supported": { persistent: 100, transient: 0 },
  "version-not-first": { persistent: 0, transient: 50 },
  "duplicate-version": { persistent: 0, transient: 20 },
  "duplicate-verack": { persistent: 0, transient: 20 },
};

/**
 * The penalty of a disconnect.
 *
 * @param why Why the peer disconnected.
 * @returns The points, or `undefined` when it costs nothing.
 */
export function disconnectPenalty(why: DisconnectError): Penalty | undefined {
  if (why.reason === "malformed" && !(why.cause instanceof MessageError)) return undefined;
  return DISCONNECT_PENALTIES[why.reason];
}

/**
 * Ban scores by host, kept across connections: a host that misbehaves,
 * disconnects and comes back finds its score where it left it (soterd
 * keeps one per connection, so reconnecting wipes it). Scores that have
 * decayed to zero are forgotten; at most `maxHosts` are kept.
 */
export class ScoreBook {
  readonly #clock: Clock;
  readonly #maxHosts: number;
  readonly #scores = new Map<string, DynamicBanScore>();

  /**
   * Creates an empty book.
   *
   * @param clock The time source.
   * @param maxHosts How many hosts to remember at most (default 10,000).
   */
  constructor(clock: Clock, maxHosts = 10_000) {
    this.#clock = clock;
    this.#maxHosts = maxHosts;
  }

  /**
   * Raises a host's score.
   *
   * @param host The host.
   * @param persistent Points that never decay.
   * @param transient Points that decay.
   * @returns The score after the increase.
   */
  increase(host: string, persistent: number, transient: number): number {
    let s = this.#scores.get(host);
    if (s === undefined) {
      if (this.#scores.size >= this.#maxHosts) this.#sweep();
      s = new DynamicBanScore(this.#clock);
      this.#scores.set(host, s);
    }
    return s.increase(persistent, transient);
  }

  /**
   * Reads a host's score.
   *
   * @param host The host.
   * @returns Its score now (0 when unknown).
   */
  value(host: string): number {
    return this.#scores.get(host)?.value() ?? 0;
  }

  /**
   * Forgets a host (after it was banned, its score has served).
   *
   * @param host The host.
   */
  reset(host: string): void {
    this.#scores.delete(host);
  }

  #sweep(): void {
    for (const [h, s] of this.#scores) if (s.isZero()) this.#scores.delete(h);
    for (const h of this.#scores.keys()) {
      if (this.#scores.size < this.#maxHosts) break;
      this.#scores.delete(h);
    }
  }
}
