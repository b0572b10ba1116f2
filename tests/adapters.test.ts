// The runtime adapters over real loopback sockets. This one file runs
// unchanged under Deno, Bun and Node: it imports the adapter of the runtime
// it runs in, and uses only node:test and node:assert.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import "./_guard.ts"; // fails the file on any unhandled rejection or uncaught exception
import { defaultHasher } from "../src/hash/hasher.ts";
import { doubleSha256, sha256 } from "../src/hash/sha256.ts";
import { ConnectionError } from "../src/adapters/errors.ts";
import type { Conn, Listener } from "../src/adapters/types.ts";
import { cleanupsAfterAll, connect, listen, nativeHasher, runtime } from "./_runtime.ts";
import { concat, pattern, within } from "./_util.ts";

const HOSTS = ["127.0.0.1", "::1"] as const;

// Everything opened is closed again, whatever a test does.
const cleanups = cleanupsAfterAll();

/** Resolves `true` if `promise` settles within `ms`, else `false`. */
function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    promise.then(() => true, () => true),
    new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

async function open(hostname: string): Promise<Listener> {
  const listener = await listen({ hostname, port: 0 });
  cleanups.push(() => listener[Symbol.asyncDispose]());
  return listener;
}

/** A connected pair over `hostname`: the client and the accepted side. */
async function pair(
  hostname: string,
): Promise<{ client: Conn; server: Conn; listener: Listener }> {
  const listener = await open(hostname);
  const accepted = listener[Symbol.asyncIterator]().next();
  const client = await within(connect(hostname, listener.addr.port), "connect");
  const next = await within(accepted, "accept");
  assert.equal(next.done, false);
  const server = next.value as Conn;
  cleanups.push(() => client.close(), () => server.close());
  return { client, server, listener };
}

/** Reads until the stream ends, or until `limit` bytes arrived. */
async function readAll(
  readable: ReadableStream<Uint8Array>,
  limit = Infinity,
): Promise<Uint8Array> {
  const reader = readable.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  while (total < limit) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    total += value.byteLength;
  }
  reader.releaseLock();
  return concat(chunks);
}

function isCode(code: ConnectionError["code"]) {
  return (err: unknown): boolean => {
    assert.ok(err instanceof ConnectionError, `not a ConnectionError: ${err}`);
    assert.equal(err.code, code, err.message);
    return true;
  };
}

