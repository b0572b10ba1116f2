/**
 * The sync's embedded block store: an append-only file of raw blocks
 * (`blocks.dat`, the payloads end to end), an append-only index
 * (`blocks.idx`, one checksummed record per block: hash, height, place in
 * `blocks.dat`, checksum of the bytes, parents) and a checkpoint
 * (`sync.json`, the height below which every block is stored), all through
 * the {@linkcode Storage} seam.
 *
 * Blocks are written data first, then index, then checkpoint, so a crash
 * leaves at worst a tail that no index record vouches for. Opening the
 * store never trusts a tail: index records that are torn, fail their
 * checksum or point past the data are dropped, data no record covers is
 * truncated, and the last blocks are read back and checked against their
 * checksums; what is cut is downloaded again.
 *
 * @module
 */
import { type Storage, StorageError } from "../storage/storage.ts";
import { hashToHex } from "../wire/hex.ts";
import { crc32 } from "./crc32.ts";

/** The file of raw blocks. */
export const BLOCKS_FILE = "blocks.dat";
/** The index file. */
export const INDEX_FILE = "blocks.idx";
/** The checkpoint file. */
export const CHECKPOINT_FILE = "sync.json";

/** Fixed part of an index record: length, hash, height, offset (2×u32), size, crc, parent count. */
const RECORD_FIXED = 4 + 32 + 4 + 8 + 4 + 4 + 1;

/** A block to store. */
export interface StoredBlockInput {
  /** Its hash, wire order. */
  readonly hash: Uint8Array;
  /** Its height. */
  readonly height: number;
  /** Its parents' hashes, wire order. */
  readonly parents: readonly Uint8Array[];
  /** Its exact payload bytes. */
  readonly payload: Uint8Array;
}

/** What the store knows of one block. */
export interface StoredBlock {
  /** Its hash, wire order. */
  readonly hash: Uint8Array;
  /** Its hash as soterd prints it. */
  readonly hex: string;
  /** Its height. */
  readonly height: number;
  /** Where its bytes start in `blocks.dat`. */
  readonly offset: number;
  /** How many bytes. */
  readonly length: number;
  /** CRC-32 of its bytes. */
  readonly crc: number;
  /** Its parents' hashes as soterd prints them. */
  readonly parents: readonly string[];
}

/** What opening the store found and repaired. */
export interface StoreRecovery {
  /** Blocks found intact. */
  readonly blocks: number;
  /** Index records dropped (torn, corrupt, or vouching for corrupt data). */
  readonly droppedRecords: number;
  /** Bytes cut from the end of `blocks.dat`. */
  readonly truncatedBytes: number;
}

/** Options of {@linkcode BlockStore.open}. */
export interface BlockStoreOptions {
  /** How many of the last blocks to read back and check on opening (default 16). */
  verifyTail?: number;
  /** Write buffered blocks once this many bytes wait (default 1 MiB). */
  flushBytes?: number;
}

function encodeRecord(b: StoredBlock, hash: Uint8Array, parents: readonly Uint8Array[]): Uint8Array {
  const len = RECORD_FIXED + 32 * parents.length + 4;
  const rec = new Uint8Array(len);
  const v = new DataView(rec.buffer);
  v.setUint32(0, len, true);
  rec.set(hash, 4);
  v.setUint32(36, b.height, true);
  v.setUint32(40, b.offset % 2 ** 32, true);
  v.setUint32(44, Math.floor(b.offset / 2 ** 32), true);
  v.setUint32(48, b.length, true);
  v.setUint32(52, b.crc, true);
  rec[56] = parents.length;
  parents.forEach((p, i) => rec.set(p, RECORD_FIXED + 32 * i));
  v.setUint32(len - 4, crc32(rec.subarray(0, len - 4)), true);
  return rec;
}

