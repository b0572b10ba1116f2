/**
 * soterd's `peers.json`, serialisation version 1: the address book as its
 * address manager writes it (Go's `encoding/json` of `serializedAddrManager`),
 * read and written byte for byte in the same shape so either side can load
 * the other's file.
 *
 * The file is one JSON object:
 * `{"Version":1,"Key":[32 numbers],"Addresses":[{"Addr","Src","Attempts",
 * "TimeStamp","LastAttempt","LastSuccess"}...],"NewBuckets":[1024 lists of
 * address keys],"TriedBuckets":[64 lists]}`, then a newline. Times are unix
 * seconds; Go's zero time (never) is `-62135596800`.
 *
 * @module
 */
import { addressKey, AddressKeyError, parseAddressKey } from "./addrkey.ts";
import { ADDRMGR } from "./knownaddress.ts";

type ParsedKey = { ip: Uint8Array<ArrayBuffer>; port: number };

/** The address keys parsed while checking a decoded file, so loading it does not parse them again. */
const parsedKeys = new WeakMap<PeersFile, ReadonlyMap<string, ParsedKey>>();

/**
 * Parses an address key of a file from {@linkcode decodePeersFile},
 * reusing the parse made while checking it.
 *
 * @param file The decoded file.
 * @param key One of its address keys.
 * @returns A fresh copy of the key's IP and its port.
 */
export function parseFileKey(file: PeersFile, key: string): { ip: Uint8Array<ArrayBuffer>; port: number } {
  const p = parsedKeys.get(file)?.get(key) ?? parseAddressKey(key);
  return { ip: p.ip.slice(), port: p.port };
}

/** Go's `time.Time{}.Unix()`: how soterd writes "never". */
export const GO_ZERO_TIME: number = -62_135_596_800;

/**
 * What is wrong with a `peers.json`:
 * - `syntax`: not JSON (a truncated or foreign file).
 * - `version`: a `Version` other than 1.
 * - `shape`: a field is missing or of the wrong type or size.
 * - `address`: an address key does not parse or is not in soterd's form.
 * - `inconsistent`: the buckets and the address list disagree.
 * - `unreadable`: the file could not be read or set aside, so it is not
 *   saved over (raised by saves).
 */
export type PeersFileErrorKind = "syntax" | "version" | "shape" | "address" | "inconsistent" | "unreadable";

/** A `peers.json` could not be loaded. */
export class PeersFileError extends Error {
  /** What is wrong. */
  readonly kind: PeersFileErrorKind;
  /** The file's name. */
  readonly file: string;

  /**
   * Makes a peers file error.
   *
   * @param kind What is wrong.
   * @param file The file's name.
   * @param detail The details.
   * @param options The underlying error, if any.
   */
  constructor(kind: PeersFileErrorKind, file: string, detail: string, options?: { cause?: unknown }) {
    super(`Cannot load the address book ${file}: ${detail}`, options);
    this.name = "PeersFileError";
    this.kind = kind;
    this.file = file;
  }
}

/** One address of a `peers.json` (a `serializedKnownAddress`). */
export interface PeersFileAddress {
  /** The address key, `ip:port`. */
  addr: string;
  /** The key of the peer it was learned from. */
  src: string;
  /** Failed attempts since the last success. */
  attempts: number;
  /** When it was last seen, unix seconds. */
  timestamp: number;
  /** The last attempt, ms since the epoch, or `undefined` for never. */
  lastAttempt: number | undefined;
  /** The last success, ms since the epoch, or `undefined` for never. */
  lastSuccess: number | undefined;
}

/** The content of a `peers.json`. */
export interface PeersFile {
  /** The 32-byte bucketing key. */
  key: Uint8Array;
  /** Every address. */
  addresses: PeersFileAddress[];
  /** 1024 lists of the keys in each new bucket. */
  newBuckets: string[][];
  /** 64 lists of the keys in each tried bucket. */
  triedBuckets: string[][];
}

function goTime(ms: number | undefined): number {
  return ms === undefined ? GO_ZERO_TIME : Math.floor(ms / 1000);
}