describe(`adapters (${runtime})`, () => {
  for (const host of HOSTS) {
    it(`echoes bytes both ways over ${host}`, async () => {
      const { client, server, listener } = await pair(host);
      assert.equal(listener.addr.hostname, host);
      assert.equal(client.remoteAddr.port, listener.addr.port);
      assert.equal(server.localAddr.port, listener.addr.port);
      assert.equal(server.remoteAddr.port, client.localAddr.port);
      const cw = client.writable.getWriter();
      const sw = server.writable.getWriter();
      await cw.write(new TextEncoder().encode("ping"));
      const got = await within(readAll(server.readable, 4), "read");
      assert.equal(new TextDecoder().decode(got), "ping");
      await sw.write(got);
      const back = await within(readAll(client.readable, 4), "read");
      assert.equal(new TextDecoder().decode(back), "ping");
      client.close();
      server.close();
    });
  }

  it("delivers 10,000 small writes each way intact and in order", async () => {
    const { client, server } = await pair("127.0.0.1");
    const N = 10_000;
    const send = async (conn: Conn) => {
      const w = conn.writable.getWriter();
      for (let i = 0; i < N; i++) {
        const b = new Uint8Array(4 + (i % 5));
        new DataView(b.buffer).setUint32(0, i);
        b.fill(i & 0xff, 4);
        await w.write(b);
      }
      w.releaseLock();
    };
    let expected = 0;
    for (let i = 0; i < N; i++) expected += 4 + (i % 5);
    const check = (bytes: Uint8Array) => {
      assert.equal(bytes.byteLength, expected);
      const view = new DataView(bytes.buffer, bytes.byteOffset);
      for (let i = 0, off = 0; i < N; off += 4 + (i % 5), i++) {
        assert.equal(view.getUint32(off), i);
        for (let k = 0; k < i % 5; k++) assert.equal(bytes[off + 4 + k], i & 0xff);
      }
    };
    const [, , toServer, toClient] = await within(
      Promise.all([
        send(client),
        send(server),
        readAll(server.readable, expected),
        readAll(client.readable, expected),
      ]),
      "small writes",
      30_000,
    );
    check(toServer);
    check(toClient);
    client.close();
    server.close();
  });

  it("carries a 4 MB write each way at once", async () => {
    const { client, server } = await pair("::1");
    const size = 4 * 1024 * 1024;
    const up = pattern(size, 1), down = pattern(size, 2);
    const write = async (conn: Conn, data: Uint8Array) => {
      const w = conn.writable.getWriter();
      await w.write(data);
      await w.close();
    };
    const [, , atServer, atClient] = await within(
      Promise.all([
        write(client, up),
        write(server, down),
        readAll(server.readable),
        readAll(client.readable),
      ]),
      "4 MB",
      30_000,
    );
    assert.equal(atServer.byteLength, size);
    assert.ok(atServer.every((b, i) => b === up[i]), "client→server corrupt");
    assert.equal(atClient.byteLength, size);
    assert.ok(atClient.every((b, i) => b === down[i]), "server→client corrupt");
    client.close();
    server.close();
  });

  it("half-closes: the writer's close ends the other readable only", async () => {
    const { client, server } = await pair("127.0.0.1");
    const cw = client.writable.getWriter();
    await cw.write(new Uint8Array([1, 2, 3]));
    await cw.close();
    const got = await within(readAll(server.readable), "server read");
    assert.deepEqual([...got], [1, 2, 3]);
    // The other direction still works.
    const sw = server.writable.getWriter();
    await sw.write(new Uint8Array([4, 5]));
    await sw.close();
    const back = await within(readAll(client.readable), "client read");
    assert.deepEqual([...back], [4, 5]);
    client.close();
    server.close();
  });

  for (const side of ["client", "server"] as const) {
    it(`close() by the ${side} ends the other readable`, async () => {
      const conns = await pair("127.0.0.1");
      const closer = conns[side];
      const other = side === "client" ? conns.server : conns.client;
      const reading = readAll(other.readable);
      const ownReading = readAll(closer.readable);
      const writer = closer.writable.getWriter();
      await writer.write(new Uint8Array([9]));
      await new Promise((resolve) => setTimeout(resolve, 20));
      closer.close();
      closer.close(); // idempotent
      const got = await within(reading, "other side's readable end");
      assert.deepEqual([...got], [9]);
      assert.equal((await within(ownReading, "own readable end")).length, 0);
      await assert.rejects(writer.write(new Uint8Array([1])), isCode("closed"));
      other.close();
    });
  }

  it("rejects with 'refused' on a port just closed", async () => {
    const listener = await listen({ hostname: "127.0.0.1", port: 0 });
    const { port } = listener.addr;
    await listener[Symbol.asyncDispose]();
    await assert.rejects(
      within(connect("127.0.0.1", port), "connect"),
      (err: unknown) => {
        isCode("refused")(err);
        assert.equal(
          (err as Error).message,
          `Connection to 127.0.0.1:${port} refused`,
        );
        return true;
      },
    );
  });

  it("rejects with 'aborted' when the signal fires", async () => {
    const listener = await open("127.0.0.1");
    const { port } = listener.addr;
    await assert.rejects(
      connect("127.0.0.1", port, { signal: AbortSignal.abort() }),
      isCode("aborted"),
    );
    const controller = new AbortController();
    const pending = connect("127.0.0.1", port, { signal: controller.signal });
    controller.abort();
    await assert.rejects(within(pending, "connect"), isCode("aborted"));
  });

  it("rejects with 'timeout' when the deadline passes first", async () => {
    const listener = await open("127.0.0.1");
    const pending = connect("127.0.0.1", listener.addr.port, { timeout: 5 });
    // Block the event loop past the deadline: the connection is established
    // meanwhile, but the runtime runs the expired timer before it reports
    // the connection.
    const until = Date.now() + 50;
    while (Date.now() < until) { /* busy */ }
    await assert.rejects(within(pending, "connect"), isCode("timeout"));
  });

  it("applies backpressure to a peer that stops reading", async () => {
    const { client, server } = await pair("127.0.0.1");
    const writer = client.writable.getWriter();
    const chunk = 64 * 1024;
    const limit = 256 * 1024 * 1024;
    let sent = 0;
    let stalled: Promise<void> | undefined;
    // The server reads nothing: writes must stall long before `limit`.
    while (sent < limit) {
      const write = writer.write(pattern(chunk, sent / chunk + 1));
      sent += chunk;
      // A write still pending after 500 ms with the queue full is stalled;
      // one that is merely slow (a loaded machine) leaves room in the queue,
      // and the loop writes on.
      if (!(await settlesWithin(write, 500)) && (writer.desiredSize ?? 1) <= 0) {
        stalled = write;
        break;
      }
    }
    assert.ok(stalled, `${sent} bytes written without a stall`);
    // Resume reading: everything written arrives.
    const reading = readAll(server.readable, sent);
    await within(stalled, "stalled write", 30_000);
    const got = await within(reading, "read after resume", 30_000);
    assert.equal(got.byteLength, sent);
    for (let i = 0; i < sent / chunk; i++) {
      const want = pattern(chunk, i + 1);
      const part = got.subarray(i * chunk, (i + 1) * chunk);
      assert.ok(part.every((b, k) => b === want[k]), `chunk ${i} corrupt`);
    }
    client.close();
    server.close();
  });

  it("ends the iteration when the listener closes", async () => {
    const listener = await open("127.0.0.1");
    const seen: Conn[] = [];
    const iterating = (async () => {
      for await (const conn of listener) seen.push(conn);
    })();
    const client = await connect("127.0.0.1", listener.addr.port);
    const accepted = async () => {
      while (seen.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    };
    await within(accepted(), "the accept");
    listener.close();
    listener.close(); // idempotent
    await within(iterating, "iteration end");
    assert.equal(seen.length, 1);
    for (const conn of seen) conn.close();
    client.close();

    const controller = new AbortController();
    const second = await listen({
      hostname: "::1",
      port: 0,
      signal: controller.signal,
    });
    const iteratingSecond = (async () => {
      for await (const conn of second) conn.close();
    })();
    controller.abort();
    await within(iteratingSecond, "iteration end on abort");
  });

  it("hashes like the TypeScript SHA-256", () => {
    assert.equal(defaultHasher(), nativeHasher, "default hasher installed");
    for (let size = 0; size <= 300; size++) {
      const data = pattern(size, size + 7);
      assert.deepEqual(nativeHasher.sha256(data), sha256(data), `sha256 ${size}`);
      assert.deepEqual(
        nativeHasher.doubleSha256(data),
        doubleSha256(data),
        `doubleSha256 ${size}`,
      );
    }
    const big = pattern(1024 * 1024, 99);
    assert.deepEqual(nativeHasher.sha256(big), sha256(big));
    assert.deepEqual(nativeHasher.doubleSha256(big), doubleSha256(big));
    // A view into a larger buffer hashes only its own bytes.
    const view = big.subarray(3, 3 + 5000);
    assert.deepEqual(nativeHasher.sha256(view), sha256(view.slice()));
    // Every digest is its own array: a later hash does not overwrite it.
    const first = nativeHasher.doubleSha256(pattern(80, 1));
    const second = nativeHasher.sha256(pattern(80, 2));
    nativeHasher.doubleSha256(pattern(375, 3));
    assert.deepEqual(first, doubleSha256(pattern(80, 1)));
    assert.deepEqual(second, sha256(pattern(80, 2)));
  });
});
