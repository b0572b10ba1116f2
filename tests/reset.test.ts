// A remote that resets the connection left, as one that closes it does: the
// peer reports `remote-closed` for both, with the reset as the cause, and
// keeps `read-failed` / `write-failed` for the other failures. The
// connections here are hand-made streams that fail the way the adapters
// report a reset (a ConnectionError with code "reset").
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { ConnectionError } from "../src/adapters/errors.ts";
import { ManualClock } from "../src/peer/clock.ts";
import type { Conn } from "../src/peer/conn.ts";
import { Peer } from "../src/peer/peer.ts";
import { testConfig, within } from "./peer_helpers.ts";

/** A connection whose reads fail with `readError`, and whose writes fail with `writeError` if given. */
function failingConn(readError: unknown | undefined, writeError?: unknown): Conn {
  let fail: (err: unknown) => void = () => {};
  const readable = new ReadableStream<Uint8Array>({
    start(controller) {
      fail = (err) => controller.error(err);
    },
  });
  const writable = new WritableStream<Uint8Array>({
    write() {
      if (writeError !== undefined) throw writeError;
    },
  });
  // Fail the reads once the peer started reading.
  if (readError !== undefined) queueMicrotask(() => fail(readError));
  return {
    readable,
    writable,
    localAddr: { hostname: "127.0.0.1", port: 18555 },
    remoteAddr: { hostname: "127.0.0.1", port: 50000 },
    close: () => {},
  };
}

const reset = () => new ConnectionError("reset", "Connection to 127.0.0.1:50000 reset by the remote");

describe("a reset by the remote", () => {
  it("on a read is remote-closed, with the reset as the cause", async () => {
    const peer = Peer.inbound(testConfig(new ManualClock()));
    const err = reset();
    peer.associateConnection(failingConn(err));
    const why = await within(peer.disconnected, "the disconnect");
    assert.equal(why.reason, "remote-closed");
    assert.equal(why.cause, err);
    assert.match(
      why.message,
      /^127\.0\.0\.1:50000 \(inbound\) closed the connection: Connection to .* reset by the remote$/,
    );
  });

  it("on a write is remote-closed too", async () => {
    const peer = Peer.outbound("127.0.0.1:50000", testConfig(new ManualClock()));
    const err = reset();
    peer.associateConnection(failingConn(undefined, err));
    const why = await within(peer.disconnected, "the disconnect");
    assert.equal(why.reason, "remote-closed");
    assert.equal(why.cause, err);
  });

  it("other read and write failures stay read-failed and write-failed", async () => {
    const reader = Peer.inbound(testConfig(new ManualClock()));
    reader.associateConnection(failingConn(new ConnectionError("other", "Connection to 127.0.0.1:50000 failed: x")));
    assert.equal((await within(reader.disconnected, "the read failure")).reason, "read-failed");
    const writer = Peer.outbound("127.0.0.1:50000", testConfig(new ManualClock()));
    writer.associateConnection(failingConn(undefined, new Error("disk on fire")));
    assert.equal((await within(writer.disconnected, "the write failure")).reason, "write-failed");
  });
});
