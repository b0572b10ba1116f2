/**
 * A generated blockDAG shaped like soterd's simnet: blocks with one to
 * several parents, heights, simnet-like header fields and coinbase-only
 * transactions. It answers the queries a soterd node answers from its DAG
 * (`LocateBlocks`, `LocateHeaders`), and checks blocks the way a client can.
 *
 * Runtime-neutral: it uses only the core library.
 *
 * @module
 */
import {
  blockHash,
  type BlockHeader,
  type BlockMessage,
  bytesEqual,
  type ChainParams,
  defaultHasher,
  type Hasher,
  hashToHex,
  SIMNET,
  type Tx,
  txHash,
  ZERO_HASH,
} from "../../mod.ts";

/** soterd's `MaxBlocksPerMsg`: the most blocks one `inv` answer lists. */
export const MAX_BLOCKS_PER_MSG = 500;
/** The most headers one `headers` answer holds. */
export const MAX_HEADERS_PER_MSG = 2000;
/** The most parents soterd lets a block name. */
export const MAX_PARENTS = 8;

/** Header version of soterd's simnet blocks. */
export const SIMNET_BLOCK_VERSION = 0x20000000;
/** Header bits of soterd's simnet blocks. */
export const SIMNET_BLOCK_BITS = 0x01010000;
/** Cycle nonces in a simnet block's verification sub-header. */
export const CYCLE_NONCES = 20;

/** One block of the DAG, with what a node keeps beside it. */
export interface DagBlock {
  /** The block. */
  readonly block: BlockMessage;
  /** Its hash, wire order. */
  readonly hash: Uint8Array;
  /** Its hash as soterd prints it. */
  readonly hex: string;
  /** Its height: one more than its highest parent (0 for genesis). */
  readonly height: number;
}

/** Options of {@linkcode Dag.generate}. */
export interface GenerateOptions {
  /** The network whose genesis block is the root; default simnet. */
  network?: ChainParams;
  /** The height to grow the DAG to; default 100. */
  height?: number;
  /** The most blocks at one height; default 3. */
  maxWidth?: number;
  /** Seed of the generator: the same seed gives the same DAG. Default 1. */
  seed?: number;
  /** The SHA-256 provider; default the process default. */
  hasher?: Hasher;
}

/** A xorshift32 generator: deterministic bytes for tests and demos. */
export class Xorshift {
  #s: number;

  /**
   * Creates a generator.
   *
   * @param seed Any non-zero 32-bit number.
   */
  constructor(seed: number) {
    this.#s = seed >>> 0 || 0x2545f491;
  }

  /**
   * Draws a number.
   *
   * @returns The next 32-bit value.
   */
  u32(): number {
    let s = this.#s;
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    this.#s = s;
    return s;
  }

  /**
   * Draws a number below a bound.
   *
   * @param n The bound.
   * @returns A value in `[0, n)`.
   */
  below(n: number): number {
    return this.u32() % n;
  }

  /**
   * Draws bytes.
   *
   * @param n How many bytes.
   * @returns Fresh random bytes.
   */
  bytes(n: number): Uint8Array<ArrayBuffer> {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.u32() & 0xff;
    return out;
  }
}

/**
 * soterd's `GenerateTipsHash`: the double SHA-256 of the parents' hashes
 * (wire order) concatenated after sorting them by their display hex. A
 * block's header carries it as `prevBlock`.
 *
 * @param hashes The parent hashes, wire order, in any order.
 * @param hasher The SHA-256 provider.
 * @returns The 32-byte tips hash.
 */
export function tipsHash(hashes: readonly Uint8Array[], hasher: Hasher = defaultHasher()): Uint8Array {
  const sorted = hashes.map((h) => ({ h, hex: hashToHex(h) })).sort((a, b) =>
    a.hex < b.hex ? -1 : a.hex > b.hex ? 1 : 0
  );
  const buf = new Uint8Array(32 * sorted.length);
  sorted.forEach(({ h }, i) => buf.set(h, 32 * i));
  return hasher.doubleSha256(buf);
}

/**
 * The merkle root of transaction ids (Bitcoin's: pairs hashed level by
 * level, the last one doubled on odd levels).
 *
 * @param txids The transaction ids, wire order.
 * @param hasher The SHA-256 provider.
 * @returns The root, wire order (zero for no transactions).
 */
export function merkleRoot(txids: readonly Uint8Array[], hasher: Hasher = defaultHasher()): Uint8Array {
  if (txids.length === 0) return ZERO_HASH;
  let level = txids.slice();
  while (level.length > 1) {
    const next: Uint8Array[] = [];
    for (let i = 0; i < level.length; i += 2) {
      const a = level[i]!;
      const b = level[i + 1] ?? a;
      const pair = new Uint8Array(64);
      pair.set(a, 0);
      pair.set(b, 32);
      next.push(hasher.doubleSha256(pair));
    }
    level = next;
  }
  return level[0]!;
}

const TAG = new TextEncoder().encode("/soter-peer/");

