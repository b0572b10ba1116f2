// The Peer over real loopback sockets: two of our peers, one outbound and
// one inbound, through the adapter of the runtime running this file (Deno,
// Bun or Node; node:test and node:assert only). Every test is bounded in
// time and closes what it opened.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import "./_guard.ts"; // fails the file on any unhandled rejection or uncaught exception
import { SIMNET } from "../src/chain/params.ts";
import { blockHash } from "../src/wire/blockheader.ts";
import { bytesEqual } from "../src/wire/hex.ts";
import { type BlockMessage, blockSerializeSize, MAX_BLOCK_PAYLOAD } from "../src/wire/messages/block.ts";
import type { Tx } from "../src/wire/tx.ts";
import { ConnectionError } from "../src/adapters/errors.ts";
import type { Listener } from "../src/adapters/types.ts";
import type { PeerConfig } from "../src/peer/config.ts";
import { LruSet } from "../src/peer/lru.ts";
import { Peer } from "../src/peer/peer.ts";
import { cleanupsAfterAll, connect, listen, runtime } from "./_runtime.ts";
import { coinbaseTx } from "./_fixtures.ts";
import { pattern, within } from "./_util.ts";

/** Loopback addresses to test: IPv6 only where the machine has it. */
const HOSTS: string[] = ["127.0.0.1"];
try {
  const probe = await listen({ hostname: "::1", port: 0 });
  await probe[Symbol.asyncDispose]();
  HOSTS.push("::1");
} catch {
  console.log("# no IPv6 loopback here: the ::1 cases are skipped");
}
const V6 = HOSTS.includes("::1") ? "::1" : "127.0.0.1";

// Everything opened is closed again, whatever a test does.
const cleanups = cleanupsAfterAll();

