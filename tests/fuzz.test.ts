// Fuzzing the wire codec with fast-check (issue #6, part 1): every message
// round-trips from random valid values; mutated frames and payloads (bit
// flips, overwrites, truncation, garbage, forged lengths and counts, with
// the checksum recomputed so the payload decoders are reached) only ever
// throw MessageError; FrameDecoder gives the same results under any
// chunking, never loops and never holds more than the frame it assembles;
// forged counts and lengths fail before anything is allocated for them.
//
// CI-sized with a fixed seed. FUZZ_RUNS=<factor> multiplies every run count
// (FUZZ_RUNS=10 for a deeper run, 0.1 for a smoke run); FUZZ_SEED=<n>
// replaces the seed. A failure prints fast-check's seed, path and shrunk
// counterexample; `deno task fuzz` runs the mutation properties at length.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import fc from "fast-check";
import {
  codecOf,
  type Command,
  COMMANDS,
  decodeMessage,
  decodePayload,
  encodeMessage,
  encodePayload,
  FrameDecoder,
  MAX_ADDR_PER_MSG,
  MAX_BLOCK_HEADERS_PER_MSG,
  MAX_CFCHECKPT_HEADERS,
  MAX_CFHEADERS_PER_MSG,
  MAX_CFILTER_DATA_SIZE,
  MAX_COUNT_SET_CANCEL,
  MAX_COUNT_SET_SUB_VER,
  MAX_FILTER_ADD_DATA_SIZE,
  MAX_FILTER_LOAD_FILTER_SIZE,
  MAX_FLAGS_PER_MERKLE_BLOCK,
  MAX_INV_PER_MSG,
  MAX_MESSAGE_PAYLOAD,
  MAX_SCRIPT_SIZE,
  MAX_TX_IN_PER_MESSAGE,
  MAX_TX_OUT_PER_MESSAGE,
  MAX_TX_PER_BLOCK,
  MAX_WITNESS_ITEM_SIZE,
  MAX_WITNESS_ITEMS_PER_INPUT,
  MessageDecoderStream,
  type MessageEncoding,
  MessageError,
  parseAlert,
  PROTOCOL_VERSION,
  type Tx,
} from "../mod.ts";
import { caseArb, txWithWitnessArb } from "./arbitraries.ts";
import {
  checkRoundTrip,
  forgedCount,
  forgedLength,
  frameMutation,
  type FuzzProperty,
  magicArb,
  payloadMutation,
  streamChunking,
  streamMutation,
  type StreamMutationInput,
  toProperty,
  transformStreamMutation,
  varIntBytes,
} from "./fuzz_properties.ts";
import { allocatingByInput, cat, frameHeader, frameOf, SIMNET_MAGIC, thrownKind } from "./_util.ts";

const SCALE = Number(process.env.FUZZ_RUNS ?? "1");
const SEED = process.env.FUZZ_SEED === undefined ? 0x50_7e_12 : Number(process.env.FUZZ_SEED);

function params(runs: number): fc.Parameters<unknown> {
  return { seed: SEED, numRuns: Math.max(1, Math.round(runs * SCALE)) };
}

function run<T>(p: FuzzProperty<T>, runs: number): void {
  fc.assert(toProperty(p), params(runs) as fc.Parameters<[T]>);
}

