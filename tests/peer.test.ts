// The Peer: every case of soterd's peer/peer_test.go, ported, then each
// feature of the peer README that Go does not test. Everything runs over
// in-memory connections with a manual clock, so minutes take milliseconds.
// One file for Deno, Bun and Node: node:test and node:assert only.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import "./_guard.ts"; // fails the file on any unhandled rejection or uncaught exception
import { REGTEST } from "../src/chain/params.ts";
import { fromHex, hashToHex, toHex, ZERO_HASH } from "../src/wire/hex.ts";
import { ipFromString, ipToString } from "../src/wire/ip.ts";
import { InvType, type InvVect } from "../src/wire/invvect.ts";
import type { Message, MessageOf } from "../src/wire/message.ts";
import { RejectCode } from "../src/wire/messages/reject.ts";
import type { NetAddress } from "../src/wire/netaddress.ts";
import { ServiceFlag } from "../src/wire/protocol.ts";
import { MessageError } from "../src/wire/errors.ts";
import { encodeMessage, encodePayload } from "../src/wire/frame.ts";
import { ManualClock } from "../src/peer/clock.ts";
import type { Conn } from "../src/peer/conn.ts";
import { DisconnectError } from "../src/peer/errors.ts";
import { LruSet } from "../src/peer/lru.ts";
import { Peer } from "../src/peer/peer.ts";
import { connPair } from "../src/peer/pipe.ts";
import {
  closeAll,
  inboundWithRemote,
  MAGIC,
  NET,
  openWithRemote,
  outboundWithRemote,
  payloadOf,
  peerPair,
  Remote,
  remoteVersion,
  seededRandom,
  settle,
  testConfig,
  UA,
  until,
  within,
} from "./peer_helpers.ts";
import { frameOf, isKind } from "./_util.ts";

const T0 = 1_579_046_400_000;

function hash(n: number): Uint8Array {
  const h = new Uint8Array(32);
  h[0] = n & 0xff;
  h[1] = (n >> 8) & 0xff;
  h[2] = 0xaa;
  return h;
}

/** A manual clock that counts the timer callbacks it runs. */
class WakeCountingClock extends ManualClock {
  wakes = 0;
  override setTimeout(callback: () => void, delayMs: number): ReturnType<ManualClock["setTimeout"]> {
    return super.setTimeout(() => {
      this.wakes++;
      callback();
    }, delayMs);
  }
}

function txInv(n: number): InvVect {
  return { type: InvType.TX, hash: hash(n), height: 0 };
}

function blockInv(n: number): InvVect {
  return { type: InvType.BLOCK, hash: hash(n), height: n };
}

function addrs(n: number, offset = 0): NetAddress[] {
  const out: NetAddress[] = [];
  for (let i = 0; i < n; i++) {
    out.push({ timestamp: 1_579_046_400, services: 1n, ip: ipFromString("10.0.0.1"), port: offset + i });
  }
  return out;
}

const HEADER = { version: 1, prevBlock: ZERO_HASH, merkleRoot: ZERO_HASH, timestamp: 1, bits: 1, nonce: 0 };

// ---------------------------------------------------------------------------
// soterd's peer_test.go
// ---------------------------------------------------------------------------

