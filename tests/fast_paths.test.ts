// The decoder's fast paths (hand-inlined reads, exact-size arrays, the
// header fast path of FrameDecoder, block pre-sizing) against the plain
// field-by-field behaviour they stand in for, and the unrolled SHA-256
// against node:crypto.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { createHash } from "node:crypto";
import {
  type BlockMessage,
  COMMANDS,
  decodePayload,
  doubleSha256,
  encodeMessage,
  encodePayload,
  FrameDecoder,
  type Message,
  MessageError,
  Reader,
  readTx,
  sha256,
  SIMNET,
  type Tx,
  Writer,
  writeTx,
} from "../mod.ts";
import { isKind } from "./_util.ts";

const opts = { magic: SIMNET.magic };

function bytes(n: number, seed: number): Uint8Array {
  return new Uint8Array(n).map((_, i) => (i * 31 + seed * 7 + 1) & 0xff);
}

/** A transaction whose fields hit both the fast and the slow paths. */
function oddTx(witness: boolean): Tx {
  return {
    version: 2,
    txIn: [
      {
        previousOutPoint: { hash: bytes(32, 1), index: 7 },
        signatureScript: bytes(300, 2), // 3-byte varint: slow path
        witness: witness ? [new Uint8Array(0), bytes(260, 3), bytes(72, 4)] : [],
        sequence: 0xffffffff,
      },
      {
        previousOutPoint: { hash: bytes(32, 5), index: 0 },
        signatureScript: new Uint8Array(0),
        witness: witness ? [bytes(33, 6)] : [],
        sequence: 5,
      },
    ],
    txOut: [
      { value: 5_000_000_000n, pkScript: bytes(25, 7) },
      { value: -1n, pkScript: new Uint8Array(0) },
      { value: 2n ** 62n, pkScript: bytes(253, 8) }, // 0xfd varint
    ],
    lockTime: 99,
  };
}

function encodeTx(tx: Tx): Uint8Array {
  const w = new Writer(16, "tx");
  writeTx(w, tx, "witness");
  return w.finish();
}

/**
 * The transaction read field by field with the Reader's own methods, as
 * readTx did before its fast paths: the reference for results and errors.
 */
function referenceReadTx(r: Reader): Tx {
  const version = r.i32();
  let count = r.varInt();
  let witness = false;
  if (count === 0) {
    if (r.u8() !== 1) throw new Error("unexpected flag");
    witness = true;
    count = r.varInt();
  }
  const txIn: Tx["txIn"] = [];
  for (let i = 0; i < count; i++) {
    const hash = r.hash();
    const index = r.u32();
    const signatureScript = r.varBytes(1 << 25, "signature script");
    txIn.push({ previousOutPoint: { hash, index }, signatureScript, witness: [], sequence: r.u32() });
  }
  count = r.varInt();
  const txOut: Tx["txOut"] = [];
  for (let i = 0; i < count; i++) {
    const value = r.i64();
    txOut.push({ value, pkScript: r.varBytes(1 << 25, "pk script") });
  }
  if (witness) {
    for (const input of txIn) {
      const items = r.varInt();
      for (let j = 0; j < items; j++) input.witness.push(r.varBytes(11_000, "witness item"));
    }
  }
  return { version, txIn, txOut, lockTime: r.u32() };
}

function outcome(fn: () => unknown): unknown {
  try {
    return { ok: fn() };
  } catch (err) {
    assert.ok(err instanceof MessageError, String(err));
    return { kind: err.kind, message: err.message };
  }
}

describe("readTx fast paths", () => {
  for (const witness of [false, true]) {
    it(`matches a field-by-field read on every prefix (${witness ? "witness" : "base"} tx)`, () => {
      const full = encodeTx(oddTx(witness));
      assert.deepEqual(readTx(new Reader(full, "tx"), "witness"), oddTx(witness));
      for (let n = 0; n <= full.length; n++) {
        const prefix = full.slice(0, n);
        const got = outcome(() => readTx(new Reader(prefix, "tx"), "witness"));
        const want = outcome(() => referenceReadTx(new Reader(prefix, "tx")));
        assert.deepEqual(got, want, `prefix of ${n} bytes`);
      }
    });
  }

  it("leaves the reader right after the transaction", () => {
    const full = encodeTx(oddTx(true));
    const r = new Reader(new Uint8Array([...full, 1, 2, 3]), "tx");
    readTx(r, "witness");
    assert.equal(r.pos, full.length);
    assert.equal(r.remaining, 3);
  });

  it("does not allocate for a forged input count", () => {
    // version, then 0xfe varint declaring 800,000 inputs, then nothing.
    const forged = new Uint8Array([1, 0, 0, 0, 0xfe, 0x00, 0x35, 0x0c, 0x00]);
    assert.throws(() => readTx(new Reader(forged, "tx"), "base"), isKind("truncated"));
  });
});

