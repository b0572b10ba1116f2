import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { fromHex, hashFromHex, toHex } from "../src/wire/hex.ts";
import { RejectCode, rejectCodec, rejectCodeName, type RejectMessage } from "../src/wire/messages/reject.ts";
import { PROTOCOL_VERSION, REJECT_VERSION } from "../src/wire/protocol.ts";
import { ascii, hexCodec, throwsKind } from "./_util.ts";

const { encode, decode } = hexCodec(rejectCodec);

const REGTEST_GENESIS = "0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206";
const GENESIS_WIRE = "06226e46111a0b59caaf126043eb5bbf28c34f3a5e332a1fc7b2b73cf188910f";

function blockReject(): RejectMessage {
  return {
    command: "reject",
    cmd: "block",
    code: RejectCode.DUPLICATE,
    reason: "duplicate block",
    hash: hashFromHex(REGTEST_GENESIS),
  };
}
const BLOCK_HEX = "05" + ascii("block") + "12" + "0f" + ascii("duplicate block") + GENESIS_WIRE;

describe("reject codes", () => {
  it("have soterd's values", () => {
    assert.deepEqual(RejectCode, {
      MALFORMED: 0x01,
      INVALID: 0x10,
      OBSOLETE: 0x11,
      DUPLICATE: 0x12,
      NONSTANDARD: 0x40,
      DUST: 0x41,
      INSUFFICIENT_FEE: 0x42,
      CHECKPOINT: 0x43,
    });
  });
  it("print like Go's RejectCode.String()", () => {
    const cases: Array<[number, string]> = [
      [RejectCode.MALFORMED, "REJECT_MALFORMED"],
      [RejectCode.INVALID, "REJECT_INVALID"],
      [RejectCode.OBSOLETE, "REJECT_OBSOLETE"],
      [RejectCode.DUPLICATE, "REJECT_DUPLICATE"],
      [RejectCode.NONSTANDARD, "REJECT_NONSTANDARD"],
      [RejectCode.DUST, "REJECT_DUST"],
      [RejectCode.INSUFFICIENT_FEE, "REJECT_INSUFFICIENTFEE"],
      [RejectCode.CHECKPOINT, "REJECT_CHECKPOINT"],
      [0xff, "Unknown RejectCode (255)"],
      [0, "Unknown RejectCode (0)"],
      [0x99, "Unknown RejectCode (153)"],
    ];
    for (const [code, name] of cases) assert.equal(rejectCodeName(code), name);
  });
});

describe("reject codec: limits", () => {
  it("exists from RejectVersion with a 32 MiB limit", () => {
    assert.equal(rejectCodec.command, "reject");
    assert.equal(rejectCodec.maxPayloadLength(PROTOCOL_VERSION), 32 * 1024 * 1024);
    assert.equal(rejectCodec.maxPayloadLength(REJECT_VERSION), 32 * 1024 * 1024);
    assert.equal(rejectCodec.maxPayloadLength(REJECT_VERSION - 1), 0);
  });

  it("fails both ways below RejectVersion", () => {
    throwsKind(() => encode(blockReject(), REJECT_VERSION - 1), "pver-too-low");
    throwsKind(() => decode(BLOCK_HEX, REJECT_VERSION - 1), "pver-too-low");
    throwsKind(() => decode("", REJECT_VERSION - 1), "pver-too-low");
  });

  it("does not decode at an old pver what was encoded at the latest", () => {
    const hex = encode(blockReject(), PROTOCOL_VERSION);
    throwsKind(() => decode(hex, REJECT_VERSION - 1), "pver-too-low");
    assert.deepEqual(decode(hex, REJECT_VERSION), blockReject());
  });
});

