// Helpers for the peer tests: a deterministic random source, a scripted
// remote that speaks raw frames over the other end of a connPair, a pair of
// our peers, and polling with a real-time cap so no test can hang.
import assert from "node:assert/strict";
import { SIMNET } from "../src/chain/params.ts";
import { FrameDecoder } from "../src/wire/decoder.ts";
import { encodeMessage, encodePayload } from "../src/wire/frame.ts";
import type { Message, MessageOf } from "../src/wire/message.ts";
import type { MessageEncoding } from "../src/wire/protocol.ts";
import type { ManualClock } from "../src/peer/clock.ts";
import type { PeerConfig } from "../src/peer/config.ts";
import type { Conn } from "../src/peer/conn.ts";
import { LruSet } from "../src/peer/lru.ts";
import { Peer } from "../src/peer/peer.ts";
import { connPair } from "../src/peer/pipe.ts";
import type { RandomSource } from "../src/peer/random.ts";
import { within as withinMs } from "./_util.ts";

export const NET = SIMNET;
export const MAGIC = SIMNET.magic;
/** What our peers in these tests call themselves. */
export const UA = "/soterwire:0.6.0/peer:1.0.0(comment)/";

/** A xorshift generator: the same bytes for the same seed. */
export function seededRandom(seed = 0x2545f491): RandomSource {
  let s = seed >>> 0 || 1;
  return (bytes) => {
    for (let i = 0; i < bytes.length; i++) {
      s ^= s << 13;
      s >>>= 0;
      s ^= s >>> 17;
      s ^= s << 5;
      s >>>= 0;
      bytes[i] = s & 0xff;
    }
  };
}

/** Rejects when `promise` takes longer than `ms` of real time (10 s unless told: a guard against a hang, not a timing). */
export function within<T>(promise: Promise<T>, what: string, ms = 10_000): Promise<T> {
  return withinMs(promise, what, ms);
}

/** Lets pending promise callbacks and stream steps run. */
export function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** Waits (in real time, at most `ms`: 10 s unless told) until `cond()` holds. */
export async function until(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`Timed out waiting until ${what}`);
    await settle();
  }
}

/** A test configuration: simnet, a manual clock, deterministic randomness, its own nonces. */
export function testConfig(clock: ManualClock, over: PeerConfig = {}): PeerConfig {
  return {
    network: NET,
    userAgentName: "peer",
    userAgentVersion: "1.0.0",
    userAgentComments: ["comment"],
    trickleInterval: 10_000,
    clock,
    random: seededRandom(),
    sentNonces: new LruSet<bigint>(50),
    ...over,
  };
}

/** The far end of a connection, driven byte by byte by a test. */
export class Remote {
  readonly conn: Conn;
  readonly decoder: FrameDecoder;
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  /** Chunks read so far (to check write batching). */
  chunks = 0;
  #ended = false;

  constructor(conn: Conn, pver = 70013, encoding: MessageEncoding = "witness") {
    this.conn = conn;
    this.decoder = new FrameDecoder({ magic: MAGIC, pver, encoding });
    this.#reader = conn.readable.getReader();
    this.#writer = conn.writable.getWriter();
    this.#reader.closed.catch(() => {});
    this.#writer.closed.catch(() => {});
  }

