/**
 * Banned hosts, kept through a {@linkcode Storage} (`bans.json`), and the
 * whitelisted networks that are never banned.
 *
 * @module
 */
import type { Clock } from "../peer/clock.ts";
import type { Storage } from "../storage/storage.ts";
import { ipFromString, ipToString } from "../wire/ip.ts";

/** The file the bans are kept in. */
export const BANS_FILE = "bans.json";

/** One ban. */
export interface BanEntry {
  /** The banned host, an IP address as {@linkcode canonicalHost} prints it. */
  host: string;
  /** When the ban ends, in milliseconds since the Unix epoch. */
  until: number;
  /** Why the host was banned. */
  reason: string;
}

/**
 * The canonical text of an IP address, the key of bans and of inbound
 * limits: `::ffff:1.2.3.4` and `1.2.3.4` are the same host.
 *
 * @param host An IP address as text.
 * @returns Its canonical text, or `host` itself when it is not an IP address.
 *
 * @example
 * ```ts
 * import { canonicalHost } from "@soter/peer";
 * console.log(canonicalHost("::ffff:10.0.0.1")); // "10.0.0.1"
 * ```
 */
export function canonicalHost(host: string): string {
  try {
    return ipToString(ipFromString(host)) ?? host;
  } catch {
    return host;
  }
}

/** A parsed network: 16 address bytes and a prefix length over them. */
export interface IpNetwork {
  /** The network's address, 16 bytes (IPv4 mapped). */
  readonly ip: Uint8Array;
  /** The prefix length in bits over the 16 bytes (an IPv4 /24 is 120). */
  readonly bits: number;
}

/**
 * Parses a whitelist entry as soterd's `--whitelist` takes it: a network
 * (`192.168.1.0/24`, `fd00::/8`) or a single address (`::1`).
 *
 * @param text The entry.
 * @returns The network.
 * @throws {TypeError} When the text is neither.
 *
 * @example
 * ```ts
 * import { ipFromString, networkContains, parseIpNetwork } from "@soter/peer";
 * const net = parseIpNetwork("192.168.1.0/24");
 * console.log(networkContains(net, ipFromString("192.168.1.77"))); // true
 * ```
 */
export function parseIpNetwork(text: string): IpNetwork {
  const slash = text.indexOf("/");
  const addr = slash < 0 ? text : text.slice(0, slash);
  let ip: Uint8Array;
  try {
    ip = ipFromString(addr);
  } catch {
    throw new TypeError(`Invalid whitelist entry: ${JSON.stringify(text)} is not an IP address or network`);
  }
  const v4 = !addr.includes(":");
  const max = v4 ? 32 : 128;
  let bits = max;
  if (slash >= 0) {
    const p = text.slice(slash + 1);
    bits = /^\d{1,3}$/.test(p) ? Number(p) : NaN;
    if (!(bits >= 0 && bits <= max)) {
      throw new TypeError(`Invalid whitelist entry: ${JSON.stringify(text)} has a prefix length outside 0 to ${max}`);
    }
  }
  return { ip, bits: v4 ? bits + 96 : bits };
}

/**
 * Tells whether `ip` lies in `net`.
 *
 * @param net The network.
 * @param ip A 16-byte address.
 * @returns `true` when the first `net.bits` bits match.
 */
export function networkContains(net: IpNetwork, ip: Uint8Array): boolean {
  if (ip.length !== 16) return false;
  let bits = net.bits;
  for (let i = 0; i < 16 && bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if ((ip[i]! & mask) !== (net.ip[i]! & mask)) return false;
  }
  return true;
}

/**
 * The whitelisted networks: hosts in them are never scored nor banned, and
 * bypass the inbound connection limits, as in soterd.
 */
export class Whitelist {
  readonly #nets: readonly IpNetwork[];

  /**
   * Parses the entries.
   *
   * @param entries Networks or addresses (see {@linkcode parseIpNetwork}).
   * @throws {TypeError} For an entry that is neither.
   */
  constructor(entries: readonly string[]) {
    this.#nets = entries.map(parseIpNetwork);
  }

