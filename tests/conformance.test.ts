// Conformance with soterd: every golden vector decodes to the recorded
// fields and re-encodes to the recorded bytes; every error vector fails with
// the recorded kind. The vectors live outside the repository, in
// ../shared/vectors (or $SOTER_VECTORS_DIR); without them this file skips.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import process from "node:process";
import { fileURLToPath } from "node:url";
import {
  blockHash,
  type Command,
  decodeMessage,
  decodePayload,
  doubleSha256,
  encodeMessage,
  encodePayload,
  FrameDecoder,
  fromHex,
  hashToHex,
  ipToString,
  type Message,
  MessageError,
  readBlockHeader,
  Reader,
  sha256,
  toHex,
  txHash,
  txWitnessHash,
} from "../mod.ts";
import type { MessageEncoding } from "../mod.ts";

const dir = process.env.SOTER_VECTORS_DIR ??
  fileURLToPath(new URL("../../shared/vectors/", import.meta.url));
const present = existsSync(`${dir}/messages.json`);
if (!present) {
  console.log(`conformance: skipped, no golden vectors at ${dir} (set SOTER_VECTORS_DIR to run them)`);
}
const skip = present ? false : `no golden vectors at ${dir}`;

// deno-lint-ignore no-explicit-any
type Json = any;
function load(name: string): Json[] {
  if (!present) return [];
  return JSON.parse(readFileSync(`${dir}/${name}.json`, "utf8")).vectors;
}

const HASH_KEYS = new Set([
  "prevBlock",
  "merkleRoot",
  "hash",
  "hashStop",
  "genesisHash",
  "stopHash",
  "blockHash",
  "prevFilterHeader",
  "filterHashes",
  "filterHeaders",
  "hashes",
]);

/** Converts a decoded value to the JSON conventions of the vectors. */
function toFields(value: unknown, key = "", command = "", pver = 70013): Json {
  if (typeof value === "bigint") {
    return command === "version" && key === "timestamp" ? Number(value) : value.toString();
  }
  if (value instanceof Uint8Array) {
    if (key === "ip") return value.length === 0 ? null : ipToString(value);
    return HASH_KEYS.has(key) ? hashToHex(value) : toHex(value);
  }
  if (Array.isArray(value)) return value.map((v) => toFields(v, key, command, pver));
  if (value !== null && typeof value === "object") {
    const out: Record<string, Json> = {};
    // Network addresses carry a timestamp only in addr/addrcache from pver 31402.
    const timestamped = (command === "addr" || command === "addrcache") && pver >= 31402;
    const isAddress = "ip" in value && "port" in value;
    for (const [k, v] of Object.entries(value)) {
      if (k === "command" || (isAddress && k === "timestamp" && !timestamped)) continue;
      out[k] = toFields(v, k, command, pver);
    }
    return out;
  }
  return value;
}

function derived(msg: Message): Json {
  switch (msg.command) {
    case "tx":
      return { txid: hashToHex(txHash(msg)), wtxid: hashToHex(txWitnessHash(msg)) };
    case "block":
      return {
        blockHash: hashToHex(blockHash(msg.header)),
        txids: msg.transactions.map((t) => hashToHex(txHash(t))),
        wtxids: msg.transactions.map((t) => hashToHex(txWitnessHash(t))),
      };
    case "headers":
      return { blockHashes: msg.headers.map((h) => hashToHex(blockHash(h))) };
    case "merkleblock":
      return { blockHash: hashToHex(blockHash(msg.header)) };
    default:
      return undefined;
  }
}

/**
 * The kind a vector expects. Go's exact error string is the ground truth:
 * where the generator's label disagrees with the error soterd actually
 * returned (a frame refused by its header before the payload is read), the
 * error string wins.
 */
function expectedKind(v: Json): string {
  if (/^ReadMessage: payload exceeds max length/.test(v.error)) return "payload-too-long";
  return v.kind;
}

function opts(v: Json) {
  return { magic: v.magic, pver: v.pver, encoding: v.encoding as MessageEncoding };
}

