/**
 * The pool's defences in one place: ban scores by host, the ban list, the
 * whitelist and the inbound connection limits.
 *
 * @module
 */
import { type BanEntry, BanList, canonicalHost, Whitelist } from "./bans.ts";
import { ScoreBook } from "./misbehavior.ts";
import type { ResolvedPoolOptions } from "./options.ts";
import { KeyedRateLimiter } from "./ratelimit.ts";

/** Why an inbound connection was closed at once. */
export type Refusal = "banned" | "rateLimited" | "full";

/**
 * Decides who is scored, banned and refused, and counts the refusals.
 * It closes nothing itself: it tells the pool which host to disconnect.
 */
export class Guard {
  readonly #o: ResolvedPoolOptions;
  readonly #bans: BanList;
  readonly #whitelist: Whitelist;
  readonly #scores: ScoreBook;
  readonly #perAddress: KeyedRateLimiter | undefined;
  readonly #perGroup: KeyedRateLimiter | undefined;
  /** Inbound connections closed at once, by reason. */
  readonly refused: Record<Refusal, number> = { banned: 0, rateLimited: 0, full: 0 };
  /** Messages over their rate limit. */
  rateLimited = 0;

  /**
   * Creates the guard.
   *
   * @param o The pool's options.
   * @throws {TypeError} For a malformed whitelist entry.
   */
  constructor(o: ResolvedPoolOptions) {
    this.#o = o;
    this.#whitelist = new Whitelist(o.whitelist);
    this.#bans = new BanList(o.clock, o.storage);
    this.#scores = new ScoreBook(o.clock);
    this.#perAddress = o.inboundPerAddress === null ? undefined : new KeyedRateLimiter(o.inboundPerAddress, o.clock);
    this.#perGroup = o.inboundPerGroup === null ? undefined : new KeyedRateLimiter(o.inboundPerGroup, o.clock);
  }

  /** Loads the stored bans, reporting a bad file to the log. */
  async load(): Promise<void> {
    const problem = await this.#bans.load().catch((err) => `Cannot read the ban list: ${(err as Error).message}`);
    if (problem !== undefined) this.#o.log(problem);
  }

  /**
   * Waits until the bans are written.
   *
   * @returns A promise that settles once written.
   */
  flush(): Promise<void> {
    return this.#bans.flush();
  }

  /**
   * The ban of a host, if banned now.
   *
   * @param host The host.
   * @returns The ban or `undefined`.
   */
  banOf(host: string): BanEntry | undefined {
    return this.#bans.get(host);
  }

  /**
   * Decides on an inbound connection before a byte is read: banned hosts
   * and hosts over the per-minute limits are refused (whitelisted hosts
   * skip the limits).
   *
   * @param host The remote host (canonical).
   * @param group The remote's address group.
   * @returns Why it is refused, or `undefined` to accept it.
   */
  checkInbound(host: string, group: string): Refusal | undefined {
    let why: Refusal | undefined;
    if (this.#bans.get(host) !== undefined) why = "banned";
    else if (!this.#whitelist.has(host)) {
      if (this.#perAddress !== undefined && !this.#perAddress.allow(host)) why = "rateLimited";
      else if (this.#perGroup !== undefined && !this.#perGroup.allow(group)) why = "rateLimited";
    }
    if (why !== undefined) this.refused[why]++;
    return why;
  }

  /**
   * Raises a host's score (soterd's `addBanScore`) and bans it at the
   * threshold.
   *
   * @param host The host.
   * @param persistent Points that never decay.
   * @param transient Points that decay.
   * @param reason Why.
   * @param who The peer, for the log.
   * @returns `true` when the host was banned now.
   */
  addScore(host: string, persistent: number, transient: number, reason: string, who: string): boolean {
    const o = this.#o;
    if (o.disableBanning) return false;
    if (this.#whitelist.has(host)) {
      o.log(`Misbehaving whitelisted peer ${who}: ${reason}`);
      return false;
    }
    const score = persistent === 0 && transient === 0
      ? this.#scores.value(host)
      : this.#scores.increase(host, persistent, transient);
    if (score > o.banThreshold >> 1) o.log(`Misbehaving peer ${who}: ${reason} -- ban score is now ${score}`);
    return score >= o.banThreshold && this.ban(host, `ban score ${score}: ${reason}`, o.banDuration);
  }

  /**
   * A host's score now.
   *
   * @param host The host.
   * @returns The score.
   */
  score(host: string): number {
    return this.#scores.value(host);
  }

  /**
   * Bans a host unless it is whitelisted.
   *
   * @param host The host.
   * @param reason Why.
   * @param durationMs For how long.
   * @returns `true` when banned.
   */
  ban(host: string, reason: string, durationMs: number): boolean {
    const key = canonicalHost(host);
    if (this.#whitelist.has(key)) {
      this.#o.log(`Not banning whitelisted host ${key}: ${reason}`);
      return false;
    }
    this.#bans.ban(key, durationMs, reason);
    this.#scores.reset(key);
    this.#o.log(`Banned ${key} for ${Math.round(durationMs / 1000)} s: ${reason}`);
    return true;
  }

  /**
   * Lifts a ban.
   *
   * @param host The host.
   * @returns `true` when it was banned.
   */
  unban(host: string): boolean {
    return this.#bans.unban(host);
  }

  /** The bans in force. */
  list(): BanEntry[] {
    return this.#bans.list();
  }
}
