/**
 * The address manager: soterd's `addrmgr` (after btcd and Bitcoin Core) in
 * TypeScript. It keeps the addresses a node hears of in a "new" table and
 * those it connected to in a "tried" table, both bucketed by network group
 * under a secret key so that no single source can fill them, picks
 * addresses to dial with a bias toward ones that work, answers `getaddr`,
 * and keeps the book in soterd's `peers.json` format.
 *
 * @module
 */
import { defaultHasher, type Hasher } from "../hash/hasher.ts";
import { type Clock, systemClock } from "../peer/clock.ts";
import { cryptoRandom, randomBelow, type RandomSource } from "../peer/random.ts";
import { checkStorageName, type Storage } from "../storage/storage.ts";
import type { AddrMessage } from "../wire/messages/addr.ts";
import type { AddrCacheMessage } from "../wire/messages/addrcache.ts";
import type { NetAddress } from "../wire/netaddress.ts";
import { addressKey, parseAddressKey } from "./addrkey.ts";
import { AddrBook } from "./addrbook.ts";
import { ADDRMGR, type KnownAddress, type KnownAddressEntry } from "./knownaddress.ts";
import { type AddressPriority, LocalAddresses } from "./localaddr.ts";
import { groupKey, type HasIp, isRoutable, isValidAddress, networkGroup } from "./netgroup.ts";
import { type AddrManagerEvent, PeersStore } from "./peersstore.ts";

/** An address given to the manager: a `NetAddress`, or its key (`"1.2.3.4:18555"`, `"[::1]:18555"`). */
export type AddressRef = NetAddress | string;

/** Options of an {@linkcode AddrManager}; every one has a default. */
export interface AddrManagerOptions {
  /** The clock for timestamps and the save timer; the system clock by default. */
  clock?: Clock;
  /** The random source for the bucketing key and every random choice; Web Crypto by default. */
  random?: RandomSource;
  /** The double SHA-256 used for bucketing; the process-wide default hasher by default. */
  hasher?: Hasher;
  /** Where the address book is kept; without it nothing is loaded or saved. */
  storage?: Storage;
  /** The address book's file name in `storage`; `"peers.json"` as soterd. */
  fileName?: string;
  /** How often the book is saved while started, in ms; 10 minutes as soterd. 0 saves only at stop. */
  saveIntervalMs?: number;
  /** The 32-byte secret bucketing key; random by default (a loaded file brings its own). */
  key?: Uint8Array;
  /**
   * Keep local and unroutable addresses (loopback, private ranges) instead
   * of dropping them, for test networks on one machine or a LAN. They are
   * bucketed by their own /16 (or /32) rather than all as "unroutable".
   * Off by default, as in soterd.
   */
  allowUnroutable?: boolean;
  /** Called with what happens to the address book file (loaded, saved, set aside, failed). */
  onEvent?: (event: AddrManagerEvent) => void;
}

/** Counts of an {@linkcode AddrManager}'s tables. */
export interface AddrManagerStats {
  /** Addresses in the new table (heard of, not yet working). */
  new: number;
  /** Addresses in the tried table (connected to at least once). */
  tried: number;
  /** Both together. */
  total: number;
}

/** Options of {@linkcode AddrManager.pickOutbound}. */
export interface PickOutboundOptions {
  /** Skips an address, e.g. when its group already holds an outbound peer or it is connected. */
  skip?: (ka: KnownAddress) => boolean;
  /** The network's default port: other ports are accepted only after 50 tries, as soterd. */
  defaultPort?: number;
  /** How many picks to make before giving up; 100 as soterd. */
  tries?: number;
}

const MINUTE = 60_000;

/**
 * soter's address manager.
 *
 * @example Learning addresses and picking one to dial
 * ```ts
 * import { AddrManager, ManualClock, MemoryStorage, netAddress } from "@soter/peer";
 * const clock = new ManualClock();
 * const storage = new MemoryStorage();
 * const am = new AddrManager({ clock, storage });
 * await am.start();
 * const now = Math.floor(clock.now() / 1000);
 * const src = netAddress({ ip: "203.0.114.7", port: 18555 });
 * am.addAddresses([
 *   netAddress({ ip: "8.8.8.8", port: 18555, timestamp: now }),
 *   netAddress({ ip: "10.0.0.1", port: 18555, timestamp: now }), // private: dropped
 * ], src);
 * const ka = am.getAddress();
 * console.log(am.stats().total, ka?.key); // 1 "8.8.8.8:18555"
 * am.attempt(ka!.na);
 * am.good(ka!.na); // the handshake worked: moves it to the tried table
 * await am.stop(); // saves peers.json
 * console.log(am.stats().tried, storage.names()); // 1 [ "peers.json" ]
 * ```
 */