/** A BIP 34 style script push of a small non-negative number. */
function pushNumber(n: number): number[] {
  const bytes: number[] = [];
  let v = n;
  while (v > 0) {
    bytes.push(v & 0xff);
    v = Math.floor(v / 256);
  }
  if (bytes.length > 0 && (bytes[bytes.length - 1]! & 0x80) !== 0) bytes.push(0);
  return [bytes.length, ...bytes];
}

/**
 * A coinbase transaction for a block at `height`: one input spending
 * nothing (its script pushes the height, an extra nonce and a tag), one
 * pay-to-pubkey-hash output of 50 coins.
 *
 * @param height The block height.
 * @param rng The source of the extra nonce and the key hash.
 * @returns The transaction.
 */
export function coinbase(height: number, rng: Xorshift): Tx {
  const script = new Uint8Array([...pushNumber(height), 8, ...rng.bytes(8), TAG.length, ...TAG]);
  const pkScript = new Uint8Array([0x76, 0xa9, 20, ...rng.bytes(20), 0x88, 0xac]);
  return {
    version: 1,
    txIn: [{
      previousOutPoint: { hash: new Uint8Array(32), index: 0xffffffff },
      signatureScript: script,
      witness: [],
      sequence: 0xffffffff,
    }],
    txOut: [{ value: 5_000_000_000n, pkScript }],
    lockTime: 0,
  };
}

/**
 * A blockDAG in memory: blocks by hash and by height, the tips, and
 * soterd's locator queries.
 *
 * @example A small DAG
 * ```ts ignore
 * const dag = Dag.generate({ height: 10 });
 * console.log(dag.height, dag.size, dag.tips().length);
 * ```
 */
export class Dag {
  /** The network whose genesis block is the root. */
  readonly network: ChainParams;
  readonly #hasher: Hasher;
  readonly #rng: Xorshift;
  readonly #byHex = new Map<string, DagBlock>();
  readonly #byHeight: DagBlock[][] = [];
  readonly #tips = new Map<string, DagBlock>();
  #size = 0;

