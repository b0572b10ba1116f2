// The block store and resuming: an interrupted sync continues from what is
// stored, a corrupt or torn tail is cut and downloaded again, never trusted.
// On MemoryStorage and on the runtime's fileStorage in a temporary directory.
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import "./_guard.ts";
import { Dag } from "../examples/lib/dag.ts";
import {
  BLOCKS_FILE,
  BlockStore,
  bytesEqual,
  CHECKPOINT_FILE,
  DagSync,
  encodePayload,
  INDEX_FILE,
  MemoryStorage,
  type Peer,
  type Storage,
  type SyncedBlock,
} from "../mod.ts";
import { adapter, cleanupsAfterAll } from "./_runtime.ts";
import { assertWholeDag, nodes } from "./_sync_helpers.ts";

const cleanups = cleanupsAfterAll();
const root = await fs.mkdtemp(path.join(os.tmpdir(), "soter-sync-"));
after(() => fs.rm(root, { recursive: true, force: true }));
let dirs = 0;

const dag = Dag.generate({ height: 120, maxWidth: 3, seed: 31 });
let peers: Peer[] | undefined;
async function getPeers(): Promise<Peer[]> {
  return peers ??= await nodes(dag, 2, cleanups);
}

/** Syncs into `storage`, stopping after `limit` blocks when given. */
async function syncInto(storage: Storage, limit = Infinity): Promise<{ got: SyncedBlock[]; store: BlockStore }> {
  const store = await BlockStore.open(storage);
  const sync = new DagSync({ network: dag.network, peers: await getPeers(), store });
  const got: SyncedBlock[] = [];
  for await (const b of sync) {
    got.push(b);
    if (got.length >= limit) break;
  }
  return { got, store };
}

/** Checks that the store holds the whole DAG, every block's bytes intact. */
async function assertStoreWhole(storage: Storage): Promise<void> {
  const store = await BlockStore.open(storage, { verifyTail: Infinity });
  assert.equal(store.size, dag.size - 1);
  assert.equal(store.recovery.droppedRecords, 0);
  for (const b of dag.blocks().slice(1)) {
    assert.equal(store.get(b.hash)?.height, b.height);
    assert.ok(bytesEqual((await store.read(b.hash))!, encodePayload(b.block)), `bytes of ${b.hex}`);
  }
  assert.deepEqual(store.tips().map((t) => t.hex).sort(), dag.tips().map((t) => t.hex).sort());
}

for (
  const [kind, make] of [
    ["memory", () => new MemoryStorage()],
    ["file", () => adapter.fileStorage(path.join(root, `s${dirs++}`))],
  ] as const
) {
  describe(`resuming a sync (${kind} storage)`, () => {
    it("continues an interrupted sync from the store, without downloading stored blocks again", async () => {
      const storage: Storage = make();
      const first = await syncInto(storage, 150);
      assert.equal(first.got.length, 150);
      const reopened = await BlockStore.open(storage);
      assert.equal(reopened.size, 150);
      const second = await syncInto(storage);
      const firstHex = new Set(first.got.map((b) => b.hex));
      assert.ok(second.got.every((b) => !firstHex.has(b.hex)), "nothing stored is yielded again");
      assertWholeDag(dag, [...first.got, ...second.got]);
      await assertStoreWhole(storage);
      const cp = JSON.parse(new TextDecoder().decode((await storage.read(CHECKPOINT_FILE))!));
      assert.equal(cp.checkpoint, dag.height);
      // A third run has nothing to do.
      assert.equal((await syncInto(storage)).got.length, 0);
    });

    it("cuts bytes no index record vouches for (a torn append) and keeps the rest", async () => {
      const storage: Storage = make();
      await syncInto(storage);
      await storage.append(BLOCKS_FILE, new Uint8Array(100).fill(7));
      const store = await BlockStore.open(storage);
      assert.deepEqual(store.recovery, { blocks: dag.size - 1, droppedRecords: 0, truncatedBytes: 100 });
      await assertStoreWhole(storage);
    });

    it("drops a torn index record and the block it described, then downloads that block again", async () => {
      const storage: Storage = make();
      await syncInto(storage);
      await storage.truncate(INDEX_FILE, (await storage.size(INDEX_FILE))! - 5);
      const store = await BlockStore.open(storage);
      assert.equal(store.recovery.droppedRecords, 1);
      assert.ok(store.recovery.truncatedBytes > 0);
      assert.equal(store.size, dag.size - 2);
      assert.equal(store.checkpoint, 0, "after a repair the sync starts over from the genesis");
      const again = await syncInto(storage);
      assert.equal(again.got.length, 1);
      await assertStoreWhole(storage);
    });

    it("never trusts a corrupt tail: a flipped byte in the last blocks cuts them, and they are downloaded again", async () => {
      const storage: Storage = make();
      await syncInto(storage);
      const before = await BlockStore.open(storage);
      const victim = before.blocks()[before.size - 3]!;
      const data = (await storage.read(BLOCKS_FILE))!.slice();
      data[victim.offset + 100]! ^= 0xff;
      await storage.writeAtomic(BLOCKS_FILE, data);
      const store = await BlockStore.open(storage);
      assert.equal(store.recovery.droppedRecords, 3, "the corrupt block and the two after it");
      assert.equal(store.has(victim.hash), false);
      assert.equal((await syncInto(storage)).got.length, 3);
      await assertStoreWhole(storage);
    });
  });
}

describe("BlockStore", () => {
  it("refuses to return corrupt bytes read back later", async () => {
    const storage = new MemoryStorage();
    const store = await BlockStore.open(storage);
    const hash = new Uint8Array(32).fill(1);
    await store.add({ hash, height: 1, parents: [dag.network.genesisHash], payload: new Uint8Array([1, 2, 3, 4]) });
    assert.deepEqual(await store.read(hash), new Uint8Array([1, 2, 3, 4]), "read from the buffer");
    await store.flush();
    const data = (await storage.read(BLOCKS_FILE))!;
    data[0] = 9;
    await storage.writeAtomic(BLOCKS_FILE, data);
    await assert.rejects(store.read(hash), /corrupt/);
  });

  it("keeps the tips: blocks no stored block names as a parent", async () => {
    const store = await BlockStore.open(new MemoryStorage());
    const h = (n: number) => new Uint8Array(32).fill(n);
    const g = dag.network.genesisHash;
    await store.add({ hash: h(1), height: 1, parents: [g], payload: new Uint8Array(1) });
    await store.add({ hash: h(2), height: 1, parents: [g], payload: new Uint8Array(1) });
    await store.add({ hash: h(3), height: 2, parents: [h(1)], payload: new Uint8Array(1) });
    assert.deepEqual(store.tips().map((t) => t.hash), [h(3), h(2)]);
    await store.add({ hash: h(3), height: 2, parents: [h(1)], payload: new Uint8Array(1) });
    assert.equal(store.size, 3, "adding a stored block again does nothing");
  });
});