describe("byte fields", () => {
  it("are views of the input's class: Uint8Array for a Uint8Array, Buffer for a Buffer", () => {
    const payload = encodePayload({ command: "tx", ...oddTx(true) });
    const plain = decodePayload("tx", payload);
    assert.equal(Object.getPrototypeOf(plain.txIn[0]!.previousOutPoint.hash), Uint8Array.prototype);
    assert.equal(plain.txIn[0]!.signatureScript.buffer, payload.buffer);
    const buf = Buffer.from(payload);
    const fromBuffer = decodePayload("tx", buf);
    assert.ok(Buffer.isBuffer(fromBuffer.txIn[0]!.previousOutPoint.hash));
    assert.ok(Buffer.isBuffer(fromBuffer.txIn[0]!.witness[1]));
    assert.ok(Buffer.isBuffer(fromBuffer.txOut[0]!.pkScript));
    assert.deepEqual(toPlain(fromBuffer), toPlain(plain));
  });

  it("share one frozen empty array when empty, which cannot be written", () => {
    const tx = decodePayload("tx", encodePayload({ command: "tx", ...oddTx(true) }));
    const empty = tx.txIn[1]!.signatureScript;
    assert.equal(empty.length, 0);
    assert.ok(Object.isFrozen(empty));
    assert.equal(empty, tx.txOut[1]!.pkScript);
    assert.equal(empty, tx.txIn[0]!.witness[0]);
    empty[0] = 1;
    assert.equal(empty.length, 0);
    assert.equal(empty[0], undefined);
  });

  it("witness stacks and input lists are distinct arrays", () => {
    const tx = decodePayload("tx", encodePayload({ command: "tx", ...oddTx(false) }));
    assert.notEqual(tx.txIn[0]!.witness, tx.txIn[1]!.witness);
    tx.txIn[0]!.witness.push(new Uint8Array(1));
    assert.equal(tx.txIn[1]!.witness.length, 0);
  });
});

describe("Reader.viewAt", () => {
  it("views bytes without moving the cursor and refuses ranges outside the reader", () => {
    const all = new Uint8Array([9, 1, 2, 3, 4, 9]);
    const r = new Reader(all.subarray(1, 5));
    assert.deepEqual(r.viewAt(1, 2), new Uint8Array([2, 3]));
    assert.equal(r.viewAt(1, 2).byteOffset, 2);
    assert.equal(r.pos, 0);
    assert.throws(() => r.viewAt(3, 2), RangeError);
    assert.throws(() => r.viewAt(-1, 1), RangeError);
    assert.deepEqual(r.viewAt(4, 0), new Uint8Array(0));
  });
});

function toPlain(x: unknown): unknown {
  if (x instanceof Uint8Array) return Array.from(x);
  if (Array.isArray(x)) return x.map(toPlain);
  if (x !== null && typeof x === "object") {
    return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, toPlain(v)]));
  }
  return x;
}

describe("list decoders with exact-size arrays", () => {
  const hash = bytes(32, 9);
  const messages: Message[] = [
    { command: "inv", invList: Array.from({ length: 3 }, (_, i) => ({ type: 2, hash, height: i })) },
    { command: "addr", addrList: [{ timestamp: 1, services: 2n ** 63n, ip: bytes(16, 1), port: 8333 }] },
    {
      command: "headers",
      headers: [{ version: 1, prevBlock: hash, merkleRoot: hash, timestamp: 2, bits: 3, nonce: 4 }],
    },
  ];
  for (const msg of messages) {
    it(`${msg.command}: every prefix decodes or fails with truncated`, () => {
      const payload = encodePayload(msg);
      assert.deepEqual(decodePayload(msg.command, payload), msg);
      for (let n = 1; n < payload.length; n++) {
        assert.throws(
          () => decodePayload(msg.command, payload.slice(0, n)),
          (e: unknown) => e instanceof MessageError && e.kind === "truncated",
          `prefix of ${n}`,
        );
      }
    });
  }
});

