/**
 * What a client can verify of a soter block without a full node: the
 * header hashes to what was announced, the merkle root (and the witness
 * commitment where there is one) matches the transactions, `prevBlock` is
 * the tips hash of the block's parents, the parents are known, the height
 * follows from theirs, and `bits` is within the network's proof-of-work
 * limit. Each failure is a {@linkcode BlockVerificationError} naming the
 * block and the peer.
 *
 * @module
 */
import type { ChainParams } from "../chain/params.ts";
import type { Hasher } from "../hash/hasher.ts";
import { bytesEqual, hashToHex, ZERO_HASH } from "../wire/hex.ts";
import type { BlockMessage } from "../wire/messages/block.ts";
import { MAX_PARENTS } from "../wire/parentsubheader.ts";
import { type Tx, txHash, txHasWitness, txWitnessHash } from "../wire/tx.ts";

/**
 * Which rule a block broke:
 * - `hash`: its header does not hash to the hash it was announced and asked for.
 * - `bits`: its `bits` is not a positive target within the network's limit.
 * - `merkle-root`: the merkle root does not match the transactions (or the
 *   block has none, or repeats one).
 * - `witness-commitment`: the coinbase's witness commitment does not match
 *   the witness transaction ids, or witness data comes without one.
 * - `tips-hash`: `prevBlock` is not the tips hash of its parents, or the
 *   parent list is empty, too long or repeats a parent.
 * - `unknown-parent`: a parent is neither known nor announced by anyone.
 * - `height`: the height announced for it is not one more than its
 *   highest parent's.
 */
export type BlockVerificationKind =
  | "hash"
  | "bits"
  | "merkle-root"
  | "witness-commitment"
  | "tips-hash"
  | "unknown-parent"
  | "height";

/**
 * A peer served or announced a block that breaks a rule the sync checks.
 * The peer is banned (through the pool when there is one, else
 * disconnected) and the block asked from another peer.
 *
 * @example Reporting bad blocks
 * ```ts ignore
 * const sync = new DagSync({ network: SIMNET, peers, onInvalidBlock: (err) => console.log(err.message) });
 * // "Block 3f… from 127.0.0.1:18555 fails merkle-root: …"
 * ```
 */
export class BlockVerificationError extends Error {
  /** The rule broken. */
  readonly kind: BlockVerificationKind;
  /** The block's hash as soterd prints it (the hash announced). */
  readonly block: string;
  /** The address of the peer that served (or announced) it. */
  readonly peer: string;

  /**
   * Makes an error.
   *
   * @param kind The rule broken.
   * @param block The block hash, display hex.
   * @param peer The peer's address.
   * @param detail What exactly is wrong.
   */
  constructor(kind: BlockVerificationKind, block: string, peer: string, detail: string) {
    super(`Block ${block} from ${peer} fails ${kind}: ${detail}`);
    this.name = "BlockVerificationError";
    this.kind = kind;
    this.block = block;
    this.peer = peer;
  }
}

/** A block's problem before the peer is known: the rule and the detail. */
export interface BlockProblem {
  /** The rule broken. */
  readonly kind: BlockVerificationKind;
  /** What exactly is wrong. */
  readonly detail: string;
}

/**
 * Compares two hashes the way soterd sorts them: by their display hex,
 * i.e. from the last byte of the wire order to the first.
 *
 * @param a A hash, wire order.
 * @param b Another.
 * @returns Negative, zero or positive.
 */
export function compareHashes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 31; i >= 0; i--) {
    const d = a[i]! - b[i]!;
    if (d !== 0) return d;
  }
  return 0;
}

/**
 * soterd's `GenerateTipsHash`: the double SHA-256 of the parent hashes
 * (wire order) concatenated after sorting them by display hex. A block's
 * header carries the tips hash of its parents as `prevBlock`.
 *
 * @param hashes The parent hashes, wire order, in any order.
 * @param hasher The SHA-256 provider.
 * @returns The 32-byte tips hash.
 *
 * @example
 * ```ts
 * import { defaultHasher, SIMNET, tipsHash } from "@soter/peer";
 * const h = tipsHash([SIMNET.genesisHash], defaultHasher());
 * console.log(h.length); // 32
 * ```
 */
export function tipsHash(hashes: readonly Uint8Array[], hasher: Hasher): Uint8Array {
  const sorted = hashes.slice().sort(compareHashes);
  const buf = new Uint8Array(32 * sorted.length);
  for (let i = 0; i < sorted.length; i++) buf.set(sorted[i]!, 32 * i);
  return hasher.doubleSha256(buf);
}

/**
 * The merkle root of a list of hashes as soterd builds it: pairs hashed
 * level by level, an odd last one paired with itself.
 *
 * @param leaves The leaf hashes, wire order.
 * @param hasher The SHA-256 provider.
 * @returns The root, wire order (zero for no leaves).
 *
 * @example
 * ```ts
 * import { defaultHasher, merkleRoot } from "@soter/peer";
 * const leaf = new Uint8Array(32).fill(7);
 * console.log(merkleRoot([leaf], defaultHasher()) === leaf); // true: one leaf is the root
 * ```
 */
export function merkleRoot(leaves: readonly Uint8Array[], hasher: Hasher): Uint8Array {
  if (leaves.length === 0) return ZERO_HASH;
  let level = leaves.slice();
  const pair = new Uint8Array(64);
  while (level.length > 1) {
    const next: Uint8Array[] = [];
    for (let i = 0; i < level.length; i += 2) {
      pair.set(level[i]!, 0);
      pair.set(level[i + 1] ?? level[i]!, 32);
      next.push(hasher.doubleSha256(pair));
    }
    level = next;
  }
  return level[0]!;
}

