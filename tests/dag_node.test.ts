// The examples' DAG and mini node: blocks shaped like soterd's, and the
// answers soterd gives (getblocks, getheaders, getdata, getaddr,
// getaddrcache, block announcements), checked in-process over connPair.
// Then the client helpers the demo relies on: header sync across an inv cut
// in the middle of a height, and a block download that checks every block.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import "./_guard.ts"; // fails the file on any unhandled rejection or uncaught exception
import { SIMNET } from "../src/chain/params.ts";
import { doubleSha256 } from "../src/hash/sha256.ts";
import { blockHash } from "../src/wire/blockheader.ts";
import { bytesEqual, hashToHex, ZERO_HASH } from "../src/wire/hex.ts";
import { InvType } from "../src/wire/invvect.ts";
import { blockSerializeSize } from "../src/wire/messages/block.ts";
import { netAddress } from "../src/wire/ip.ts";
import { LruSet } from "../src/peer/lru.ts";
import { Peer } from "../src/peer/peer.ts";
import { connPair } from "../src/peer/pipe.ts";
import { checkBlock, Dag, tipsHash } from "../examples/lib/dag.ts";
import { DagNode } from "../examples/lib/node.ts";
import { downloadBlocks, fetchAddresses, Inbox, syncHeaders } from "../examples/lib/client.ts";

/** A client peer connected in memory to `node`, past the handshake. */
async function client(node: DagNode): Promise<{ peer: Peer; inbox: Inbox; served: Peer }> {
  const [a, b] = connPair();
  const served = node.accept(a);
  const peer = Peer.outbound(`${a.localAddr.hostname}:${a.localAddr.port}`, {
    network: SIMNET,
    userAgentName: "test",
    userAgentVersion: "1.0.0",
    sentNonces: new LruSet<bigint>(50),
  });
  const inbox = new Inbox(peer);
  peer.associateConnection(b);
  await inbox.next("verack", 10_000);
  return { peer, inbox, served };
}

describe("the examples' DAG", () => {
  it("makes soterd-like blocks: prevBlock is the tips hash of the parents sorted by display hex", () => {
    const dag = Dag.generate({ height: 30, maxWidth: 3, seed: 5 });
    assert.equal(dag.height, 30);
    assert.ok(dag.blocks().some((b) => b.block.parents.parents.length >= 2), "some blocks have several parents");
    for (const b of dag.blocks().slice(1)) {
      const parents = b.block.parents.parents.map((p) => p.hash);
      const sorted = [...parents].sort((x, y) => hashToHex(x).localeCompare(hashToHex(y)));
      const concat = new Uint8Array(32 * sorted.length);
      sorted.forEach((h, i) => concat.set(h, 32 * i));
      assert.ok(bytesEqual(b.block.header.prevBlock, doubleSha256(concat)));
      assert.ok(bytesEqual(tipsHash([...parents].reverse()), b.block.header.prevBlock), "order does not matter");
      assert.equal(b.block.header.version, 0x20000000);
      assert.equal(b.block.header.bits, 0x01010000);
      assert.equal(b.block.verification.cycleNonces.length, 20);
      assert.equal(b.height, Math.max(...parents.map((h) => dag.get(h)!.height)) + 1);
      assert.ok(bytesEqual(b.hash, blockHash(b.block.header)));
      const check = checkBlock(b.block, b.hash, (hex) => dag.get(hex)?.height);
      assert.deepEqual(check, { ok: true, height: b.height });
    }
    // A coinbase-only block with one parent is about soterd's 350 bytes.
    const single = dag.blocks().find((b) => b.block.parents.parents.length === 1 && b.height > 0)!;
    const size = blockSerializeSize(single.block, "base");
    assert.ok(size >= 340 && size <= 360, `${size} bytes`);
    // Every block but the newest ones has a child.
    assert.deepEqual(dag.tips().map((b) => b.height), dag.atHeight(30).map(() => 30));
  });

  it("locates blocks as soterd's locateInventory does", () => {
    const dag = Dag.generate({ height: 20, seed: 9 });
    const all = dag.blocks();
    const above = (h: number) => all.filter((b) => b.height > h);
    assert.deepEqual(dag.locate([0], ZERO_HASH, 500), above(0));
    assert.deepEqual(dag.locate([15], ZERO_HASH, 500), above(15));
    assert.deepEqual(dag.locate([20], ZERO_HASH, 500), []);
    assert.deepEqual(dag.locate([0], ZERO_HASH, 3), above(0).slice(0, 3));
    // A stop hash: up to its height, all the blocks of that height included.
    const stop = dag.atHeight(10)[0]!;
    assert.deepEqual(dag.locate([5], stop.hash, 500), all.filter((b) => b.height > 5 && b.height <= 10));
    // No locator: the stop block alone; an unknown stop hash: nothing.
    assert.deepEqual(dag.locate([], stop.hash, 500), [stop]);
    assert.deepEqual(dag.locate([0], new Uint8Array(32).fill(7), 500), []);
  });
});

