// The hostile-peer cases of tests/hostile.test.ts in the simulator, many
// attackers at once: for every case, SCALE hostile hosts attack one node
// together (the loopback suite runs one at a time), next to a well-behaved
// pair that must keep pinging throughout. Everything runs on virtual time,
// so soterd's 30 s and 5 minute limits are checked to the half second.
// CI runs 10 attackers per case (110 at once); the 100x run (1,100
// attackers) is `SOTER_SIM_SCALE=100 deno test -A tests/sim_hostile.test.ts`.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import type { Conn } from "../src/peer/conn.ts";
import { FrameDecoder } from "../src/wire/decoder.ts";
import { encodeMessage } from "../src/wire/frame.ts";
import type { Message } from "../src/wire/message.ts";
import { Peer } from "../src/peer/peer.ts";
import type { DisconnectReason } from "../src/peer/errors.ts";
import { type SimHost, SimNet } from "../src/sim/net.ts";
import { MAGIC, NET, remoteVersion } from "./peer_helpers.ts";
import { concat, frameHeader, frameOf } from "./_util.ts";

const SCALE = Number(process.env.SOTER_SIM_SCALE ?? 10);
const PORT = 18555;

function frame(msg: Message): Uint8Array {
  return encodeMessage(msg, { magic: MAGIC });
}

function sleep(host: SimHost, ms: number): Promise<void> {
  return new Promise((resolve) => host.clock.setTimeout(resolve, ms));
}

/** A hostile host's raw connection: writes what the case says, decodes what our peer sends. */
class Raw {
  readonly received: Message[] = [];
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #decoder = new FrameDecoder({ magic: MAGIC });
  end: "eof" | "error" | undefined;
  garbage: unknown;

  constructor(readonly host: SimHost, readonly conn: Conn, read: boolean) {
    this.#writer = conn.writable.getWriter();
    this.#writer.closed.catch(() => {});
    if (read) void this.#read();
  }

  async #read(): Promise<void> {
    const reader = this.conn.readable.getReader();
    try {
      for (;;) {
        const r = await reader.read();
        if (r.done) break;
        this.#decoder.push(r.value);
        for (let f = this.#decoder.next(); f !== undefined; f = this.#decoder.next()) this.received.push(f.message);
      }
      this.end = "eof";
    } catch (err) {
      if ((err as { name?: string }).name === "MessageError") this.garbage = err;
      this.end = "error";
    }
  }

  /** Writes bytes; `false` once the connection is gone. */
  write(bytes: Uint8Array): Promise<boolean> {
    return this.#writer.write(bytes).then(() => true, () => false);
  }

  send(msg: Message): Promise<boolean> {
    return this.write(frame(msg));
  }

  commands(): string[] {
    return this.received.map((m) => m.command);
  }
}

interface Case {
  name: string;
  /** The victim's disconnect reason. */
  reason: DisconnectReason;
  /** When the victim must disconnect, in virtual ms after the attacker connected (± the round trip). */
  after?: number;
  /** The commands the attacker must have received, in order. */
  received: string[];
  /** Whether the attacker reads at all. */
  read?: boolean;
  /** The attack, once connected. */
  attack(raw: Raw): Promise<void>;
}

async function handshake(raw: Raw): Promise<void> {
  await raw.send(remoteVersion());
  await raw.send({ command: "verack" });
}

const BIG = 32 * 1024 * 1024 + 1;

const CASES: Case[] = [
  {
    name: "slowloris: a version trickled one byte every 5 s",
    reason: "handshake-timeout",
    after: 30_000,
    received: [],
    async attack(raw) {
      const bytes = frame(remoteVersion());
      for (const b of bytes) {
        if (!(await raw.write(new Uint8Array([b])))) return;
        await sleep(raw.host, 5_000);
      }
    },
  },
  {
    name: "slowloris: a ping header trickled one byte every 20 s after the handshake",
    reason: "idle-timeout",
    after: 300_000,
    received: ["version", "verack", "ping", "ping"],
    async attack(raw) {
      await handshake(raw);
      for (const b of frameHeader("ping", 8)) {
        if (!(await raw.write(new Uint8Array([b])))) return;
        await sleep(raw.host, 20_000);
      }
    },
  },
  {
    name: "a block declaring 32 MiB: reject malformed",
    reason: "malformed",
    received: ["version", "verack", "reject"],
    async attack(raw) {
      await handshake(raw);
      await raw.write(frameHeader("block", BIG));
    },
  },
  {
    name: "a checksum error in the first message: no reject",
    reason: "malformed",
    received: [],
    async attack(raw) {
      const bytes = frame(remoteVersion());
      bytes[20] = bytes[20]! ^ 0xff;
      await raw.write(bytes);
    },
  },
  {
    name: "10,000 unknown commands after the handshake: the first gets reject malformed",
    reason: "malformed",
    received: ["version", "verack", "reject"],
    async attack(raw) {
      await handshake(raw);
      await raw.write(concat(Array.from({ length: 10_000 }, () => frameHeader("bogus", 0))));
    },
  },
  {
    name: "an inv beyond soterd's limit of 50,000 entries: reject malformed",
    reason: "malformed",
    received: ["version", "verack", "reject"],
    async attack(raw) {
      await handshake(raw);
      // A count of 50,001 with the right checksum, so that only the limit is wrong.
      await raw.write(frameOf("inv", new Uint8Array([0xfd, 50_001 & 0xff, 50_001 >>> 8]), MAGIC));
    },
  },
  {
    name: "no version ever sent: handshake-timeout at 30 s",
    reason: "handshake-timeout",
    after: 30_000,
    received: [],
    async attack() {},
  },
  {
    name: "a silent remote: pings at 2 and 4 minutes, idle-timeout at 5",
    reason: "idle-timeout",
    after: 300_000,
    received: ["version", "verack", "ping", "ping"],
    attack: handshake,
  },
  {
    name: "a second version: reject duplicate",
    reason: "duplicate-version",
    received: ["version", "verack", "reject"],
    async attack(raw) {
      await handshake(raw);
      await raw.send(remoteVersion());
    },
  },
  {
    name: "a second verack: disconnect without a reject",
    reason: "duplicate-verack",
    received: ["version", "verack"],
    async attack(raw) {
      await handshake(raw);
      await raw.send({ command: "verack" });
    },
  },
  {
    name: "pings from a remote that reads none of our pongs: send-queue-full",
    reason: "send-queue-full",
    received: [],
    read: false,
    async attack(raw) {
      await handshake(raw);
      // 256 KiB of pings at a time, until the victim gives up on us.
      const one = frame({ command: "ping", nonce: 3n });
      const batch = new Uint8Array(one.length * 8192);
      for (let i = 0; i < 8192; i++) batch.set(one, i * one.length);
      for (let i = 0; i < 8; i++) if (!(await raw.write(batch))) return;
    },
  },
];

