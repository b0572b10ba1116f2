/**
 * One address the address manager knows, with the history that decides how
 * likely it is to be picked and when it is thrown away.
 *
 * @module
 */
import type { NetAddress } from "../wire/netaddress.ts";
import { addressKey } from "./addrkey.ts";
import { groupKey } from "./netgroup.ts";

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

/**
 * soterd's address manager constants (its `addrmgr` package), which this
 * address manager follows.
 */
export const ADDRMGR = {
  /** Below this many addresses the manager asks for more (`needAddressThreshold`). */
  needAddressThreshold: 1000,
  /** How often the address book is saved, in milliseconds (`dumpAddressInterval`, 10 minutes). */
  saveIntervalMs: 10 * MINUTE,
  /** Addresses per tried bucket (`triedBucketSize`). */
  triedBucketSize: 256,
  /** Tried buckets (`triedBucketCount`). */
  triedBucketCount: 64,
  /** Addresses per new bucket (`newBucketSize`). */
  newBucketSize: 64,
  /** New buckets (`newBucketCount`). */
  newBucketCount: 1024,
  /** Tried buckets one address group is spread over (`triedBucketsPerGroup`). */
  triedBucketsPerGroup: 8,
  /** New buckets the addresses from one source group are spread over (`newBucketsPerGroup`). */
  newBucketsPerGroup: 64,
  /** New buckets one address may be in at once (`newBucketsPerAddress`). */
  newBucketsPerAddress: 8,
  /** Days without being seen after which an address is bad (`numMissingDays`). */
  numMissingDays: 30,
  /** Failed attempts, never having succeeded, after which an address is bad (`numRetries`). */
  numRetries: 3,
  /** Failed attempts since the last success after which an address is bad (`maxFailures`). */
  maxFailures: 10,
  /** Days since the last success before `maxFailures` applies (`minBadDays`). */
  minBadDays: 7,
  /** The most addresses in a `getaddr` answer (`getAddrMax`). */
  getAddrMax: 2500,
  /** The share of known addresses in a `getaddr` answer, in percent (`getAddrPercent`). */
  getAddrPercent: 23,
  /** The `peers.json` format version (`serialisationVersion`). */
  serialisationVersion: 1,
} as const;

/**
 * An address the address manager knows: the address as last heard of,
 * where it was heard from, and how connecting to it went. The manager
 * keeps it up to date; users read it.
 */
export interface KnownAddress {
  /** The address, with its services and last-seen timestamp (unix seconds). */
  readonly na: NetAddress;
  /** The address of the peer that told us about it. */
  readonly src: NetAddress;
  /** The address's key, `ip:port` (see {@linkcode addressKey}). */
  readonly key: string;
  /** The network group of the address (see {@linkcode groupKey}). */
  readonly group: string;
  /** Failed connection attempts since the last success. */
  readonly attempts: number;
  /** When a connection was last attempted, in ms since the epoch; `undefined` if never. */
  readonly lastAttempt: number | undefined;
  /** When a connection last succeeded, in ms since the epoch; `undefined` if never. */
  readonly lastSuccess: number | undefined;
  /** Whether the address is in the tried table (it has worked). */
  readonly tried: boolean;
  /** How many new buckets hold the address (0 when tried). */
  readonly refs: number;
  /**
   * The relative chance of picking this address (soterd's `chance`): 1,
   * times 0.01 if an attempt was made in the last 10 minutes, divided by
   * 1.5 for every failed attempt.
   *
   * @param now The current time in ms since the epoch.
   * @returns A weight in [0, 1].
   */
  chance(now: number): number;
  /**
   * Whether the address is worthless (soterd's `isBad`): unless it was tried
   * in the last minute, it is bad when its timestamp is more than 10 minutes
   * in the future or more than 30 days old, when it failed 3 times and never
   * worked, or when it failed 10 times and has not worked for a week.
   *
   * @param now The current time in ms since the epoch.
   * @returns `true` when the address may be thrown away.
   */
  isBad(now: number): boolean;
}

/** The manager's own, writable {@linkcode KnownAddress}. */
export class KnownAddressEntry implements KnownAddress {
  na: NetAddress;
  readonly src: NetAddress;
  readonly key: string;
  attempts = 0;
  lastAttempt: number | undefined = undefined;
  lastSuccess: number | undefined = undefined;
  tried = false;
  refs = 0;

  constructor(na: NetAddress, src: NetAddress, key: string = addressKey(na)) {
    this.na = na;
    this.src = src;
    this.key = key;
  }

  get group(): string {
    return groupKey(this.na);
  }

  chance(now: number): number {
    let c = 1;
    if (this.lastAttempt !== undefined && now - this.lastAttempt < 10 * MINUTE) c *= 0.01;
    for (let i = this.attempts; i > 0; i--) c /= 1.5;
    return c;
  }

  isBad(now: number): boolean {
    if (this.lastAttempt !== undefined && this.lastAttempt > now - MINUTE) return false;
    const seen = this.na.timestamp * 1000;
    if (seen > now + 10 * MINUTE) return true;
    if (seen < now - ADDRMGR.numMissingDays * DAY) return true;
    if (this.lastSuccess === undefined && this.attempts >= ADDRMGR.numRetries) return true;
    const recent = this.lastSuccess !== undefined && this.lastSuccess > now - ADDRMGR.minBadDays * DAY;
    return !recent && this.attempts >= ADDRMGR.maxFailures;
  }
}
