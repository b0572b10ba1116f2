/**
 * Where an address goes in the new and tried tables: soterd's keyed
 * double-SHA-256 bucket choice, byte for byte, so a `peers.json` imported
 * from soterd (with its key) keeps every address where soterd would put it.
 *
 * New table: the address group and the source group choose one of 64 slots
 * of the source group, and the slot with the source group chooses one of
 * 1024 buckets, so everything one source group sends lands in at most 64
 * buckets. Tried table: the address chooses one of 8 slots of its group,
 * and the slot with the group chooses one of 64 buckets, so one group fills
 * at most 8 tried buckets.
 *
 * @module
 */
import type { Hasher } from "../hash/hasher.ts";
import { ADDRMGR } from "./knownaddress.ts";

const utf8 = new TextEncoder();

/** `doubleSha256(key ‖ parts...)` read as a little-endian uint64, modulo a power of two up to 2^16. */
function keyedHash(hasher: Hasher, key: Uint8Array, parts: readonly Uint8Array[], modulus: number): number {
  let size = key.length;
  for (const p of parts) size += p.length;
  const data = new Uint8Array(size);
  data.set(key, 0);
  let at = key.length;
  for (const p of parts) {
    data.set(p, at);
    at += p.length;
  }
  const h = hasher.doubleSha256(data);
  // Every modulus here is a power of two no larger than 2^16, so the low
  // two bytes of the little-endian uint64 decide it.
  return (h[0]! | (h[1]! << 8)) % modulus;
}

/** The 8-byte little-endian form of a small number. */
function u64le(n: number): Uint8Array {
  const b = new Uint8Array(8);
  b[0] = n & 0xff;
  b[1] = (n >>> 8) & 0xff;
  return b;
}

/**
 * The new bucket for an address (soterd's `getNewBucket`).
 *
 * @param hasher The double SHA-256.
 * @param key The manager's 32-byte secret key.
 * @param group The address's group (see `groupKey`).
 * @param srcGroup The group of the peer that sent it.
 * @returns A bucket index below 1024.
 */
export function newBucketIndex(hasher: Hasher, key: Uint8Array, group: string, srcGroup: string): number {
  const src = utf8.encode(srcGroup);
  const slot = keyedHash(hasher, key, [utf8.encode(group), src], ADDRMGR.newBucketsPerGroup);
  return keyedHash(hasher, key, [src, u64le(slot)], ADDRMGR.newBucketCount);
}

/**
 * The tried bucket for an address (soterd's `getTriedBucket`).
 *
 * @param hasher The double SHA-256.
 * @param key The manager's 32-byte secret key.
 * @param addrKey The address's key (`ip:port`).
 * @param group The address's group.
 * @returns A bucket index below 64.
 */
export function triedBucketIndex(hasher: Hasher, key: Uint8Array, addrKey: string, group: string): number {
  const slot = keyedHash(hasher, key, [utf8.encode(addrKey)], ADDRMGR.triedBucketsPerGroup);
  return keyedHash(hasher, key, [utf8.encode(group), u64le(slot)], ADDRMGR.triedBucketCount);
}