describe("peer_test.go", () => {
  describe("TestPeerConnection", () => {
    for (const proxy of [false, true]) {
      it(proxy ? "socks proxy" : "basic handshake", async () => {
        const clock = new ManualClock();
        let veracks = 0;
        const versions: MessageOf<"version">[] = [];
        const listeners = {
          onVerAck: () => {
            veracks++;
          },
          onWrite: (_p: Peer, _n: number, msg: Message) => {
            if (msg.command === "verack") veracks++;
          },
          onVersion: (_p: Peer, msg: MessageOf<"version">) => {
            versions.push(msg);
          },
        };
        // peer1: an older protocol version and no services; peer2: network and witness.
        const { inbound, outbound } = await peerPair(
          clock,
          { listeners, protocolVersion: 70002, services: 0n, proxy },
          { listeners, services: ServiceFlag.NODE_NETWORK | ServiceFlag.NODE_WITNESS },
        );
        await until(() => veracks === 4, "four verack events");

        const want = (p: Peer, services: bigint, witness: boolean) => {
          assert.equal(p.userAgent, UA);
          assert.equal(p.services, services);
          assert.equal(p.lastPingTime, 0);
          assert.equal(p.lastPingNonce, 0n);
          assert.equal(p.lastPingMicros, 0);
          assert.equal(p.verAckReceived, true);
          assert.equal(p.versionKnown, true);
          assert.equal(p.protocolVersion, 70002);
          assert.equal(p.maxBlockHeight, 0);
          assert.equal(p.timeOffset, 0);
          assert.equal(p.bytesSent, 203); // 179 version + 24 verack
          assert.equal(p.bytesReceived, 203);
          assert.equal(p.startingHeight, 0);
          assert.equal(p.connected, true);
          assert.equal(p.witnessEnabled, witness);
          const stats = p.statsSnapshot();
          assert.equal(stats.id, p.id);
          assert.ok(stats.id > 0);
          assert.equal(stats.addr, p.addr);
          assert.equal(stats.lastSend, p.lastSend);
          assert.equal(stats.lastRecv, p.lastRecv);
          assert.equal(stats.lastSend, T0);
          assert.equal(stats.connTime, T0);
          assert.equal(stats.inbound, p.inbound);
        };
        want(inbound, ServiceFlag.NODE_NETWORK | ServiceFlag.NODE_WITNESS, true);
        want(outbound, 0n, false);
        assert.equal(inbound.statsSnapshot().version, 70013); // what the remote advertised
        assert.equal(outbound.statsSnapshot().version, 70002);
        assert.equal(inbound.addr, "127.0.0.1:49152");
        assert.equal(outbound.addr, "127.0.0.1:18555");
        assert.notEqual(inbound.id, outbound.id);

        // What each side put in addrYou: the outbound peer's version (read
        // by the inbound one) names the address it dialled; the inbound
        // peer's names the connection's remote address, or 0.0.0.0:0
        // behind a proxy.
        assert.equal(versions.length, 2);
        const fromOutbound = versions.find((v) => v.protocolVersion === 70013)!;
        const fromInbound = versions.find((v) => v.protocolVersion === 70002)!;
        assert.equal(ipToString(fromOutbound.addrYou.ip), "127.0.0.1");
        assert.equal(fromOutbound.addrYou.port, 18555);
        assert.equal(fromOutbound.addrYou.services, ServiceFlag.NODE_NETWORK);
        assert.equal(fromOutbound.addrMe.services, ServiceFlag.NODE_NETWORK | ServiceFlag.NODE_WITNESS);
        assert.equal(ipToString(fromInbound.addrYou.ip), proxy ? "0.0.0.0" : "127.0.0.1");
        assert.equal(fromInbound.addrYou.port, proxy ? 0 : 49152);
        assert.equal(fromInbound.addrYou.services, ServiceFlag.NODE_NETWORK);

        await closeAll(clock, inbound, outbound);
        assert.equal(inbound.connected, false);
      });
    }
  });

  it("TestPeerListeners", async () => {
    const clock = new ManualClock();
    const got: string[] = [];
    const payloads: string[] = [];
    const record = (_p: Peer, msg: Message, payload: Uint8Array) => {
      got.push(msg.command);
      payloads.push(toHex(payload));
    };
    const { inbound, outbound } = await peerPair(clock, {
      services: ServiceFlag.NODE_BLOOM,
      listeners: {
        onGetAddr: record,
        onGetAddrCache: record,
        onAddr: record,
        onAddrCache: record,
        onPing: record,
        onPong: record,
        onAlert: record,
        onMemPool: record,
        onTx: record,
        onBlock: record,
        onInv: record,
        onHeaders: record,
        onNotFound: record,
        onGetData: record,
        onGetBlocks: record,
        onGetHeaders: record,
        onGetCFilters: record,
        onGetCFHeaders: record,
        onGetCFCheckpt: record,
        onCFilter: record,
        onCFHeaders: record,
        onCFCheckpt: record,
        onFeeFilter: record,
        onFilterAdd: record,
        onFilterClear: record,
        onFilterLoad: record,
        onMerkleBlock: record,
        onReject: record,
        onSendHeaders: record,
      },
    }, { services: ServiceFlag.NODE_BLOOM });
    const tx = { version: 1, txIn: [], txOut: [], lockTime: 0 };
    const tests: Message[] = [
      { command: "getaddr" },
      { command: "getaddrcache" },
      { command: "addr", addrList: [] },
      { command: "addrcache", inbound: [], outbound: [], known: [] },
      { command: "ping", nonce: 42n },
      { command: "pong", nonce: 42n },
      {
        command: "alert",
        serializedPayload: new TextEncoder().encode("payload"),
        signature: new TextEncoder().encode("signature"),
        payload: null,
      },
      { command: "mempool" },
      { command: "tx", ...tx },
      {
        command: "block",
        header: HEADER,
        parents: { version: 1, size: 0, parents: [] },
        verification: { version: 1, size: 0, cycleNonces: [] },
        transactions: [],
      },
      { command: "inv", invList: [] },
      { command: "headers", headers: [] },
      { command: "notfound", invList: [] },
      { command: "getdata", invList: [] },
      { command: "getblocks", protocolVersion: 70013, blockLocatorHeight: [], hashStop: ZERO_HASH },
      { command: "getheaders", protocolVersion: 70013, blockLocatorHeight: [], hashStop: ZERO_HASH },
      { command: "getcfilters", filterType: 0, startHeight: 0, stopHash: ZERO_HASH },
      { command: "getcfheaders", filterType: 0, startHeight: 0, stopHash: ZERO_HASH },
      { command: "getcfcheckpt", filterType: 0, stopHash: ZERO_HASH },
      { command: "cfilter", filterType: 0, blockHash: ZERO_HASH, data: new TextEncoder().encode("payload") },
      { command: "cfheaders", filterType: 0, stopHash: ZERO_HASH, prevFilterHeader: ZERO_HASH, filterHashes: [] },
      { command: "cfcheckpt", filterType: 0, stopHash: ZERO_HASH, filterHeaders: [] },
      { command: "feefilter", minFee: 15000n },
      { command: "filteradd", data: new Uint8Array([1]) },
      { command: "filterclear" },
      { command: "filterload", filter: new Uint8Array([1]), hashFuncs: 10, tweak: 0, flags: 0 },
      { command: "merkleblock", header: HEADER, transactions: 0, hashes: [], flags: new Uint8Array(0) },
      // Only one version and one verack are allowed: see their own tests.
      { command: "reject", cmd: "block", code: RejectCode.DUPLICATE, reason: "dupe block", hash: ZERO_HASH },
      { command: "sendheaders" },
    ];
    for (const msg of tests) {
      const before = got.length;
      assert.equal(await outbound.queueMessage(msg), true, `${msg.command} written`);
      await until(() => got.length > before, `the ${msg.command} listener`);
      assert.equal(got[got.length - 1], msg.command);
      // Each listener also gets the exact payload bytes (soterd's OnBlock buf).
      assert.equal(payloads[payloads.length - 1], toHex(encodePayload(msg, 70013, "base")), `${msg.command} payload`);
    }
    assert.equal(got.length, tests.length);
    await closeAll(clock, inbound, outbound);
  });

  it("TestOutboundPeer", async () => {
    const clock = new ManualClock();
    // NewestBlock fails: the peer cannot make its version and disconnects.
    const { peer: p, remote } = outboundWithRemote(clock, {
      newestBlock: () => {
        throw new Error("newest blocks not found");
      },
    });
    const [extra] = connPair();
    p.associateConnection(extra); // a second connection is ignored
    const why = await within(p.disconnected, "the disconnect");
    assert.equal(why.reason, "newest-block-error");
    assert.equal(p.connected, false, "should not be connected as newestBlock produces an error");
    await remote.expectEnd();
    extra.close();

    // Inventory and messages are no-ops once disconnected.
    const fakeInv = blockInv(1);
    p.queueInventory(fakeInv);
    p.addKnownInventory(fakeInv);
    p.queueInventory(fakeInv);
    assert.equal(await p.queueMessage({ command: "verack" }), false);
    p.disconnect();
    assert.equal(clock.pendingTimers, 0);

    // A working newestBlock: its height goes into the version.
    const nb = outboundWithRemote(clock, {
      newestBlock: () => ({ hash: hash(9), height: 234439 }),
    });
    const v = await nb.remote.expect("version");
    assert.equal(v.lastBlock, 234439);
    const latest = hash(10);
    nb.peer.updateLastAnnouncedBlock(latest);
    nb.peer.updateMaxBlockHeight(234440);
    assert.equal(nb.peer.lastAnnouncedBlock, latest);
    assert.equal(nb.peer.maxBlockHeight, 234440);
    nb.peer.queueInventory(fakeInv); // before the handshake: dropped
    nb.peer.disconnect();
    await nb.remote.expectEnd();

    // Regression network with bloom: the helpers and queueMessage before
    // the handshake queue their messages; the disconnect drops them all.
    const [local, far] = connPair();
    const p2 = Peer.outbound(
      "10.0.0.1:8333",
      testConfig(clock, { network: REGTEST, services: ServiceFlag.NODE_BLOOM }),
    );
    p2.associateConnection(local);
    const sent = p2.pushAddrMsg(addrs(5));
    assert.equal(sent.length, 5);
    assert.equal(p2.pushGetBlocksMsg([], ZERO_HASH), true);
    assert.equal(p2.pushGetHeadersMsg([], ZERO_HASH), true);
    const rejects = [
      p2.pushRejectMsg("block", RejectCode.MALFORMED, "malformed"),
      p2.pushRejectMsg("block", RejectCode.INVALID, "invalid"),
    ];
    const queued = [
      p2.queueMessage({ command: "getaddr" }),
      p2.queueMessage({ command: "ping", nonce: 1n }),
      p2.queueMessage({ command: "mempool" }),
      p2.queueMessage({ command: "getdata", invList: [] }),
      p2.queueMessage({ command: "getheaders", protocolVersion: 70013, blockLocatorHeight: [], hashStop: ZERO_HASH }),
      p2.queueMessage({ command: "feefilter", minFee: 20000n }),
    ];
    assert.ok(p2.queuedBytes > 0);
    p2.disconnect();
    assert.deepEqual(await within(Promise.all([...rejects, ...queued]), "dropped messages"), Array(8).fill(false));
    assert.equal(p2.queuedBytes, 0);
    far.close();
    assert.equal(clock.pendingTimers, 0);
  });

  it("TestUnsupportedVersionPeer: protocol version 1 is dropped without a reject", async () => {
    const clock = new ManualClock();
    const { peer, remote } = outboundWithRemote(clock, {}, 1);
    await remote.expect("version");
    await remote.send(remoteVersion({ protocolVersion: 1, nonce: 0n }), 1);
    const why = await within(peer.disconnected, "the disconnect");
    assert.equal(why.reason, "obsolete-version");
    assert.match(why.message, /protocol version must be 209 or greater/);
    // soterd writes its reject at the negotiated version, 1, where reject
    // does not exist: nothing further arrives.
    await remote.expectEnd();
    assert.equal(clock.pendingTimers, 0);
  });

  it("TestMismatchedGenesisBlock: reject invalid, then disconnect", async () => {
    const clock = new ManualClock();
    const { peer, remote } = outboundWithRemote(clock);
    await remote.expect("version");
    const other = new Uint8Array(32);
    for (let i = 0; i < 32; i += 2) other.set([0xda, 0xb0], i);
    await remote.send(remoteVersion({ genesisHash: other, nonce: 0n }));
    const reject = await remote.expect("reject");
    assert.equal(reject.cmd, "version");
    assert.equal(reject.code, RejectCode.INVALID);
    assert.equal(
      reject.reason,
      `peer genesis block hash different from ours (${hashToHex(other)} != ${hashToHex(NET.genesisHash)})`,
    );
    assert.ok(reject.reason.endsWith("5f2694c9f5d5808adf308c62995154d29596c36c554b15d3d95cdd6bebaf6cb2)"));
    await remote.expectEnd();
    assert.equal((await peer.disconnected).reason, "genesis-mismatch");
    assert.equal(clock.pendingTimers, 0);
  });

  it("TestIncompatibleUAVersion: reject invalid, then disconnect", async () => {
    const clock = new ManualClock();
    const { peer, remote } = outboundWithRemote(clock);
    await remote.expect("version");
    await remote.send(remoteVersion({ userAgent: "/soterwire:0.6.0/peer:0.3.1/", nonce: 0n }));
    const reject = await remote.expect("reject");
    assert.equal(reject.cmd, "version");
    assert.equal(reject.code, RejectCode.INVALID);
    assert.equal(reject.reason, "peer version 0.3.1 is incompatible with our version 1.0.0");
    await remote.expectEnd();
    assert.equal((await peer.disconnected).reason, "incompatible-user-agent");
    assert.equal(clock.pendingTimers, 0);
  });

  it("TestDuplicateVersionMsg: reject duplicate, then disconnect", async () => {
    const clock = new ManualClock();
    const rejects: MessageOf<"reject">[] = [];
    const { inbound, outbound } = await peerPair(clock, {}, {
      listeners: { onReject: (_p, m) => void rejects.push(m) },
    });
    const done = outbound.queueMessage(remoteVersion());
    assert.equal(await within(done, "the duplicate version"), true);
    const why = await within(inbound.disconnected, "the inbound disconnect");
    assert.equal(why.reason, "duplicate-version");
    await until(() => rejects.length === 1, "the reject");
    assert.equal(rejects[0]!.cmd, "version");
    assert.equal(rejects[0]!.code, RejectCode.DUPLICATE);
    assert.equal(rejects[0]!.reason, "duplicate version message");
    assert.equal((await within(outbound.disconnected, "the outbound disconnect")).reason, "remote-closed");
    assert.equal(clock.pendingTimers, 0);
  });
});