describe("fuzz: every message round-trips from random valid values", () => {
  for (const command of COMMANDS) {
    it(command, () => {
      fc.assert(fc.property(caseArb(command), magicArb, (c, magic) => checkRoundTrip(c, magic)), params(150));
    });
  }

  it("version: user agents up to 256 bytes round-trip as payloads; frames refuse more than the limit", () => {
    fc.assert(
      fc.property(
        caseArb("version"),
        fc.oneof(
          fc.string({ unit: "binary", maxLength: 256 }),
          fc.string({ unit: "grapheme-ascii", minLength: 230, maxLength: 260 }),
        ),
        ({ message, pver, encoding }, ua) => {
          const msg = { ...message, userAgent: ua };
          const n = new TextEncoder().encode(ua).length;
          if (n > 256) {
            assert.equal(thrownKind(() => encodePayload(msg, pver)), "user-agent-too-long");
            return;
          }
          const payload = encodePayload(msg, pver, encoding);
          assert.deepStrictEqual(decodePayload("version", payload, pver, encoding), msg);
          const fits = payload.length <= codecOf("version").maxPayloadLength(pver);
          assert.equal(
            thrownKind(() => encodeMessage(msg, { magic: SIMNET_MAGIC, pver })),
            fits ? undefined : "payload-too-long",
          );
        },
      ),
      params(200),
    );
  });

  it("a transaction with witness data loses it in the base encoding", () => {
    const strip = (tx: Tx): Tx => ({ ...tx, txIn: tx.txIn.map((i) => ({ ...i, witness: [] })) });
    fc.assert(
      fc.property(txWithWitnessArb, (tx) => {
        const base = encodePayload({ command: "tx", ...tx }, PROTOCOL_VERSION, "base");
        const want = { command: "tx", ...strip(tx) };
        assert.deepStrictEqual(decodePayload("tx", base, PROTOCOL_VERSION, "base"), want);
        // With at least one input, base bytes read the same with the witness encoding.
        assert.deepStrictEqual(decodePayload("tx", base, PROTOCOL_VERSION, "witness"), want);
        const block = {
          command: "block" as const,
          header: {
            version: 1,
            prevBlock: new Uint8Array(32),
            merkleRoot: new Uint8Array(32),
            timestamp: 0,
            bits: 0,
            nonce: 0,
          },
          parents: { version: 1, size: 0, parents: [] },
          verification: { version: 1, size: 0, cycleNonces: [] },
          transactions: [tx, tx],
        };
        const blockBase = encodePayload(block, PROTOCOL_VERSION, "base");
        assert.deepStrictEqual(
          decodePayload("block", blockBase, PROTOCOL_VERSION, "base").transactions,
          [strip(tx), strip(tx)],
        );
      }),
      params(100),
    );
  });
});

describe("fuzz: mutated input only ever throws MessageError", () => {
  it(payloadMutation.name, () => run(payloadMutation, 4000));
  it(forgedCount.name, () => run(forgedCount, 4000));
  it(frameMutation.name, () => run(frameMutation, 4000));
  it(forgedLength.name, () => run(forgedLength, 1500));
});

describe("fuzz: FrameDecoder", () => {
  it(streamChunking.name, () => run(streamChunking, 800));
  it(streamMutation.name, () => run(streamMutation, 1500));
  it(transformStreamMutation.name, async () => {
    await fc.assert(
      fc.asyncProperty(transformStreamMutation.arb, transformStreamMutation.checkAsync),
      params(400) as fc.Parameters<[StreamMutationInput]>,
    );
  });
});

describe("bugs found by fuzzing", () => {
  // Failing a TransformStream (a length above 32 MiB, or any bad frame
  // without onError) would clear its readable queue, losing the messages
  // decoded from the same chunk before the bad frame. The decoder stream
  // must deliver them all, then fail.
  it("MessageDecoderStream delivers the messages before a fatal error", async () => {
    const opts = { magic: SIMNET_MAGIC };
    const ping = encodeMessage({ command: "ping", nonce: 1n }, opts);
    const bytes = cat(ping, ping, ping, frameHeader("ping", MAX_MESSAGE_PAYLOAD + 1));
    const source = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(bytes);
        controller.close();
      },
    });
    const got: string[] = [];
    try {
      for await (const msg of source.pipeThrough(new MessageDecoderStream(opts))) got.push(msg.command);
    } catch (err) {
      got.push(err instanceof MessageError ? err.kind : String(err));
    }
    assert.deepStrictEqual(got, ["ping", "ping", "ping", "oversize-length"]);
  });
});

