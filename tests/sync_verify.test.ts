// Verification without a full node: for every rule, a lying mini node beside
// honest ones over loopback. The liar is banned (through the pool when there
// is one, else disconnected), the error names the block and the peer, and
// the sync still ends with the whole honest DAG. Witness commitments, which
// the mini nodes do not make, are checked on blocks built here.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import "./_guard.ts";
import { Dag, type DagBlock, merkleRoot as dagMerkleRoot } from "../examples/lib/dag.ts";
import {
  blockHash,
  type BlockMessage,
  type BlockVerificationError,
  type BlockVerificationKind,
  compactToTarget,
  DagSync,
  defaultHasher,
  hashToHex,
  merkleRoot,
  type Peer,
  SIMNET,
  type SyncedBlock,
  tipsHash,
  txHash,
  txWitnessHash,
} from "../mod.ts";
import { checkBlockContent } from "../src/sync/verify.ts";
import { cleanupsAfterAll } from "./_runtime.ts";
import {
  assertWholeDag,
  client,
  forge,
  LyingDag,
  nodes,
  RecordingSource,
  seededRandom,
  serve,
} from "./_sync_helpers.ts";

const cleanups = cleanupsAfterAll();
const hasher = defaultHasher();
const honest = Dag.generate({ height: 40, maxWidth: 3, seed: 21 });

/**
 * Syncs from a lying node and two honest ones. With `alone`, the liar is
 * the only peer at first and the honest ones join (through a pool-shaped
 * source) once it is banned, so the liar is sure to serve: it lies about
 * blocks the honest nodes have too. Without, all three start together and
 * the liar's lie is a block only it announces, so it is asked for it.
 */
async function syncWithLiar(
  liar: LyingDag,
  kind: BlockVerificationKind,
  alone: boolean,
): Promise<{ got: SyncedBlock[]; errors: BlockVerificationError[]; liarPeer: Peer; source?: RecordingSource }> {
  const honestPeers = await nodes(honest, 2, cleanups);
  const s = await serve(liar);
  cleanups.push(() => s.close());
  const liarPeer = await client(s.port);
  cleanups.push(() => liarPeer.disconnect());
  const source = alone ? new RecordingSource([liarPeer]) : undefined;
  const errors: BlockVerificationError[] = [];
  const sync = new DagSync({
    network: honest.network,
    peers: source ?? [liarPeer, ...honestPeers],
    random: seededRandom(3),
    onInvalidBlock: (e) => {
      errors.push(e);
      if (errors.length === 1) { for (const p of honestPeers) source?.join(p); }
    },
  });
  const got: SyncedBlock[] = [];
  for await (const b of sync) got.push(b);
  assertWholeDag(honest, got);
  assert.ok(errors.length >= 1, "the lie was caught");
  for (const e of errors) {
    assert.equal(e.kind, kind, e.message);
    assert.equal(e.peer, liarPeer.addr);
    assert.ok(e.message.includes(e.block) && e.message.includes(liarPeer.addr), e.message);
  }
  assert.equal(sync.progress().invalid, errors.length);
  await liarPeer.disconnected;
  if (source !== undefined) {
    assert.equal(source.bans.length, 1);
    assert.equal(source.bans[0]!.peer, liarPeer);
    assert.match(source.bans[0]!.reason, new RegExp(kind));
  }
  return { got, errors, liarPeer, ...(source ? { source } : {}) };
}

function coinbaseChanged(b: BlockMessage): BlockMessage {
  const tx = b.transactions[0]!;
  return { ...b, transactions: [{ ...tx, txOut: [{ ...tx.txOut[0]!, value: tx.txOut[0]!.value + 1n }] }] };
}

const at20 = honest.atHeight(20)[0]!;

