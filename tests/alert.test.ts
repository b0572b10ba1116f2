import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { fromHex, toHex } from "../src/wire/hex.ts";
import {
  type Alert,
  alertCodec,
  type AlertMessage,
  MAX_COUNT_SET_CANCEL,
  MAX_COUNT_SET_SUB_VER,
  parseAlert,
  serializeAlert,
} from "../src/wire/messages/alert.ts";
import { BIP0031_VERSION, MULTIPLE_ADDRESS_VERSION, PROTOCOL_VERSION } from "../src/wire/protocol.ts";
import { ascii, hexCodec, throwsKind } from "./_util.ts";

const { encode, decode } = hexCodec(alertCodec);

function zeroAlert(): Alert {
  return {
    version: 0,
    relayUntil: 0n,
    expiration: 0n,
    id: 0,
    cancel: 0,
    setCancel: [],
    minVer: 0,
    maxVer: 0,
    setSubVer: [],
    priority: 0,
    comment: "",
    statusBar: "",
    reserved: "",
  };
}
function sampleAlert(): Alert {
  return {
    version: 1,
    relayUntil: 1700000000n,
    expiration: 1800000000n,
    id: 1015,
    cancel: 1013,
    setCancel: [1014, -1],
    minVer: 0,
    maxVer: 70013,
    setSubVer: ["/soterd:4.2.0/"],
    priority: 5000,
    comment: "",
    statusBar: "URGENT",
    reserved: "",
  };
}
const SAMPLE_HEX = "01000000" + "00f1536500000000" + "00d2496b00000000" + "f7030000" + "f5030000" +
  "02" + "f6030000" + "ffffffff" + "00000000" + "7d110100" + "01" + "0e" + ascii("/soterd:4.2.0/") +
  "88130000" + "00" + "06" + ascii("URGENT") + "00";

describe("alert limits", () => {
  it("match soterd's constants", () => {
    assert.equal(MAX_COUNT_SET_CANCEL, 8388574);
    assert.equal(MAX_COUNT_SET_SUB_VER, 131071);
  });
  it("allows 32 MiB at every protocol version", () => {
    for (const pver of [PROTOCOL_VERSION, BIP0031_VERSION, 0]) {
      assert.equal(alertCodec.maxPayloadLength(pver), 32 * 1024 * 1024);
    }
    assert.equal(alertCodec.command, "alert");
  });
});

