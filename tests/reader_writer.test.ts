import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { fromHex, Reader, toHex, varIntSize, Writer } from "../mod.ts";
import { isKind, kindOf } from "./_util.ts";

describe("varints", () => {
  const cases: Array<[number, string]> = [
    [0, "00"],
    [0xfc, "fc"],
    [0xfd, "fdfd00"],
    [0xffff, "fdffff"],
    [0x10000, "fe00000100"],
    [0xffffffff, "feffffffff"],
    [0x100000000, "ff0000000001000000"],
    [Number.MAX_SAFE_INTEGER, "ffffffffffffff1f00"],
  ];
  for (const [value, hex] of cases) {
    it(`writes and reads ${value} as ${hex}`, () => {
      const w = new Writer(1);
      w.varInt(value);
      assert.equal(toHex(w.finish()), hex);
      assert.equal(varIntSize(value), hex.length / 2);
      const r = new Reader(fromHex(hex));
      assert.equal(r.varInt(), value);
      assert.equal(r.remaining, 0);
    });
  }

  it("rejects every non-canonical encoding as soterd does", () => {
    for (const hex of ["fdfc00", "fe ffff0000", "ffffffffff00000000"].map((h) => h.replace(" ", ""))) {
      assert.equal(kindOf(() => new Reader(fromHex(hex)).varInt()), "non-canonical-varint", hex);
    }
  });

  it("reads a 64-bit varint above 2^53 as a number larger than any limit", () => {
    const r = new Reader(fromHex("ffffffffffffffffff"));
    assert.ok(r.varInt() > Number.MAX_SAFE_INTEGER);
  });

  it("refuses to write negative, fractional or unsafe varints", () => {
    for (const v of [-1, 1.5, 2 ** 60]) {
      assert.equal(kindOf(() => new Writer().varInt(v)), "invalid-value", String(v));
    }
  });
});

describe("Reader", () => {
  it("reads little-endian integers and a big-endian port", () => {
    const r = new Reader(fromHex("01" + "0201" + "04030201" + "ffffffff" + "0807060504030201" + "1f90"));
    assert.equal(r.u8(), 1);
    assert.equal(r.u16(), 0x0102);
    assert.equal(r.u32(), 0x01020304);
    assert.equal(r.i32(), -1);
    assert.equal(r.u64(), 0x0102030405060708n);
    assert.equal(r.u16be(), 8080);
    assert.equal(r.remaining, 0);
  });

  it("returns views, not copies, for hashes and byte strings", () => {
    const buf = new Uint8Array(40).fill(7);
    const r = new Reader(buf);
    const h = r.hash();
    buf[0] = 9;
    assert.equal(h[0], 9);
    assert.equal(h.buffer, buf.buffer);
  });

  it("reports truncation with the kind truncated and the decoded thing's name", () => {
    const r = new Reader(new Uint8Array(3), "inv");
    assert.throws(
      () => r.u32(),
      isKind("truncated", /inv/),
    );
  });

  it("checks counts and byte-string lengths before reading them", () => {
    assert.equal(kindOf(() => new Reader(fromHex("51")).count(80, "addresses")), "too-many-entries");
    assert.equal(kindOf(() => new Reader(fromHex("fd0902")).varBytes(520, "data")), "too-large");
  });

  it("decodes invalid UTF-8 in strings lossily instead of failing", () => {
    assert.equal(new Reader(fromHex("02ff41")).varString(), "\uFFFDA");
    assert.equal(new Reader(fromHex("03e282ac")).varString(), "€");
  });
});

describe("Writer", () => {
  it("grows as needed and returns exactly the bytes written", () => {
    const w = new Writer(1);
    for (let i = 0; i < 1000; i++) w.u32(i);
    const out = w.finish();
    assert.equal(out.length, 4000);
    assert.equal(new Reader(out).u32(), 0);
  });

  it("refuses out-of-range integers instead of wrapping them", () => {
    assert.equal(kindOf(() => new Writer().u8(256)), "invalid-value");
    assert.equal(kindOf(() => new Writer().u32(-1)), "invalid-value");
    assert.equal(kindOf(() => new Writer().u32(2 ** 32)), "invalid-value");
    assert.equal(kindOf(() => new Writer().i32(2 ** 31)), "invalid-value");
    assert.equal(kindOf(() => new Writer().u64(-1n)), "invalid-value");
    assert.equal(kindOf(() => new Writer().u64(2n ** 64n)), "invalid-value");
    assert.equal(kindOf(() => new Writer().i64(2n ** 63n)), "invalid-value");
    assert.equal(kindOf(() => new Writer().hash(new Uint8Array(31))), "invalid-value");
  });

  it("writes strings as UTF-8 with a byte-length prefix", () => {
    const w = new Writer();
    w.varString("ü/");
    assert.equal(toHex(w.finish()), "03c3bc2f");
  });
});