function hostPort(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

/** A simnet configuration with its own nonces (both peers live in this process). */
function config(name: string, over: PeerConfig = {}): PeerConfig {
  return {
    network: SIMNET,
    userAgentName: name,
    userAgentVersion: "1.0.0",
    sentNonces: new LruSet<bigint>(50),
    ...over,
  };
}

/** Disconnects peers and waits until they are gone. */
async function closePeers(...peers: Peer[]): Promise<void> {
  for (const p of peers) p.disconnect();
  await within(Promise.all(peers.map((p) => p.disconnected)), "disconnect");
}

/**
 * An outbound peer connected to an inbound one over `host`, both past the
 * handshake (each has read the other's verack).
 */
async function connected(
  host: string,
  serverOver: PeerConfig = {},
  clientOver: PeerConfig = {},
): Promise<{ server: Peer; client: Peer; listener: Listener }> {
  const listener = await listen({ hostname: host, port: 0 });
  cleanups.push(() => listener[Symbol.asyncDispose]());
  const accepted = listener[Symbol.asyncIterator]().next();
  const client = Peer.outbound(hostPort(host, listener.addr.port), config("client", clientOver));
  client.associateConnection(await within(connect(host, listener.addr.port), "connect"));
  const next = await within(accepted, "accept");
  assert.equal(next.done, false);
  const server = Peer.inbound(config("server", serverOver));
  server.associateConnection(next.value!);
  cleanups.push(() => closePeers(client, server));
  assert.equal(await within(client.ready, "client ready"), true);
  assert.equal(await within(server.ready, "server ready"), true);
  const veracks = async () => {
    while (!client.verAckReceived || !server.verAckReceived) await new Promise((r) => setTimeout(r, 2));
  };
  await within(veracks(), "veracks");
  return { server, client, listener };
}

/** A coinbase paying 50 coins to `script`. */
function coinbaseWithScript(script: Uint8Array): Tx {
  return coinbaseTx(new Uint8Array([1, 2, 3, 4]), [{ value: 5_000_000_000n, pkScript: script }]);
}

/** A block whose payload is `size` bytes (at most soterd's 4,000,000). */
function blockOfSize(size: number, seed: number): BlockMessage {
  const block: BlockMessage = {
    command: "block",
    header: {
      version: 0x20000000,
      prevBlock: pattern(32, seed),
      merkleRoot: pattern(32, seed + 1),
      timestamp: 1_600_000_000,
      bits: 0x01010000,
      nonce: seed,
    },
    parents: {
      version: 1,
      size: 2,
      parents: [{ hash: pattern(32, seed + 2), data: new Uint8Array(32) }, {
        hash: pattern(32, seed + 3),
        data: new Uint8Array(32),
      }],
    },
    verification: { version: 1, size: 20, cycleNonces: Array.from({ length: 20 }, (_, i) => i * 7919) },
    transactions: [coinbaseWithScript(new Uint8Array(0))],
  };
  const base = blockSerializeSize(block, "base");
  // The script's varint grows from 1 to 5 bytes for scripts this large.
  block.transactions = [coinbaseWithScript(pattern(size - base - 4, seed + 4))];
  assert.equal(blockSerializeSize(block, "base"), size);
  return block;
}

describe(`peers over real sockets (${runtime})`, () => {
  for (const host of HOSTS) {
    it(`handshake: outbound to inbound over ${host}`, async () => {
      const { server, client, listener } = await connected(host);
      assert.equal(client.inbound, false);
      assert.equal(server.inbound, true);
      assert.equal(client.userAgent, "/soterwire:0.6.0/server:1.0.0/");
      assert.equal(server.userAgent, "/soterwire:0.6.0/client:1.0.0/");
      assert.equal(client.protocolVersion, 70013);
      assert.equal(server.protocolVersion, 70013);
      assert.equal(client.addr, hostPort(host, listener.addr.port));
      assert.equal(server.addr, hostPort(host, client.localAddr!.port));
      assert.equal(server.remoteAddr?.port, client.localAddr?.port);
      const cs = client.statsSnapshot(), ss = server.statsSnapshot();
      assert.ok(cs.id > 0 && ss.id > 0 && cs.id !== ss.id);
      // version + verack each way, byte for byte.
      assert.equal(cs.bytesSent, ss.bytesRecv);
      assert.equal(cs.bytesRecv, ss.bytesSent);
      assert.ok(cs.bytesSent > 24 * 2);
      await closePeers(client, server);
    });
  }

  it("carries 10,000 messages each way, in order", async () => {
    const N = 10_000;
    const got = { client: [] as bigint[], server: [] as bigint[] };
    const { server, client } = await connected(
      "127.0.0.1",
      { listeners: { onFeeFilter: (_p, m) => void got.server.push(m.minFee) } },
      { listeners: { onFeeFilter: (_p, m) => void got.client.push(m.minFee) } },
    );
    const send = (peer: Peer) => {
      const written: Promise<boolean>[] = [];
      for (let i = 0; i < N; i++) written.push(peer.queueMessage({ command: "feefilter", minFee: BigInt(i) }));
      return Promise.all(written);
    };
    const [up, down] = await within(Promise.all([send(client), send(server)]), "writes", 15_000);
    assert.ok(up.every(Boolean) && down.every(Boolean), "every message written");
    const all = async () => {
      while (got.client.length < N || got.server.length < N) await new Promise((r) => setTimeout(r, 5));
    };
    await within(all(), "10,000 messages each way", 15_000);
    const expected = Array.from({ length: N }, (_, i) => BigInt(i));
    assert.deepEqual(got.server, expected);
    assert.deepEqual(got.client, expected);
    await closePeers(client, server);
  });

  it(`carries a 4 MB block each way at once over ${V6}`, async () => {
    const up = blockOfSize(MAX_BLOCK_PAYLOAD, 1);
    const down = blockOfSize(MAX_BLOCK_PAYLOAD - 1000, 2);
    let atServer: BlockMessage | undefined, atClient: BlockMessage | undefined;
    const { server, client } = await connected(
      V6,
      { listeners: { onBlock: (_p, b) => void (atServer = b) } },
      { listeners: { onBlock: (_p, b) => void (atClient = b) } },
    );
    const written = await within(
      Promise.all([client.queueMessage(up), server.queueMessage(down)]),
      "4 MB writes",
      15_000,
    );
    assert.deepEqual(written, [true, true]);
    const both = async () => {
      while (atServer === undefined || atClient === undefined) await new Promise((r) => setTimeout(r, 5));
    };
    await within(both(), "4 MB blocks", 15_000);
    for (const [sent, got] of [[up, atServer!], [down, atClient!]] as const) {
      assert.ok(bytesEqual(blockHash(got.header), blockHash(sent.header)));
      assert.equal(blockSerializeSize(got, "base"), blockSerializeSize(sent, "base"));
      assert.equal(got.parents.parents.length, 2);
      assert.deepEqual(got.verification.cycleNonces, sent.verification.cycleNonces);
      assert.ok(bytesEqual(got.transactions[0]!.txOut[0]!.pkScript, sent.transactions[0]!.txOut[0]!.pkScript));
    }
    assert.ok(client.bytesSent > MAX_BLOCK_PAYLOAD && server.bytesSent > MAX_BLOCK_PAYLOAD - 1000);
    await closePeers(client, server);
  });

  for (const side of ["outbound", "inbound"] as const) {
    it(`disconnect from the ${side} side: the other side sees the remote close`, async () => {
      const { server, client } = await connected("127.0.0.1");
      const [leaving, staying] = side === "outbound" ? [client, server] : [server, client];
      leaving.disconnect();
      assert.equal((await within(leaving.disconnected, "own disconnect")).reason, "local");
      assert.equal((await within(staying.disconnected, "other side's disconnect")).reason, "remote-closed");
      assert.equal(leaving.connected, false);
      assert.equal(staying.connected, false);
      // Messages queued afterwards are dropped, not thrown.
      assert.equal(await leaving.queueMessage({ command: "getaddr" }), false);
      assert.equal(await staying.queueMessage({ command: "getaddr" }), false);
    });
  }

  it("refused connection: connect rejects with code 'refused', the peer just goes", async () => {
    const gone = await listen({ hostname: "127.0.0.1", port: 0 });
    const port = gone.addr.port;
    await gone[Symbol.asyncDispose]();
    const peer = Peer.outbound(`127.0.0.1:${port}`, config("client"));
    await assert.rejects(within(connect("127.0.0.1", port), "connect"), (err: unknown) => {
      assert.ok(err instanceof ConnectionError);
      assert.equal(err.code, "refused");
      assert.equal(err.message, `Connection to 127.0.0.1:${port} refused`);
      return true;
    });
    assert.equal(peer.connected, false);
    assert.equal(await peer.queueMessage({ command: "getaddr" }), false);
    peer.disconnect();
    assert.equal((await within(peer.disconnected, "disconnect", 1000)).reason, "local");
  });

  it("a peer that stops reading: writes stall, then the bounded queue disconnects it", async () => {
    const maxQueueBytes = 1024 * 1024;
    const { server, client } = await connected("127.0.0.1", {}, { maxQueueBytes });
    // The server subscribes and never consumes: it stops reading at once.
    const stuck = server.messages({ highWaterMark: 1 });
    const tx: Tx = coinbaseWithScript(pattern(100_000, 7));
    let written = 0;
    // Keep at most half the bound queued, as a sender that respects
    // backpressure does, until nothing more gets written for 300 ms after
    // the first write (a loaded machine may take longer for that one).
    const fill = async () => {
      let last = -1, since = performance.now();
      for (;;) {
        while (client.queuedBytes < maxQueueBytes / 2) {
          void client.queueMessage({ command: "tx", ...tx }).then((ok) => ok && written++);
        }
        await new Promise((r) => setTimeout(r, 10));
        assert.equal(client.connected, true, client.disconnectReason?.message);
        if (written !== last) [last, since] = [written, performance.now()];
        else if (written > 0 && performance.now() - since > 300) return;
      }
    };
    await within(fill(), "writes to stall", 10_000);
    // The kernel buffers some megabytes at most, then nothing moves.
    assert.ok(written > 0 && written * 100_000 < 64e6, `${written} messages written`);
    assert.ok(client.queuedBytes >= maxQueueBytes / 2);
    // Going beyond the bound disconnects the peer rather than buffer more.
    for (let i = 0; i < 8 && client.connected; i++) void client.queueMessage({ command: "tx", ...tx });
    const why = await within(client.disconnected, "the sender's disconnect");
    assert.equal(why.reason, "send-queue-full", why.message);
    // The bytes of the write in progress are given back once it fails.
    const emptied = async () => {
      while (client.queuedBytes > 0) await new Promise((r) => setTimeout(r, 5));
    };
    await within(emptied(), "the queue to empty", 2000);
    // The stuck side notices once it reads again: the close, after a whole
    // frame or (when the sender was cut in the middle of one) a truncated one.
    assert.equal(server.connected, true, server.disconnectReason?.message);
    await stuck.return?.();
    const end = await within(server.disconnected, "the reader's disconnect");
    if (end.reason === "malformed") assert.match(end.message, /unexpected EOF/);
    else assert.equal(end.reason, "remote-closed", end.message);
  });
});
