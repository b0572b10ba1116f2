// Hostile remotes against our Peer over real loopback sockets. One file for
// Deno, Bun and Node: it imports the adapter of the runtime it runs in.
//
// Every case runs next to a well-behaved pair of peers on the same listener
// (real clock, default timeouts) that must still ping and pong afterwards.
// The hostile peer gets its own ManualClock, so soterd's 30 s and 5 min
// limits take milliseconds; after its disconnect no timer may be left, the
// process's memory must stay bounded, and nothing may go unhandled.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { assertNoUnhandled, checkNoUnhandled, pendingUnhandled } from "./_guard.ts";
import type { Conn, Listener } from "../src/adapters/types.ts";
import { FrameDecoder } from "../src/wire/decoder.ts";
import { encodeMessage } from "../src/wire/frame.ts";
import { InvType, type InvVect } from "../src/wire/invvect.ts";
import type { Message, MessageOf } from "../src/wire/message.ts";
import { RejectCode } from "../src/wire/messages/reject.ts";
import { MAX_MESSAGE_PAYLOAD } from "../src/wire/protocol.ts";
import { ManualClock } from "../src/peer/clock.ts";
import type { PeerConfig } from "../src/peer/config.ts";
import type { DisconnectReason } from "../src/peer/errors.ts";
import { LruSet } from "../src/peer/lru.ts";
import { Peer } from "../src/peer/peer.ts";
import { MAGIC, NET, remoteVersion, seededRandom } from "./peer_helpers.ts";
import { connect, listen, runtime } from "./_runtime.ts";
import { concat, frameHeader, frameOf, within } from "./_util.ts";

const HOST = "127.0.0.1";
const MiB = 1024 * 1024;

// ---------------------------------------------------------------------------
// Helpers.

function tick(ms = 0): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Waits (in real time, at most `ms`) until `cond()` holds. */
async function until(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`Timed out waiting until ${what}`);
    await tick(1);
  }
}

/** The memory figures every runtime reports (`external` counts ArrayBuffers). */
function memory(): { rss: number; heap: number; external: number } {
  const m = process.memoryUsage();
  return { rss: m.rss, heap: m.heapUsed, external: m.external };
}

/**
 * Prints a measured figure when SOTER_FIGURES is set (the README's
 * Reliability section quotes them): `SOTER_FIGURES=1 deno test -A tests/hostile.test.ts`.
 */
function figure(label: string, value: string): void {
  if (process.env.SOTER_FIGURES) console.log(`figure [${runtime}] ${label}: ${value}`);
}

const mib = (bytes: number) => `${(bytes / MiB).toFixed(1)} MiB`;
const plus = (bytes: number) => `${bytes < 0 ? "-" : "+"}${mib(Math.abs(bytes))}`;

/** Collects garbage when the runtime lets us (Bun always; Node/Deno with --expose-gc). */
function collect(): void {
  const g = globalThis as { gc?: () => void; Bun?: { gc(force: boolean): void } };
  if (g.Bun !== undefined) g.Bun.gc(true);
  else g.gc?.();
}

function frame(msg: Message): Uint8Array {
  return encodeMessage(msg, { magic: MAGIC });
}

function invList(n: number, type: number = InvType.TX): InvVect[] {
  const list: InvVect[] = [];
  for (let i = 0; i < n; i++) {
    const hash = new Uint8Array(32);
    new DataView(hash.buffer).setUint32(0, i + 1, true);
    list.push({ type, hash, height: 0 });
  }
  return list;
}

/**
 * The hostile end: a raw socket that writes whatever the test says, and
 * (unless told not to) reads and decodes everything our peer sends, in the
 * background, until the end of the stream.
 */
class Raw {
  readonly conn: Conn;
  readonly received: Message[] = [];
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #decoder = new FrameDecoder({ magic: MAGIC });
  #next = 0;
  #reading: Promise<void> | undefined;
  #stopped = false;
  /** How the stream ended: "eof", "error", or undefined while open. */
  end: "eof" | "error" | undefined;
  /** A frame of ours the remote could not decode (there must be none). */
  garbage: unknown;