describe("serializeAlert and parseAlert", () => {
  it("serialize in soterd's layout", () => {
    assert.equal(SAMPLE_HEX.length / 2, 74);
    assert.equal(toHex(serializeAlert(sampleAlert())), SAMPLE_HEX);
    assert.deepEqual(parseAlert(fromHex(SAMPLE_HEX)), sampleAlert());
  });

  it("serialize an empty alert in 45 bytes", () => {
    assert.equal(toHex(serializeAlert(zeroAlert())), "00".repeat(45));
    assert.deepEqual(parseAlert(new Uint8Array(45)), zeroAlert());
  });

  it("round-trip extreme values and unicode strings", () => {
    const alert: Alert = {
      version: -0x80000000,
      relayUntil: -0x8000_0000_0000_0000n,
      expiration: 0x7fff_ffff_ffff_ffffn,
      id: 0x7fffffff,
      cancel: -1,
      setCancel: Array.from({ length: 300 }, (_, i) => i * 7919 - 1000000),
      minVer: 209,
      maxVer: -1,
      setSubVer: ["/soterwire:0.6.0/", "", "/Sötér:1.0(日本)/"],
      priority: -5,
      comment: "c".repeat(300),
      statusBar: "stätus",
      reserved: "r",
    };
    const bytes = serializeAlert(alert);
    assert.deepEqual(parseAlert(bytes), alert);
  });

  it("ignore bytes after the last field, as soterd does", () => {
    assert.deepEqual(parseAlert(fromHex(SAMPLE_HEX + "0909")), sampleAlert());
  });

  const cuts = [0, 2, 4, 10, 12, 20, 24, 27, 28, 29, 33, 36, 37, 41, 45, 46, 47, 60, 61, 65, 66, 67, 72, 73];
  for (const cut of cuts) {
    it(`parseAlert fails with truncated when cut at ${cut} of 74`, () => {
      throwsKind(() => parseAlert(fromHex(SAMPLE_HEX.slice(0, cut * 2))), "truncated");
    });
  }

  it("parseAlert refuses too many cancelled IDs or sub-versions", () => {
    const head = SAMPLE_HEX.slice(0, 28 * 2);
    // 0x7fffdf cancelled IDs, far over the limit.
    throwsKind(() => parseAlert(fromHex(head + "fedfff7f00" + SAMPLE_HEX.slice(37 * 2))), "too-many-entries");
    // Exactly the limit is allowed; the input then ends.
    const atLimit = "fe" + toHex(new Uint8Array(new Uint32Array([MAX_COUNT_SET_CANCEL]).buffer));
    throwsKind(() => parseAlert(fromHex(head + atLimit + "00000000")), "truncated");
    const overLimit = "fe" + toHex(new Uint8Array(new Uint32Array([MAX_COUNT_SET_CANCEL + 1]).buffer));
    throwsKind(() => parseAlert(fromHex(head + overLimit)), "too-many-entries");

    const toSubVer = SAMPLE_HEX.slice(0, 45 * 2);
    throwsKind(() => parseAlert(fromHex(toSubVer + "fe00000200")), "too-many-entries");
    throwsKind(() => parseAlert(fromHex(toSubVer + "feffff0100")), "truncated");
  });

  it("parseAlert refuses a string longer than 32 MiB and non-canonical varints", () => {
    throwsKind(() => parseAlert(fromHex(SAMPLE_HEX.slice(0, 65 * 2) + "fe01000002")), "too-large");
    throwsKind(
      () => parseAlert(fromHex(SAMPLE_HEX.slice(0, 28 * 2) + "fd0200" + "f6030000ffffffff")),
      "non-canonical-varint",
    );
  });

  it("serializeAlert refuses too many cancelled IDs or sub-versions", () => {
    throwsKind(
      () => serializeAlert({ ...zeroAlert(), setCancel: new Array<number>(MAX_COUNT_SET_CANCEL + 1) }),
      "too-many-entries",
    );
    throwsKind(
      () => serializeAlert({ ...zeroAlert(), setSubVer: new Array<string>(MAX_COUNT_SET_SUB_VER + 1) }),
      "too-many-entries",
    );
  });

  it("serializeAlert refuses out-of-range numbers", () => {
    throwsKind(() => serializeAlert({ ...zeroAlert(), id: 2 ** 31 }), "invalid-value");
    throwsKind(() => serializeAlert({ ...zeroAlert(), relayUntil: 1n << 63n }), "invalid-value");
    throwsKind(() => serializeAlert({ ...zeroAlert(), setCancel: [0.5] }), "invalid-value");
  });
});

