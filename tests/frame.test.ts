// Framing, the sans-IO decoder and the Web Streams: header checks in
// soterd's order, any chunking, skipping bad frames, limits before allocation.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  decodeMessage,
  encodeMessage,
  encodePayload,
  FrameDecoder,
  type Message,
  MessageDecoderStream,
  MessageEncoderStream,
  toHex,
} from "../mod.ts";
import { concat, frameHeader, isKind, kindOf, SIMNET_MAGIC } from "./_util.ts";

const opts = { magic: SIMNET_MAGIC };

describe("encodeMessage", () => {
  it("writes magic, NUL-padded command, length and checksum", () => {
    const frame = encodeMessage({ command: "verack" }, opts);
    // Checksum of the empty payload is the first 4 bytes of dSHA256("") = 5df6e0e2.
    assert.equal(toHex(frame), "161c1412" + "76657261636b000000000000" + "00000000" + "5df6e0e2");
  });

  it("refuses a payload above the command's maximum as soterd's WriteMessage does", () => {
    const msg: Message = {
      command: "version",
      protocolVersion: 70013,
      services: 0n,
      timestamp: 0n,
      addrYou: { timestamp: 0, services: 0n, ip: new Uint8Array(16), port: 0 },
      addrMe: { timestamp: 0, services: 0n, ip: new Uint8Array(16), port: 0 },
      nonce: 0n,
      userAgent: "x".repeat(241),
      genesisHash: new Uint8Array(32),
      lastBlock: 0,
      disableRelayTx: false,
    };
    assert.equal(kindOf(() => encodeMessage(msg, opts)), "payload-too-long");
    assert.equal(
      decodeMessage(encodeMessage({ ...msg, userAgent: "x".repeat(240) }, opts), opts).message.command,
      "version",
    );
  });
});

describe("decodeMessage", () => {
  it("checks the header in soterd's order: size, magic, command, per-command limit", () => {
    assert.equal(kindOf(() => decodeMessage(frameHeader("block", 32 * 1024 * 1024 + 1, 1), opts)), "oversize-length");
    assert.equal(kindOf(() => decodeMessage(frameHeader("nosuch", 1, 1), opts)), "bad-magic");
    assert.equal(kindOf(() => decodeMessage(frameHeader("nosuch", 0), opts)), "unknown-command");
    const bad = frameHeader("", 0);
    bad[4] = 0xff;
    assert.equal(kindOf(() => decodeMessage(bad, opts)), "invalid-command");
    assert.equal(kindOf(() => decodeMessage(frameHeader("verack", 1), opts)), "payload-too-long");
    assert.equal(kindOf(() => decodeMessage(frameHeader("ping", 8), opts)), "truncated");
  });

  it("treats a NUL inside the command as part of an unknown command", () => {
    const b = frameHeader("block", 0);
    b[9] = 0;
    b[10] = 0x78;
    assert.equal(kindOf(() => decodeMessage(b, opts)), "unknown-command");
  });

  it("detects a flipped payload byte by its checksum", () => {
    const frame = encodeMessage({ command: "ping", nonce: 99n }, opts);
    frame[30]! ^= 1;
    assert.equal(kindOf(() => decodeMessage(frame, opts)), "checksum");
  });
});