/**
 * Writes a `peers.json` exactly as soterd's encoder does (compact JSON,
 * fields in declaration order, a final newline).
 *
 * @param data The address book.
 * @returns The file's bytes.
 *
 * @example An address book with one new address, written and read back
 * ```ts
 * import { decodePeersFile, encodePeersFile } from "@soter/peer";
 * const bytes = encodePeersFile({
 *   key: new Uint8Array(32),
 *   addresses: [{
 *     addr: "8.8.8.8:18555",
 *     src: "1.2.3.4:18555",
 *     attempts: 0,
 *     timestamp: 1579046400,
 *     lastAttempt: undefined,
 *     lastSuccess: undefined,
 *   }],
 *   newBuckets: Array.from({ length: 1024 }, (_, i) => (i === 7 ? ["8.8.8.8:18555"] : [])),
 *   triedBuckets: Array.from({ length: 64 }, () => []),
 * });
 * console.log(new TextDecoder().decode(bytes).slice(0, 13)); // '{"Version":1,'
 * console.log(decodePeersFile(bytes).addresses[0]?.lastAttempt); // undefined
 * ```
 */
export function encodePeersFile(data: PeersFile): Uint8Array<ArrayBuffer> {
  const doc = {
    Version: ADDRMGR.serialisationVersion,
    Key: Array.from(data.key),
    Addresses: data.addresses.map((a) => ({
      Addr: a.addr,
      Src: a.src,
      Attempts: a.attempts,
      TimeStamp: a.timestamp,
      LastAttempt: goTime(a.lastAttempt),
      LastSuccess: goTime(a.lastSuccess),
    })),
    NewBuckets: data.newBuckets,
    TriedBuckets: data.triedBuckets,
  };
  return new TextEncoder().encode(JSON.stringify(doc) + "\n");
}

type Json = unknown;

function isObject(v: Json): v is Record<string, Json> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * Where a value is: `base`, `base[i]`, `base[i].field` or `base[i][j]`.
 * Kept in parts so that a name is only built for an error message.
 */
type Sub = number | string | undefined;

function where(base: string, i?: number, sub?: Sub): string {
  const head = i === undefined ? base : `${base}[${i}]`;
  if (sub === undefined) return head;
  return typeof sub === "number" ? `${head}[${sub}]` : `${head}.${sub}`;
}

/** Reads and checks a `peers.json`, one field at a time. */
class FileReader {
  /** Keys already checked: each address appears in the list and again in its buckets. */
  readonly checked = new Map<string, ParsedKey>();

  constructor(readonly file: string) {}

  fail(kind: PeersFileErrorKind, detail: string, cause?: unknown): never {
    throw new PeersFileError(kind, this.file, detail, cause === undefined ? undefined : { cause });
  }

  int(v: Json, base: string, i?: number, sub?: Sub): number {
    if (typeof v !== "number" || !Number.isSafeInteger(v)) {
      this.fail("shape", `${where(base, i, sub)} is not an integer`);
    }
    return v;
  }

  /** A list, where Go's `null` (a nil slice) is an empty one. */
  list(v: Json, base: string, i?: number): Json[] {
    if (v === null) return [];
    if (!Array.isArray(v)) this.fail("shape", `${where(base, i)} is not a list`);
    return v;
  }

  key(v: Json, base: string, i?: number, sub?: Sub): string {
    if (typeof v !== "string") this.fail("shape", `${where(base, i, sub)} is not a string`);
    if (this.checked.has(v)) return v;
    let canonical: string;
    let parsed: ParsedKey;
    try {
      parsed = parseAddressKey(v);
      canonical = addressKey(parsed);
    } catch (err) {
      const detail = err instanceof AddressKeyError ? err.message : String(err);
      this.fail("address", `${where(base, i, sub)}: ${detail}`, err);
    }
    if (canonical !== v) {
      this.fail("address", `${where(base, i, sub)} ${JSON.stringify(v)} is not written as soterd writes it`);
    }
    this.checked.set(v, parsed);
    return v;
  }

  time(v: Json, base: string, i: number, sub: string): number | undefined {
    const s = this.int(v, base, i, sub);
    return s === GO_ZERO_TIME ? undefined : s * 1000;
  }

  buckets(v: Json, base: string, count: number): string[][] {
    const list = this.list(v, base);
    if (list.length !== count) this.fail("shape", `${base} holds ${list.length} buckets, expected ${count}`);
    return list.map((b, i) => this.list(b, base, i).map((k, j) => this.key(k, base, i, j)));
  }
}