export class AddrManager {
  readonly #clock: Clock;
  readonly #random: RandomSource;
  readonly #allowUnroutable: boolean;
  readonly #book: AddrBook;
  readonly #store: PeersStore | undefined;
  readonly #saveIntervalMs: number;
  readonly #local = new LocalAddresses();
  #timer: unknown;
  #state: "idle" | "started" | "stopped" = "idle";

  /**
   * Creates an empty address manager; {@linkcode AddrManager.start} loads
   * the saved book.
   *
   * @param options Clock, random source, storage and the rest.
   * @throws {RangeError} When `key` is not 32 bytes or `saveIntervalMs` is negative.
   * @throws {StorageError} `invalid-name` when `fileName` is not a plain file name.
   */
  constructor(options: AddrManagerOptions = {}) {
    this.#clock = options.clock ?? systemClock;
    this.#random = options.random ?? cryptoRandom;
    this.#allowUnroutable = options.allowUnroutable ?? false;
    this.#saveIntervalMs = options.saveIntervalMs ?? ADDRMGR.saveIntervalMs;
    if (!(this.#saveIntervalMs >= 0) || !Number.isFinite(this.#saveIntervalMs)) {
      throw new RangeError(`Invalid save interval: ${this.#saveIntervalMs} ms; use a number of ms >= 0`);
    }
    const fileName = options.fileName ?? "peers.json";
    checkStorageName(fileName);
    let key = options.key;
    if (key !== undefined && key.length !== 32) {
      throw new RangeError(`Invalid address manager key: expected 32 bytes, got ${key.length}`);
    }
    if (key === undefined) {
      key = new Uint8Array(32);
      this.#random(key);
    }
    // Kept unroutable addresses are bucketed by their own networks (a LAN's
    // /16s) rather than all by "unroutable"; routable ones as soterd.
    const group = this.#allowUnroutable
      ? (na: NetAddress) => isRoutable(na) ? groupKey(na) : networkGroup(na)
      : groupKey;
    this.#book = new AddrBook(options.hasher ?? defaultHasher(), key, this.#random, this.#clock, group);
    if (options.storage !== undefined) {
      this.#store = new PeersStore(
        options.storage,
        fileName,
        this.#clock,
        options.onEvent ?? (() => {}),
      );
    }
  }