describe("limits: nothing is allocated beyond the declared limits", () => {
  it("holds nothing of a 32 MiB frame until its payload arrives", () => {
    for (const command of ["alert", "reject", "cfcheckpt"] as const) {
      assert.equal(codecOf(command).maxPayloadLength(PROTOCOL_VERSION), MAX_MESSAGE_PAYLOAD);
      const dec = new FrameDecoder({ magic: SIMNET_MAGIC });
      dec.push(frameHeader(command, MAX_MESSAGE_PAYLOAD));
      assert.equal(dec.next(), undefined);
      assert.equal(dec.buffered, 0);
      assert.equal(dec.idle, false);
      assert.equal(thrownKind(() => dec.end()), "truncated");
    }
  });

  it("refuses a length above the command's limit at the header and skips the payload without holding it", () => {
    const chunk = new Uint8Array(64 * 1024);
    for (const command of COMMANDS) {
      for (const pver of [0, 60_000, PROTOCOL_VERSION]) {
        const max = codecOf(command).maxPayloadLength(pver);
        const length = max + 1;
        const dec = new FrameDecoder({ magic: SIMNET_MAGIC, pver });
        dec.push(frameHeader(command, length));
        if (length > MAX_MESSAGE_PAYLOAD) {
          // Unreadable stream: the error sticks.
          assert.equal(thrownKind(() => dec.next()), "oversize-length");
          dec.push(chunk);
          assert.equal(thrownKind(() => dec.next()), "oversize-length");
          continue;
        }
        assert.equal(thrownKind(() => dec.next()), "payload-too-long", `${command} at ${pver}`);
        assert.equal(dec.buffered, 0);
        for (let left = length; left > 0; left -= chunk.length) {
          dec.push(chunk.subarray(0, Math.min(left, chunk.length)));
          assert.equal(dec.next(), undefined);
          assert.equal(dec.buffered, 0);
        }
        assert.ok(dec.idle);
        dec.push(encodeMessage({ command: "verack" }, { magic: SIMNET_MAGIC }));
        assert.deepStrictEqual(dec.next()?.message, { command: "verack" });
      }
    }
  });

  // Every count and length limit of the decoders: where the field starts
  // in a payload (prefix), its limit, and the kind of error above it.
  const LIMITS: {
    name: string;
    command: Command;
    prefix: Uint8Array;
    limit: number;
    over: string;
    pver?: number;
    encoding?: MessageEncoding;
  }[] = [
    ...(["inv", "getdata", "notfound"] as const).map((command) => ({
      name: `${command} entries`,
      command,
      prefix: new Uint8Array(0),
      limit: MAX_INV_PER_MSG,
      over: "too-many-entries",
    })),
    { name: "addr", command: "addr", prefix: new Uint8Array(0), limit: MAX_ADDR_PER_MSG, over: "too-many-entries" },
    {
      name: "addrcache inbound",
      command: "addrcache",
      prefix: new Uint8Array(0),
      limit: MAX_ADDR_PER_MSG,
      over: "too-many-entries",
    },
    {
      name: "addrcache known after one inbound",
      command: "addrcache",
      prefix: cat([1], new Uint8Array(30), [0]),
      limit: MAX_ADDR_PER_MSG - 1,
      over: "too-many-entries",
    },
    {
      name: "headers",
      command: "headers",
      prefix: new Uint8Array(0),
      limit: MAX_BLOCK_HEADERS_PER_MSG,
      over: "too-many-entries",
    },
    ...(["getblocks", "getheaders"] as const).map((command) => ({
      name: `${command} locator heights`,
      command,
      prefix: new Uint8Array(4),
      limit: 1,
      over: "too-many-entries",
    })),
    {
      name: "tx inputs",
      command: "tx",
      prefix: new Uint8Array(4),
      limit: MAX_TX_IN_PER_MESSAGE,
      over: "too-many-entries",
      encoding: "base",
    },
    {
      name: "witness tx inputs",
      command: "tx",
      prefix: cat(new Uint8Array(4), [0, 1]),
      limit: MAX_TX_IN_PER_MESSAGE,
      over: "too-many-entries",
    },
    {
      name: "tx outputs",
      command: "tx",
      prefix: cat(new Uint8Array(4), [0]),
      limit: MAX_TX_OUT_PER_MESSAGE,
      over: "too-many-entries",
      encoding: "base",
    },
    {
      name: "signature script",
      command: "tx",
      prefix: cat(new Uint8Array(4), [1], new Uint8Array(36)),
      limit: MAX_SCRIPT_SIZE,
      over: "too-large",
    },
    {
      name: "pk script",
      command: "tx",
      prefix: cat(new Uint8Array(4), [0, 1], new Uint8Array(8)),
      limit: MAX_SCRIPT_SIZE,
      over: "too-large",
      encoding: "base",
    },
    {
      name: "witness items",
      command: "tx",
      prefix: cat(new Uint8Array(4), [0, 1, 1], new Uint8Array(36), [0], new Uint8Array(4), [0]),
      limit: MAX_WITNESS_ITEMS_PER_INPUT,
      over: "too-many-entries",
    },
    {
      name: "witness item",
      command: "tx",
      prefix: cat(new Uint8Array(4), [0, 1, 1], new Uint8Array(36), [0], new Uint8Array(4), [0, 1]),
      limit: MAX_WITNESS_ITEM_SIZE,
      over: "too-large",
    },
    {
      name: "block transactions",
      command: "block",
      prefix: new Uint8Array(80 + 8 + 8),
      limit: MAX_TX_PER_BLOCK,
      over: "too-many-entries",
    },
    {
      name: "merkleblock hashes",
      command: "merkleblock",
      prefix: new Uint8Array(84),
      limit: MAX_TX_PER_BLOCK,
      over: "too-many-entries",
    },
    {
      name: "merkleblock flags",
      command: "merkleblock",
      prefix: new Uint8Array(85),
      limit: MAX_FLAGS_PER_MERKLE_BLOCK,
      over: "too-large",
    },
    {
      name: "cfheaders",
      command: "cfheaders",
      prefix: new Uint8Array(65),
      limit: MAX_CFHEADERS_PER_MSG,
      over: "too-many-entries",
    },
    {
      name: "cfcheckpt",
      command: "cfcheckpt",
      prefix: new Uint8Array(33),
      limit: MAX_CFCHECKPT_HEADERS,
      over: "too-many-entries",
    },
    {
      name: "cfilter data",
      command: "cfilter",
      prefix: new Uint8Array(33),
      limit: MAX_CFILTER_DATA_SIZE,
      over: "too-large",
    },
    {
      name: "filteradd data",
      command: "filteradd",
      prefix: new Uint8Array(0),
      limit: MAX_FILTER_ADD_DATA_SIZE,
      over: "too-large",
    },
    {
      name: "filterload filter",
      command: "filterload",
      prefix: new Uint8Array(0),
      limit: MAX_FILTER_LOAD_FILTER_SIZE,
      over: "too-large",
    },
    {
      name: "reject command",
      command: "reject",
      prefix: new Uint8Array(0),
      limit: MAX_MESSAGE_PAYLOAD,
      over: "too-large",
    },
    {
      name: "reject reason",
      command: "reject",
      prefix: Uint8Array.from([0, 1]),
      limit: MAX_MESSAGE_PAYLOAD,
      over: "too-large",
    },
    {
      name: "alert payload",
      command: "alert",
      prefix: new Uint8Array(0),
      limit: MAX_MESSAGE_PAYLOAD,
      over: "too-large",
    },
    {
      name: "alert signature",
      command: "alert",
      prefix: Uint8Array.from([1, 0]),
      limit: MAX_MESSAGE_PAYLOAD,
      over: "too-large",
    },
    {
      name: "version user agent",
      command: "version",
      prefix: new Uint8Array(80),
      limit: MAX_MESSAGE_PAYLOAD,
      over: "too-large",
    },
  ];

  for (const l of LIMITS) {
    it(`${l.name}: a count above ${l.limit} fails before any entry is read, one at it fails on the missing bytes`, () => {
      const pver = l.pver ?? PROTOCOL_VERSION;
      const encoding = l.encoding ?? "witness";
      const decode = (count: bigint, width = 0) =>
        thrownKind(() => decodePayload(l.command, cat(l.prefix, varIntBytes(count, width)), pver, encoding));
      const limit = BigInt(l.limit);
      assert.equal(decode(limit + 1n), l.over);
      assert.equal(decode((1n << 64n) - 1n), l.over);
      assert.equal(decode(limit), "truncated");
      assert.equal(decode(1n, 9), "non-canonical-varint");
      // The same through a frame, whose checksum is right.
      const frame = frameOf(l.command, cat(l.prefix, varIntBytes(limit + 1n, 0)), SIMNET_MAGIC);
      assert.equal(thrownKind(() => decodeMessage(frame, { magic: SIMNET_MAGIC, pver, encoding })), l.over);
    });
  }

  it("forged counts at every limit allocate nothing for the declared entries", () => {
    // A count at the limit with no entry after it: what the decoder makes
    // is bounded by the bytes it was given, never by the count (which would
    // be up to 8 million entries).
    for (const l of LIMITS) {
      const bytes = cat(l.prefix, varIntBytes(BigInt(l.limit), 0));
      const kind = allocatingByInput(
        bytes,
        `${l.name} at ${l.limit}`,
        () => thrownKind(() => decodePayload(l.command, bytes, l.pver ?? PROTOCOL_VERSION, l.encoding ?? "witness")),
      );
      assert.equal(kind, "truncated", l.name);
    }
  });

  it("a block's int32 sub-header counts: huge fails on the missing bytes, negative reads as none", () => {
    const head = new Uint8Array(80);
    const i32 = (v: number) => {
      const b = new Uint8Array(4);
      new DataView(b.buffer).setInt32(0, v, true);
      return b;
    };
    for (const bytes of [cat(head, i32(1), i32(0x7fff_ffff)), cat(head, i32(1), i32(0), i32(1), i32(0x7fff_ffff))]) {
      const kind = allocatingByInput(bytes, "2^31 - 1 entries", () => thrownKind(() => decodePayload("block", bytes)));
      assert.equal(kind, "truncated");
    }
    const block = decodePayload("block", cat(head, i32(1), i32(-5), i32(1), i32(-1), [0]));
    assert.equal(block.parents.size, -5);
    assert.deepStrictEqual(block.parents.parents, []);
    assert.deepStrictEqual(block.verification.cycleNonces, []);
  });

  it("alert: forged inner counts leave the payload unparsed, never throw out of decode", () => {
    const fixed = new Uint8Array(4 + 8 + 8 + 4 + 4);
    for (
      const inner of [
        cat(fixed, varIntBytes(BigInt(MAX_COUNT_SET_CANCEL) + 1n, 0)),
        cat(fixed, varIntBytes(BigInt(MAX_COUNT_SET_CANCEL), 0)),
        cat(fixed, [0], new Uint8Array(8), varIntBytes(BigInt(MAX_COUNT_SET_SUB_VER) + 1n, 0)),
        cat(fixed, [0], new Uint8Array(8), varIntBytes(BigInt(MAX_COUNT_SET_SUB_VER), 0)),
      ]
    ) {
      assert.ok(thrownKind(() => parseAlert(inner)));
      const msg = decodePayload("alert", cat(varIntBytes(BigInt(inner.length), 0), inner, [0]));
      assert.equal(msg.payload, null);
    }
  });

  it("version: a user agent above 256 bytes fails once read, whatever the frame allows", () => {
    const ua = new Uint8Array(257).fill(0x61);
    assert.equal(
      thrownKind(() => decodePayload("version", cat(new Uint8Array(80), varIntBytes(257n, 0), ua))),
      "user-agent-too-long",
    );
  });
});
