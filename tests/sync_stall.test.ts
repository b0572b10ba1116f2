// Slow and silent peers, and a slow consumer, in memory (connPair) on a
// manual clock: a peer that never delivers is stalled, scored and dropped
// while another serves its blocks; the deadline follows the measured
// throughput; a consumer that does not read stops the download at the byte
// budget.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import "./_guard.ts";
import { Dag } from "../examples/lib/dag.ts";
import { DagNode } from "../examples/lib/node.ts";
import {
  type Clock,
  connPair,
  DagSync,
  encodePayload,
  InvType,
  LruSet,
  ManualClock,
  Peer,
  type SyncedBlock,
  systemClock,
} from "../mod.ts";
import { PeerSlot } from "../src/sync/slot.ts";
import { cleanupsAfterAll } from "./_runtime.ts";
import { assertWholeDag, RecordingSource, seededRandom } from "./_sync_helpers.ts";

const cleanups = cleanupsAfterAll();
const dag = Dag.generate({ height: 60, maxWidth: 3, seed: 41 });
const nonces = new LruSet<bigint>(100);
let port = 20000;

function outbound(conn: ReturnType<typeof connPair>[1], clock: Clock): Peer {
  const peer = Peer.outbound(`127.0.0.1:${port++}`, {
    network: dag.network,
    clock,
    sentNonces: nonces,
    userAgentName: "sync-test",
    userAgentVersion: "1.0.0",
  });
  peer.associateConnection(conn);
  cleanups.push(() => peer.disconnect());
  return peer;
}

/** A client connected in memory to a mini node serving the DAG. */
async function honest(clock: Clock): Promise<Peer> {
  const node = new DagNode({ dag, peer: { clock } });
  cleanups.push(() => node.close());
  const [a, b] = connPair();
  node.accept(a);
  const peer = outbound(b, clock);
  assert.ok(await peer.ready);
  return peer;
}

/** A client connected to a node that announces the DAG but never sends a block. */
async function silent(clock: Clock): Promise<Peer> {
  const [a, b] = connPair();
  const remote = Peer.inbound({
    network: dag.network,
    clock,
    listeners: {
      onGetBlocks: (p, msg) => {
        const found = dag.locate(msg.blockLocatorHeight, msg.hashStop, 500);
        void p.queueMessage({
          command: "inv",
          invList: found.map((x) => ({ type: InvType.BLOCK, hash: x.hash, height: x.height })),
        });
      },
    },
  });
  remote.associateConnection(a);
  cleanups.push(() => remote.disconnect());
  const peer = outbound(b, clock);
  assert.ok(await peer.ready);
  return peer;
}

const turn = () => new Promise((resolve) => setTimeout(resolve, 0));

describe("DagSync with slow peers", () => {
  for (const maxStalls of [1, 3]) {
    it(`stalls a peer that never delivers, scores it, gets its blocks elsewhere (maxStalls ${maxStalls})`, async () => {
      const clock = new ManualClock();
      const quiet = await silent(clock);
      const good = await honest(clock);
      const source = new RecordingSource([quiet, good]);
      const sync = new DagSync({ network: dag.network, peers: source, clock, random: seededRandom(7), maxStalls });
      const got: SyncedBlock[] = [];
      let finished = false;
      const done = (async () => {
        for await (const b of sync) got.push(b);
      })().finally(() => finished = true);
      // Manual time moves in small steps, with turns of the event loop
      // between, until the sync ends; the honest peer delivers within a step.
      for (let i = 0; i < 5000 && !finished; i++) {
        await clock.advance(100);
        await turn();
      }
      await done;
      assertWholeDag(dag, got);
      const stalls = source.scores.filter((s) => s.peer === quiet);
      // Once stalled, its blocks go to the honest peer, which delivers them
      // all: the silent peer is asked for nothing more, so it stalls once.
      assert.equal(stalls.length, 1);
      assert.equal(stalls[0]!.points, 20);
      assert.match(stalls[0]!.reason, new RegExp(`stalled: no block within 5000 ms \\(stall 1 of ${maxStalls}\\)`));
      assert.equal(source.scores.filter((s) => s.peer === good).length, 0, "the honest peer never stalled");
      assert.equal(quiet.connected, maxStalls !== 1, "dropped at its last allowed stall");
      assert.equal(good.connected, true);
      const p = sync.progress();
      assert.equal(p.stalledPeers, maxStalls === 1 ? 1 : 0);
      assert.ok(p.rerequested > 0);
    });
  }

  it("gives a slow peer a deadline that follows its measured throughput", () => {
    const slot = new PeerSlot({ addr: "x" } as Peer, 4, 0);
    assert.equal(slot.timeout(5000, 120_000), 5000, "the minimum until measured");
    slot.mark = 0;
    slot.recordDelivery(100_000, 10_000, 16); // 10 bytes/ms
    assert.equal(slot.timeout(5000, 120_000), 40_000, "four times what a block takes");
    slot.recordDelivery(100_000, 10_100, 16); // much faster now
    assert.ok(slot.timeout(5000, 120_000) < 40_000);
    const crawl = new PeerSlot({ addr: "y" } as Peer, 4, 0);
    crawl.recordDelivery(1_000_000, 1_000_000, 16); // 1 byte/ms
    assert.equal(crawl.timeout(5000, 120_000), 120_000, "never beyond the maximum");
    assert.equal(crawl.window, 5, "a delivery widens the window");
  });

  it("stops downloading at the byte budget while the consumer does not read", async () => {
    const peers = [await honest(systemClock), await honest(systemClock)];
    const budget = 4000;
    const sync = new DagSync({ network: dag.network, peers, maxBufferBytes: budget, window: 4 });
    const it = sync[Symbol.asyncIterator]();
    const got: SyncedBlock[] = [(await it.next()).value as SyncedBlock];
    let maxBuffered = 0;
    for (let i = 0; i < 100; i++) {
      await turn();
      maxBuffered = Math.max(maxBuffered, sync.progress().bufferedBytes);
    }
    const p = sync.progress();
    // Held bytes never pass the budget by more than the blocks in flight when it filled.
    const blockSize = 450;
    assert.ok(maxBuffered <= budget + 2 * 4 * blockSize, `${maxBuffered} bytes held`);
    const total = dag.blocks().slice(1).reduce((n, b) => n + encodePayload(b.block).length, 0);
    assert.ok(p.bufferedBytes < total / 2, "the download waits for the consumer");
    assert.equal(p.blocks, 1);
    for (;;) {
      const r = await it.next();
      if (r.done) break;
      got.push(r.value);
    }
    assertWholeDag(dag, got);
  });
});