/**
 * Decodes compact `bits` into the target they stand for (Bitcoin's
 * `CompactToBig`); negative for a set sign bit.
 *
 * @param bits The compact form.
 * @returns The target.
 */
export function compactToTarget(bits: number): bigint {
  const exponent = bits >>> 24;
  let mantissa = BigInt(bits & 0x007fffff);
  mantissa = exponent <= 3 ? mantissa >> BigInt(8 * (3 - exponent)) : mantissa << BigInt(8 * (exponent - 3));
  return (bits & 0x00800000) !== 0 ? -mantissa : mantissa;
}

/** The prefix of a coinbase output holding the witness commitment. */
const WITNESS_MAGIC = [0x6a, 0x24, 0xaa, 0x21, 0xa9, 0xed];

function witnessCommitment(coinbase: Tx): Uint8Array | undefined {
  for (let i = coinbase.txOut.length - 1; i >= 0; i--) {
    const script = coinbase.txOut[i]!.pkScript;
    if (script.length >= 38 && WITNESS_MAGIC.every((b, j) => script[j] === b)) return script.subarray(6, 38);
  }
  return undefined;
}

function checkWitness(txs: readonly Tx[], hasher: Hasher): BlockProblem | undefined {
  const commitment = witnessCommitment(txs[0]!);
  const anyWitness = txs.some(txHasWitness);
  if (commitment === undefined) {
    return anyWitness
      ? { kind: "witness-commitment", detail: "transactions carry witness data but the coinbase commits to none" }
      : undefined;
  }
  // Served without witness data (a `block` rather than a witness block):
  // nothing to check the commitment against.
  if (!anyWitness) return undefined;
  const stack = txs[0]!.txIn[0]?.witness ?? [];
  if (stack.length !== 1 || stack[0]!.length !== 32) {
    return { kind: "witness-commitment", detail: "the coinbase witness must be one 32-byte nonce" };
  }
  const leaves = txs.map((tx, i) => i === 0 ? ZERO_HASH : txWitnessHash(tx, hasher));
  const preimage = new Uint8Array(64);
  preimage.set(merkleRoot(leaves, hasher), 0);
  preimage.set(stack[0]!, 32);
  if (!bytesEqual(hasher.doubleSha256(preimage), commitment)) {
    return { kind: "witness-commitment", detail: "the commitment does not match the witness transaction ids" };
  }
  return undefined;
}

/**
 * Checks what a block says about itself, given the bytes it came in: the
 * header hashes to `expected`, `bits` is within the network's limit, the
 * merkle root and witness commitment match the transactions, and
 * `prevBlock` is the tips hash of the parents listed.
 *
 * @param block The decoded block.
 * @param headerHash The double SHA-256 of its 80 header bytes.
 * @param expected The hash announced and asked for, wire order.
 * @param network The network (for its proof-of-work limit).
 * @param hasher The SHA-256 provider.
 * @returns The first problem found, or `undefined`.
 */
export function checkBlockContent(
  block: BlockMessage,
  headerHash: Uint8Array,
  expected: Uint8Array,
  network: ChainParams,
  hasher: Hasher,
): BlockProblem | undefined {
  if (!bytesEqual(headerHash, expected)) {
    return { kind: "hash", detail: `its header hashes to ${hashToHex(headerHash)}` };
  }
  const target = compactToTarget(block.header.bits);
  const limit = compactToTarget(network.powLimitBits);
  if (target <= 0n) {
    return { kind: "bits", detail: `bits 0x${block.header.bits.toString(16)} is not a positive target` };
  }
  if (target > limit) {
    return {
      kind: "bits",
      detail: `bits 0x${block.header.bits.toString(16)} is easier than ${network.name}'s limit 0x${
        network.powLimitBits.toString(16)
      }`,
    };
  }
  const txs = block.transactions;
  if (txs.length === 0) return { kind: "merkle-root", detail: "the block has no transactions" };
  const ids = txs.map((tx) => txHash(tx, hasher));
  if (!bytesEqual(merkleRoot(ids, hasher), block.header.merkleRoot)) {
    return { kind: "merkle-root", detail: `${ids.length} transactions do not hash to the header's merkle root` };
  }
  if (ids.length > 1 && new Set(ids.map(hashToHex)).size !== ids.length) {
    return { kind: "merkle-root", detail: "a transaction is repeated (a mutated merkle tree)" };
  }
  const witness = checkWitness(txs, hasher);
  if (witness !== undefined) return witness;
  const parents = block.parents.parents.map((p) => p.hash);
  if (parents.length === 0 || parents.length > MAX_PARENTS) {
    return { kind: "tips-hash", detail: `it lists ${parents.length} parents (1 to ${MAX_PARENTS} allowed)` };
  }
  if (parents.length > 1 && new Set(parents.map(hashToHex)).size !== parents.length) {
    return { kind: "tips-hash", detail: "it lists a parent twice" };
  }
  if (!bytesEqual(tipsHash(parents, hasher), block.header.prevBlock)) {
    return { kind: "tips-hash", detail: "prevBlock is not the tips hash of its parents" };
  }
  return undefined;
}

/**
 * soterd's height rule: a block's height is one more than its highest
 * parent's.
 *
 * @param parentHeights The heights of its parents.
 * @returns Its height.
 */
export function heightFromParents(parentHeights: readonly number[]): number {
  let max = 0;
  for (const h of parentHeights) if (h > max) max = h;
  return max + 1;
}