describe("conformance with soterd's golden vectors", { skip }, () => {
  const messages = load("messages");

  it("decodes every message payload to the recorded fields and re-encodes it byte for byte", () => {
    for (const v of messages) {
      const payload = fromHex(v.payload_hex);
      // Encoded before anything is read (a block then copies its transactions' bytes).
      const untouched = decodePayload(v.command as Command, payload, v.pver, v.encoding);
      assert.equal(toHex(encodePayload(untouched, v.pver, v.encoding)), v.payload_hex, `${v.id}, untouched`);
      const msg = decodePayload(v.command as Command, payload, v.pver, v.encoding);
      assert.equal(msg.command, v.command, v.id);
      assert.deepStrictEqual(toFields(msg, "", v.command, v.pver), v.fields, v.id);
      if (v.derived) assert.deepStrictEqual(derived(msg), v.derived, v.id);
      assert.equal(toHex(encodePayload(msg, v.pver, v.encoding)), v.payload_hex, v.id);
    }
  });

  it("reads every frame and writes it back byte for byte", () => {
    for (const v of messages) {
      const frame = fromHex(v.frame_hex);
      const { message, bytes } = decodeMessage(frame, opts(v));
      assert.equal(bytes, frame.length, v.id);
      assert.deepStrictEqual(toFields(message, "", v.command, v.pver), v.fields, v.id);
      assert.equal(toHex(encodeMessage(message, opts(v))), v.frame_hex, v.id);
    }
  });

  it("decodes the frames of each network as one stream cut into random chunks", () => {
    let seed = 12345;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const byMagic = new Map<number, Json[]>();
    for (const v of messages) {
      if (v.pver !== 70013 || v.encoding !== "witness") continue;
      byMagic.set(v.magic, [...(byMagic.get(v.magic) ?? []), v]);
    }
    for (const [magic, vs] of byMagic) {
      const all = fromHex(vs.map((v) => v.frame_hex).join(""));
      const dec = new FrameDecoder({ magic, pver: 70013, encoding: "witness" });
      const got: Json[] = [];
      for (let i = 0; i < all.length;) {
        const n = 1 + rand(rand(4) === 0 ? 5000 : 40);
        dec.push(all.slice(i, i + n));
        i += n;
        for (let f = dec.next(); f; f = dec.next()) got.push(toFields(f.message, "", f.message.command));
      }
      dec.end();
      assert.deepStrictEqual(got, vs.map((v) => v.fields));
    }
  });

  it("fails on every error vector with the recorded kind", () => {
    for (const v of load("errors")) {
      const input = fromHex(v.input_hex);
      assert.throws(
        () => {
          if (v.function === "SotoDecode") decodePayload(v.command, input, v.pver, v.encoding);
          else decodeMessage(input, opts(v));
        },
        (err: unknown) => {
          assert.ok(err instanceof MessageError, `${v.id}: ${err}`);
          assert.equal(err.kind, expectedKind(v), `${v.id}: ${err.message}`);
          return true;
        },
        v.id,
      );
    }
  });

  it("fails on every error frame in the stream decoder with the recorded kind", () => {
    for (const v of load("errors")) {
      // An empty stream is a clean end for a stream decoder, not an error.
      if (v.function !== "ReadMessageWithEncodingN" || v.input_hex === "") continue;
      const dec = new FrameDecoder(opts(v));
      dec.push(fromHex(v.input_hex));
      assert.throws(
        () => {
          dec.next();
          dec.end();
        },
        (err: unknown) => err instanceof MessageError && err.kind === expectedKind(v),
        v.id,
      );
    }
  });

  it("accepts every tolerance vector as soterd does", () => {
    for (const v of load("tolerance")) {
      const input = fromHex(v.input_hex);
      const decode = () =>
        v.function === "SotoDecode"
          ? decodePayload(v.command, input, v.pver, v.encoding)
          : decodeMessage(input, opts(v)).message;
      const msg = decode();
      assert.deepStrictEqual(toFields(msg, "", v.command, v.pver), v.fields, v.id);
      if (v.reencoded_payload_hex !== null) {
        assert.equal(toHex(encodePayload(msg, v.pver, v.encoding)), v.reencoded_payload_hex, v.id);
        // Encoded before anything is read (a block then copies its transactions' bytes).
        assert.equal(toHex(encodePayload(decode(), v.pver, v.encoding)), v.reencoded_payload_hex, `${v.id}, untouched`);
      }
      if (v.reencode_error !== null) {
        assert.throws(() => encodePayload(msg, v.pver, v.encoding), MessageError, v.id);
      }
    }
  });

  it("computes every hash vector", () => {
    for (const v of load("hashes")) {
      const input = fromHex(v.input_hex);
      let digest: Uint8Array;
      if (v.kind === "HashB") digest = sha256(input);
      else if (v.kind === "DoubleHashB") digest = doubleSha256(input);
      else {
        const header = readBlockHeader(new Reader(input, "block header"));
        assert.deepStrictEqual(toFields(header), v.fields, v.id);
        digest = blockHash(header);
      }
      assert.equal(toHex(digest), v.digest_hex, v.id);
      assert.equal(hashToHex(digest), v.hash_string, v.id);
    }
  });
});
