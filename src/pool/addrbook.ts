/**
 * The address manager's tables: the index of every known address, the
 * 1024 new buckets of 64 and the 64 tried buckets of 256, and the moves
 * between them (adding, expiring, promoting, evicting, selecting). Internal
 * to {@linkcode AddrManager}, which filters what comes in.
 *
 * @module
 */
import type { Hasher } from "../hash/hasher.ts";
import type { Clock } from "../peer/clock.ts";
import { randomBelow, type RandomSource } from "../peer/random.ts";
import { ServiceFlag } from "../wire/protocol.ts";
import type { NetAddress } from "../wire/netaddress.ts";
import { addressKey } from "./addrkey.ts";
import { newBucketIndex, triedBucketIndex } from "./buckets.ts";
import { ADDRMGR, KnownAddressEntry } from "./knownaddress.ts";
import { parseFileKey, type PeersFile } from "./peersjson.ts";

/** A private copy of an address, its IP always 16 bytes. */
function copyAddress(na: NetAddress): NetAddress {
  let ip: Uint8Array;
  if (na.ip.length === 16) ip = na.ip.slice();
  else {
    ip = new Uint8Array(16);
    if (na.ip.length === 4) {
      ip[10] = 0xff;
      ip[11] = 0xff;
      ip.set(na.ip, 12);
    }
  }
  return { timestamp: na.timestamp, services: na.services, ip, port: na.port };
}

/** The tables of an address manager. */
export class AddrBook {
  readonly #hasher: Hasher;
  #key: Uint8Array;
  readonly #random: RandomSource;
  readonly #clock: Clock;
  /** The group an address is bucketed by. */
  readonly #group: (na: NetAddress) => string;
  readonly #index = new Map<string, KnownAddressEntry>();
  // Buckets are made on first use: an empty book costs next to nothing
  // (a simulator may hold thousands of managers).
  readonly #new: (Map<string, KnownAddressEntry> | undefined)[] = [];
  readonly #tried: (KnownAddressEntry[] | undefined)[] = [];
  nNew = 0;
  nTried = 0;

  constructor(
    hasher: Hasher,
    key: Uint8Array,
    random: RandomSource,
    clock: Clock,
    group: (na: NetAddress) => string,
  ) {
    this.#group = group;
    this.#hasher = hasher;
    this.#key = key.slice();
    this.#random = random;
    this.#clock = clock;
    this.#clear();
  }