  /**
   * Loads the saved address book (replacing what is known) and starts
   * saving it every 10 minutes. A missing file starts an empty book; a
   * corrupt or foreign one is renamed to `peers.json.bad-<time>`, reported
   * through `onEvent`, and an empty book started. Calling it again does
   * nothing.
   *
   * @returns A promise that settles once the book is loaded; it never rejects.
   */
  async start(): Promise<void> {
    if (this.#state !== "idle") return;
    this.#state = "started";
    if (this.#store === undefined) return;
    await this.#store.load((file) => this.#book.restore(file)).catch(() => {});
    // stop() may have been called while loading.
    if (this.#state === "started" && this.#saveIntervalMs > 0) this.#schedule();
  }

  /**
   * Stops the save timer and, if the manager was started, saves the book
   * one last time (after a load still in progress). Calling it again does
   * nothing.
   *
   * @returns A promise that settles once the book is saved; a failed save
   *   is reported through `onEvent`, never by rejecting.
   */
  async stop(): Promise<void> {
    if (this.#state === "stopped") return;
    const wasStarted = this.#state === "started";
    this.#state = "stopped";
    this.#clock.clearTimeout(this.#timer);
    if (wasStarted && this.#store !== undefined) {
      await this.#store.save(() => this.#book.snapshot()).catch(() => {});
    }
  }

  /**
   * Saves the book now (to `storage`; nothing without one). Saves never
   * overlap: each waits for the one before.
   *
   * @returns A promise that settles once the file is written.
   * @throws {StorageError} When the storage refuses the write.
   * @throws {PeersFileError} `unreadable` when the file could neither be
   *   read nor set aside at start, so saving would overwrite it.
   */
  save(): Promise<void> {
    if (this.#store === undefined) return Promise.resolve();
    return this.#store.save(() => this.#book.snapshot());
  }

  #schedule(): void {
    this.#timer = this.#clock.setTimeout(() => {
      if (this.#state !== "started") return;
      void this.save().catch(() => {}).then(() => {
        if (this.#state === "started") this.#schedule();
      });
    }, this.#saveIntervalMs);
  }

  /** Counts of the new and tried tables. */
  stats(): AddrManagerStats {
    const { nNew, nTried } = this.#book;
    return { new: nNew, tried: nTried, total: nNew + nTried };
  }

  /** How many addresses are known. */
  get size(): number {
    return this.#book.nNew + this.#book.nTried;
  }

  /**
   * Whether the manager wants more addresses (fewer than 1000 known, as
   * soterd): then ask outbound peers with `getaddr`.
   *
   * @returns `true` when more addresses are wanted.
   */
  needMoreAddresses(): boolean {
    return this.size < ADDRMGR.needAddressThreshold;
  }

  #accepts(na: NetAddress): boolean {
    if (na.port === 0) return false;
    return this.#allowUnroutable ? isValidAddress(na) : isRoutable(na);
  }

  /**
   * Adds an address heard from `src`, or refreshes a known one (newer
   * timestamp, more services; a new address may also enter another new
   * bucket, ever less likely, up to 8). Unroutable addresses and port 0 are
   * dropped, unless `allowUnroutable` is set.
   *
   * @param na The address.
   * @param src The address of the peer that sent it.
   * @returns `true` when the address was not known before.
   */
  addAddress(na: NetAddress, src: NetAddress): boolean {
    if (!this.#accepts(na)) return false;
    return this.#book.update(na, src);
  }

  /**
   * Adds addresses heard from `src` (see {@linkcode AddrManager.addAddress}).
   *
   * @param list The addresses.
   * @param src The address of the peer that sent them.
   * @returns How many were not known before.
   */
  addAddresses(list: readonly NetAddress[], src: NetAddress): number {
    let added = 0;
    for (const na of list) if (this.addAddress(na, src)) added++;
    return added;
  }

  /**
   * Adds an address given as text, such as a seed or a configured peer
   * (soterd's `AddAddressByIP`): last seen now, no services known, and
   * its own source.
   *
   * @param key The address, `"ip:port"` or `"[ipv6]:port"`.
   * @returns `true` when the address was not known before.
   * @throws {AddressKeyError} When `key` is not an address key.
   */
  addAddressByIp(key: string): boolean {
    const timestamp = Math.min(Math.floor(this.#clock.now() / 1000), 0xffff_ffff);
    const na: NetAddress = { ...parseAddressKey(key), services: 0n, timestamp };
    return this.addAddress(na, na);
  }

  #learn(list: readonly NetAddress[], src: NetAddress): number {
    // As soterd's server: a timestamp over 10 minutes ahead becomes 5 days
    // ago, so the address is among the first to go when space is needed.
    const now = this.#clock.now();
    const past = Math.max(0, Math.floor((now - 5 * 24 * 60 * MINUTE) / 1000));
    const fixed = list.map((na) => na.timestamp * 1000 > now + 10 * MINUTE ? { ...na, timestamp: past } : na);
    return this.addAddresses(fixed, src);
  }

  /**
   * Learns the addresses of an `addr` message from peer `src`, as soterd's
   * server does: timestamps more than 10 minutes in the future are set to
   * 5 days ago, then every address is added.
   *
   * @param msg The message.
   * @param src The address of the peer that sent it.
   * @returns How many addresses were not known before.
   */
  addAddrMessage(msg: AddrMessage, src: NetAddress): number {
    return this.#learn(msg.addrList, src);
  }

  /**
   * Learns the addresses of soter's `addrcache` message from peer `src`:
   * its `outbound` and `known` lists (the sender's `inbound` list holds the
   * ephemeral ports of peers that dialled it, which cannot be dialled
   * back), treated like `addr`. soterd itself only notes them as known to
   * the peer; see the README.
   *
   * @param msg The message.
   * @param src The address of the peer that sent it.
   * @returns How many addresses were not known before.
   */
  addAddrCacheMessage(msg: AddrCacheMessage, src: NetAddress): number {
    return this.#learn([...msg.outbound, ...msg.known], src);
  }

  /**
   * Finds a known address.
   *
   * @param addr The address or its key.
   * @returns Its entry, or `undefined` when unknown.
   * @throws {AddressKeyError} When `addr` is a string that is not an address key.
   */
  find(addr: AddressRef): KnownAddress | undefined {
    return this.#entry(addr);
  }

  #entry(addr: AddressRef): KnownAddressEntry | undefined {
    return this.#book.get(typeof addr === "string" ? addressKey(parseAddressKey(addr)) : addressKey(addr));
  }

  /**
   * Records an attempt to connect to an address (soterd's `Attempt`):
   * counts it and notes the time. Unknown addresses are ignored.
   *
   * @param addr The address or its key.
   */
  attempt(addr: AddressRef): void {
    const ka = this.#entry(addr);
    if (ka === undefined) return;
    ka.attempts++;
    ka.lastAttempt = this.#clock.now();
  }

  /**
   * Marks an address as connected and working now (soterd's `Connected`):
   * refreshes its last-seen time if older than 20 minutes. Call it when a
   * connected peer is disconnected or periodically. Unknown addresses are
   * ignored.
   *
   * @param addr The address or its key.
   */
  connected(addr: AddressRef): void {
    const ka = this.#entry(addr);
    if (ka === undefined) return;
    const now = this.#clock.now();
    if (now > ka.na.timestamp * 1000 + 20 * MINUTE) {
      ka.na = { ...ka.na, timestamp: Math.min(Math.floor(now / 1000), 0xffff_ffff) };
    }
  }

  /**
   * Marks an address as good (soterd's `Good`): call it after a successful
   * connection and version handshake. Resets its failure count and moves it
   * to the tried table, sending the oldest address of a full tried bucket
   * back to the new table. The last-seen time is left alone, so it does not
   * reveal current peers. Unknown addresses are ignored.
   *
   * @param addr The address or its key.
   */
  good(addr: AddressRef): void {
    const ka = this.#entry(addr);
    if (ka !== undefined) this.#book.good(ka);
  }

  /**
   * Forgets an address entirely (e.g. after banning it).
   *
   * @param addr The address or its key.
   * @returns `true` when it was known.
   */
  remove(addr: AddressRef): boolean {
    const ka = this.#entry(addr);
    if (ka === undefined) return false;
    this.#book.remove(ka);
    return true;
  }

  /**
   * Picks an address to dial (soterd's `GetAddress`): the tried or the new
   * table with even odds (whichever has entries), then random entries until
   * one passes a draw against its chance (see {@linkcode KnownAddress.chance}),
   * each failed draw raising the odds by 1.2x. Addresses tried recently or
   * failing often are thus picked rarely, never never.
   *
   * @returns An address, or `undefined` when none is known.
   */
  getAddress(): KnownAddress | undefined {
    return this.#book.select();
  }

  /**
   * Picks an address for a new outbound connection as soterd's server
   * does: up to 100 picks with {@linkcode AddrManager.getAddress}, skipping
   * addresses `skip` refuses, addresses attempted in the last 10 minutes
   * (for the first 30 picks) and ports other than `defaultPort` (for the
   * first 50).
   *
   * @param options What to skip.
   * @returns An address, or `undefined` when no pick was acceptable.
   */
  pickOutbound(options: PickOutboundOptions = {}): KnownAddress | undefined {
    const tries = options.tries ?? 100;
    const now = this.#clock.now();
    for (let i = 0; i < tries; i++) {
      const ka = this.getAddress();
      if (ka === undefined) return undefined;
      if (options.skip?.(ka)) continue;
      if (i < 30 && ka.lastAttempt !== undefined && now - ka.lastAttempt < 10 * MINUTE) continue;
      if (i < 50 && options.defaultPort !== undefined && ka.na.port !== options.defaultPort) continue;
      return ka;
    }
    return undefined;
  }

  /**
   * The answer to `getaddr` (soterd's `AddressCache`): a random 23% of the
   * known addresses, at most 2,500.
   *
   * @returns Copies of the chosen addresses.
   */
  addressCache(): NetAddress[] {
    const all = this.#book.all();
    const n = Math.min(Math.floor((all.length * ADDRMGR.getAddrPercent) / 100), ADDRMGR.getAddrMax);
    for (let i = 0; i < n; i++) {
      const j = i + randomBelow(this.#random, all.length - i);
      const t = all[i]!;
      all[i] = all[j]!;
      all[j] = t;
    }
    return all.slice(0, n).map((ka) => ({ ...ka.na }));
  }

  /**
   * Every known address (soterd's `EntireAddressCache`, used for the
   * `known` list of `addrcache`).
   *
   * @returns Copies of the addresses.
   */
  allAddresses(): NetAddress[] {
    return this.#book.all().map((ka) => ({ ...ka.na }));
  }

  /**
   * Adds one of the node's own addresses, to advertise (soterd's
   * `AddLocalAddress`).
   *
   * @param na The address.
   * @param priority How it was found (see {@linkcode AddressPriority}).
   * @returns `false` when it is not routable (and was not added).
   */
  addLocalAddress(na: NetAddress, priority: AddressPriority): boolean {
    return this.#local.add(na, priority);
  }

  /**
   * The own address to advertise to a peer (soterd's
   * `GetBestLocalAddress`); an unroutable placeholder when there is none.
   *
   * @param remote The peer's address.
   * @returns The address; send it only if `isRoutable`.
   */
  bestLocalAddress(remote: HasIp): NetAddress {
    return this.#local.best(remote);
  }

  /** The node's own addresses added with {@linkcode AddrManager.addLocalAddress}. */
  localAddresses(): NetAddress[] {
    return this.#local.list();
  }

  /**
   * The group of an address (see {@linkcode groupKey}).
   *
   * @param addr The address or its key.
   * @returns The group's name.
   */
  groupOf(addr: AddressRef): string {
    return groupKey(typeof addr === "string" ? parseAddressKey(addr) : addr);
  }
}