/** Parses the record at `pos`, or `undefined` when it is torn or corrupt. */
function decodeRecord(idx: Uint8Array, pos: number): StoredBlock | undefined {
  if (idx.length - pos < RECORD_FIXED + 4) return undefined;
  const v = new DataView(idx.buffer, idx.byteOffset + pos, idx.length - pos);
  const len = v.getUint32(0, true);
  const n = idx[pos + 56]!;
  if (len !== RECORD_FIXED + 32 * n + 4 || idx.length - pos < len) return undefined;
  if (crc32(idx.subarray(pos, pos + len - 4)) !== v.getUint32(len - 4, true)) return undefined;
  const hash = idx.slice(pos + 4, pos + 36);
  const parents: string[] = [];
  for (let i = 0; i < n; i++) {
    parents.push(hashToHex(idx.subarray(pos + RECORD_FIXED + 32 * i, pos + RECORD_FIXED + 32 * i + 32)));
  }
  return {
    hash,
    hex: hashToHex(hash),
    height: v.getUint32(36, true),
    offset: v.getUint32(40, true) + v.getUint32(44, true) * 2 ** 32,
    length: v.getUint32(48, true),
    crc: v.getUint32(52, true),
    parents,
  };
}

/**
 * An append-only block store over a {@linkcode Storage}. Blocks added are
 * buffered and written in batches ({@linkcode BlockStore.flush}); call
 * {@linkcode BlockStore.close} at the end.
 *
 * @example Storing and reading back
 * ```ts
 * import { BlockStore, MemoryStorage } from "@soter/peer";
 * const store = await BlockStore.open(new MemoryStorage());
 * await store.add({ hash: new Uint8Array(32).fill(1), height: 1, parents: [], payload: new Uint8Array([1, 2]) });
 * await store.flush();
 * console.log(store.size, await store.read(new Uint8Array(32).fill(1))); // 1 Uint8Array(2) [ 1, 2 ]
 * ```
 */
export class BlockStore {
  /** What opening found and repaired. */
  readonly recovery: StoreRecovery;
  readonly #storage: Storage;
  readonly #flushBytes: number;
  readonly #blocks = new Map<string, StoredBlock>();
  readonly #tips = new Set<string>();
  #end: number;
  #bytes = 0;
  #maxHeight = 0;
  #checkpoint: number;
  #savedCheckpoint: number;
  #pending: { block: StoredBlock; hash: Uint8Array; parents: readonly Uint8Array[]; payload: Uint8Array }[] = [];
  #pendingBytes = 0;
  #flushing: Promise<void> = Promise.resolve();

  private constructor(storage: Storage, flushBytes: number, end: number, checkpoint: number, recovery: StoreRecovery) {
    this.#storage = storage;
    this.#flushBytes = flushBytes;
    this.#end = end;
    this.#checkpoint = checkpoint;
    this.#savedCheckpoint = checkpoint;
    this.recovery = recovery;
  }

  /**
   * Opens (or creates) the store in `storage`, repairing a torn or corrupt
   * tail (see {@linkcode BlockStore.recovery}).
   *
   * @param storage Where the files live.
   * @param options Tail verification and batching.
   * @returns The store.
   * @throws {StorageError} when the storage fails.
   */
  static async open(storage: Storage, options: BlockStoreOptions = {}): Promise<BlockStore> {
    const idx = (await storage.read(INDEX_FILE)) ?? new Uint8Array(0);
    const dataSize = (await storage.size(BLOCKS_FILE)) ?? 0;
    const records: { block: StoredBlock; pos: number }[] = [];
    let pos = 0;
    let end = 0;
    while (pos < idx.length) {
      const b = decodeRecord(idx, pos);
      if (b === undefined || b.offset !== end || b.offset + b.length > dataSize) break;
      records.push({ block: b, pos });
      end += b.length;
      pos += new DataView(idx.buffer, idx.byteOffset + pos, 4).getUint32(0, true);
    }
    let dropped = pos < idx.length ? countRecords(idx, pos) : 0;
    // Read back the last blocks: their bytes must match their checksums.
    const verify = Math.max(0, options.verifyTail ?? 16);
    for (let i = Math.max(0, records.length - verify); i < records.length; i++) {
      const b = records[i]!.block;
      const bytes = await storage.readRange(BLOCKS_FILE, b.offset, b.length);
      if (crc32(bytes) !== b.crc) {
        dropped += records.length - i;
        pos = records[i]!.pos;
        end = b.offset;
        records.length = i;
        break;
      }
    }
    if (pos < idx.length) await storage.truncate(INDEX_FILE, pos);
    if (dataSize > end) await storage.truncate(BLOCKS_FILE, end);
    // After a repair the checkpoint may cover blocks that were cut: start
    // over from the genesis (what is stored is not downloaded again).
    const repaired = dropped > 0 || dataSize > end;
    if (repaired) await storage.remove(CHECKPOINT_FILE);
    const checkpoint = repaired ? 0 : await readCheckpoint(storage);
    const store = new BlockStore(storage, options.flushBytes ?? 1 << 20, end, checkpoint, {
      blocks: records.length,
      droppedRecords: dropped,
      truncatedBytes: dataSize - end,
    });
    for (const { block } of records) store.#index(block);
    return store;
  }