  #clear(): void {
    this.#index.clear();
    this.#new.length = 0;
    this.#tried.length = 0;
    for (let i = 0; i < ADDRMGR.newBucketCount; i++) this.#new.push(undefined);
    for (let i = 0; i < ADDRMGR.triedBucketCount; i++) this.#tried.push(undefined);
    this.nNew = 0;
    this.nTried = 0;
  }

  get(key: string): KnownAddressEntry | undefined {
    return this.#index.get(key);
  }

  /** Every known address, in no useful order. */
  all(): KnownAddressEntry[] {
    return [...this.#index.values()];
  }

  #newAt(i: number): Map<string, KnownAddressEntry> {
    return this.#new[i] ??= new Map();
  }

  #triedAt(i: number): KnownAddressEntry[] {
    return this.#tried[i] ??= [];
  }

  #newBucket(na: NetAddress, src: NetAddress): number {
    return newBucketIndex(this.#hasher, this.#key, this.#group(na), this.#group(src));
  }

  /** Adds or refreshes an address (soterd's `updateAddress`); `true` when new. */
  update(na: NetAddress, src: NetAddress): boolean {
    const key = addressKey(na);
    let ka = this.#index.get(key);
    const isNew = ka === undefined;
    if (ka !== undefined) {
      const services = ka.na.services | na.services;
      if (na.timestamp > ka.na.timestamp || services !== ka.na.services) {
        ka.na = { ...ka.na, timestamp: Math.max(ka.na.timestamp, na.timestamp), services };
      }
      if (ka.tried || ka.refs >= ADDRMGR.newBucketsPerAddress) return false;
      // The more buckets hold it already, the less likely it enters another: 1 in 2N.
      if (randomBelow(this.#random, 2 * ka.refs) !== 0) return false;
    } else {
      ka = new KnownAddressEntry(copyAddress(na), copyAddress(src), key);
      this.#index.set(key, ka);
      this.nNew++;
    }
    const bucket = this.#newAt(this.#newBucket(na, src));
    if (bucket.has(key)) return isNew;
    while (bucket.size >= ADDRMGR.newBucketSize) this.#expireNew(bucket);
    ka.refs++;
    bucket.set(key, ka);
    return isNew;
  }

  #dropNewRef(bucket: Map<string, KnownAddressEntry>, ka: KnownAddressEntry): void {
    bucket.delete(ka.key);
    ka.refs--;
    if (ka.refs === 0) {
      this.nNew--;
      this.#index.delete(ka.key);
    }
  }

  /** Makes room in a new bucket: drops every bad entry, and the oldest good one (soterd's `expireNew`). */
  #expireNew(bucket: Map<string, KnownAddressEntry>): void {
    const now = this.#clock.now();
    let oldest: KnownAddressEntry | undefined;
    for (const ka of [...bucket.values()]) {
      if (ka.isBad(now)) {
        this.#dropNewRef(bucket, ka);
      } else if (oldest === undefined || ka.na.timestamp <= oldest.na.timestamp) {
        oldest = ka;
      }
    }
    if (oldest !== undefined) this.#dropNewRef(bucket, oldest);
  }

  /** Moves an address to the tried table (soterd's `Good`). */
  good(ka: KnownAddressEntry): void {
    const now = this.#clock.now();
    ka.lastSuccess = now;
    ka.lastAttempt = now;
    ka.attempts = 0;
    if (ka.tried) return;
    let oldBucket = -1;
    for (let i = 0; i < this.#new.length; i++) {
      if (this.#new[i]?.delete(ka.key)) {
        ka.refs--;
        if (oldBucket < 0) oldBucket = i;
      }
    }
    this.nNew--;
    const bucket = this.#triedAt(triedBucketIndex(this.#hasher, this.#key, ka.key, this.#group(ka.na)));
    ka.tried = true;
    if (bucket.length < ADDRMGR.triedBucketSize) {
      bucket.push(ka);
      this.nTried++;
      return;
    }
    // Full: the oldest entry goes back to the new table, to its own new
    // bucket if there is room, else to the one just freed.
    let at = 0;
    for (let i = 1; i < bucket.length; i++) if (bucket[i]!.na.timestamp < bucket[at]!.na.timestamp) at = i;
    const out = bucket[at]!;
    bucket[at] = ka;
    out.tried = false;
    let back = this.#newAt(this.#newBucket(out.na, out.src));
    if (back.size >= ADDRMGR.newBucketSize && oldBucket >= 0) back = this.#newAt(oldBucket);
    else if (back.size >= ADDRMGR.newBucketSize) this.#expireNew(back);
    out.refs = 1;
    back.set(out.key, out);
    this.nNew++;
  }

  /** Forgets an address. */
  remove(ka: KnownAddressEntry): void {
    if (ka.tried) {
      for (const bucket of this.#tried) {
        const at = bucket?.indexOf(ka) ?? -1;
        if (at >= 0) bucket!.splice(at, 1);
      }
      this.nTried--;
    } else {
      for (const bucket of this.#new) bucket?.delete(ka.key);
      this.nNew--;
    }
    ka.refs = 0;
    ka.tried = false;
    this.#index.delete(ka.key);
  }

  /** Picks an address, biased by chance (soterd's `GetAddress`). */
  select(): KnownAddressEntry | undefined {
    if (this.nNew + this.nTried === 0) return undefined;
    const fromTried = this.nTried > 0 && (this.nNew === 0 || randomBelow(this.#random, 2) === 0);
    // Drawing only among non-empty buckets picks the same as soterd's
    // redrawing until a bucket is non-empty, without the wasted draws.
    const full: number[] = [];
    const tables = fromTried ? this.#tried : this.#new;
    for (let i = 0; i < tables.length; i++) {
      const b = tables[i];
      if (b !== undefined && (Array.isArray(b) ? b.length : b.size) > 0) full.push(i);
    }
    const now = this.#clock.now();
    const large = 2 ** 30;
    let factor = 1;
    let ka: KnownAddressEntry | undefined;
    // soterd loops until a draw succeeds; the odds grow 1.2x per draw, so a
    // bound is only reached when chance() underflows to 0.
    for (let draw = 0; draw < 10_000; draw++) {
      const b = full[randomBelow(this.#random, full.length)]!;
      if (fromTried) {
        const list = this.#tried[b]!;
        ka = list[randomBelow(this.#random, list.length)]!;
      } else {
        const map = this.#new[b]!;
        let nth = randomBelow(this.#random, map.size);
        for (const v of map.values()) if (nth-- === 0) ka = v;
      }
      if (randomBelow(this.#random, large) < factor * ka!.chance(now) * large) return ka;
      factor *= 1.2;
    }
    return ka;
  }

  /** The book as a `peers.json`. */
  snapshot(): PeersFile {
    return {
      key: this.#key.slice(),
      addresses: [...this.#index.values()].map((ka) => ({
        addr: ka.key,
        src: addressKey(ka.src),
        attempts: ka.attempts,
        timestamp: ka.na.timestamp,
        lastAttempt: ka.lastAttempt,
        lastSuccess: ka.lastSuccess,
      })),
      newBuckets: this.#new.map((m) => (m === undefined ? [] : [...m.keys()])),
      triedBuckets: this.#tried.map((l) => (l === undefined ? [] : l.map((ka) => ka.key))),
    };
  }

  /** Replaces the book with a loaded `peers.json` (checked by `decodePeersFile`). */
  restore(file: PeersFile): void {
    this.#clear();
    this.#key = file.key.slice();
    // Version 1 keeps no services; soterd assumes a full node.
    const services = ServiceFlag.NODE_NETWORK;
    // Many addresses share a few sources: parse each source once.
    const sources = new Map<string, NetAddress>();
    for (const a of file.addresses) {
      const na = { ...parseFileKey(file, a.addr), services, timestamp: a.timestamp };
      let src = sources.get(a.src);
      if (src === undefined) sources.set(a.src, src = { ...parseFileKey(file, a.src), services, timestamp: 0 });
      const ka = new KnownAddressEntry(na, src, a.addr);
      ka.attempts = a.attempts;
      ka.lastAttempt = a.lastAttempt;
      ka.lastSuccess = a.lastSuccess;
      this.#index.set(a.addr, ka);
    }
    file.newBuckets.forEach((keys, i) => {
      for (const k of keys) {
        const ka = this.#index.get(k)!;
        if (ka.refs === 0) this.nNew++;
        ka.refs++;
        this.#newAt(i).set(k, ka);
      }
    });
    file.triedBuckets.forEach((keys, i) => {
      for (const k of keys) {
        const ka = this.#index.get(k)!;
        ka.tried = true;
        this.nTried++;
        this.#triedAt(i).push(ka);
      }
    });
  }
}