/**
 * Reads a `peers.json` (serialisation version 1) and checks it: the
 * version, every field's type, 32 key bytes, 1024 new and 64 tried buckets,
 * address keys in soterd's form, and that the buckets and the address list
 * agree (each bucket entry is a listed address, each listed address is in a
 * bucket, none is both new and tried or twice in the tried table).
 *
 * Timestamps are clamped to the wire's uint32 range.
 *
 * @param bytes The file's bytes.
 * @param file The file's name, for messages.
 * @returns The address book.
 * @throws {PeersFileError} When the file is not a valid `peers.json`.
 */
export function decodePeersFile(bytes: Uint8Array, file = "peers.json"): PeersFile {
  const r: FileReader = new FileReader(file);
  let doc: Json;
  try {
    doc = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch (err) {
    r.fail("syntax", `not JSON (${err instanceof Error ? err.message : String(err)})`, err);
  }
  if (!isObject(doc)) r.fail("syntax", "not a JSON object");
  if (doc.Version !== ADDRMGR.serialisationVersion) {
    r.fail("version", `unknown version ${JSON.stringify(doc.Version) ?? "(none)"}, expected 1`);
  }
  const keyList = r.list(doc.Key ?? null, "Key");
  if (keyList.length !== 32 || !keyList.every((b) => typeof b === "number" && b >>> 0 === b && b <= 255)) {
    r.fail("shape", "Key is not a list of 32 bytes");
  }
  const key = Uint8Array.from(keyList as number[]);
  const addresses: PeersFileAddress[] = r.list(doc.Addresses ?? null, "Addresses").map((a, i) => {
    const A = "Addresses";
    if (!isObject(a)) r.fail("shape", `${where(A, i)} is not an object`);
    const attempts = r.int(a.Attempts, A, i, "Attempts");
    if (attempts < 0) r.fail("shape", `${where(A, i, "Attempts")} is negative`);
    return {
      addr: r.key(a.Addr, A, i, "Addr"),
      src: r.key(a.Src, A, i, "Src"),
      attempts,
      timestamp: Math.min(Math.max(r.int(a.TimeStamp, A, i, "TimeStamp"), 0), 0xffff_ffff),
      lastAttempt: r.time(a.LastAttempt, A, i, "LastAttempt"),
      lastSuccess: r.time(a.LastSuccess, A, i, "LastSuccess"),
    };
  });
  const newBuckets = r.buckets(doc.NewBuckets ?? null, "NewBuckets", ADDRMGR.newBucketCount);
  const triedBuckets = r.buckets(doc.TriedBuckets ?? null, "TriedBuckets", ADDRMGR.triedBucketCount);
  checkConsistent(r, addresses, newBuckets, triedBuckets);
  const book = { key, addresses, newBuckets, triedBuckets };
  parsedKeys.set(book, r.checked);
  return book;
}

function checkConsistent(
  r: FileReader,
  addresses: readonly PeersFileAddress[],
  newBuckets: string[][],
  triedBuckets: readonly string[][],
): void {
  const where = new Map<string, "none" | "new" | "tried">(addresses.map((a) => [a.addr, "none"]));
  for (let i = 0; i < newBuckets.length; i++) {
    // Go keeps a bucket in a map: a key listed twice is there once.
    const bucket = [...new Set(newBuckets[i])];
    newBuckets[i] = bucket;
    for (const k of bucket) {
      if (!where.has(k)) r.fail("inconsistent", `new bucket ${i} holds ${k}, which is not in the address list`);
      where.set(k, "new");
    }
  }
  for (let i = 0; i < triedBuckets.length; i++) {
    for (const k of triedBuckets[i]!) {
      const was = where.get(k);
      if (was === undefined) r.fail("inconsistent", `tried bucket ${i} holds ${k}, which is not in the address list`);
      if (was !== "none") r.fail("inconsistent", `${k} is both in a tried bucket and in ${was} buckets`);
      where.set(k, "tried");
    }
  }
  for (const [k, w] of where) {
    if (w === "none") r.fail("inconsistent", `${k} is in the address list but in no bucket`);
  }
}