describe("alert codec", () => {
  const rawHex = "0c" + ascii("some payload") + "07" + ascii("somesig");

  it("round-trips an unparseable payload unchanged, with payload null", () => {
    for (const pver of [PROTOCOL_VERSION, BIP0031_VERSION, MULTIPLE_ADDRESS_VERSION, 0]) {
      const msg = decode(rawHex, pver);
      assert.deepEqual(msg, {
        command: "alert",
        serializedPayload: new TextEncoder().encode("some payload"),
        signature: new TextEncoder().encode("somesig"),
        payload: null,
      });
      assert.equal(encode(msg, pver), rawHex);
    }
  });

  it("encodes the raw payload when payload is null", () => {
    const msg: AlertMessage = {
      command: "alert",
      serializedPayload: new TextEncoder().encode("some message"),
      signature: new TextEncoder().encode("some sig"),
      payload: null,
    };
    assert.equal(encode(msg), "0c" + ascii("some message") + "08" + ascii("some sig"));
  });

  it("encodes the serialized payload instead of the raw bytes when payload is set", () => {
    const msg: AlertMessage = {
      command: "alert",
      serializedPayload: new TextEncoder().encode("some message"),
      signature: new TextEncoder().encode("some sig"),
      payload: zeroAlert(),
    };
    assert.equal(encode(msg), "2d" + "00".repeat(45) + "08" + ascii("some sig"));
  });

  it("decodes a structured payload and round-trips it", () => {
    const hex = "4a" + SAMPLE_HEX + "03" + "aabbcc";
    const msg = decode(hex);
    assert.deepEqual(msg.payload, sampleAlert());
    assert.equal(toHex(msg.serializedPayload), SAMPLE_HEX);
    assert.equal(toHex(msg.signature), "aabbcc");
    assert.equal(encode(msg), hex);
  });

  it("returns the payload and signature as views into the input", () => {
    const input = fromHex(rawHex);
    const msg = decode(input);
    assert.equal(msg.serializedPayload.buffer, input.buffer);
    assert.equal(msg.serializedPayload.byteOffset, 1);
    assert.equal(msg.signature.buffer, input.buffer);
  });

  it("drops bytes after a parseable payload on re-encode", () => {
    const msg = decode("4c" + SAMPLE_HEX + "0909" + "00");
    assert.deepEqual(msg.payload, sampleAlert());
    assert.equal(toHex(msg.serializedPayload), SAMPLE_HEX + "0909");
    assert.equal(encode(msg), "4a" + SAMPLE_HEX + "00");
  });

  it("swallows a payload with too many cancelled IDs", () => {
    const inner = "01" + "00".repeat(27) + "feffffffff" + "";
    const hex = "21" + inner + "00";
    const msg = decode(hex);
    assert.equal(msg.payload, null);
    assert.equal(toHex(msg.serializedPayload), inner);
    assert.equal(encode(msg), hex);
  });

  it("decodes an empty payload but refuses to encode it", () => {
    const msg = decode("0000");
    assert.deepEqual(msg, {
      command: "alert",
      serializedPayload: new Uint8Array(0),
      signature: new Uint8Array(0),
      payload: null,
    });
    throwsKind(() => encode(msg), "invalid-value");
    assert.throws(() => encode(msg), /empty serialized payload/);
  });

  it("encodes a set payload even when the raw bytes are empty", () => {
    const msg: AlertMessage = {
      command: "alert",
      serializedPayload: new Uint8Array(0),
      signature: new Uint8Array(0),
      payload: zeroAlert(),
    };
    assert.equal(encode(msg), "2d" + "00".repeat(45) + "00");
  });

  it("falls back to the raw bytes when the payload exceeds a list limit", () => {
    const msg: AlertMessage = {
      command: "alert",
      serializedPayload: new TextEncoder().encode("some payload"),
      signature: new TextEncoder().encode("somesig"),
      payload: { ...zeroAlert(), setCancel: new Array<number>(MAX_COUNT_SET_CANCEL + 1) },
    };
    assert.equal(encode(msg), rawHex);
    msg.payload = { ...zeroAlert(), setSubVer: new Array<string>(MAX_COUNT_SET_SUB_VER + 1) };
    assert.equal(encode(msg), rawHex);
    msg.serializedPayload = new Uint8Array(0);
    throwsKind(() => encode(msg), "invalid-value");
  });

  it("does not hide out-of-range payload values", () => {
    const msg: AlertMessage = {
      command: "alert",
      serializedPayload: new TextEncoder().encode("some payload"),
      signature: new Uint8Array(0),
      payload: { ...zeroAlert(), priority: 2 ** 31 },
    };
    throwsKind(() => encode(msg), "invalid-value");
  });

  for (const cut of [0, 1, 5, 13, 14, 19]) {
    it(`fails with truncated when cut at ${cut} of 21`, () => {
      throwsKind(() => decode(rawHex.slice(0, cut * 2)), "truncated");
    });
  }

  it("refuses lengths beyond 32 MiB", () => {
    throwsKind(() => decode("fe01000002"), "too-large");
    throwsKind(() => decode("0c" + ascii("some payload") + "fe01000002"), "too-large");
  });

  it("refuses a non-canonical length", () => {
    throwsKind(() => decode("fd0c00" + ascii("some payload") + "00"), "non-canonical-varint");
  });
});
