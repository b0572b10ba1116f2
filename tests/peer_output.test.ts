// The peer's output over connections of our own: frames are encoded into a
// buffer shared by every peer and a write of frames lying one after the
// other is a view of it. Whatever interleaves there (other peers' frames, a
// frame larger than the buffer, an encode started from within another),
// every remote must read exactly the messages queued to it, in order.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import "./_guard.ts"; // fails the file on any unhandled rejection or uncaught exception
import { ManualClock } from "../src/peer/clock.ts";
import type { Peer } from "../src/peer/peer.ts";
import type { Message, MessageOf } from "../src/wire/message.ts";
import { closeAll, peerPair, until } from "./peer_helpers.ts";

/** A transaction told apart by its lock time, with a script of `scriptBytes`. */
function tx(lockTime: number, scriptBytes = 20): MessageOf<"tx"> {
  return {
    command: "tx",
    version: 1,
    txIn: [{
      previousOutPoint: { hash: new Uint8Array(32).fill(lockTime & 0xff), index: 0 },
      signatureScript: new Uint8Array(scriptBytes).fill(lockTime & 0xff),
      witness: [],
      sequence: 0xffffffff,
    }],
    txOut: [{ value: 1000n, pkScript: new Uint8Array(25).fill(7) }],
    lockTime,
  };
}

/** Collects the lock times (and script sizes) of the transactions a peer reads. */
function reader(): { got: Array<[number, number]>; onTx: (p: Peer, m: MessageOf<"tx">) => void } {
  const got: Array<[number, number]> = [];
  return { got, onTx: (_p, m) => void got.push([m.lockTime, m.txIn[0]!.signatureScript.length]) };
}

describe("peer output over our own connections", () => {
  it("delivers interleaved peers' frames, frames larger than the buffer and re-entrant encodes exactly", async () => {
    const clock = new ManualClock();
    const r1 = reader();
    const r2 = reader();
    const one = await peerPair(clock, { listeners: { onTx: r1.onTx } });
    const two = await peerPair(clock, { listeners: { onTx: r2.onTx } });
    const want1: Array<[number, number]> = [];
    const want2: Array<[number, number]> = [];
    const written: Promise<boolean>[] = [];
    const send = (to: Peer, want: Array<[number, number]>, msg: MessageOf<"tx">) => {
      written.push(to.queueMessage(msg));
      want.push([msg.lockTime, msg.txIn[0]!.signatureScript.length]);
    };
    // Several ticks, each mixing both peers' frames in the shared buffer,
    // with frames of 10 KB (more than the room a buffer keeps) and 100 KB
    // (more than a whole buffer) among the small ones.
    let n = 0;
    for (let tick = 0; tick < 6; tick++) {
      for (let i = 0; i < 300; i++) {
        const size = i % 97 === 50 ? 100_000 : i % 31 === 7 ? 10_000 : 20 + (i % 5);
        send(i % 3 === 0 ? two.outbound : one.outbound, i % 3 === 0 ? want2 : want1, tx(++n, size));
      }
      // An encode from within another: a getter of one message queues
      // another to the other peer while the first is being encoded.
      const inner = tx(++n);
      const outer = tx(++n);
      let asked = false;
      const tricky = {
        ...outer,
        get lockTime() {
          if (!asked) {
            asked = true;
            send(two.outbound, want2, inner);
          }
          return outer.lockTime;
        },
      } as MessageOf<"tx">;
      written.push(one.outbound.queueMessage(tricky as Message));
      want1.push([outer.lockTime, 20]);
      await Promise.resolve();
    }
    assert.deepEqual(await Promise.all(written), written.map(() => true));
    await until(() => r1.got.length === want1.length && r2.got.length === want2.length, "every transaction read");
    assert.deepEqual(r1.got, want1);
    assert.deepEqual(r2.got, want2);
    await closeAll(clock, one.inbound, one.outbound, two.inbound, two.outbound);
  });

  it("answers pings in lock-step and in bursts, each pong once", async () => {
    const clock = new ManualClock();
    const pongs: bigint[] = [];
    const { inbound, outbound } = await peerPair(clock, {}, {
      listeners: { onPong: (_p, m) => void pongs.push(m.nonce) },
    });
    for (let i = 1n; i <= 20n; i++) {
      await outbound.queueMessage({ command: "ping", nonce: i });
      await until(() => pongs.length === Number(i), `pong ${i}`);
    }
    for (let i = 21n; i <= 300n; i++) void outbound.queueMessage({ command: "ping", nonce: i });
    await until(() => pongs.length === 300, "every pong");
    assert.deepEqual(pongs, Array.from({ length: 300 }, (_, i) => BigInt(i + 1)));
    await closeAll(clock, inbound, outbound);
  });
});