  #index(b: StoredBlock): void {
    this.#blocks.set(b.hex, b);
    for (const p of b.parents) this.#tips.delete(p);
    this.#tips.add(b.hex);
    this.#bytes += b.length;
    if (b.height > this.#maxHeight) this.#maxHeight = b.height;
  }

  /** The number of blocks stored (buffered ones included). */
  get size(): number {
    return this.#blocks.size;
  }

  /** The bytes of the blocks stored (buffered ones included). */
  get bytes(): number {
    return this.#bytes;
  }

  /** The greatest height stored (0 when empty). */
  get maxHeight(): number {
    return this.#maxHeight;
  }

  /**
   * The height below and at which every block is stored, as last recorded
   * by {@linkcode BlockStore.setCheckpoint}: where a resumed sync starts
   * asking.
   */
  get checkpoint(): number {
    return Math.min(this.#checkpoint, this.#maxHeight);
  }

  /**
   * Records that every block up to `height` is stored; written after the
   * blocks, at the next flush.
   *
   * @param height The height.
   */
  setCheckpoint(height: number): void {
    this.#checkpoint = Math.max(0, Math.floor(height));
  }

  /**
   * Tells whether a block is stored.
   *
   * @param hash Its hash, wire order or display hex.
   * @returns `true` if stored.
   */
  has(hash: Uint8Array | string): boolean {
    return this.#blocks.has(typeof hash === "string" ? hash : hashToHex(hash));
  }

  /**
   * Looks a block up.
   *
   * @param hash Its hash, wire order or display hex.
   * @returns What the store knows of it, if stored.
   */
  get(hash: Uint8Array | string): StoredBlock | undefined {
    return this.#blocks.get(typeof hash === "string" ? hash : hashToHex(hash));
  }

  /**
   * Lists the tips: stored blocks no stored block names as a parent.
   *
   * @returns The tips, highest first.
   */
  tips(): StoredBlock[] {
    return [...this.#tips].map((h) => this.#blocks.get(h)!).sort((a, b) => b.height - a.height);
  }

  /**
   * Lists the blocks in the order they were stored (parents first).
   *
   * @returns Every stored block.
   */
  blocks(): StoredBlock[] {
    return [...this.#blocks.values()];
  }

  /**
   * Adds a block (ignored when already stored). It is written with the next
   * batch; the returned promise waits for that write only when the buffer
   * is full.
   *
   * @param block The block.
   * @returns A promise that settles once the buffer has room.
   */
  add(block: StoredBlockInput): Promise<void> {
    const hex = hashToHex(block.hash);
    if (this.#blocks.has(hex)) return Promise.resolve();
    const b: StoredBlock = {
      hash: block.hash.slice(),
      hex,
      height: block.height,
      offset: this.#end,
      length: block.payload.length,
      crc: crc32(block.payload),
      parents: block.parents.map(hashToHex),
    };
    this.#end += b.length;
    this.#index(b);
    this.#pending.push({ block: b, hash: b.hash, parents: block.parents, payload: block.payload });
    this.#pendingBytes += b.length;
    return this.#pendingBytes >= this.#flushBytes ? this.flush() : Promise.resolve();
  }

  /**
   * Writes the buffered blocks (data, then index, then checkpoint).
   *
   * @returns A promise that settles once written.
   * @throws {StorageError} when the storage fails.
   */
  flush(): Promise<void> {
    const next = this.#flushing.then(() => this.#write());
    this.#flushing = next.catch(() => {});
    return next;
  }

  async #write(): Promise<void> {
    const batch = this.#pending;
    this.#pending = [];
    this.#pendingBytes = 0;
    if (batch.length > 0) {
      const data = new Uint8Array(batch.reduce((n, p) => n + p.payload.length, 0));
      let at = 0;
      for (const p of batch) {
        data.set(p.payload, at);
        at += p.payload.length;
      }
      const offset = await this.#storage.append(BLOCKS_FILE, data);
      if (offset !== batch[0]!.block.offset) {
        throw new StorageError(
          "io",
          BLOCKS_FILE,
          `Cannot store blocks: ${BLOCKS_FILE} changed under the store: ${BLOCKS_FILE} (expected to write at ${
            batch[0]!.block.offset
          }, wrote at ${offset}); open it in one process at a time`,
        );
      }
      const recs = batch.map((p) => encodeRecord(p.block, p.hash, p.parents));
      const idx = new Uint8Array(recs.reduce((n, r) => n + r.length, 0));
      at = 0;
      for (const r of recs) {
        idx.set(r, at);
        at += r.length;
      }
      await this.#storage.append(INDEX_FILE, idx);
    }
    if (this.#checkpoint !== this.#savedCheckpoint) {
      const cp = this.#checkpoint;
      await this.#storage.writeAtomic(CHECKPOINT_FILE, new TextEncoder().encode(JSON.stringify({ checkpoint: cp })));
      this.#savedCheckpoint = cp;
    }
  }

  /**
   * Reads a stored block's bytes and checks them against their checksum.
   *
   * @param hash Its hash, wire order or display hex.
   * @returns The payload, or `undefined` if not stored.
   * @throws {StorageError} when the storage fails, or `io` when the bytes
   *   no longer match their checksum.
   */
  async read(hash: Uint8Array | string): Promise<Uint8Array | undefined> {
    const b = this.get(hash);
    if (b === undefined) return undefined;
    const pending = this.#pending.find((p) => p.block === b);
    if (pending !== undefined) return pending.payload.slice();
    await this.#flushing;
    const bytes = await this.#storage.readRange(BLOCKS_FILE, b.offset, b.length);
    if (crc32(bytes) !== b.crc) {
      throw new StorageError(
        "io",
        BLOCKS_FILE,
        `Cannot read block ${b.hex}: its bytes are corrupt; delete the store to download again`,
      );
    }
    return bytes;
  }

  /**
   * Writes what is buffered.
   *
   * @returns A promise that settles once written.
   */
  close(): Promise<void> {
    return this.flush();
  }
}

function countRecords(idx: Uint8Array, pos: number): number {
  // Torn or corrupt records cannot be counted exactly; count what parses as
  // a length prefix, at least one.
  let n = 0;
  while (pos + 4 <= idx.length) {
    const len = new DataView(idx.buffer, idx.byteOffset + pos, 4).getUint32(0, true);
    n++;
    if (len < RECORD_FIXED + 4) break;
    pos += len;
  }
  return Math.max(1, n);
}

async function readCheckpoint(storage: Storage): Promise<number> {
  const raw = await storage.read(CHECKPOINT_FILE);
  if (raw === undefined) return 0;
  try {
    const cp = (JSON.parse(new TextDecoder().decode(raw)) as { checkpoint?: unknown }).checkpoint;
    return typeof cp === "number" && Number.isSafeInteger(cp) && cp >= 0 ? cp : 0;
  } catch {
    return 0;
  }
}
