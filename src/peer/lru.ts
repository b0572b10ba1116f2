/**
 * A size-limited set that forgets its least recently used entries: the
 * peer's known inventory (1000 entries) and the nonces of sent `version`
 * messages (50 entries).
 *
 * @module
 */
import type { InvVect } from "../wire/invvect.ts";

/**
 * A set holding at most `limit` keys. Adding a key that is present makes it
 * the most recently used; adding a new key to a full set evicts the least
 * recently used one. A limit of 0 holds nothing.
 *
 * @example
 * ```ts
 * import { LruSet } from "@soter/peer";
 * const seen = new LruSet<string>(2);
 * seen.add("a");
 * seen.add("b");
 * seen.add("a"); // "a" is now the most recent
 * seen.add("c"); // evicts "b"
 * console.log(seen.has("a"), seen.has("b"), seen.has("c")); // true false true
 * ```
 */
export class LruSet<K> {
  /** The most entries the set holds. */
  readonly limit: number;
  // A Map iterates in insertion order: the first key is the least recent.
  #map = new Map<K, true>();

  /**
   * Creates an empty set.
   *
   * @param limit The most entries to hold (a non-negative integer).
   */
  constructor(limit: number) {
    if (!Number.isInteger(limit) || limit < 0) {
      throw new RangeError(`Invalid LRU limit: ${limit} is not a non-negative integer`);
    }
    this.limit = limit;
  }

  /** How many entries the set holds. */
  get size(): number {
    return this.#map.size;
  }

  /**
   * Tells whether `key` is present, without changing its recency.
   *
   * @param key The key.
   * @returns `true` when present.
   */
  has(key: K): boolean {
    return this.#map.has(key);
  }

  /**
   * Adds `key` as the most recently used entry, evicting the least
   * recently used one when the set is full.
   *
   * @param key The key.
   */
  add(key: K): void {
    if (this.limit === 0) return;
    if (this.#map.has(key)) {
      this.#map.delete(key);
      this.#map.set(key, true);
      return;
    }
    if (this.#map.size >= this.limit) {
      const oldest = this.#map.keys().next();
      if (!oldest.done) this.#map.delete(oldest.value);
    }
    this.#map.set(key, true);
  }

  /**
   * Removes `key` if present.
   *
   * @param key The key.
   */
  delete(key: K): void {
    this.#map.delete(key);
  }

  /** Removes every entry. */
  clear(): void {
    this.#map.clear();
  }

  /**
   * Lists the keys from least to most recently used.
   *
   * @returns A new array of the keys.
   */
  keys(): K[] {
    return [...this.#map.keys()];
  }
}

/**
 * Makes a string key of an inventory vector from its type, hash and height
 * (soterd compares the whole vector), for an {@linkcode LruSet}.
 *
 * @param iv The inventory vector.
 * @returns A key equal for equal vectors.
 *
 * @example
 * ```ts
 * import { InvType, invKey } from "@soter/peer";
 * const a = invKey({ type: InvType.BLOCK, hash: new Uint8Array(32), height: 7 });
 * const b = invKey({ type: InvType.BLOCK, hash: new Uint8Array(32), height: 7 });
 * console.log(a === b); // true
 * ```
 */
export function invKey(iv: InvVect): string {
  // One UTF-16 unit per hash byte: cheap to build, exact to compare.
  return `${iv.type}:${iv.height}:${String.fromCharCode.apply(null, iv.hash as unknown as number[])}`;
}

/** How many nonces of sent `version` messages soterd remembers. */
export const MAX_SENT_NONCES = 50;

/**
 * The process-wide set of nonces of `version` messages sent by peers that
 * were not given their own `sentNonces`, as in soterd. A `version` that
 * comes back with one of these nonces is a connection to ourselves.
 */
export const sharedSentNonces: LruSet<bigint> = new LruSet<bigint>(MAX_SENT_NONCES);