describe(`hostile peers in the simulator, ${SCALE} attackers per case`, () => {
  it(`${CASES.length} cases x ${SCALE} attackers against one node, and the good pair keeps pinging`, async () => {
    const net = new SimNet({ seed: 100 });
    const victim = net.host({ ipv4: "203.0.113.1", ipv6: false, bandwidth: 125_000_000 });
    const victims = new Map<string, Peer>();
    const goneAt = new Map<Peer, number>();
    const listener = await victim.listen({ port: PORT });
    void (async () => {
      for await (const conn of listener) {
        const peer = Peer.inbound({
          network: NET,
          userAgentName: "server",
          userAgentVersion: "1.0.0",
          clock: victim.clock,
          random: victim.random,
          sentNonces: victim.sentNonces,
          // Small enough that unread pongs fill it quickly (once the socket's buffers are full).
          maxQueueBytes: 64 * 1024,
        });
        victims.set(`${conn.remoteAddr.hostname}:${conn.remoteAddr.port}`, peer);
        void peer.disconnected.then(() => goneAt.set(peer, net.time));
        peer.associateConnection(conn);
      }
    })();
    // The good pair.
    const goodHost = net.host({ ipv4: "198.51.100.1", ipv6: false });
    let pongs = 0;
    const good = Peer.outbound(`203.0.113.1:${PORT}`, {
      network: NET,
      userAgentName: "client",
      userAgentVersion: "1.0.0",
      clock: goodHost.clock,
      random: goodHost.random,
      sentNonces: goodHost.sentNonces,
      listeners: { onPong: () => void pongs++ },
    });
    goodHost.connect("203.0.113.1", PORT).then((c) => good.associateConnection(c));

    // The attackers: SCALE hosts per case, all at once.
    const attacks: { c: Case; raw: Raw; at: number; key: string }[] = [];
    for (const c of CASES) {
      for (let i = 0; i < SCALE; i++) {
        const host = net.host({ ipv6: false });
        net.after(1_000, async () => {
          const conn = await host.connect("203.0.113.1", PORT);
          const raw = new Raw(host, conn, c.read ?? true);
          attacks.push({ c, raw, at: net.time, key: `${conn.localAddr.hostname}:${conn.localAddr.port}` });
          await c.attack(raw);
        });
      }
    }
    await net.run({ for: 420_000 });

    assert.equal(attacks.length, CASES.length * SCALE, "every attacker connected");
    const failures = new Map<string, number>();
    for (const { c, raw, at, key } of attacks) {
      const peer = victims.get(key);
      assert.ok(peer !== undefined, `${c.name}: the victim accepted`);
      const why = peer.disconnectReason;
      let problem: string | undefined;
      if (why?.reason !== c.reason) problem = `disconnected with ${why?.reason}: ${why?.message}`;
      else if (c.after !== undefined) {
        // Counted from the victim's accept (half a round trip before `at`) or its handshake.
        const took = goneAt.get(peer)! - at;
        if (Math.abs(took - c.after) > 500) problem = `disconnected after ${took} ms`;
      }
      const got = raw.commands();
      if (problem === undefined && (c.read ?? true) && got.join() !== c.received.join()) {
        problem = `received ${got.join(",")}`;
      }
      if (problem === undefined && raw.garbage !== undefined) problem = "an undecodable frame";
      if (problem === undefined && (peer.connected || peer.queuedBytes !== 0)) problem = "still holding its queue";
      if (problem !== undefined) {
        failures.set(`${c.name}: ${problem}`, (failures.get(`${c.name}: ${problem}`) ?? 0) + 1);
      }
    }
    assert.deepEqual([...failures], []);

    // The good pair pinged every 2 minutes all along, and nothing else is left on the victim.
    assert.ok(good.connected, `the good pair was disconnected: ${good.disconnectReason?.message}`);
    assert.equal(pongs, 3);
    good.disconnect();
    listener.close();
    for (const { raw } of attacks) raw.conn.close();
    await net.run();
    assert.equal(victim.pendingTimers, 0);
    assert.equal(victim.openConnections, 0);
    assert.equal(net.openConnections, 0);
  });
});