  constructor(conn: Conn, read = true) {
    this.conn = conn;
    this.#writer = conn.writable.getWriter();
    this.#writer.closed.catch(() => {});
    if (read) this.startReading();
  }

  startReading(): void {
    this.#reading ??= this.#readLoop();
  }

  async #readLoop(): Promise<void> {
    const reader = this.conn.readable.getReader();
    try {
      for (;;) {
        if (this.#stopped) return;
        const r = await reader.read();
        if (r.done) break;
        this.#decoder.push(r.value);
        for (;;) {
          const f = this.#decoder.next();
          if (f === undefined) break;
          this.received.push(f.message);
        }
      }
      this.end = "eof";
    } catch (err) {
      if (this.end === undefined && this.garbage === undefined && !(err instanceof TypeError)) {
        // A reset by our side is an end too; a decode failure is not.
        if ((err as { name?: string }).name === "MessageError") this.garbage = err;
      }
      this.end = "error";
    }
  }

  /** Reads nothing more (after the read in progress, at most one chunk). */
  stopReading(): void {
    this.#stopped = true;
  }

  /** Writes bytes; `false` once the connection is gone. */
  async write(bytes: Uint8Array): Promise<boolean> {
    try {
      await this.#writer.write(bytes);
      return true;
    } catch {
      return false;
    }
  }

  send(msg: Message): Promise<boolean> {
    return this.write(frame(msg));
  }