describe("reject codec: wire format", () => {
  it("carries the hash for block", () => {
    assert.equal(encode(blockReject()), BLOCK_HEX);
    assert.deepEqual(decode(BLOCK_HEX), blockReject());
  });

  it("carries the hash for tx", () => {
    const msg: RejectMessage = { ...blockReject(), cmd: "tx", code: RejectCode.INSUFFICIENT_FEE, reason: "" };
    const hex = "02" + ascii("tx") + "42" + "00" + GENESIS_WIRE;
    assert.equal(encode(msg), hex);
    assert.deepEqual(decode(hex), msg);
  });

  it("has no hash for other commands and decodes a zero hash", () => {
    const hex = "07" + ascii("version") + "12" + "11" + ascii("duplicate version");
    const msg = decode(hex);
    assert.deepEqual(msg, {
      command: "reject",
      cmd: "version",
      code: RejectCode.DUPLICATE,
      reason: "duplicate version",
      hash: new Uint8Array(32),
    });
    assert.equal(encode(msg), hex);
  });

  it("does not write the hash of other commands, whatever it holds", () => {
    const hex = "07" + ascii("version") + "12" + "00";
    const msg: RejectMessage = { command: "reject", cmd: "version", code: 0x12, reason: "", hash: new Uint8Array(3) };
    assert.equal(encode(msg), hex);
  });

  it("matches block and tx exactly", () => {
    for (const cmd of ["Block", "TX", "blocks", "", "block\u0000", "unknowncmd"]) {
      const msg: RejectMessage = { command: "reject", cmd, code: 0x10, reason: "r", hash: new Uint8Array(32) };
      const hex = encode(msg);
      assert.equal(
        hex,
        toHex(new Uint8Array([new TextEncoder().encode(cmd).length])) + ascii(cmd) + "10" + "01" + ascii("r"),
      );
      assert.deepEqual(decode(hex), msg);
    }
  });

  it("ignores bytes after the message, including a hash for other commands", () => {
    const hex = "07" + ascii("version") + "01" + "01" + ascii("r");
    assert.deepEqual(decode(hex + GENESIS_WIRE).hash, new Uint8Array(32));
    assert.deepEqual(decode(BLOCK_HEX + "ff"), blockReject());
  });

  it("keeps unknown codes", () => {
    const msg: RejectMessage = { ...blockReject(), cmd: "tx", code: 0x99 };
    assert.deepEqual(decode(encode(msg)), msg);
    assert.equal(decode(encode({ ...msg, code: 0 })).code, 0);
    assert.equal(decode(encode({ ...msg, code: 255 })).code, 255);
  });

  it("round-trips a unicode reason, counting bytes", () => {
    const msg: RejectMessage = { ...blockReject(), reason: "rëason ünicode" };
    const hex = encode(msg);
    assert.equal(hex.slice(14, 16), "10"); // 16 bytes for 14 characters
    assert.deepEqual(decode(hex), msg);
  });

  it("round-trips a long reason", () => {
    const msg: RejectMessage = { ...blockReject(), cmd: "mempool", reason: "x".repeat(70000) };
    const hex = encode(msg);
    assert.equal(hex.slice(18, 28), "fe70110100");
    assert.deepEqual(decode(hex), { ...msg, hash: new Uint8Array(32) });
  });

  it("returns the hash as a view into the input", () => {
    const input = fromHex(BLOCK_HEX);
    const msg = decode(input);
    assert.equal(msg.hash.buffer, input.buffer);
    assert.equal(msg.hash.byteOffset, input.length - 32);
  });

  it("refuses bad values", () => {
    throwsKind(() => encode({ ...blockReject(), code: 256 }), "invalid-value");
    throwsKind(() => encode({ ...blockReject(), code: -1 }), "invalid-value");
    throwsKind(() => encode({ ...blockReject(), hash: new Uint8Array(31) }), "invalid-value");
  });
});

describe("reject codec: malformed input", () => {
  // Element boundaries (cmd length, cmd, code, reason length, reason, hash) and inside them.
  for (const cut of [0, 1, 3, 6, 7, 8, 11, 23, 24, 40, 54]) {
    it(`fails with truncated when cut at ${cut} of 55`, () => {
      throwsKind(() => decode(BLOCK_HEX.slice(0, cut * 2)), "truncated");
    });
  }
  it("refuses a string length beyond 32 MiB", () => {
    throwsKind(() => decode("fe01000002"), "too-large");
    throwsKind(() => decode("02" + ascii("tx") + "10" + "ff0000000001000000"), "too-large");
  });
  it("refuses a non-canonical string length", () => {
    throwsKind(() => decode("fd0200" + ascii("tx")), "non-canonical-varint");
  });
});