describe("FrameDecoder header fast path", () => {
  it("recognizes all 31 commands and only them", () => {
    for (const command of COMMANDS) {
      const dec = new FrameDecoder({ magic: SIMNET.magic, pver: 70013 });
      const frame = new Uint8Array(24);
      const view = new DataView(frame.buffer);
      view.setUint32(0, SIMNET.magic, true);
      for (let i = 0; i < command.length; i++) frame[4 + i] = command.charCodeAt(i);
      view.setUint32(16, 0, true);
      frame.set(doubleSha256(new Uint8Array(0)).subarray(0, 4), 20);
      dec.push(frame);
      try {
        assert.equal(dec.next()?.message.command, command);
      } catch (err) {
        // Commands with a mandatory payload fail in their payload, not the header.
        assert.ok(err instanceof MessageError);
        assert.notEqual(err.kind, "unknown-command", command);
        assert.notEqual(err.kind, "checksum", command);
      }
    }
  });

  it("keeps the checksum when the caller reuses the header's memory", () => {
    const frame = encodeMessage({ command: "ping", nonce: 5n }, opts);
    const dec = new FrameDecoder(opts);
    const head = frame.slice(0, 24);
    dec.push(head);
    assert.equal(dec.next(), undefined);
    head.fill(0); // consumed: the caller may reuse it
    dec.push(frame.slice(24));
    assert.deepEqual(dec.next()?.message, { command: "ping", nonce: 5n });
  });

  it("takes the general path for a command with bytes after a NUL", () => {
    const frame = encodeMessage({ command: "verack" }, opts);
    frame[4 + 7] = 0x41; // "verack\0A"
    const dec = new FrameDecoder(opts);
    dec.push(frame);
    assert.throws(() => dec.next(), isKind("unknown-command"));
  });
});

describe("encoding large blocks", () => {
  function bigBlock(txs: number): BlockMessage {
    const tx = oddTx(true);
    return {
      command: "block",
      header: { version: 1, prevBlock: bytes(32, 1), merkleRoot: bytes(32, 2), timestamp: 3, bits: 4, nonce: 5 },
      parents: { version: 1, size: 1, parents: [{ hash: bytes(32, 3), data: bytes(32, 4) }] },
      verification: { version: 1, size: 2, cycleNonces: [1, 2] },
      transactions: Array.from({ length: txs }, () => tx),
    };
  }

  it("returns independent buffers of the exact size, whatever comes next", () => {
    const block = bigBlock(1500); // about 1.4 MB: above the scratch writer's size
    const a = encodePayload(block);
    assert.equal(a.buffer.byteLength, a.length);
    const frameA = encodeMessage(block, opts);
    encodePayload({ command: "ping", nonce: 1n });
    const b = encodePayload(block);
    assert.notEqual(a.buffer, b.buffer);
    assert.deepEqual(a, b);
    assert.deepEqual(frameA.subarray(24), a);
    assert.deepEqual(decodePayload("block", a), block);
    b.fill(0);
    assert.deepEqual(decodePayload("block", a), block);
  });

  it("reports a malformed block's first bad field as before", () => {
    const block = bigBlock(2);
    const bad = { ...block, header: { ...block.header, prevBlock: new Uint8Array(3) } };
    assert.throws(() => encodePayload(bad), isKind("invalid-value"));
    const worse = { ...bad, transactions: [{ version: 1 } as unknown as Tx] };
    assert.throws(() => encodePayload(worse), isKind("invalid-value"));
  });
});

describe("sha256 against node:crypto", () => {
  it("agrees on every length up to 300 bytes and at any view offset", () => {
    const base = bytes(400, 11);
    for (let len = 0; len <= 300; len++) {
      const data = base.subarray(len % 7, (len % 7) + len);
      const once = createHash("sha256").update(data).digest();
      assert.deepEqual(sha256(data), new Uint8Array(once), `sha256 of ${len} bytes`);
      const twice = createHash("sha256").update(once).digest();
      assert.deepEqual(doubleSha256(data), new Uint8Array(twice), `doubleSha256 of ${len} bytes`);
    }
  });

  it("agrees on a large input", () => {
    const data = bytes(1 << 20, 3);
    assert.deepEqual(sha256(data), new Uint8Array(createHash("sha256").update(data).digest()));
  });
});