  /** Waits for the next message and checks its command. */
  async expect<C extends Message["command"]>(command: C): Promise<MessageOf<C>> {
    await until(() => this.received.length > this.#next || this.end !== undefined, `${command} from our peer`);
    const msg = this.received[this.#next];
    assert.ok(msg !== undefined, `expected ${command}, got the end of the stream (${this.end})`);
    this.#next++;
    assert.equal(msg.command, command);
    return msg as MessageOf<C>;
  }

  /** Waits for the end of the stream and returns the messages not yet expected. */
  async rest(): Promise<Message[]> {
    await until(() => this.end !== undefined, "the end of the stream");
    assert.equal(this.garbage, undefined, "our peer sent an undecodable frame");
    const rest = this.received.slice(this.#next);
    this.#next = this.received.length;
    return rest;
  }

  /** Waits for the end of the stream and checks nothing else came. */
  async expectEnd(): Promise<void> {
    const rest = await this.rest();
    assert.deepEqual(rest.map((m) => m.command), [], "messages before the end of the stream");
  }

  close(): void {
    this.conn.close();
  }
}

// ---------------------------------------------------------------------------
// The node under attack: one listener, an inbound Peer per connection.

const DEFAULT_SERVER: PeerConfig = {
  network: NET,
  userAgentName: "server",
  userAgentVersion: "1.0.0",
  sentNonces: new LruSet<bigint>(50),
};

class Server {
  readonly listener: Listener;
  readonly peers: Peer[] = [];
  readonly #waiting: Array<{ config: PeerConfig; resolve: (peer: Peer) => void }> = [];
  readonly #loop: Promise<void>;

  private constructor(listener: Listener) {
    this.listener = listener;
    this.#loop = this.#accept();
  }

  static async start(): Promise<Server> {
    return new Server(await listen({ hostname: HOST, port: 0 }));
  }

  get port(): number {
    return this.listener.addr.port;
  }

  async #accept(): Promise<void> {
    for await (const conn of this.listener) {
      const next = this.#waiting.shift();
      const peer = Peer.inbound(next?.config ?? DEFAULT_SERVER);
      this.peers.push(peer);
      peer.associateConnection(conn);
      next?.resolve(peer);
    }
  }

  /** Connects a raw remote; the server's peer for it gets `config`. */
  async attach(config: PeerConfig, read = true): Promise<{ peer: Peer; raw: Raw }> {
    const accepted = new Promise<Peer>((resolve) => this.#waiting.push({ config, resolve }));
    const conn = await within(connect(HOST, this.port), "connect");
    const peer = await within(accepted, "accept");
    return { peer, raw: new Raw(conn, read) };
  }

  async stop(): Promise<void> {
    for (const p of this.peers) p.disconnect();
    await this.listener[Symbol.asyncDispose]();
    await this.#loop;
  }
}

/** A hostile peer's configuration: simnet, its own manual clock, soterd's defaults otherwise. */
function hostileConfig(clock: ManualClock, over: PeerConfig = {}): PeerConfig {
  return {
    network: NET,
    userAgentName: "server",
    userAgentVersion: "1.0.0",
    clock,
    random: seededRandom(7),
    sentNonces: new LruSet<bigint>(50),
    ...over,
  };
}

/** The remote side of soterd's handshake with our inbound peer. */
async function handshake(raw: Raw, peer: Peer): Promise<void> {
  assert.ok(await raw.send(remoteVersion()));
  await raw.expect("version");
  await raw.expect("verack");
  assert.ok(await raw.send({ command: "verack" }));
  await until(() => peer.verAckReceived, "our peer reads the verack");
}

async function expectDisconnect(peer: Peer, reason: DisconnectReason): Promise<void> {
  const why = await within(peer.disconnected, `disconnect (${reason})`);
  assert.equal(why.reason, reason, why.message);
}

/** Checks the reject soterd sends for a read error: cmd "malformed", code 0x01. */
function assertMalformedReject(msg: Message | undefined, detail?: RegExp): void {
  assert.ok(msg !== undefined, "expected reject malformed, got nothing");
  assert.equal(msg.command, "reject");
  const r = msg as MessageOf<"reject">;
  assert.equal(r.cmd, "malformed");
  assert.equal(r.code, RejectCode.MALFORMED);
  assert.match(r.reason, /^Can't read message from 127\.0\.0\.1:\d+ \(inbound\): /);
  if (detail !== undefined) assert.match(r.reason, detail);
}

// ---------------------------------------------------------------------------
// The well-behaved pair that must keep working.

let server: Server;
let good: { client: Peer; serverSide: Peer };
const pongs = new Map<bigint, () => void>();
let pingNonce = 1000n;

async function goodPairStillWorks(): Promise<void> {
  const { client, serverSide } = good;
  assert.ok(client.connected && serverSide.connected, "the good pair was disconnected");
  for (let i = 0; i < 3; i++) {
    const nonce = ++pingNonce;
    const pong = new Promise<void>((resolve) => pongs.set(nonce, resolve));
    assert.ok(await within(client.queueMessage({ command: "ping", nonce }), "good ping written"));
    await within(pong, "the good pair's pong");
  }
}

/** What every hostile case checks at its end. */
async function aftermath(peer: Peer, clock: ManualClock): Promise<void> {
  assert.equal(peer.connected, false);
  assert.equal(peer.queuedBytes, 0, "queued bytes left after the disconnect");
  assert.equal(clock.pendingTimers, 0, "timers left after the disconnect");
  await goodPairStillWorks();
  await assertNoUnhandled();
}

before(async () => {
  server = await Server.start();
  const accepted = new Promise<Peer>((resolve) => {
    // The first connection gets the default (real-clock) configuration.
    const t = setInterval(() => {
      const p = server.peers[0];
      if (p !== undefined) {
        clearInterval(t);
        resolve(p);
      }
    }, 1);
  });
  const conn = await within(connect(HOST, server.port), "connect the good client");
  const client = Peer.outbound(`${HOST}:${server.port}`, {
    network: NET,
    userAgentName: "client",
    userAgentVersion: "1.0.0",
    sentNonces: new LruSet<bigint>(50),
    listeners: {
      onPong: (_peer, msg) => {
        pongs.get(msg.nonce)?.();
        pongs.delete(msg.nonce);
      },
    },
  });
  client.associateConnection(conn);
  const serverSide = await within(accepted, "accept the good client");
  await until(() => client.verAckReceived && serverSide.verAckReceived, "the good pair's handshake");
  good = { client, serverSide };
});

after(async () => {
  good?.client.disconnect();
  await server?.stop();
});

// ---------------------------------------------------------------------------

describe(`hostile peers over loopback (${runtime})`, () => {
  it("the good pair pings and pongs", async () => {
    await goodPairStillWorks();
    await assertNoUnhandled();
  });

  it("the guard records an exception thrown from a timer (Deno ignores it otherwise)", {
    skip: runtime !== "deno" && "Node and Bun fail the test on their own",
  }, async () => {
    setTimeout(() => {
      throw new Error("guard probe");
    }, 0);
    await until(() => pendingUnhandled() === 1, "the guard records the probe");
    assert.throws(() => checkNoUnhandled(), /1 unhandled error\(s\)[\s\S]*guard probe/);
    assert.equal(pendingUnhandled(), 0);
  });

  describe("slowloris", () => {
    it("a version trickled one byte every 5 s: handshake-timeout at 30 s, no reject", async () => {
      const clock = new ManualClock();
      const { peer, raw } = await server.attach(hostileConfig(clock));
      const version = frame(remoteVersion());
      for (let i = 0; i < 6; i++) {
        assert.ok(await raw.write(version.subarray(i, i + 1)));
        await tick(2);
        await clock.advance(4_999);
        assert.ok(peer.connected, `gone after ${i + 1} bytes`);
        await clock.advance(1);
      }
      await expectDisconnect(peer, "handshake-timeout");
      await raw.expectEnd(); // an inbound peer writes nothing before a whole version
      await aftermath(peer, clock);
    });

    it("a ping trickled one header byte every 20 s: idle-timeout at 5 min, no reject", async () => {
      const clock = new ManualClock();
      const { peer, raw } = await server.attach(hostileConfig(clock));
      await handshake(raw, peer);
      const ping = frame({ command: "ping", nonce: 1n });
      for (let i = 0; i < 14; i++) {
        assert.ok(await raw.write(ping.subarray(i, i + 1)));
        await tick(2);
        await clock.advance(20_000);
        assert.ok(peer.connected, `gone after ${(i + 1) * 20} s`);
      }
      assert.ok(await raw.write(ping.subarray(14, 15)));
      await tick(2);
      await clock.advance(19_999); // 299.999 s since the verack
      assert.ok(peer.connected);
      await clock.advance(1);
      await expectDisconnect(peer, "idle-timeout");
      // Our own pings at 2 and 4 minutes, then the end: no reject.
      assert.deepEqual((await raw.rest()).map((m) => m.command), ["ping", "ping"]);
      await aftermath(peer, clock);
    });
  });

  describe("a declared 32 MiB payload never sent", () => {
    it("block declaring 32 MiB (its limit is 4,000,000): reject malformed, disconnect", async () => {
      const clock = new ManualClock();
      const { peer, raw } = await server.attach(hostileConfig(clock));
      await handshake(raw, peer);
      assert.ok(await raw.write(frameHeader("block", MAX_MESSAGE_PAYLOAD, MAGIC)));
      await expectDisconnect(peer, "malformed");
      const rest = await raw.rest();
      assert.equal(rest.length, 1);
      assertMalformedReject(rest[0], /block/);
      await aftermath(peer, clock);
    });

    it("any command declaring more than 32 MiB: reject malformed, disconnect", async () => {
      const clock = new ManualClock();
      const { peer, raw } = await server.attach(hostileConfig(clock));
      await handshake(raw, peer);
      assert.ok(await raw.write(frameHeader("cfcheckpt", MAX_MESSAGE_PAYLOAD + 1, MAGIC)));
      await expectDisconnect(peer, "malformed");
      const rest = await raw.rest();
      assert.equal(rest.length, 1);
      assertMalformedReject(rest[0], /33554433/);
      await aftermath(peer, clock);
    });

    it("32 remotes declare a 32 MiB cfcheckpt and send 1 KiB: nothing allocated up front, idle-timeout", async () => {
      const clock = new ManualClock();
      const n = 32;
      collect();
      const before = memory();
      const hostile: Array<{ peer: Peer; raw: Raw }> = [];
      // Fewer timer ticks: 5 minutes of a manual clock go faster.
      const config = hostileConfig(clock, { trickleInterval: 60_000, stallTickInterval: 60_000 });
      for (let i = 0; i < n; i++) {
        const h = await server.attach(config);
        await handshake(h.raw, h.peer);
        assert.ok(
          await h.raw.write(concat([frameHeader("cfcheckpt", MAX_MESSAGE_PAYLOAD, MAGIC), new Uint8Array(1024)])),
        );
        hostile.push(h);
      }
      await tick(20);
      const during = memory();
      // 32 x 32 MiB = 1 GiB if each declared payload were allocated at once.
      const growth = {
        rss: during.rss - before.rss,
        heap: during.heap - before.heap,
        external: during.external - before.external,
      };
      figure("32 x 32 MiB declared, 1 KiB sent", `RSS ${plus(growth.rss)}, external ${plus(growth.external)}`);
      assert.ok(growth.rss < 64 * MiB, `RSS grew ${(growth.rss / MiB).toFixed(1)} MiB`);
      assert.ok(growth.external < 64 * MiB, `external memory grew ${(growth.external / MiB).toFixed(1)} MiB`);
      for (const { peer } of hostile) assert.ok(peer.connected);
      await clock.advance(300_000);
      for (const { peer, raw } of hostile) {
        await expectDisconnect(peer, "idle-timeout");
        assert.deepEqual((await raw.rest()).map((m) => m.command), ["ping", "ping"]);
      }
      await aftermath(hostile[0]!.peer, clock);
    });
  });

  describe("FrameDecoder holds what arrived, not what a header declared", () => {
    it("64 decoders given a 32 MiB cfcheckpt header and 1 KiB hold about 64 KiB each", async () => {
      collect();
      const before = memory().external;
      const decoders: FrameDecoder[] = [];
      for (let i = 0; i < 64; i++) {
        const d = new FrameDecoder({ magic: MAGIC });
        d.push(concat([frameHeader("cfcheckpt", MAX_MESSAGE_PAYLOAD, MAGIC), new Uint8Array(1024)]));
        assert.equal(d.next(), undefined);
        decoders.push(d);
      }
      const growth = memory().external - before;
      assert.ok(growth < 16 * MiB, `external memory grew ${(growth / MiB).toFixed(1)} MiB for 64 decoders`);
      assert.equal(decoders.length, 64);
      await assertNoUnhandled();
    });

    it("payloads that grow their buffer decode the same in any chunking", () => {
      const plans: Array<[number, number[]]> = [[2_500, [1, 13, 4096]], [100_000, [65_536, 65_537, 100_003, 1 << 20]]];
      for (const [headers, sizes] of plans) {
        const filterHeaders = Array.from({ length: headers }, (_, i) => {
          const h = new Uint8Array(32);
          new DataView(h.buffer).setUint32(0, i * 2654435761, true);
          return h;
        });
        const msg: Message = {
          command: "cfcheckpt",
          filterType: 0,
          stopHash: new Uint8Array(32).fill(7),
          filterHeaders,
        };
        const bytes = frame(msg);
        for (const size of sizes) {
          const d = new FrameDecoder({ magic: MAGIC });
          let got: Message | undefined;
          for (let at = 0; at < bytes.length; at += size) {
            d.push(bytes.slice(at, at + size));
            const f = d.next();
            if (f !== undefined) got = f.message;
          }
          assert.deepEqual(got, msg, `${headers} headers in chunks of ${size}`);
          assert.ok(d.idle);
        }
      }
    });
  });

  describe("checksum errors", () => {
    it("in the first message: disconnect without a reject, as soterd during the handshake", async () => {
      const clock = new ManualClock();
      const { peer, raw } = await server.attach(hostileConfig(clock));
      const bad = frame(remoteVersion());
      bad[20]! ^= 0xff;
      assert.ok(await raw.write(bad));
      await expectDisconnect(peer, "malformed");
      await raw.expectEnd();
      await aftermath(peer, clock);
    });

    it("after the handshake: reject malformed naming the checksum, disconnect", async () => {
      const clock = new ManualClock();
      const { peer, raw } = await server.attach(hostileConfig(clock));
      await handshake(raw, peer);
      const bad = frame({ command: "ping", nonce: 5n });
      bad[23]! ^= 0x01;
      assert.ok(await raw.write(bad));
      await expectDisconnect(peer, "malformed");
      const rest = await raw.rest();
      assert.equal(rest.length, 1);
      assertMalformedReject(rest[0], /checksum/);
      await aftermath(peer, clock);
    });
  });

  describe("storms", () => {
    const storm = (n: number) => {
      const one = frameOf("xyzzy", new Uint8Array(0), MAGIC);
      const out = new Uint8Array(one.length * n);
      for (let i = 0; i < n; i++) out.set(one, i * one.length);
      return out;
    };

    it("10,000 unknown commands after the handshake: the first gets reject malformed and a disconnect", async () => {
      const clock = new ManualClock();
      const { peer, raw } = await server.attach(hostileConfig(clock));
      await handshake(raw, peer);
      const received = peer.bytesReceived;
      void raw.write(storm(10_000));
      await expectDisconnect(peer, "malformed");
      const rest = await raw.rest();
      assert.equal(rest.length, 1);
      assertMalformedReject(rest[0], /xyzzy/);
      assert.equal(peer.bytesReceived, received, "no unknown frame is counted as read");
      await aftermath(peer, clock);
    });

    it("10,000 unknown commands as the first messages: disconnect without a reject", async () => {
      const clock = new ManualClock();
      const { peer, raw } = await server.attach(hostileConfig(clock));
      void raw.write(storm(10_000));
      await expectDisconnect(peer, "malformed");
      await raw.expectEnd();
      await aftermath(peer, clock);
    });

    it("pings from a remote that reads none of our pongs: send-queue-full, memory bounded", async () => {
      const clock = new ManualClock();
      const { peer, raw } = await server.attach(hostileConfig(clock));
      await handshake(raw, peer);
      raw.stopReading();
      const one = frame({ command: "ping", nonce: 3n });
      const batch = new Uint8Array(one.length * 8192); // 256 KiB of pings
      for (let i = 0; i < 8192; i++) batch.set(one, i * one.length);
      collect();
      const before = memory();
      let peakHeap = before.heap;
      let peakQueued = 0;
      let sent = 0;
      while (peer.connected && sent < 64 * MiB) {
        if (!(await raw.write(batch))) break;
        sent += batch.length;
        await tick(0);
        peakHeap = Math.max(peakHeap, memory().heap);
        peakQueued = Math.max(peakQueued, peer.queuedBytes);
      }
      await expectDisconnect(peer, "send-queue-full");
      // At 512 + 32 bytes a pong, 16 MiB hold about 31,000 pongs (1 MB of
      // frames). Counted by their 32 bytes alone, half a million were held,
      // and the heap grew by some 250 MB. (The heap figure includes garbage
      // not yet collected: a loose bound.)
      const growth = peakHeap - before.heap;
      figure(
        "ping storm, pongs unread",
        `${mib(sent)} of pings sent, ${mib(peer.bytesReceived)} read, at most ${
          mib(peakQueued)
        } of pongs queued, peak heap ${plus(growth)}`,
      );
      assert.ok(peakQueued < 1.1 * MiB, `${peakQueued} bytes of pongs queued`);
      assert.ok(growth < 128 * MiB, `heap grew ${(growth / MiB).toFixed(1)} MiB for ${sent} bytes of pings`);
      raw.close();
      await aftermath(peer, clock);
    });
  });

  describe("inventory and lists beyond soterd's limits: reject malformed, disconnect", () => {
    const varint = (n: number) => new Uint8Array([0xfd, n & 0xff, n >>> 8]);
    const cases: Array<{ name: string; command: string; payload: () => Uint8Array; detail: RegExp }> = [
      { name: "inv counting 50,001 entries", command: "inv", payload: () => varint(50_001), detail: /50001/ },
      { name: "getdata counting 50,001 entries", command: "getdata", payload: () => varint(50_001), detail: /50001/ },
      { name: "notfound counting 50,001 entries", command: "notfound", payload: () => varint(50_001), detail: /50001/ },
      { name: "addr counting 1,001 addresses", command: "addr", payload: () => varint(1001), detail: /1001/ },
      { name: "headers counting 2,001 headers", command: "headers", payload: () => varint(2001), detail: /2001/ },
      {
        // 45,001 x 40 bytes: over soterd's limit, which counts 36 bytes an entry.
        name: "inv of 45,001 real entries (1.8 MB)",
        command: "inv",
        payload: () => {
          const body = new Uint8Array(3 + 45_001 * 40);
          body.set(varint(45_001));
          return body;
        },
        detail: /inv/,
      },
    ];
    for (const c of cases) {
      it(c.name, async () => {
        const clock = new ManualClock();
        const { peer, raw } = await server.attach(hostileConfig(clock));
        await handshake(raw, peer);
        // The right checksum, so that only the limit is wrong.
        void raw.write(frameOf(c.command, c.payload(), MAGIC));
        await expectDisconnect(peer, "malformed");
        const rest = await raw.rest();
        assert.equal(rest.length, 1, `got ${rest.map((m) => m.command)}`);
        assertMalformedReject(rest[0], c.detail);
        await aftermath(peer, clock);
      });
    }

    it("within the limits, a flood of 200 full invs (8 MB) is read and kept, as soterd does", async () => {
      const clock = new ManualClock();
      let invs = 0;
      const { peer, raw } = await server.attach(hostileConfig(clock, {
        listeners: { onInv: () => void invs++ },
      }));
      await handshake(raw, peer);
      const one = frame({ command: "inv", invList: invList(1000) });
      collect();
      const before = memory();
      for (let i = 0; i < 200; i++) assert.ok(await raw.write(one));
      await until(() => invs === 200, "200 invs read");
      const growth = memory().rss - before.rss;
      figure("200 full invs within limits", `RSS ${plus(growth)}`);
      assert.ok(growth < 96 * MiB, `RSS grew ${(growth / MiB).toFixed(1)} MiB`);
      assert.ok(peer.connected);
      raw.close();
      await expectDisconnect(peer, "remote-closed");
      await aftermath(peer, clock);
    });
  });

  it("a remote that never reads while we queue 100 MB: send-queue-full, the queue stays within its bound", async () => {
    const clock = new ManualClock();
    const maxQueueBytes = 16 * MiB; // the default
    const { peer, raw } = await server.attach(hostileConfig(clock, { maxQueueBytes }));
    await handshake(raw, peer);
    raw.stopReading(); // from here on the remote reads nothing
    const inv: Message = { command: "inv", invList: invList(1000) }; // 40,009 bytes a message
    const size = frame(inv).length;
    const total = 100 * 1000 * 1000;
    collect();
    const before = memory();
    let peak = before.rss;
    let queued = 0;
    let accepted = 0;
    let maxQueued = 0;
    const written: Promise<boolean>[] = [];
    for (let sent = 0; sent < total; sent += size) {
      written.push(peer.queueMessage(inv));
      queued++;
      maxQueued = Math.max(maxQueued, peer.queuedBytes);
      if (queued % 25 === 0) {
        await tick(0); // let the socket take what it will
        peak = Math.max(peak, memory().rss);
      }
    }
    for (const w of written) if (await w) accepted++;
    await expectDisconnect(peer, "send-queue-full");
    assert.ok(maxQueued <= maxQueueBytes, `queue reached ${maxQueued} bytes`);
    assert.ok(maxQueued > maxQueueBytes * 0.9, `queue peaked at ${maxQueued} bytes only`);
    const growth = peak - before.rss;
    figure(
      "100 MB queued to a remote that reads nothing",
      `queue peak ${mib(maxQueued)}, ${accepted} of ${queued} messages written (${mib(accepted * size)}), peak RSS +${
        mib(growth)
      }`,
    );
    assert.ok(growth < 80 * MiB, `RSS grew ${(growth / MiB).toFixed(1)} MiB while 100 MB were queued`);
    assert.ok(accepted * size < 64 * MiB, `${accepted} messages written to a remote that reads nothing`);
    raw.close();
    await aftermath(peer, clock);
  });

  describe("no version ever sent", () => {
    it("inbound: handshake-timeout at 30 s, nothing written", async () => {
      const clock = new ManualClock();
      const { peer, raw } = await server.attach(hostileConfig(clock));
      await tick(5);
      await clock.advance(29_999);
      assert.ok(peer.connected);
      await clock.advance(1);
      await expectDisconnect(peer, "handshake-timeout");
      await raw.expectEnd();
      await aftermath(peer, clock);
    });

    it("outbound to a silent node: our version, then handshake-timeout at 30 s", async () => {
      const clock = new ManualClock();
      const silent = await listen({ hostname: HOST, port: 0 });
      const accepted = silent[Symbol.asyncIterator]().next();
      const conn = await within(connect(HOST, silent.addr.port), "connect");
      const far = new Raw((await within(accepted, "accept")).value as Conn);
      const peer = Peer.outbound(`${HOST}:${silent.addr.port}`, hostileConfig(clock));
      peer.associateConnection(conn);
      await far.expect("version");
      await clock.advance(30_000);
      await expectDisconnect(peer, "handshake-timeout");
      await far.expectEnd();
      await silent[Symbol.asyncDispose]();
      await aftermath(peer, clock);
    });
  });

  describe("pings never answered", () => {
    it("a silent remote: pings at 2 and 4 min, idle-timeout at 5 min, no reject", async () => {
      const clock = new ManualClock();
      const { peer, raw } = await server.attach(hostileConfig(clock));
      await handshake(raw, peer);
      await clock.advance(120_000);
      const first = await raw.expect("ping");
      assert.equal(peer.lastPingNonce, first.nonce);
      await clock.advance(120_000);
      await raw.expect("ping");
      await clock.advance(59_999);
      assert.ok(peer.connected);
      await clock.advance(1);
      await expectDisconnect(peer, "idle-timeout");
      await raw.expectEnd();
      assert.equal(peer.lastPingMicros, 0);
      await aftermath(peer, clock);
    });

    it("a remote that talks but never answers stays connected: soterd sets no pong deadline", async () => {
      const clock = new ManualClock();
      const { peer, raw } = await server.attach(hostileConfig(clock));
      await handshake(raw, peer);
      for (let minute = 1; minute <= 12; minute++) {
        const read = peer.bytesReceived;
        assert.ok(await raw.send({ command: "getaddr" }));
        await until(() => peer.bytesReceived > read, "the getaddr is read");
        await clock.advance(60_000);
      }
      assert.ok(peer.connected);
      assert.notEqual(peer.lastPingNonce, 0n);
      assert.equal(peer.lastPingMicros, 0);
      peer.disconnect();
      await expectDisconnect(peer, "local");
      assert.deepEqual((await raw.rest()).map((m) => m.command), Array(6).fill("ping"));
      await aftermath(peer, clock);
    });
  });

  describe("duplicates", () => {
    it("a second version: reject duplicate, disconnect", async () => {
      const clock = new ManualClock();
      const { peer, raw } = await server.attach(hostileConfig(clock));
      await handshake(raw, peer);
      assert.ok(await raw.send(remoteVersion()));
      await expectDisconnect(peer, "duplicate-version");
      const rest = await raw.rest();
      assert.equal(rest.length, 1);
      const reject = rest[0] as MessageOf<"reject">;
      assert.equal(reject.command, "reject");
      assert.equal(reject.cmd, "version");
      assert.equal(reject.code, RejectCode.DUPLICATE);
      assert.equal(reject.reason, "duplicate version message");
      await aftermath(peer, clock);
    });

    it("a second version before any verack: the same", async () => {
      const clock = new ManualClock();
      const { peer, raw } = await server.attach(hostileConfig(clock));
      assert.ok(await raw.write(concat([frame(remoteVersion()), frame(remoteVersion())])));
      await expectDisconnect(peer, "duplicate-version");
      const rest = await raw.rest();
      assert.deepEqual(rest.map((m) => m.command), ["version", "verack", "reject"]);
      assert.equal((rest[2] as MessageOf<"reject">).code, RejectCode.DUPLICATE);
      await aftermath(peer, clock);
    });

    it("a second verack: disconnect without a reject", async () => {
      const clock = new ManualClock();
      const { peer, raw } = await server.attach(hostileConfig(clock));
      await handshake(raw, peer);
      assert.ok(await raw.send({ command: "verack" }));
      await expectDisconnect(peer, "duplicate-verack");
      await raw.expectEnd();
      await aftermath(peer, clock);
    });
  });

  it("the good pair kept working through all of it", async () => {
    await goodPairStillWorks();
    assert.equal(good.client.lastPingNonce, 0n, "the last pong matched our ping");
    await assertNoUnhandled();
  });
});