  /** Reads the next message, or `undefined` at the end of the stream. */
  async next(what = "a message"): Promise<Message | undefined> {
    for (;;) {
      const f = this.decoder.next();
      if (f !== undefined) return f.message;
      if (this.#ended) return undefined;
      let r: ReadableStreamReadResult<Uint8Array>;
      try {
        r = await within(this.#reader.read(), what);
      } catch (err) {
        if (err instanceof Error && err.message.startsWith("Timed out")) throw err;
        this.#ended = true;
        return undefined;
      }
      if (r.done) {
        this.#ended = true;
        return undefined;
      }
      this.chunks++;
      this.decoder.push(r.value);
    }
  }

  /** Reads the next message and checks its command. */
  async expect<C extends Message["command"]>(command: C): Promise<MessageOf<C>> {
    const msg = await this.next(command);
    assert.ok(msg !== undefined, `expected ${command}, got the end of the stream`);
    assert.equal(msg.command, command);
    return msg as MessageOf<C>;
  }

  /** Reads until the end of the stream, failing on any message. */
  async expectEnd(): Promise<void> {
    const msg = await this.next("the end of the stream");
    assert.equal(msg?.command, undefined, "expected the end of the stream");
  }

  /** Writes raw bytes. */
  async write(bytes: Uint8Array): Promise<void> {
    await this.#writer.write(bytes);
  }

  /** Writes a message at a protocol version. */
  async send(msg: Message, pver = 70013, encoding: MessageEncoding = "witness"): Promise<void> {
    await this.write(encodeMessage(msg, { magic: MAGIC, pver, encoding }));
  }

  close(): void {
    this.conn.close();
  }
}

/** The payload of a message, as bytes. */
export function payloadOf(msg: Message, pver = 70013): Uint8Array {
  return encodePayload(msg, pver);
}

/** A remote `version` as soterd would send it, with overrides. */
export function remoteVersion(over: Partial<MessageOf<"version">> = {}): MessageOf<"version"> {
  return {
    command: "version",
    protocolVersion: 70013,
    services: 0x4dn,
    timestamp: 1_579_046_400n,
    addrYou: { timestamp: 0, services: 1n, ip: new Uint8Array(16), port: 0 },
    addrMe: { timestamp: 0, services: 0n, ip: new Uint8Array(16), port: 0 },
    nonce: 0x1122334455667788n,
    userAgent: "/soterwire:0.6.0/soterd:4.2.0/",
    genesisHash: NET.genesisHash,
    lastBlock: 0,
    disableRelayTx: false,
    ...over,
  };
}

/** An outbound peer whose connection's far end is a scripted remote. */
export function outboundWithRemote(
  clock: ManualClock,
  over: PeerConfig = {},
  remotePver = 70013,
): { peer: Peer; remote: Remote } {
  const [local, far] = connPair();
  const peer = Peer.outbound("127.0.0.1:18555", testConfig(clock, over));
  const remote = new Remote(far, remotePver);
  peer.associateConnection(local);
  return { peer, remote };
}

/** An inbound peer whose connection's far end is a scripted remote. */
export function inboundWithRemote(
  clock: ManualClock,
  over: PeerConfig = {},
  remotePver = 70013,
): { peer: Peer; remote: Remote } {
  const [local, far] = connPair();
  const peer = Peer.inbound(testConfig(clock, over));
  const remote = new Remote(far, remotePver);
  peer.associateConnection(local);
  return { peer, remote };
}

/**
 * An outbound peer past the handshake with a scripted remote: the remote
 * read our version, sent its own and a verack, and read our verack.
 */
export async function openWithRemote(
  clock: ManualClock,
  over: PeerConfig = {},
  version: Partial<MessageOf<"version">> = {},
): Promise<{ peer: Peer; remote: Remote }> {
  const v = remoteVersion(version);
  const pver = Math.min(70013, v.protocolVersion);
  const { peer, remote } = outboundWithRemote(clock, over, pver);
  await remote.expect("version");
  await remote.send(v, v.protocolVersion);
  await remote.send({ command: "verack" }, pver);
  await remote.expect("verack");
  await until(() => peer.verAckReceived, "the peer reads the verack");
  return { peer, remote };
}

/** Two of our peers connected to each other, past the handshake. */
export async function peerPair(
  clock: ManualClock,
  inboundOver: PeerConfig = {},
  outboundOver: PeerConfig = {},
): Promise<{ inbound: Peer; outbound: Peer }> {
  const [a, b] = connPair();
  const inbound = Peer.inbound(testConfig(clock, { random: seededRandom(1), ...inboundOver }));
  const outbound = Peer.outbound(
    `${a.localAddr.hostname}:${a.localAddr.port}`,
    testConfig(clock, { random: seededRandom(2), ...outboundOver }),
  );
  inbound.associateConnection(a);
  outbound.associateConnection(b);
  await until(() => inbound.verAckReceived && outbound.verAckReceived, "both veracks");
  return { inbound, outbound };
}

/** Disconnects peers and checks they leave no timer behind. */
export async function closeAll(clock: ManualClock, ...peers: Peer[]): Promise<void> {
  for (const p of peers) p.disconnect();
  for (const p of peers) await within(p.disconnected, "disconnect");
  assert.equal(clock.pendingTimers, 0, "timers left after disconnect");
}