// ---------------------------------------------------------------------------
// The handshake
// ---------------------------------------------------------------------------

describe("handshake", () => {
  it("a scripted soterd: exact bytes, getblocks before its verack", async () => {
    // Frames as soterd 4.2.0 (inbound, simnet) writes them, field by field.
    const SOTERD_VERSION = "161c1412" + "76657273696f6e0000000000" + "94000000" + "14f13a32" + // header
      "7d110100" + // protocol version 70013
      "4d00000000000000" + // services: network, bloom, witness, committed filters
      "00561e5e00000000" + // timestamp 1579046400
      "0100000000000000" + "00000000000000000000ffff7f000001" + "c000" + // addrYou: 127.0.0.1:49152
      "0000000000000000" + "00000000000000000000000000000000" + "0000" + // addrMe: all zeros
      "8877665544332211" + // nonce
      "1e" + "2f736f746572776972653a302e362e302f736f746572643a342e322e302f" + // /soterwire:0.6.0/soterd:4.2.0/
      "b26cafeb6bdd5cd9d3154b556cc39695d2545199628c30df8a80d5f5c994265f" + // simnet genesis (wire order)
      "05000000" + // last block 5
      "01"; // relay
    const SOTERD_GETBLOCKS = "161c1412" + "676574626c6f636b73000000" + "29000000" + "d01754ef" +
      "7d110100" + "01" + "07000000" + "00".repeat(32); // one locator height, 7; zero stop hash
    const SOTERD_VERACK = "161c1412" + "76657261636b000000000000" + "00000000" + "5df6e0e2";
    const SOTERD_INV = "161c1412" + "696e76000000000000000000" + "29000000" + "107720e2" +
      "01" + "02000000" + "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20" + "06000000";
    const SOTERD_PING = "161c1412" + "70696e670000000000000000" + "08000000" + "3b5a7513" + "0807060504030201";

    const clock = new ManualClock();
    const events: string[] = [];
    const [local, far] = connPair({
      addrA: { hostname: "127.0.0.1", port: 49152 },
      addrB: { hostname: "127.0.0.1", port: 18555 },
    });
    const invs: MessageOf<"inv">[] = [];
    const peer = Peer.outbound(
      "127.0.0.1:18555",
      testConfig(clock, {
        services: ServiceFlag.NODE_WITNESS,
        newestBlock: () => Promise.resolve({ hash: hash(7), height: 7 }),
        listeners: {
          onVersion: (p) => void events.push(`version verack=${p.verAckReceived}`),
          onGetBlocks: (p, m) => void events.push(`getblocks ${m.blockLocatorHeight[0]} verack=${p.verAckReceived}`),
          onVerAck: () => void events.push("verack"),
          onInv: (_p, m) => void invs.push(m),
        },
      }),
    );
    const remote = new Remote(far);
    peer.associateConnection(local);

    const ours = await remote.expect("version");
    assert.equal(ours.protocolVersion, 70013);
    assert.equal(ours.services, ServiceFlag.NODE_WITNESS);
    assert.equal(ours.timestamp, BigInt(T0 / 1000));
    assert.equal(ipToString(ours.addrYou.ip), "127.0.0.1");
    assert.equal(ours.addrYou.port, 18555);
    assert.equal(ours.addrYou.services, ServiceFlag.NODE_NETWORK);
    assert.deepEqual(ours.addrMe.ip, new Uint8Array(16));
    assert.equal(ours.addrMe.port, 0);
    assert.equal(ours.addrMe.services, ServiceFlag.NODE_WITNESS);
    assert.equal(ours.userAgent, UA);
    assert.deepEqual(ours.genesisHash, NET.genesisHash);
    assert.equal(ours.lastBlock, 7);
    assert.equal(ours.disableRelayTx, false);
    assert.ok(ours.nonce < 2n ** 63n);

    // soterd answers with its version and, in the same write, a getblocks.
    await remote.write(fromHex(SOTERD_VERSION + SOTERD_GETBLOCKS));
    await remote.expect("verack");
    await until(() => events.length === 2, "the getblocks listener");
    assert.deepEqual(events, ["version verack=false", "getblocks 7 verack=false"]);
    assert.equal(peer.protocolVersion, 70013);
    assert.equal(peer.services, 0x4dn);
    assert.equal(peer.witnessEnabled, true);
    assert.equal(peer.userAgent, "/soterwire:0.6.0/soterd:4.2.0/");
    assert.equal(peer.startingHeight, 5);
    assert.equal(peer.timeOffset, 0);
    assert.equal(peer.verAckReceived, false);

    // Its verack comes only after it read ours.
    await remote.write(fromHex(SOTERD_VERACK));
    await until(() => peer.verAckReceived, "the verack");
    assert.deepEqual(events.slice(2), ["verack"]);

    // A new block announced, and a ping.
    await remote.write(fromHex(SOTERD_INV));
    await until(() => invs.length === 1, "the inv");
    const iv = invs[0]!.invList[0]!;
    assert.equal(iv.type, InvType.BLOCK);
    assert.equal(iv.height, 6);
    assert.equal(iv.hash[0], 1);
    assert.equal(iv.hash[31], 0x20);
    await remote.write(fromHex(SOTERD_PING));
    const pong = await remote.expect("pong");
    assert.equal(pong.nonce, 0x0102030405060708n);
    assert.equal(peer.connected, true);
    await closeAll(clock, peer);
    await remote.expectEnd();
  });

  it("an inbound peer reads first, then writes its version and verack", async () => {
    const clock = new ManualClock();
    const { peer, remote } = inboundWithRemote(clock);
    await settle();
    assert.equal(remote.chunks, 0, "an inbound peer waits for the remote's version");
    await remote.send(remoteVersion({ protocolVersion: 70012, services: 1n }), 70012);
    const v = await remote.expect("version");
    assert.equal(v.protocolVersion, 70013);
    await remote.expect("verack");
    assert.equal(peer.protocolVersion, 70012);
    assert.equal(peer.witnessEnabled, false);
    assert.equal(await within(peer.ready, "ready"), true);
    await closeAll(clock, peer);
  });

  it("the first message must be version: reject malformed", async () => {
    const clock = new ManualClock();
    const { peer, remote } = inboundWithRemote(clock);
    await remote.send({ command: "verack" });
    const reject = await remote.expect("reject");
    assert.deepEqual(
      { cmd: reject.cmd, code: reject.code, reason: reject.reason },
      { cmd: "verack", code: RejectCode.MALFORMED, reason: "a version message must precede all others" },
    );
    await remote.expectEnd();
    assert.equal((await peer.disconnected).reason, "version-not-first");
    assert.equal(await peer.ready, false);
    assert.equal(clock.pendingTimers, 0);
  });

  it("detects a connection to itself by its sent nonces, without a reject", async () => {
    const clock = new ManualClock();
    // A connection whose far end is itself: the peer reads its own version.
    let loop: TransformStreamDefaultController<Uint8Array> | undefined;
    const t = new TransformStream<Uint8Array, Uint8Array>(
      { start: (c) => void (loop = c) },
      undefined,
      { highWaterMark: 64 },
    );
    const written: string[] = [];
    const conn: Conn = {
      readable: t.readable,
      writable: t.writable,
      localAddr: { hostname: "127.0.0.1", port: 18555 },
      remoteAddr: { hostname: "127.0.0.1", port: 18555 },
      close: () => {
        try {
          loop!.terminate();
        } catch { /* closed */ }
      },
    };
    const peer = Peer.outbound(
      "127.0.0.1:18555",
      testConfig(clock, { listeners: { onWrite: (_p, _n, m) => void written.push(m.command) } }),
    );
    peer.associateConnection(conn);
    const why = await within(peer.disconnected, "the disconnect");
    assert.equal(why.reason, "self-connection");
    assert.deepEqual(written, ["version"]);
    assert.equal(clock.pendingTimers, 0);
  });

  it("two peers sharing one nonce set (one process, as soterd) see a self connection", async () => {
    const clock = new ManualClock();
    const shared = new LruSet<bigint>(50);
    const [a, b] = connPair();
    const inbound = Peer.inbound(testConfig(clock, { sentNonces: shared, random: seededRandom(1) }));
    const outbound = Peer.outbound(
      "127.0.0.1:18555",
      testConfig(clock, { sentNonces: shared, random: seededRandom(2) }),
    );
    inbound.associateConnection(a);
    outbound.associateConnection(b);
    assert.equal((await within(inbound.disconnected, "inbound")).reason, "self-connection");
    assert.equal((await within(outbound.disconnected, "outbound")).reason, "remote-closed");
    assert.equal(clock.pendingTimers, 0);
  });

  it("the version listener's own reject is sent, then the peer disconnects", async () => {
    const clock = new ManualClock();
    const { peer, remote } = inboundWithRemote(clock, {
      listeners: {
        onVersion: (_p, msg) =>
          msg.lastBlock < 10
            ? {
              command: "reject",
              cmd: "version",
              code: RejectCode.OBSOLETE,
              reason: "too far behind",
              hash: ZERO_HASH,
            }
            : undefined,
      },
    });
    await remote.send(remoteVersion({ lastBlock: 3 }));
    const reject = await remote.expect("reject");
    assert.equal(reject.code, RejectCode.OBSOLETE);
    assert.equal(reject.reason, "too far behind");
    await remote.expectEnd();
    const why = await peer.disconnected;
    assert.equal(why.reason, "version-rejected");
    assert.match(why.message, /too far behind/);
  });

  it("the listener's reject is not sent below protocol version 70002 (asynchronous listener)", async () => {
    const clock = new ManualClock();
    const { peer, remote } = inboundWithRemote(clock, {
      listeners: {
        onVersion: () =>
          Promise.resolve({ command: "reject", cmd: "version", code: 0x10, reason: "no", hash: ZERO_HASH } as const),
      },
    }, 70001);
    await remote.send(remoteVersion({ protocolVersion: 70001 }), 70001);
    await remote.expectEnd();
    assert.equal((await peer.disconnected).reason, "version-rejected");
  });

  it("a missing genesis hash (short version) is another network", async () => {
    const clock = new ManualClock();
    const { peer, remote } = inboundWithRemote(clock);
    // Cut the payload right after the user agent: 4+8+8+26+26+8 + 1+30 bytes.
    const payload = payloadOf(remoteVersion()).subarray(0, 4 + 8 + 8 + 26 + 26 + 8 + 31);
    await remote.write(frameOf("version", payload, MAGIC));
    const reject = await remote.expect("reject");
    assert.equal(reject.code, RejectCode.INVALID);
    assert.match(reject.reason, /^peer genesis block hash different from ours \(0{64} != /);
    assert.equal((await peer.disconnected).reason, "genesis-mismatch");
  });

  it("soterd's own name with another major version is refused; other names are not", async () => {
    const clock = new ManualClock();
    const base = { userAgentName: "soterd", userAgentVersion: "4.2.0", userAgentComments: [] };
    const a = inboundWithRemote(clock, base);
    await a.remote.send(remoteVersion({ userAgent: "/soterwire:0.6.0/soterd:3.9.9/" }));
    assert.equal((await a.remote.expect("reject")).reason, "peer version 3.9.9 is incompatible with our version 4.2.0");
    assert.equal((await a.peer.disconnected).reason, "incompatible-user-agent");

    const b = inboundWithRemote(clock, base);
    await b.remote.send(remoteVersion({ userAgent: "/soterwire:0.6.0/soterd:4.0.1/other:9.0.0/" }));
    await b.remote.expect("version");
    await b.remote.expect("verack");
    await closeAll(clock, b.peer);
  });

  it("times out a handshake after 30 s", async () => {
    const clock = new ManualClock();
    const { peer, remote } = outboundWithRemote(clock);
    await remote.expect("version");
    await clock.advance(29_999);
    assert.equal(peer.connected, true);
    await clock.advance(1);
    assert.equal((await within(peer.disconnected, "the timeout")).reason, "handshake-timeout");
    await remote.expectEnd();
    assert.equal(clock.pendingTimers, 0);
  });

  it("negotiates the lower version and reads witness transactions when the remote signals witness", async () => {
    const tx = {
      version: 1,
      txIn: [{
        previousOutPoint: { hash: hash(3), index: 0 },
        signatureScript: new Uint8Array(0),
        witness: [new Uint8Array([1, 2, 3])],
        sequence: 0xffffffff,
      }],
      txOut: [{ value: 5n, pkScript: new Uint8Array([0x51]) }],
      lockTime: 0,
    };
    for (const witness of [true, false]) {
      const clock = new ManualClock();
      const txs: MessageOf<"tx">[] = [];
      const { peer, remote } = await openWithRemote(
        clock,
        { listeners: { onTx: (_p, m) => void txs.push(m) } },
        { protocolVersion: 70012, services: witness ? ServiceFlag.NODE_WITNESS : ServiceFlag.NODE_NETWORK },
      );
      assert.equal(peer.protocolVersion, 70012);
      assert.equal(peer.statsSnapshot().version, 70012);
      assert.equal(peer.witnessEnabled, witness);
      await remote.send({ command: "tx", ...tx }, 70012, witness ? "witness" : "base");
      await until(() => txs.length === 1, "the tx");
      assert.deepEqual(txs[0]!.txIn[0]!.witness.map((w) => [...w]), witness ? [[1, 2, 3]] : []);
      await closeAll(clock, peer);
    }
  });
});

// ---------------------------------------------------------------------------
// After the handshake
// ---------------------------------------------------------------------------

describe("after the handshake", () => {
  it("a second verack disconnects without a reject", async () => {
    const clock = new ManualClock();
    const veracks: number[] = [];
    const { peer, remote } = await openWithRemote(clock, { listeners: { onVerAck: () => void veracks.push(1) } });
    await remote.send({ command: "verack" });
    assert.equal((await within(peer.disconnected, "the disconnect")).reason, "duplicate-verack");
    await remote.expectEnd();
    assert.equal(veracks.length, 1);
    assert.equal(clock.pendingTimers, 0);
  });

  it("answers a ping with a pong carrying its nonce", async () => {
    const clock = new ManualClock();
    const pings: bigint[] = [];
    const { peer, remote } = await openWithRemote(clock, {
      listeners: { onPing: (_p, m) => void pings.push(m.nonce) },
    });
    await remote.send({ command: "ping", nonce: 0xdeadbeefn });
    assert.equal((await remote.expect("pong")).nonce, 0xdeadbeefn);
    assert.deepEqual(pings, [0xdeadbeefn]);
    await closeAll(clock, peer);
  });

  it("does not answer pings at protocol version 60000 (no pong there)", async () => {
    const clock = new ManualClock();
    const written: string[] = [];
    const seen: string[] = [];
    const { peer, remote } = await openWithRemote(clock, {
      listeners: {
        onWrite: (_p, _n, m) => void written.push(m.command),
        onPing: () => void seen.push("ping"),
        onGetAddr: () => void seen.push("getaddr"),
      },
    }, { protocolVersion: 60000 });
    await remote.send({ command: "ping", nonce: 0n }, 60000);
    await remote.send({ command: "getaddr" }, 60000);
    await until(() => seen.length === 2, "both listeners");
    await settle();
    assert.deepEqual(written, ["version", "verack"]);
    await closeAll(clock, peer);
  });

  it("pings every 2 minutes and measures the round trip from the matching pong", async () => {
    const clock = new ManualClock();
    const { peer, remote } = await openWithRemote(clock);
    await clock.advance(119_999);
    assert.equal(peer.lastPingNonce, 0n);
    await clock.advance(1);
    const ping = await remote.expect("ping");
    assert.equal(peer.lastPingNonce, ping.nonce);
    assert.equal(peer.lastPingTime, T0 + 120_000);
    await clock.advance(250);
    await remote.send({ command: "pong", nonce: ping.nonce + 1n }); // not ours: ignored
    await remote.send({ command: "getaddr" });
    await settle();
    assert.equal(peer.lastPingNonce, ping.nonce);
    await remote.send({ command: "pong", nonce: ping.nonce });
    await until(() => peer.lastPingNonce === 0n, "the pong");
    assert.equal(peer.lastPingMicros, 250_000);
    const stats = peer.statsSnapshot();
    assert.equal(stats.lastPingMicros, 250_000);
    assert.equal(stats.lastPingTime, T0 + 120_000);
    await clock.advance(120_000);
    assert.notEqual((await remote.expect("ping")).nonce, ping.nonce);
    await closeAll(clock, peer);
  });

  it("sendheaders sets wantsHeaders", async () => {
    const clock = new ManualClock();
    let called = false;
    const { peer, remote } = await openWithRemote(clock, { listeners: { onSendHeaders: () => void (called = true) } });
    assert.equal(peer.wantsHeaders, false);
    await remote.send({ command: "sendheaders" });
    await until(() => peer.wantsHeaders, "wantsHeaders");
    assert.equal(called, true);
    await closeAll(clock, peer);
  });

  it("answers a read error with reject malformed, then disconnects", async () => {
    const clock = new ManualClock();
    const reads: Array<string | undefined> = [];
    const { peer, remote } = await openWithRemote(clock, {
      listeners: { onRead: (_p, _n, msg, err) => void reads.push(msg?.command ?? err?.kind) },
    });
    const frame = encodeMessage({ command: "ping", nonce: 1n }, { magic: MAGIC });
    frame[20]! ^= 0xff; // break the checksum
    await remote.write(frame);
    const reject = await remote.expect("reject");
    assert.equal(reject.cmd, "malformed");
    assert.equal(reject.code, RejectCode.MALFORMED);
    assert.ok(reject.reason.startsWith("Can't read message from 127.0.0.1:18555 (outbound): "), reject.reason);
    await remote.expectEnd();
    const why = await peer.disconnected;
    assert.equal(why.reason, "malformed");
    assert.ok(why.cause instanceof MessageError);
    assert.equal((why.cause as MessageError).kind, "checksum");
    assert.deepEqual(reads, ["version", "verack", "checksum"]);
    assert.equal(clock.pendingTimers, 0);
  });

  it("an unknown command is a read error too (soterd drops such peers)", async () => {
    const clock = new ManualClock();
    const { peer, remote } = await openWithRemote(clock);
    const frame = encodeMessage({ command: "verack" }, { magic: MAGIC });
    frame.set(new TextEncoder().encode("getutxos"), 4);
    await remote.write(frame);
    assert.equal((await remote.expect("reject")).code, RejectCode.MALFORMED);
    assert.equal((await peer.disconnected).reason, "malformed");
  });

  it("a remote sending mutated frames always ends in a disconnect, with nothing left behind", async () => {
    const valid: Message[] = [
      { command: "ping", nonce: 1n },
      { command: "inv", invList: [blockInv(1), txInv(2)] },
      { command: "addr", addrList: addrs(2) },
      { command: "getblocks", protocolVersion: 70013, blockLocatorHeight: [1], hashStop: ZERO_HASH },
      { command: "reject", cmd: "tx", code: 1, reason: "x", hash: hash(1) },
      { command: "verack" },
    ];
    const stream = valid.map((m) => encodeMessage(m, { magic: MAGIC }));
    const total = stream.reduce((n, f) => n + f.length, 0);
    for (let seed = 1; seed <= 40; seed++) {
      const clock = new ManualClock();
      const rnd = seededRandom(seed * 7919);
      const byte = () => {
        const b = new Uint8Array(1);
        rnd(b);
        return b[0]!;
      };
      const bytes = new Uint8Array(total);
      let at = 0;
      for (const f of stream) {
        bytes.set(f, at);
        at += f.length;
      }
      const flips = 1 + (byte() % 4);
      for (let i = 0; i < flips; i++) {
        const pos = (byte() << 8 | byte()) % total;
        bytes[pos] = bytes[pos]! ^ (1 << (byte() % 8));
      }
      const handshaken = seed % 2 === 0;
      const { peer, remote } = handshaken ? await openWithRemote(clock) : inboundWithRemote(clock);
      if (!handshaken) await remote.send(remoteVersion());
      // Written in random pieces, then the remote goes away.
      for (let off = 0; off < bytes.length;) {
        const n = 1 + (byte() % 64);
        await remote.write(bytes.subarray(off, off + n)).catch(() => {});
        off += n;
      }
      remote.close();
      const why = await within(peer.disconnected, `the disconnect (seed ${seed})`);
      assert.ok(why instanceof DisconnectError);
      assert.equal(clock.pendingTimers, 0, `timers left (seed ${seed}, ${why.reason})`);
    }
  });

  it("the remote closing ends the peer; a frame cut short gets a reject first", async () => {
    const clock = new ManualClock();
    const a = await openWithRemote(clock);
    a.remote.close();
    assert.equal((await within(a.peer.disconnected, "disconnect")).reason, "remote-closed");

    const b = await openWithRemote(clock);
    const frame = encodeMessage({ command: "ping", nonce: 1n }, { magic: MAGIC });
    await b.remote.write(frame.subarray(0, 10));
    b.remote.close();
    assert.equal((await within(b.peer.disconnected, "disconnect")).reason, "malformed");
    assert.equal(clock.pendingTimers, 0);
  });

  describe("bloom filter commands without NODE_BLOOM", () => {
    const filters: Message[] = [
      { command: "filteradd", data: new Uint8Array([1]) },
      { command: "filterclear" },
      { command: "filterload", filter: new Uint8Array([1]), hashFuncs: 10, tweak: 0, flags: 0 },
    ];

    for (const msg of filters) {
      it(`${msg.command} at protocol version 70011 or above disconnects`, async () => {
        const clock = new ManualClock();
        let called = false;
        const flag = () => void (called = true);
        const { peer, remote } = await openWithRemote(clock, {
          services: ServiceFlag.NODE_NETWORK,
          listeners: { onFilterAdd: flag, onFilterClear: flag, onFilterLoad: flag },
        }, { protocolVersion: 70011 });
        await remote.send(msg, 70011);
        assert.equal((await within(peer.disconnected, "disconnect")).reason, "bloom-not-supported");
        assert.equal(called, false);
        await remote.expectEnd();
      });
    }

    it("below 70011 they are ignored without calling the listeners", async () => {
      const clock = new ManualClock();
      let called = 0;
      const flag = () => void called++;
      const iterated: string[] = [];
      const [local, far] = connPair();
      const peer = Peer.outbound(
        "127.0.0.1:18555",
        testConfig(clock, {
          protocolVersion: 70002,
          listeners: { onFilterAdd: flag, onFilterClear: flag, onFilterLoad: flag },
        }),
      );
      const it = peer.messages();
      void (async () => {
        for await (const m of it) iterated.push(m.command);
      })();
      peer.associateConnection(local);
      const remote = new Remote(far, 70002);
      await remote.expect("version");
      await remote.send(remoteVersion(), 70013);
      await remote.send({ command: "verack" }, 70002);
      await remote.expect("verack");
      for (const m of filters) await remote.send(m, 70002);
      await remote.send({ command: "ping", nonce: 5n }, 70002);
      assert.equal((await remote.expect("pong")).nonce, 5n);
      assert.equal(called, 0);
      assert.equal(peer.connected, true);
      await closeAll(clock, peer);
      await settle();
      assert.deepEqual(iterated, ["version", "verack", "ping"]);
    });

    it("with NODE_BLOOM the listeners are called", async () => {
      const clock = new ManualClock();
      let called = 0;
      const flag = () => void called++;
      const { peer, remote } = await openWithRemote(clock, {
        services: ServiceFlag.NODE_BLOOM,
        listeners: { onFilterAdd: flag, onFilterClear: flag, onFilterLoad: flag },
      });
      for (const m of filters) await remote.send(m);
      await until(() => called === 3, "three listeners");
      await closeAll(clock, peer);
    });
  });
});

// ---------------------------------------------------------------------------
// Output: queueing, batching, trickling, the bound
// ---------------------------------------------------------------------------

describe("output", () => {
  it("queueMessage settles true once written; frames queued in one tick share one write", async () => {
    const clock = new ManualClock();
    const { peer, remote } = await openWithRemote(clock);
    const before = remote.chunks;
    const done = [
      peer.queueMessage({ command: "getaddr" }),
      peer.queueMessage({ command: "sendheaders" }),
      peer.queueMessage({ command: "feefilter", minFee: 1000n }),
    ];
    assert.deepEqual(await within(Promise.all(done), "the writes"), [true, true, true]);
    await remote.expect("getaddr");
    await remote.expect("sendheaders");
    await remote.expect("feefilter");
    assert.equal(remote.chunks, before + 1, "one write for three frames");
    assert.equal(peer.bytesSent, 203 + 24 + 24 + 32);
    await closeAll(clock, peer);
  });

  it("queueMessage throws for a message that cannot be encoded, and settles false without a connection", async () => {
    const clock = new ManualClock();
    const idle = Peer.inbound(testConfig(clock));
    assert.equal(await idle.queueMessage({ command: "getaddr" }), false);
    const { peer } = await openWithRemote(clock, {}, { protocolVersion: 70012 });
    assert.throws(() => peer.queueMessage({ command: "feefilter", minFee: 1n }), isKind("pver-too-low"));
    assert.throws(() => peer.queueMessage({ command: "addr", addrList: addrs(1001) }), MessageError);
    await closeAll(clock, peer);
    assert.equal(await peer.queueMessage({ command: "getaddr" }), false);
  });

  it("messages queued during the handshake go out after our verack, re-encoded at the negotiated version", async () => {
    const clock = new ManualClock();
    const { peer, remote } = outboundWithRemote(clock, {}, 60000);
    const ping = peer.queueMessage({ command: "ping", nonce: 77n }); // 8-byte nonce at 70013
    const sh = peer.queueMessage({ command: "sendheaders" }); // does not exist at 60000: dropped
    await remote.expect("version");
    await remote.send(remoteVersion({ protocolVersion: 60000 }), 60000);
    await remote.expect("verack");
    const p = await remote.expect("ping");
    assert.equal(p.nonce, 0n, "a ping at 60000 carries no nonce");
    assert.equal(await ping, true);
    assert.equal(await sh, false);
    await closeAll(clock, peer);
  });

  it("trickles inventory every 10 s, skips known inventory, sends blocks at once", async () => {
    const clock = new ManualClock();
    const { peer, remote } = await openWithRemote(clock);
    peer.queueInventory(txInv(1));
    peer.queueInventory(txInv(2));
    peer.queueInventory(txInv(3));
    peer.addKnownInventory(txInv(4));
    peer.queueInventory(txInv(4)); // known already: not queued
    peer.queueInventory(txInv(5));
    peer.addKnownInventory(txInv(5)); // became known while waiting: skipped at the trickle
    peer.queueInventory(blockInv(7)); // a block: at once, alone
    const block = await remote.expect("inv");
    assert.deepEqual(block.invList.map((iv) => iv.height), [7]);
    assert.equal(block.invList[0]!.type, InvType.BLOCK);

    await clock.advance(10_000);
    const trickled = await remote.expect("inv");
    assert.deepEqual(trickled.invList.map((iv) => iv.hash[0]), [1, 2, 3]);

    // Sent inventory is known now.
    peer.queueInventory(txInv(1));
    await clock.advance(10_000);
    await remote.send({ command: "ping", nonce: 1n });
    assert.equal((await remote.expect("pong")).nonce, 1n, "nothing trickled before the pong");

    // Batches of at most 1000.
    for (let i = 100; i < 2600; i++) peer.queueInventory(txInv(i));
    await clock.advance(10_000);
    const sizes = [];
    for (let i = 0; i < 3; i++) sizes.push((await remote.expect("inv")).invList.length);
    assert.deepEqual(sizes, [1000, 1000, 500]);
    await closeAll(clock, peer);
  });

  it("trickles on the 10 s grid from the handshake, not 10 s after the vector", async () => {
    const clock = new ManualClock();
    const { peer, remote } = await openWithRemote(clock);
    const start = clock.now();
    await clock.advance(23_000);
    peer.queueInventory(txInv(1));
    await clock.advance(6_999); // 29.999 s after the handshake
    await remote.send({ command: "ping", nonce: 2n });
    assert.equal((await remote.expect("pong")).nonce, 2n, "nothing trickled before 30 s");
    await clock.advance(1);
    assert.deepEqual((await remote.expect("inv")).invList.map((iv) => iv.hash[0]), [1]);
    assert.equal(clock.now() - start, 30_000);
    await closeAll(clock, peer);
  });

  it("an idle peer wakes only for its pings and idle checks", async () => {
    const clock = new WakeCountingClock();
    const { peer, remote } = await openWithRemote(clock);
    const before = clock.wakes;
    for (let minute = 1; minute <= 10; minute++) {
      await clock.advance(60_000);
      if (minute % 2 === 0) {
        const ping = await remote.expect("ping");
        await remote.send({ command: "pong", nonce: ping.nonce });
      }
    }
    assert.equal(peer.connected, true);
    // 5 pings and at most 3 idle checks; ticking every 15 s for stalls and
    // every 10 s for the trickle, it woke 80 times.
    assert.ok(clock.wakes - before <= 8, `woke ${clock.wakes - before} times in 10 minutes`);
    await closeAll(clock, peer);
  });

  it("the known-inventory cache keeps the last 1000 entries", async () => {
    const clock = new ManualClock();
    const { peer, remote } = await openWithRemote(clock);
    for (let i = 0; i < 1001; i++) peer.addKnownInventory(txInv(i));
    peer.queueInventory(txInv(0)); // evicted: announced again
    peer.queueInventory(txInv(1000)); // still known
    await clock.advance(10_000);
    assert.deepEqual((await remote.expect("inv")).invList.map((iv) => iv.hash[0]), [0]);
    await closeAll(clock, peer);
  });

  it("bounds the queue when the remote never reads: send-queue-full", async () => {
    const clock = new ManualClock();
    const max = 128 * 1024;
    const { peer } = await openWithRemote(clock, { maxQueueBytes: max });
    const inv: Message = { command: "inv", invList: Array.from({ length: 1000 }, (_, i) => txInv(i)) };
    const results: Promise<boolean>[] = [];
    let most = 0;
    for (let i = 0; i < 100 && peer.connected; i++) {
      results.push(peer.queueMessage(inv));
      most = Math.max(most, peer.queuedBytes);
      await settle();
    }
    const why = await within(peer.disconnected, "the disconnect");
    assert.equal(why.reason, "send-queue-full");
    assert.ok(most <= max, `queued ${most} bytes, bound ${max}`);
    const settled = await within(Promise.all(results), "every queued message");
    assert.ok(settled.includes(true), "some were written before the pipe filled");
    assert.ok(settled.includes(false), "the rest were dropped");
    assert.equal(settled[settled.length - 1], false);
    assert.equal(peer.queuedBytes, 0);
    assert.equal(clock.pendingTimers, 0);
  });

  it("disconnecting while messages are queued settles every promise, leaving nothing behind", async () => {
    const clock = new ManualClock();
    const { peer } = await openWithRemote(clock);
    const inv: Message = { command: "inv", invList: Array.from({ length: 1000 }, (_, i) => txInv(i)) };
    const results: Promise<boolean>[] = [];
    for (let i = 0; i < 5; i++) {
      results.push(peer.queueMessage(inv));
      await settle();
    }
    for (let i = 0; i < 5; i++) results.push(peer.queueMessage(inv)); // stuck behind the full pipe
    peer.disconnect();
    const settled = await within(Promise.all(results), "every queued message");
    assert.deepEqual(settled.slice(5), [false, false, false, false, false]);
    assert.ok(settled[0]);
    assert.equal(peer.queuedBytes, 0);
    assert.equal((await peer.disconnected).reason, "local");
    assert.equal(clock.pendingTimers, 0);
  });
});

// ---------------------------------------------------------------------------
// Stall detection and idle timeout
// ---------------------------------------------------------------------------

describe("stalls and timeouts", () => {
  it("getdata unanswered for 30 s disconnects; answered, it does not", async () => {
    const clock = new ManualClock();
    const a = await openWithRemote(clock);
    await a.peer.queueMessage({ command: "getdata", invList: [blockInv(1)] });
    await clock.advance(29_999);
    assert.equal(a.peer.connected, true);
    await clock.advance(1);
    const why = await within(a.peer.disconnected, "the stall");
    assert.equal(why.reason, "stalled");
    assert.match(why.message, /timeout/);
    assert.equal(clock.pendingTimers, 0);

    const b = await openWithRemote(clock);
    await b.peer.queueMessage({ command: "getdata", invList: [blockInv(1)] });
    await clock.advance(10_000);
    await b.remote.send({ command: "notfound", invList: [blockInv(1)] }); // clears block, tx, merkleblock too
    await clock.advance(60_000);
    assert.equal(b.peer.connected, true);
    await closeAll(clock, b.peer);
  });

  for (const command of ["getblocks", "mempool"] as const) {
    it(`${command} expects an inv within 30 s`, async () => {
      const clock = new ManualClock();
      const { peer, remote } = await openWithRemote(clock);
      if (command === "getblocks") assert.equal(peer.pushGetBlocksMsg([1], ZERO_HASH), true);
      else await peer.queueMessage({ command: "mempool" });
      await remote.expect(command);
      await clock.advance(20_000);
      await remote.send({ command: "inv", invList: [] });
      await clock.advance(40_000);
      assert.equal(peer.connected, true);
      if (command === "getblocks") peer.pushGetBlocksMsg([1], ZERO_HASH);
      else await peer.queueMessage({ command: "mempool" });
      await remote.expect(command); // written now: due in 30 s
      await clock.advance(30_000);
      assert.equal((await within(peer.disconnected, "the stall")).reason, "stalled");
    });
  }

  it("getheaders gets three times as long", async () => {
    const clock = new ManualClock();
    const { peer, remote } = await openWithRemote(clock);
    peer.pushGetHeadersMsg([1], ZERO_HASH);
    await remote.expect("getheaders");
    await clock.advance(89_999);
    assert.equal(peer.connected, true);
    await clock.advance(1);
    assert.equal((await within(peer.disconnected, "the stall")).reason, "stalled");
  });

  it("a missing verack is a stall after 30 s", async () => {
    const clock = new ManualClock();
    const { peer, remote } = outboundWithRemote(clock);
    await remote.expect("version");
    await remote.send(remoteVersion());
    await remote.expect("verack");
    await clock.advance(30_000);
    assert.equal((await within(peer.disconnected, "the stall")).reason, "stalled");
    assert.match(peer.disconnectReason!.message, /verack timeout/);
  });

  it("time spent in our handlers does not count against the remote", async () => {
    const clock = new ManualClock();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let inHandler = false;
    let handled = false;
    const { peer, remote } = await openWithRemote(clock, {
      listeners: {
        onInv: async () => {
          inHandler = true;
          await gate;
          handled = true;
        },
      },
    });
    peer.pushGetHeadersMsg([1], ZERO_HASH); // due in 90 s
    await remote.expect("getheaders");
    await remote.send({ command: "inv", invList: [] });
    await until(() => inHandler, "the handler");
    await clock.advance(200_000); // the handler runs for 200 s
    assert.equal(peer.connected, true);
    release();
    await until(() => handled, "the handler's end");
    await settle();
    // Due at 90 s + 200 s = 290 s; the stall check runs every 15 s.
    await clock.advance(85_000);
    assert.equal(peer.connected, true, "not stalled at 285 s");
    await clock.advance(15_000);
    assert.equal((await within(peer.disconnected, "the stall")).reason, "stalled");
  });

  it("the idle wait pauses while our handler runs", async () => {
    const clock = new ManualClock();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let state = "";
    const { peer, remote } = await openWithRemote(clock, {
      listeners: {
        onGetAddr: async () => {
          state = "running";
          await gate;
          state = "done";
        },
      },
    });
    await remote.send({ command: "getaddr" });
    await until(() => state === "running", "the handler");
    await clock.advance(600_000);
    assert.equal(peer.connected, true);
    release();
    await until(() => state === "done", "the handler's end");
    await settle();
    await clock.advance(299_999);
    assert.equal(peer.connected, true);
    await clock.advance(1);
    assert.equal((await within(peer.disconnected, "the idle timeout")).reason, "idle-timeout");
  });

  it("disconnects after 5 minutes without a message; each message restarts the wait", async () => {
    const clock = new ManualClock();
    const { peer, remote } = await openWithRemote(clock);
    await clock.advance(240_000);
    await remote.send({ command: "getaddr" });
    await settle();
    await clock.advance(299_999);
    assert.equal(peer.connected, true);
    await clock.advance(1);
    assert.equal((await within(peer.disconnected, "the idle timeout")).reason, "idle-timeout");
    assert.equal(clock.pendingTimers, 0);
  });
});

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

describe("push helpers", () => {
  it("pushAddrMsg sends all addresses, or a random 1000 of more", async () => {
    const clock = new ManualClock();
    const { peer, remote } = await openWithRemote(clock);
    assert.deepEqual(peer.pushAddrMsg([]), []);
    const five = peer.pushAddrMsg(addrs(5));
    assert.deepEqual(five.map((a) => a.port), [0, 1, 2, 3, 4]);
    assert.deepEqual((await remote.expect("addr")).addrList.map((a) => a.port), [0, 1, 2, 3, 4]);

    const many = addrs(1500);
    const sent = peer.pushAddrMsg(many);
    assert.equal(sent.length, 1000);
    const ports = new Set(sent.map((a) => a.port));
    assert.equal(ports.size, 1000, "no address twice");
    assert.ok([...ports].some((p) => p >= 1000), "a random pick, not the first 1000");
    assert.deepEqual((await remote.expect("addr")).addrList.map((a) => a.port), sent.map((a) => a.port));
    assert.equal(many.length, 1500, "the caller's list is not modified");
    await closeAll(clock, peer);
  });

  it("pushAddrCacheMsg splits at 1000 addresses, outbound first", async () => {
    const clock = new ManualClock();
    const { peer, remote } = await openWithRemote(clock);
    assert.deepEqual(peer.pushAddrCacheMsg([], [], []), []);
    const msgs = peer.pushAddrCacheMsg(addrs(600, 10_000), addrs(600, 20_000), addrs(900, 30_000));
    assert.equal(msgs.length, 3);
    const got = [];
    for (let i = 0; i < 3; i++) {
      const m = await remote.expect("addrcache");
      got.push([m.outbound.length, m.inbound.length, m.known.length]);
    }
    assert.deepEqual(got, [[600, 400, 0], [0, 200, 800], [0, 0, 100]]);
    await closeAll(clock, peer);
  });

  it("pushGetBlocksMsg skips an exact repeat with a non-zero stop hash", async () => {
    const clock = new ManualClock();
    const { peer, remote } = await openWithRemote(clock);
    const stop = hash(9);
    assert.equal(peer.pushGetBlocksMsg([5], stop), true);
    assert.equal(peer.pushGetBlocksMsg([5], stop), false);
    assert.equal(peer.pushGetBlocksMsg([5], ZERO_HASH), true);
    assert.equal(peer.pushGetBlocksMsg([5], ZERO_HASH), true, "a zero stop hash is never filtered");
    assert.equal(peer.pushGetBlocksMsg([6], ZERO_HASH), true);
    assert.equal(peer.pushGetBlocksMsg([], stop), true);
    assert.equal(peer.pushGetBlocksMsg([], stop), true, "no start height, no filtering");
    assert.throws(() => peer.pushGetBlocksMsg([1, 2], stop), MessageError);
    const heights = [];
    for (let i = 0; i < 5; i++) heights.push((await remote.expect("getblocks")).blockLocatorHeight.join());
    assert.deepEqual(heights, ["5", "5", "5", "6", ""]);
    await closeAll(clock, peer);
  });

  it("pushGetHeadersMsg skips an exact repeat, zero stop hash included", async () => {
    const clock = new ManualClock();
    const { peer, remote } = await openWithRemote(clock);
    assert.equal(peer.pushGetHeadersMsg([5], ZERO_HASH), true);
    assert.equal(peer.pushGetHeadersMsg([5], ZERO_HASH), false);
    assert.equal(peer.pushGetHeadersMsg([5], hash(1)), true);
    assert.equal(peer.pushGetHeadersMsg([6], hash(1)), true);
    const got = [];
    for (let i = 0; i < 3; i++) {
      const m = await remote.expect("getheaders");
      got.push(`${m.blockLocatorHeight[0]}/${m.hashStop[0]}`);
    }
    assert.deepEqual(got, ["5/0", "5/1", "6/1"]);
    await closeAll(clock, peer);
  });

  it("pushRejectMsg carries the hash for tx and block only, and is skipped below 70002", async () => {
    const clock = new ManualClock();
    const { peer, remote } = await openWithRemote(clock);
    assert.equal(await peer.pushRejectMsg("tx", RejectCode.NONSTANDARD, "non-standard", hash(4)), true);
    assert.equal(await peer.pushRejectMsg("block", RejectCode.INVALID, "bad"), true);
    assert.equal(await peer.pushRejectMsg("getdata", RejectCode.MALFORMED, "odd", hash(4)), true);
    const tx = await remote.expect("reject");
    assert.deepEqual([tx.cmd, tx.code, tx.reason, tx.hash[0]], ["tx", 0x40, "non-standard", 4]);
    const block = await remote.expect("reject");
    assert.deepEqual(block.hash, new Uint8Array(32));
    const other = await remote.expect("reject");
    assert.deepEqual(other.hash, new Uint8Array(32));
    await closeAll(clock, peer);

    const old = await openWithRemote(clock, {}, { protocolVersion: 70001 });
    assert.equal(await old.peer.pushRejectMsg("tx", RejectCode.INVALID, "x", hash(1)), false);
    await old.remote.send({ command: "ping", nonce: 3n }, 70001);
    assert.equal((await old.remote.expect("pong")).nonce, 3n, "no reject before the pong");
    await closeAll(clock, old.peer);
  });
});

// ---------------------------------------------------------------------------
// Two of our peers, lifecycle and observation
// ---------------------------------------------------------------------------

describe("lifecycle", () => {
  it("a write still in flight when the peer disconnects is reported as dropped, not written", async () => {
    const clock = new ManualClock();
    const [local, far] = connPair();
    // The local end's writes pass a gate, so one can be held in flight.
    let gate: Promise<void> = Promise.resolve();
    let openGate = () => {};
    let held = false;
    const inner = local.writable.getWriter();
    const gated: Conn = {
      readable: local.readable,
      localAddr: local.localAddr,
      remoteAddr: local.remoteAddr,
      close: () => local.close(),
      writable: new WritableStream<Uint8Array>({
        async write(chunk) {
          held = true;
          await gate;
          // The runtime took the bytes, whatever happens to the socket next.
          inner.write(chunk).catch(() => {});
        },
      }),
    };
    const written: string[] = [];
    const peer = Peer.outbound(
      "127.0.0.1:18555",
      testConfig(clock, { listeners: { onWrite: (_p, _n, m, err) => void (err ?? written.push(m.command)) } }),
    );
    const remote = new Remote(far);
    peer.associateConnection(gated);
    await remote.expect("version");
    await remote.send(remoteVersion());
    await remote.send({ command: "verack" });
    await remote.expect("verack");
    await until(() => peer.verAckReceived, "the handshake");

    gate = new Promise((resolve) => (openGate = resolve));
    held = false;
    const queued = peer.queueMessage({ command: "ping", nonce: 77n });
    await until(() => held, "the ping write to be in flight");
    peer.disconnect();
    assert.equal(await within(queued, "the queued ping"), false);
    openGate();
    await within(peer.disconnected, "the disconnect");
    await settle();
    assert.equal(written.includes("ping"), false, "onWrite reported the dropped ping as written");
    assert.equal(clock.pendingTimers, 0);
  });

  it("two of our peers exchange addresses, inventory and pings", async () => {
    const clock = new ManualClock();
    const got: Message[] = [];
    const { inbound, outbound } = await peerPair(clock, {
      listeners: { onGetAddr: (p) => void p.pushAddrMsg(addrs(3)) },
    }, {
      listeners: { onAddr: (_p, m) => void got.push(m), onInv: (_p, m) => void got.push(m) },
    });
    await outbound.queueMessage({ command: "getaddr" });
    await until(() => got.length === 1, "the addr");
    inbound.queueInventory(blockInv(3));
    await until(() => got.length === 2, "the inv");
    assert.equal(got[1]!.command, "inv");
    await clock.advance(120_000); // both ping, both answer
    await until(() => inbound.lastPingNonce === 0n && outbound.lastPingNonce === 0n, "both pongs");
    assert.equal(inbound.lastPingTime, T0 + 120_000);
    assert.equal(outbound.lastPingMicros, 0);
    await closeAll(clock, inbound, outbound);
  });

  it("disconnect() is idempotent and the promise tells why", async () => {
    const clock = new ManualClock();
    const { peer, remote } = await openWithRemote(clock);
    peer.disconnect();
    peer.disconnect();
    const why = await peer.disconnected;
    assert.ok(why instanceof DisconnectError);
    assert.equal(why.reason, "local");
    assert.equal(peer.disconnectReason, why);
    assert.equal(peer.connected, false);
    assert.equal(peer.localAddr, undefined);
    await remote.expectEnd();
    assert.equal(clock.pendingTimers, 0);
  });

  it("an AbortSignal disconnects, before or after the connection", async () => {
    const clock = new ManualClock();
    const ac = new AbortController();
    const { peer, remote } = await openWithRemote(clock, { signal: ac.signal });
    ac.abort("bye");
    const why = await within(peer.disconnected, "the abort");
    assert.equal(why.reason, "aborted");
    assert.equal(why.cause, "bye");
    await remote.expectEnd();

    const early = Peer.inbound(testConfig(clock, { signal: AbortSignal.abort() }));
    assert.equal((await early.disconnected).reason, "aborted");
    const [local, far] = connPair();
    early.associateConnection(local); // closed at once
    await new Remote(far).expectEnd();
    assert.equal(clock.pendingTimers, 0);
  });

  it("Symbol.asyncDispose disconnects and waits", async () => {
    const clock = new ManualClock();
    const { peer } = await openWithRemote(clock);
    await peer[Symbol.asyncDispose]();
    assert.equal(peer.disconnectReason?.reason, "local");
    assert.equal(clock.pendingTimers, 0);
  });

  it("a throwing or rejecting listener disconnects the peer; nothing escapes", async () => {
    const clock = new ManualClock();
    const a = await openWithRemote(clock, {
      listeners: {
        onGetAddr: () => {
          throw new Error("boom");
        },
      },
    });
    await a.remote.send({ command: "getaddr" });
    const why = await within(a.peer.disconnected, "the disconnect");
    assert.equal(why.reason, "listener-error");
    assert.equal((why.cause as Error).message, "boom");

    const b = await openWithRemote(clock, { listeners: { onGetAddr: () => Promise.reject(new Error("later")) } });
    await b.remote.send({ command: "getaddr" });
    assert.equal((await within(b.peer.disconnected, "the disconnect")).reason, "listener-error");
    assert.equal(clock.pendingTimers, 0);
  });

  it("messages() yields what listeners see and ends at the disconnect", async () => {
    const clock = new ManualClock();
    const [local, far] = connPair();
    const peer = Peer.outbound("127.0.0.1:18555", testConfig(clock));
    const all = peer.messages();
    peer.associateConnection(local);
    const remote = new Remote(far);
    await remote.expect("version");
    await remote.send(remoteVersion());
    await remote.send({ command: "verack" });
    await remote.send({ command: "getaddr" });
    const got: string[] = [];
    for await (const m of all) {
      got.push(m.command);
      if (got.length === 3) peer.disconnect();
    }
    assert.deepEqual(got, ["version", "verack", "getaddr"]);
    assert.equal((await peer.messages().next()).done, true, "a peer that is gone yields nothing");
  });

  it("an unconsumed messages() iterator holds reading back; breaking out releases it", async () => {
    const clock = new ManualClock();
    let pings = 0;
    const { peer, remote } = await openWithRemote(clock, { listeners: { onPing: () => void pings++ } });
    const slow = peer.messages({ highWaterMark: 1 });
    for (let i = 1; i <= 3; i++) await remote.send({ command: "ping", nonce: BigInt(i) });
    await until(() => pings === 1, "the first ping");
    await settle();
    assert.equal(pings, 1, "reading waits for the consumer");
    for await (const m of slow) {
      assert.equal(m.command, "ping");
      break;
    }
    await until(() => pings === 3, "the other pings");
    await closeAll(clock, peer);
  });
});