describe("DagSync bans a peer serving a bad block", () => {
  it("hash: a header that does not hash to the block asked for", async () => {
    const liar = new LyingDag(honest, {
      replace: (b) =>
        b.height === 0 ? undefined : { ...b.block, header: { ...b.block.header, nonce: b.block.header.nonce ^ 1 } },
    });
    await syncWithLiar(liar, "hash", true);
  });

  it("merkle-root: transactions that do not hash to the header's root", async () => {
    const liar = new LyingDag(honest, { replace: (b) => b.height === 0 ? undefined : coinbaseChanged(b.block) });
    await syncWithLiar(liar, "merkle-root", true);
  });

  it("tips-hash: a prevBlock that is not the tips hash of the parents (disconnected: no pool)", async () => {
    const bad = forge(at20, (b) => ({ ...b, header: { ...b.header, prevBlock: new Uint8Array(32).fill(9) } }));
    const { errors } = await syncWithLiar(new LyingDag(honest, { extra: [bad] }), "tips-hash", false);
    assert.equal(errors[0]!.block, bad.hex);
  });

  it("unknown-parent: a parent nobody knows or announced", async () => {
    const ghost = new Uint8Array(32).fill(0x42);
    const bad = forge(at20, (b) => ({
      ...b,
      header: { ...b.header, prevBlock: tipsHash([ghost], hasher) },
      parents: { version: 1, size: 1, parents: [{ hash: ghost, data: new Uint8Array(32) }] },
    }));
    const { errors } = await syncWithLiar(new LyingDag(honest, { extra: [bad] }), "unknown-parent", false);
    assert.equal(errors[0]!.block, bad.hex);
    assert.match(errors[0]!.message, new RegExp(hashToHex(ghost)));
  });

  it("asks the serving peer for a parent it did not announce (mined after the walk) rather than banning it", async () => {
    const s = await serve(new LyingDag(honest, { hide: (b) => b.height === 20 || b.height === 21 }));
    cleanups.push(() => s.close());
    const peer = await client(s.port);
    cleanups.push(() => peer.disconnect());
    const errors: BlockVerificationError[] = [];
    const got: SyncedBlock[] = [];
    for await (
      const b of new DagSync({
        network: honest.network,
        peers: [peer],
        onInvalidBlock: (e) => errors.push(e),
      })
    ) {
      got.push(b);
    }
    assert.deepEqual(errors, []);
    assertWholeDag(honest, got);
    assert.ok(peer.connected);
  });

  it("height: blocks announced at a height their parents contradict", async () => {
    const liar = new LyingDag(honest, { height: (b: DagBlock) => b.height === 0 ? 0 : b.height + 1 });
    await syncWithLiar(liar, "height", true);
  });

  it("bits: a target easier than the network's proof-of-work limit", async () => {
    const bad = forge(at20, (b) => ({ ...b, header: { ...b.header, bits: 0x21010000 } }));
    assert.ok(compactToTarget(0x21010000) > compactToTarget(SIMNET.powLimitBits));
    const { errors } = await syncWithLiar(new LyingDag(honest, { extra: [bad] }), "bits", true);
    assert.equal(errors[0]!.block, bad.hex);
  });
});

describe("block checks", () => {
  /** A block with a coinbase carrying a witness commitment and a spending tx with witness data. */
  function witnessBlock(tamper = false): { block: BlockMessage; hash: Uint8Array } {
    const base = structuredClone(at20.block);
    const nonce = new Uint8Array(32).fill(5);
    const spend = structuredClone(base.transactions[0]!);
    spend.txIn[0]!.previousOutPoint = { hash: new Uint8Array(32).fill(1), index: 0 };
    spend.txIn[0]!.witness = [new Uint8Array([1, 2, 3])];
    const wtxids = [new Uint8Array(32), txWitnessHash(spend, hasher)];
    const pre = new Uint8Array(64);
    pre.set(merkleRoot(wtxids, hasher), 0);
    pre.set(nonce, 32);
    const commitment = hasher.doubleSha256(pre);
    if (tamper) commitment[0]! ^= 1;
    const cb = base.transactions[0]!;
    cb.txIn[0]!.witness = [nonce];
    cb.txOut.push({ value: 0n, pkScript: new Uint8Array([0x6a, 0x24, 0xaa, 0x21, 0xa9, 0xed, ...commitment]) });
    base.transactions = [cb, spend];
    base.header.merkleRoot = dagMerkleRoot(base.transactions.map((t) => txHash(t, hasher)), hasher);
    return { block: base, hash: blockHash(base.header, hasher) };
  }

  it("accepts a witness commitment that matches, and names one that does not", () => {
    const good = witnessBlock();
    assert.equal(checkBlockContent(good.block, good.hash, good.hash, SIMNET, hasher), undefined);
    const bad = witnessBlock(true);
    assert.equal(checkBlockContent(bad.block, bad.hash, bad.hash, SIMNET, hasher)?.kind, "witness-commitment");
    // Witness data without any commitment.
    const none = witnessBlock();
    none.block.transactions[0]!.txOut.pop();
    none.block.transactions[0]!.txIn[0]!.witness = [];
    none.block.header.merkleRoot = dagMerkleRoot(none.block.transactions.map((t) => txHash(t, hasher)), hasher);
    const noneHash = blockHash(none.block.header, hasher);
    const problem = checkBlockContent(none.block, noneHash, noneHash, SIMNET, hasher);
    assert.equal(problem?.kind, "witness-commitment");
    assert.match(problem.detail, /commits to none/);
  });

  it("computes the tips hash over parents sorted by display hex, whatever their order", () => {
    const parents = honest.atHeight(20).map((b) => b.hash);
    const reversed = [...parents].reverse();
    assert.deepEqual(tipsHash(parents, hasher), tipsHash(reversed, hasher));
    for (const b of honest.blocks().slice(1)) {
      assert.deepEqual(tipsHash(b.block.parents.parents.map((p) => p.hash), hasher), b.block.header.prevBlock);
    }
  });

  it("decodes compact bits as Bitcoin does, sign bit included", () => {
    assert.equal(compactToTarget(0x1d00ffff), 0xffffn << 208n);
    assert.equal(compactToTarget(0x01010000), 1n);
    assert.ok(compactToTarget(0x04923456) < 0n);
    assert.equal(compactToTarget(0), 0n);
  });
});