  /**
   * Tells whether a host is whitelisted.
   *
   * @param host An IP address as text (a name is never whitelisted).
   * @returns `true` when it lies in one of the networks.
   */
  has(host: string): boolean {
    if (this.#nets.length === 0) return false;
    let ip: Uint8Array;
    try {
      ip = ipFromString(host);
    } catch {
      return false;
    }
    return this.#nets.some((n) => networkContains(n, ip));
  }
}

/** What `bans.json` holds. */
interface BansFile {
  version: 1;
  bans: BanEntry[];
}

function isBanEntry(v: unknown): v is BanEntry {
  const e = v as BanEntry;
  return typeof v === "object" && v !== null && typeof e.host === "string" && Number.isFinite(e.until) &&
    typeof e.reason === "string";
}

/**
 * The banned hosts. Bans are keyed by host (an IP address), as soterd
 * keys them, so a banned node cannot come back from another port. Every
 * change is written to `bans.json` through the storage, one write at a
 * time; a corrupt file is set aside as `bans.json.corrupt` and reported,
 * never thrown.
 */
export class BanList {
  readonly #clock: Clock;
  readonly #storage: Storage | undefined;
  readonly #bans = new Map<string, BanEntry>();
  #writing: Promise<void> = Promise.resolve();
  #dirty = false;

  /**
   * Creates an empty list; {@linkcode BanList.load} reads the stored one.
   *
   * @param clock The time source.
   * @param storage Where to keep the bans, if anywhere.
   */
  constructor(clock: Clock, storage?: Storage) {
    this.#clock = clock;
    this.#storage = storage;
  }

  /**
   * Reads `bans.json`, keeping the bans that have not expired.
   *
   * @returns A problem with the file, to report, or `undefined`.
   */
  async load(): Promise<string | undefined> {
    if (this.#storage === undefined) return undefined;
    const bytes = await this.#storage.read(BANS_FILE);
    if (bytes === undefined) return undefined;
    let parsed: unknown;
    try {
      parsed = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
    } catch (err) {
      return await this.#setAside(`not JSON: ${(err as Error).message}`);
    }
    const file = parsed as BansFile;
    if (typeof parsed !== "object" || parsed === null || file.version !== 1 || !Array.isArray(file.bans)) {
      return await this.#setAside("not a version 1 ban list");
    }
    const now = this.#clock.now();
    for (const e of file.bans) {
      if (isBanEntry(e) && e.until > now) this.#bans.set(e.host, { host: e.host, until: e.until, reason: e.reason });
    }
    return undefined;
  }

  async #setAside(why: string): Promise<string> {
    await this.#storage!.rename(BANS_FILE, `${BANS_FILE}.corrupt`);
    return `Cannot read ${BANS_FILE}: ${why}; it was set aside as ${BANS_FILE}.corrupt and the ban list starts empty`;
  }

  /**
   * Bans a host.
   *
   * @param host The host (see {@linkcode canonicalHost}).
   * @param durationMs For how long.
   * @param reason Why.
   * @returns The ban.
   */
  ban(host: string, durationMs: number, reason: string): BanEntry {
    const key = canonicalHost(host);
    const entry = { host: key, until: this.#clock.now() + durationMs, reason };
    this.#bans.set(key, entry);
    this.#changed();
    return entry;
  }

  /**
   * Lifts a ban.
   *
   * @param host The host.
   * @returns `true` when it was banned.
   */
  unban(host: string): boolean {
    const had = this.#bans.delete(canonicalHost(host));
    if (had) this.#changed();
    return had;
  }

  /**
   * The ban of a host, if it is banned now (an expired ban is dropped).
   *
   * @param host The host.
   * @returns The ban, or `undefined`.
   */
  get(host: string): BanEntry | undefined {
    const key = canonicalHost(host);
    const e = this.#bans.get(key);
    if (e === undefined) return undefined;
    if (e.until > this.#clock.now()) return e;
    this.#bans.delete(key);
    this.#changed();
    return undefined;
  }

  /** The bans in force, soonest to end first. */
  list(): BanEntry[] {
    const now = this.#clock.now();
    return [...this.#bans.values()].filter((e) => e.until > now).sort((a, b) => a.until - b.until);
  }

  /** How many bans are in force. */
  get size(): number {
    return this.list().length;
  }

  #changed(): void {
    if (this.#storage === undefined) return;
    this.#dirty = true;
    this.#writing = this.#writing.then(() => this.#write());
  }

  async #write(): Promise<void> {
    if (!this.#dirty) return;
    this.#dirty = false;
    const file: BansFile = { version: 1, bans: this.list() };
    try {
      await this.#storage!.writeAtomic(BANS_FILE, new TextEncoder().encode(JSON.stringify(file, null, 1)));
    } catch {
      // Kept in memory; the next change or flush tries again.
      this.#dirty = true;
    }
  }

  /**
   * Waits until every change is written.
   *
   * @returns A promise that settles once written (or once writing failed).
   */
  flush(): Promise<void> {
    if (this.#storage !== undefined && this.#dirty) this.#writing = this.#writing.then(() => this.#write());
    return this.#writing;
  }
}