  /**
   * Creates a DAG holding only the genesis block.
   *
   * @param network The network.
   * @param seed The seed of the generator used by {@linkcode Dag.add}.
   * @param hasher The SHA-256 provider.
   */
  constructor(network: ChainParams = SIMNET, seed = 1, hasher: Hasher = defaultHasher()) {
    this.network = network;
    this.#hasher = hasher;
    this.#rng = new Xorshift(seed);
    this.#insert({
      block: network.genesisBlock,
      hash: network.genesisHash,
      hex: hashToHex(network.genesisHash),
      height: 0,
    });
  }

  /**
   * Grows a DAG: at each height one to `maxWidth` blocks; the first takes
   * every block of the height below as parents, the others a random
   * non-empty subset of them (so blocks have one to `maxWidth` parents and
   * every block gets a child).
   *
   * @param options Network, height, width, seed.
   * @returns The DAG.
   */
  static generate(options: GenerateOptions = {}): Dag {
    const dag = new Dag(options.network ?? SIMNET, options.seed ?? 1, options.hasher ?? defaultHasher());
    const height = options.height ?? 100;
    const maxWidth = Math.max(1, Math.min(MAX_PARENTS, options.maxWidth ?? 3));
    const rng = dag.#rng;
    for (let h = 1; h <= height; h++) {
      const below = dag.atHeight(h - 1);
      const width = h === 1 ? 1 : 1 + rng.below(maxWidth);
      for (let i = 0; i < width; i++) {
        let parents = below;
        if (i > 0) {
          parents = below.filter(() => rng.below(2) === 0);
          if (parents.length === 0) parents = [below[rng.below(below.length)]!];
        }
        dag.add(parents);
      }
    }
    return dag;
  }

  #insert(b: DagBlock): void {
    this.#byHex.set(b.hex, b);
    (this.#byHeight[b.height] ??= []).push(b);
    for (const p of b.block.parents.parents) this.#tips.delete(hashToHex(p.hash));
    this.#tips.set(b.hex, b);
    this.#size++;
  }

  /**
   * Makes a block on `parents` (at most 8) and adds it: its header has
   * simnet's version and bits, `prevBlock` the parents' tips hash, a time
   * one second after its newest parent's; its only transaction is a
   * coinbase.
   *
   * @param parents The parent blocks, all in this DAG.
   * @returns The new block.
   */
  add(parents: readonly DagBlock[]): DagBlock {
    if (parents.length === 0 || parents.length > MAX_PARENTS) {
      throw new RangeError(`A block needs 1 to ${MAX_PARENTS} parents, not ${parents.length}`);
    }
    const rng = this.#rng;
    const height = Math.max(...parents.map((p) => p.height)) + 1;
    const tx = coinbase(height, rng);
    const time = Math.max(...parents.map((p) => p.block.header.timestamp)) + 1;
    const header: BlockHeader = {
      version: SIMNET_BLOCK_VERSION,
      prevBlock: tipsHash(parents.map((p) => p.hash), this.#hasher),
      merkleRoot: merkleRoot([txHash(tx, this.#hasher)], this.#hasher),
      timestamp: time,
      bits: SIMNET_BLOCK_BITS,
      nonce: rng.u32(),
    };
    const cycleNonces = Array.from({ length: CYCLE_NONCES }, () => rng.u32() >>> 3).sort((a, b) => a - b);
    const block: BlockMessage = {
      command: "block",
      header,
      parents: {
        version: 1,
        size: parents.length,
        parents: parents.map((p) => ({ hash: p.hash, data: new Uint8Array(32) })),
      },
      verification: { version: 1, size: CYCLE_NONCES, cycleNonces },
      transactions: [tx],
    };
    const hash = blockHash(header, this.#hasher);
    const b: DagBlock = { block, hash, hex: hashToHex(hash), height };
    this.#insert(b);
    return b;
  }

  /** The greatest height. */
  get height(): number {
    return this.#byHeight.length - 1;
  }

  /** The number of blocks, genesis included. */
  get size(): number {
    return this.#size;
  }

  /**
   * Lists the tips.
   *
   * @returns The blocks without children, in the order they were added.
   */
  tips(): DagBlock[] {
    return [...this.#tips.values()];
  }

  /**
   * Lists the blocks at one height.
   *
   * @param height A height.
   * @returns The blocks at that height, in the order they were added.
   */
  atHeight(height: number): DagBlock[] {
    return this.#byHeight[height]?.slice() ?? [];
  }

  /**
   * Finds a block by its hash.
   *
   * @param hash A hash in wire order, or as display hex.
   * @returns The block, if known.
   */
  get(hash: Uint8Array | string): DagBlock | undefined {
    return this.#byHex.get(typeof hash === "string" ? hash : hashToHex(hash));
  }

  /**
   * Lists every block.
   *
   * @returns Every block, by height, genesis first.
   */
  blocks(): DagBlock[] {
    return this.#byHeight.flat();
  }

  /**
   * Gives the newest block, whose height and hash a node puts in its `version`.
   *
   * @returns The last block added at the greatest height.
   */
  newest(): DagBlock {
    const top = this.#byHeight[this.height]!;
    return top[top.length - 1]!;
  }

  /**
   * soterd's `locateInventory`: the blocks above the locator height, in
   * height order, up to the height of the stop block (a zero stop hash
   * means up to the tips), at most `max`. Without a locator, the stop
   * block alone; with an unknown stop hash, nothing.
   *
   * @param locator The locator heights (soterd reads the first).
   * @param hashStop The stop hash, wire order.
   * @param max The most blocks to return.
   * @returns The blocks.
   */
  locate(locator: readonly number[], hashStop: Uint8Array, max: number): DagBlock[] {
    const stop = bytesEqual(hashStop, ZERO_HASH) ? this.newest() : this.get(hashStop);
    if (stop === undefined) return [];
    const start = locator[0];
    if (start === undefined) return max >= 1 ? [stop] : [];
    const out: DagBlock[] = [];
    for (let h = Math.max(0, start + 1); h <= stop.height; h++) {
      for (const b of this.#byHeight[h] ?? []) {
        if (out.length >= max) return out;
        out.push(b);
      }
    }
    return out;
  }
}

/** The outcome of {@linkcode checkBlock}. */
export type BlockCheck =
  | { readonly ok: true; readonly height: number }
  | { readonly ok: false; readonly problem: string };

/**
 * Checks a downloaded block the way a client that knows its parents can:
 * its hash is the one asked for, every parent is known, the header's
 * `prevBlock` is the parents' tips hash, and the merkle root matches the
 * transactions. The block's height follows from its parents'.
 *
 * @param block The block.
 * @param expected The hash asked for, wire order.
 * @param heightOf The heights of the blocks known so far, by display hex.
 * @param hasher The SHA-256 provider.
 * @returns The block's height, or the first problem found.
 */
export function checkBlock(
  block: BlockMessage,
  expected: Uint8Array,
  heightOf: (hex: string) => number | undefined,
  hasher: Hasher = defaultHasher(),
): BlockCheck {
  const hash = blockHash(block.header, hasher);
  if (!bytesEqual(hash, expected)) {
    return { ok: false, problem: `hash ${hashToHex(hash)} is not the ${hashToHex(expected)} asked for` };
  }
  const parents = block.parents.parents;
  if (parents.length === 0) return { ok: false, problem: "no parents" };
  let height = 0;
  for (const p of parents) {
    const h = heightOf(hashToHex(p.hash));
    if (h === undefined) return { ok: false, problem: `unknown parent ${hashToHex(p.hash)}` };
    height = Math.max(height, h + 1);
  }
  if (!bytesEqual(block.header.prevBlock, tipsHash(parents.map((p) => p.hash), hasher))) {
    return { ok: false, problem: "prevBlock is not the tips hash of the parents" };
  }
  const root = merkleRoot(block.transactions.map((tx) => txHash(tx, hasher)), hasher);
  if (!bytesEqual(root, block.header.merkleRoot)) {
    return { ok: false, problem: "merkle root does not match the transactions" };
  }
  return { ok: true, height };
}