describe("FrameDecoder", () => {
  const msgs: Message[] = [
    { command: "verack" },
    { command: "ping", nonce: 1n },
    {
      command: "inv",
      invList: Array.from({ length: 300 }, (_, i) => ({ type: 2, hash: new Uint8Array(32).fill(i & 0xff), height: i })),
    },
    { command: "pong", nonce: 2n },
    { command: "sendheaders" },
  ];
  const stream = concat(msgs.map((m) => encodeMessage(m, opts)));

  it("yields the same messages whatever the chunk sizes, from one byte up", () => {
    for (const size of [1, 2, 3, 7, 23, 24, 25, 100, 4096, stream.length]) {
      const dec = new FrameDecoder(opts);
      const got: Message[] = [];
      for (let i = 0; i < stream.length; i += size) {
        dec.push(stream.slice(i, i + size));
        for (let f = dec.next(); f; f = dec.next()) got.push(f.message);
      }
      dec.end();
      assert.deepEqual(got, msgs, `chunk size ${size}`);
      assert.ok(dec.idle);
    }
  });

  it("reports the frame size of each message", () => {
    const dec = new FrameDecoder(opts);
    dec.push(stream);
    assert.equal(dec.next()?.bytes, 24);
    assert.equal(dec.next()?.bytes, 32);
  });

  it("hands out the payload each message was decoded from", () => {
    const dec = new FrameDecoder(opts);
    for (let i = 0; i < stream.length; i += 7) dec.push(stream.slice(i, i + 7));
    for (const msg of msgs) {
      const frame = dec.next();
      assert.deepEqual(frame?.message, msg);
      assert.equal(toHex(frame!.payload), toHex(encodePayload(msg)));
    }
    const whole = encodeMessage(msgs[1]!, opts);
    assert.equal(toHex(decodeMessage(whole, opts).payload), toHex(whole.subarray(24)));
  });

  it("skips a bad frame after reporting it and decodes the next", () => {
    const bad = encodeMessage({ command: "ping", nonce: 5n }, opts);
    bad[25]! ^= 0xff;
    const foreign = encodeMessage({ command: "ping", nonce: 6n }, { magic: 0xd9b4bef9 });
    const unknown = concat([frameHeader("frobnicate", 3), new Uint8Array(3)]);
    const dec = new FrameDecoder(opts);
    dec.push(concat([bad, foreign, unknown, encodeMessage({ command: "pong", nonce: 7n }, opts)]));
    assert.equal(kindOf(() => dec.next()), "checksum");
    assert.equal(kindOf(() => dec.next()), "bad-magic");
    assert.equal(kindOf(() => dec.next()), "unknown-command");
    assert.deepEqual(dec.next()?.message, { command: "pong", nonce: 7n });
  });

  it("never buffers a payload whose declared size is over the limit", () => {
    const dec = new FrameDecoder(opts);
    dec.push(frameHeader("verack", 1_000_000));
    assert.equal(kindOf(() => dec.next()), "payload-too-long");
    // The declared bytes are skipped as they arrive, without being kept.
    dec.push(new Uint8Array(500_000));
    assert.equal(dec.next(), undefined);
    assert.equal(dec.buffered, 0);
  });

  it("stays failed after a header declaring more than 32 MiB", () => {
    const dec = new FrameDecoder(opts);
    dec.push(frameHeader("block", 0x7fffffff));
    assert.equal(kindOf(() => dec.next()), "oversize-length");
    dec.push(encodeMessage({ command: "verack" }, opts));
    assert.equal(kindOf(() => dec.next()), "oversize-length");
  });

  it("reports a stream that ends inside a frame", () => {
    const dec = new FrameDecoder(opts);
    dec.push(stream.slice(0, 30));
    dec.next();
    dec.next();
    assert.equal(kindOf(() => dec.end()), "truncated");
  });
});

describe("Web Streams", () => {
  it("round-trip messages through the encoder and decoder streams in random chunks", async () => {
    const msgs: Message[] = Array.from({ length: 200 }, (_, i) => ({ command: "ping", nonce: BigInt(i) }));
    const bytes = ReadableStream.from(msgs).pipeThrough(new MessageEncoderStream(opts));
    const rechunk = new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, c) {
        for (let i = 0; i < chunk.length; i += 5) c.enqueue(chunk.slice(i, i + 5));
      },
    });
    const got: Message[] = [];
    for await (const m of bytes.pipeThrough(rechunk).pipeThrough(new MessageDecoderStream(opts))) got.push(m);
    assert.deepEqual(got, msgs);
  });

  it("errors the stream on a bad frame unless onError is given", async () => {
    const bad = encodeMessage({ command: "ping", nonce: 1n }, { magic: 1 });
    const good = encodeMessage({ command: "verack" }, opts);
    await assert.rejects(async () => {
      for await (const _ of ReadableStream.from([bad, good]).pipeThrough(new MessageDecoderStream(opts))) {
        /* drain */
      }
    }, isKind("bad-magic"));
    const errors: string[] = [];
    const got: Message[] = [];
    const s = ReadableStream.from([bad, good]).pipeThrough(
      new MessageDecoderStream({ ...opts, onError: (e) => errors.push(e.kind) }),
    );
    for await (const m of s) got.push(m);
    assert.deepEqual(errors, ["bad-magic"]);
    assert.deepEqual(got, [{ command: "verack" }]);
  });

  it("keeps backpressure: a slow reader stops the writer from taking more chunks", async () => {
    const ts = new MessageDecoderStream({ ...opts, highWaterMark: 1 });
    const writer = ts.writable.getWriter();
    const frame = encodeMessage({ command: "verack" }, opts);
    let written = 0;
    const pump = (async () => {
      for (let i = 0; i < 50; i++) {
        await writer.write(frame);
        written++;
      }
    })();
    await new Promise((r) => setTimeout(r, 20));
    assert.ok(written < 5, `writer ran ahead: ${written} chunks taken with nobody reading`);
    const reader = ts.readable.getReader();
    for (let i = 0; i < 50; i++) assert.equal((await reader.read()).value?.command, "verack");
    await pump;
    assert.equal(written, 50);
  });
});
