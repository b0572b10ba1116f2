// The peer's internal parts added by the split: the timers multiplexed onto
// one clock timer, the lazily made promise, and connPair's callback side.
// Runs unchanged under Deno, Bun and Node.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import "./_guard.ts"; // fails the file on any unhandled rejection or uncaught exception
import { ManualClock } from "../src/peer/clock.ts";
import { Latch } from "../src/peer/latch.ts";
import { connPair } from "../src/peer/pipe.ts";
import { rawOf, type RawSink } from "../src/peer/raw.ts";
import { PeerTimers, Slot } from "../src/peer/timers.ts";

describe("PeerTimers", () => {
  it("holds one clock timer for every slot and runs due slots in time order, then slot order", async () => {
    const clock = new ManualClock();
    const ran: Array<[number, number]> = [];
    const timers = new PeerTimers(clock, { onTimer: (slot) => void ran.push([slot, clock.now() - start]) });
    const start = clock.now();
    timers.set(Slot.Trickle, 10);
    timers.set(Slot.Ping, 30);
    timers.set(Slot.Stall, 10);
    timers.set(Slot.Idle, 5);
    assert.equal(clock.pendingTimers, 1);
    await clock.advance(40);
    assert.deepEqual(ran, [[Slot.Idle, 5], [Slot.Stall, 10], [Slot.Trickle, 10], [Slot.Ping, 30]]);
    assert.equal(clock.pendingTimers, 0);
  });

  it("re-arms from within a slot, forgets cleared slots, and stops for good", async () => {
    const clock = new ManualClock();
    let pings = 0;
    const timers = new PeerTimers(clock, {
      onTimer: (slot) => {
        if (slot === Slot.Ping) {
          pings++;
          timers.set(Slot.Ping, 100);
        }
        if (slot === Slot.Handshake) assert.fail("a cleared slot ran");
      },
    });
    timers.set(Slot.Handshake, 50);
    timers.set(Slot.Ping, 100);
    timers.clear(Slot.Handshake);
    assert.equal(timers.isSet(Slot.Handshake), false);
    await clock.advance(350);
    assert.equal(pings, 3);
    timers.stop();
    assert.equal(clock.pendingTimers, 0);
    timers.set(Slot.Ping, 1);
    assert.equal(clock.pendingTimers, 0, "nothing is armed after stop");
  });
});

describe("Latch", () => {
  it("makes its promise only when asked, before or after it settles, and settles once", async () => {
    const early = new Latch<number>();
    const p = early.promise;
    early.resolve(1);
    early.resolve(2);
    assert.equal(await p, 1);
    assert.equal(early.promise, p);
    const late = new Latch<string>();
    late.resolve("done");
    assert.equal(await late.promise, "done");
  });
});

describe("connPair's callback side", () => {
  function sink(): RawSink & { chunks: number[][]; ended: boolean } {
    const s = {
      chunks: [] as number[][],
      ended: false,
      data(chunk: Uint8Array) {
        s.chunks.push([...chunk]);
      },
      end() {
        s.ended = true;
      },
      error(err: unknown) {
        throw err;
      },
    };
    return s;
  }

  it("delivers what was written, holds it while paused, then the end after a close", async () => {
    const [a, b] = connPair();
    const ra = rawOf(a)!;
    const rb = rawOf(b)!;
    const got = sink();
    rb.rawStart(got);
    rb.rawPause();
    const done: unknown[] = [];
    ra.rawWrite(new Uint8Array([1, 2]), (err) => done.push(err));
    ra.rawWrite(new Uint8Array([3]), (err) => done.push(err));
    assert.deepEqual(done, [undefined, undefined], "below the buffer size a write is done at once");
    await new Promise((r) => setTimeout(r, 0));
    assert.deepEqual(got.chunks, [], "nothing while paused");
    rb.rawResume();
    a.close();
    await new Promise((r) => setTimeout(r, 0));
    assert.deepEqual(got.chunks, [[1, 2], [3]]);
    assert.equal(got.ended, true);
    let late: unknown;
    ra.rawWrite(new Uint8Array([4]), (err) => late = err);
    assert.ok(late instanceof Error, "a write after the close fails");
    b.close();
  });

  it("makes a writer wait while the reader lags by the buffer size, and is not offered once the streams are used", async () => {
    const [a, b] = connPair({ highWaterMark: 1024 });
    const ra = rawOf(a)!;
    const rb = rawOf(b)!;
    const got = sink();
    rb.rawStart(got);
    rb.rawPause();
    let done = 0;
    for (let i = 0; i < 3; i++) ra.rawWrite(new Uint8Array(600), () => void done++);
    assert.equal(done, 1, "the second write filled the buffer");
    rb.rawResume();
    await new Promise((r) => setTimeout(r, 0));
    assert.equal(done, 3);
    assert.equal(got.chunks.length, 3);
    a.close();
    b.close();
    const [c] = connPair();
    void c.readable;
    assert.equal(rawOf(c), undefined);
    c.close();
  });
});