describe("the examples' mini node answers like soterd", () => {
  it("getblocks: an inv of up to 500 blocks with heights, always answered", async () => {
    const node = new DagNode({ dag: Dag.generate({ height: 400, seed: 2 }) });
    const { peer, inbox } = await client(node);
    assert.equal(peer.startingHeight, 400);
    peer.pushGetBlocksMsg([0], ZERO_HASH);
    const inv = await inbox.next("inv", 10_000);
    assert.equal(inv.invList.length, 500);
    const expected = node.dag.locate([0], ZERO_HASH, 500);
    assert.deepEqual(
      inv.invList.map((iv) => [iv.type, hashToHex(iv.hash), iv.height]),
      expected.map((b) => [
        InvType.BLOCK,
        b.hex,
        b.height,
      ]),
    );
    peer.pushGetBlocksMsg([400], ZERO_HASH);
    assert.deepEqual((await inbox.next("inv", 10_000)).invList, []);
    await node.close();
    assert.equal((await peer.disconnected).reason, "remote-closed");
  });

  it("getheaders, getdata (block and notfound), and announcements of mined blocks", async () => {
    const node = new DagNode({ dag: Dag.generate({ height: 10, seed: 4 }) });
    const { peer, inbox } = await client(node);
    peer.pushGetHeadersMsg([3], ZERO_HASH);
    const headers = await inbox.next("headers", 10_000);
    assert.deepEqual(
      headers.headers.map((h) => hashToHex(blockHash(h))),
      node.dag.locate([3], ZERO_HASH, 2000).map((b) => b.hex),
    );
    const wanted = node.dag.atHeight(4)[0]!;
    const unknown = new Uint8Array(32).fill(9);
    void peer.queueMessage({
      command: "getdata",
      invList: [
        { type: InvType.BLOCK, hash: wanted.hash, height: 4 },
        { type: InvType.TX, hash: unknown, height: 0 },
        { type: InvType.WITNESS_BLOCK, hash: unknown, height: 0 },
      ],
    });
    const block = await inbox.next("block", 10_000);
    assert.ok(bytesEqual(blockHash(block.header), wanted.hash));
    const notfound = await inbox.next("notfound", 10_000);
    assert.deepEqual(notfound.invList.map((iv) => iv.type), [InvType.TX, InvType.WITNESS_BLOCK]);
    const mined = node.mine();
    const inv = await inbox.next("inv", 10_000);
    assert.deepEqual(inv.invList.map((iv) => [hashToHex(iv.hash), iv.height]), [[mined.hex, 11]]);
    assert.equal(mined.block.parents.parents.length, node.dag.atHeight(10).length);
    peer.disconnect();
    await node.close();
  });

  it("getaddr once per inbound connection; getaddrcache lists the asker as inbound", async () => {
    const known = [netAddress({ ip: "10.1.2.3", port: 18555, services: 1n, timestamp: 1_700_000_000 })];
    const node = new DagNode({ dag: Dag.generate({ height: 2 }), known });
    const { peer, inbox, served } = await client(node);
    const first = await fetchAddresses(peer, inbox);
    assert.deepEqual(first.addr.map((na) => na.port), [18555]);
    assert.deepEqual(first.known.map((na) => na.port), [18555]);
    assert.deepEqual(first.outbound, []);
    assert.deepEqual(first.inbound.map((na) => na.port), [served.na!.port]);
    const again = await fetchAddresses(peer, inbox);
    assert.deepEqual(again.addr, [], "getaddr is answered once per connection");
    const quiet = new DagNode({ dag: Dag.generate({ height: 2 }), known, answerGetAddr: false });
    const c2 = await client(quiet);
    assert.deepEqual((await fetchAddresses(c2.peer, c2.inbox)).addr, []);
    await node.close();
    await quiet.close();
  });
});

describe("the examples' client", () => {
  it("syncs headers across an inv that cuts a height in two, then downloads and checks every block", async () => {
    // Find a DAG whose first 500-block inv ends in the middle of a height.
    let dag: Dag | undefined;
    for (let seed = 1; seed < 100 && dag === undefined; seed++) {
      const d = Dag.generate({ height: 300, maxWidth: 4, seed });
      const inv = d.locate([0], ZERO_HASH, 500);
      const last = inv[inv.length - 1]!;
      if (inv.filter((b) => b.height === last.height).length < d.atHeight(last.height).length) dag = d;
    }
    assert.ok(dag !== undefined, "no seed cuts a height");
    const node = new DagNode({ dag });
    const { peer, inbox } = await client(node);
    const rounds: string[] = [];
    const sync = await syncHeaders(peer, inbox, { log: (l) => rounds.push(l), timeout: 10_000 });
    assert.equal(sync.height, 300);
    assert.equal(sync.headers.length, dag.size - 1);
    for (const k of sync.headers) assert.equal(k.height, dag.get(k.hex)!.height, `height of ${k.hex}`);
    assert.match(rounds[0]!, /^round 1: inv of 500 blocks \(heights 1\.\.\d+\), (\d+) headers, all hashes match$/);
    assert.notEqual(rounds[0]!.match(/, (\d+) headers/)![1], "500", "the headers include the cut siblings");
    const known = new Map([[hashToHex(SIMNET.genesisHash), 0]]);
    const got = await downloadBlocks(peer, inbox, sync.headers, { batch: 128, known, timeout: 10_000 });
    assert.equal(got.blocks, dag.size - 1);
    assert.equal(got.notFound, 0);
    assert.ok(got.maxParents >= 2);
    peer.disconnect();
    await node.close();
  });

  it("refuses a block that does not hash to what was asked", () => {
    const dag = Dag.generate({ height: 3 });
    const b = dag.atHeight(2)[0]!;
    const check = checkBlock(b.block, dag.atHeight(1)[0]!.hash, (hex) => dag.get(hex)?.height);
    assert.equal(check.ok, false);
    const orphan = checkBlock(b.block, b.hash, () => undefined);
    assert.deepEqual(orphan, { ok: false, problem: `unknown parent ${hashToHex(b.block.parents.parents[0]!.hash)}` });
  });
});
