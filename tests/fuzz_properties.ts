// The fuzzing properties of the wire codec, shared by tests/fuzz.test.ts
// (CI-sized runs with a fixed seed) and bench/fuzz.ts (long runs with random
// seeds). Not a test file.
//
// Every property throws on failure: a non-MessageError exception escaping
// the codec is wrapped in an Error naming it, everything else is an
// assertion of node:assert/strict.
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  BIP0037_VERSION,
  codecOf,
  type Command,
  decodeMessage,
  decodePayload,
  doubleSha256,
  encodeMessage,
  encodePayload,
  FrameDecoder,
  MAX_ADDR_PER_MSG,
  MAX_BLOCK_HEADERS_PER_MSG,
  MAX_CFCHECKPT_HEADERS,
  MAX_CFHEADERS_PER_MSG,
  MAX_CFILTER_DATA_SIZE,
  MAX_FILTER_ADD_DATA_SIZE,
  MAX_FILTER_LOAD_FILTER_SIZE,
  MAX_FLAGS_PER_MERKLE_BLOCK,
  MAX_INV_PER_MSG,
  MAX_MESSAGE_PAYLOAD,
  MAX_TX_IN_PER_MESSAGE,
  MAX_TX_OUT_PER_MESSAGE,
  MAX_TX_PER_BLOCK,
  MAX_WITNESS_ITEM_SIZE,
  MAX_WITNESS_ITEMS_PER_INPUT,
  type Message,
  MESSAGE_HEADER_SIZE,
  MessageDecoderStream,
  type MessageEncoding,
  MessageError,
  NET_ADDRESS_TIME_VERSION,
  SoterNet,
} from "../mod.ts";
import {
  anyCaseArb,
  type Case,
  casesOf,
  COUNTED_COMMANDS,
  encodingArb,
  pverArb,
  streamArb,
  type StreamCase,
} from "./arbitraries.ts";
import { allocatingByInput, concat, frameOf } from "./_util.ts";

// ---- outcomes ----

/** What decoding gave: a message, or the kind of the MessageError thrown. */
export type Outcome = { message: Message } | { kind: string };

/**
 * Runs a decode, turning a `MessageError` into its kind. Any other
 * exception is a bug: it is rethrown wrapped in an Error that names it.
 *
 * @param fn The decode.
 */
export function outcome(fn: () => Message): Outcome {
  try {
    return { message: fn() };
  } catch (err) {
    if (err instanceof MessageError) return { kind: err.kind };
    if (err instanceof assert.AssertionError) throw err;
    throw notMessageError(err);
  }
}

/** Wraps an exception that is not a MessageError. */
export function notMessageError(err: unknown): Error {
  const what = err instanceof Error ? (err.stack ?? `${err.name}: ${err.message}`) : String(err);
  return new Error(`The codec threw something other than a MessageError: ${what}`, { cause: err });
}

// ---- frames and checksums ----

/** The four network magics. */
export const MAGICS: readonly number[] = Object.values(SoterNet);
/** One of the four network magics. */
export const magicArb: fc.Arbitrary<number> = fc.constantFrom(...MAGICS);

function lengthAt(buf: Uint8Array, off: number): number {
  return new DataView(buf.buffer, buf.byteOffset + off + 16, 4).getUint32(0, true);
}

/**
 * Rewrites the checksum of the frame at `off` to match its payload, if the
 * header and the declared payload are all there.
 *
 * @param buf The bytes (modified in place).
 * @param off Where the frame starts.
 * @returns Where the frame ends, or -1 when it is not complete.
 */
export function fixChecksum(buf: Uint8Array, off = 0): number {
  if (buf.length - off < MESSAGE_HEADER_SIZE) return -1;
  const length = lengthAt(buf, off);
  const end = off + MESSAGE_HEADER_SIZE + length;
  if (length > MAX_MESSAGE_PAYLOAD || end > buf.length) return -1;
  buf.set(doubleSha256(buf.subarray(off + MESSAGE_HEADER_SIZE, end)).subarray(0, 4), off + 20);
  return end;
}

/**
 * Rewrites the checksum of every complete frame of a stream, so that
 * mutated payloads reach the payload decoders.
 *
 * @param buf The stream (modified in place).
 */
export function fixAllChecksums(buf: Uint8Array): void {
  let off = 0;
  for (;;) {
    const end = fixChecksum(buf, off);
    if (end < 0) return;
    off = end;
  }
}

// ---- mutations ----

/**
 * Counts and lengths worth forging: each limit and one above it, the
 * varint discriminant boundaries, and huge values.
 */
export const FORGED_COUNTS: readonly bigint[] = [
  0,
  1,
  2,
  0xfc,
  0xfd,
  0xff,
  0xffff,
  0x10000,
  MAX_FILTER_ADD_DATA_SIZE,
  MAX_ADDR_PER_MSG,
  MAX_BLOCK_HEADERS_PER_MSG,
  MAX_CFHEADERS_PER_MSG,
  MAX_WITNESS_ITEM_SIZE,
  MAX_FILTER_LOAD_FILTER_SIZE,
  MAX_INV_PER_MSG,
  MAX_FLAGS_PER_MERKLE_BLOCK,
  MAX_CFCHECKPT_HEADERS,
  MAX_CFILTER_DATA_SIZE,
  MAX_TX_PER_BLOCK,
  MAX_WITNESS_ITEMS_PER_INPUT,
  MAX_TX_IN_PER_MESSAGE,
  MAX_TX_OUT_PER_MESSAGE,
  131_071, // alert sub-versions
  8_388_574, // alert cancelled IDs
  MAX_MESSAGE_PAYLOAD,
  0xffff_ffff,
  Number.MAX_SAFE_INTEGER,
].flatMap((n) => [BigInt(n), BigInt(n) + 1n]).concat([1n << 63n, (1n << 64n) - 1n]);

/** A forged count: one of {@linkcode FORGED_COUNTS} or any uint64. */
export const forgedCountArb: fc.Arbitrary<bigint> = fc.oneof(
  { arbitrary: fc.constantFrom(...FORGED_COUNTS), weight: 3 },
  { arbitrary: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), weight: 1 },
);

/** Int32 values worth forging as a sub-header count. */
const forgedInt32Arb: fc.Arbitrary<number> = fc.oneof(
  fc.constantFrom(0, 1, 8, 9, 42, 50_000, 0x7fff_ffff, -1, -0x8000_0000),
  fc.integer({ min: -0x8000_0000, max: 0x7fff_ffff }),
);

/**
 * Encodes a varint of `value` on `width` bytes (1, 3, 5 or 9), or on its
 * canonical width when that is larger or `width` is 0.
 *
 * @param value The value (a uint64).
 * @param width The width wanted; widening gives a non-canonical varint.
 */
export function varIntBytes(value: bigint, width: number): Uint8Array {
  const canonical = value < 0xfdn ? 1 : value <= 0xffffn ? 3 : value <= 0xffff_ffffn ? 5 : 9;
  const w = Math.max(width, canonical);
  const out = new Uint8Array(w);
  const view = new DataView(out.buffer);
  if (w === 1) out[0] = Number(value);
  else if (w === 3) {
    out[0] = 0xfd;
    view.setUint16(1, Number(value), true);
  } else if (w === 5) {
    out[0] = 0xfe;
    view.setUint32(1, Number(value), true);
  } else {
    out[0] = 0xff;
    view.setBigUint64(1, value, true);
  }
  return out;
}

/** One change to a byte string. Positions wrap around its length. */
export type Mutation =
  | { op: "flip"; at: number; bit: number }
  | { op: "set"; at: number; value: number }
  | { op: "truncate"; at: number }
  | { op: "append"; bytes: Uint8Array }
  | { op: "insert"; at: number; bytes: Uint8Array }
  | { op: "delete"; at: number; length: number }
  | { op: "duplicate"; at: number; length: number }
  | { op: "varint"; at: number; value: bigint; width: number; replace: boolean }
  | { op: "int32"; at: number; value: number };

const atArb = fc.nat({ max: 1 << 24 });
const garbageArb = fc.oneof(
  fc.uint8Array({ minLength: 1, maxLength: 16 }),
  fc.uint8Array({ minLength: 1, maxLength: 4 }).map((b) => b.map((x) => (x & 1 ? 0xff : 0))),
);

/** Any one mutation. */
export const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant("flip" as const), at: atArb, bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({
    op: fc.constant("set" as const),
    at: atArb,
    value: fc.oneof(fc.constantFrom(0, 1, 0xfd, 0xfe, 0xff), fc.integer({ min: 0, max: 255 })),
  }),
  fc.record({ op: fc.constant("truncate" as const), at: atArb }),
  fc.record({ op: fc.constant("append" as const), bytes: garbageArb }),
  fc.record({ op: fc.constant("insert" as const), at: atArb, bytes: garbageArb }),
  fc.record({ op: fc.constant("delete" as const), at: atArb, length: fc.integer({ min: 1, max: 40 }) }),
  fc.record({ op: fc.constant("duplicate" as const), at: atArb, length: fc.integer({ min: 1, max: 100 }) }),
  fc.record({
    op: fc.constant("varint" as const),
    at: atArb,
    value: forgedCountArb,
    width: fc.constantFrom(0, 0, 1, 3, 5, 9),
    replace: fc.boolean(),
  }),
  fc.record({ op: fc.constant("int32" as const), at: atArb, value: forgedInt32Arb }),
);

/** One to four mutations, applied in order. */
export const mutationsArb: fc.Arbitrary<Mutation[]> = fc.array(mutationArb, { minLength: 1, maxLength: 4 });

function varIntSizeAt(buf: Uint8Array, at: number): number {
  const d = buf[at];
  if (d === undefined) return 0;
  const n = d < 0xfd ? 1 : d === 0xfd ? 3 : d === 0xfe ? 5 : 9;
  return Math.min(n, buf.length - at);
}

/**
 * Applies one mutation to a copy of `buf`.
 *
 * @param buf The bytes (not modified).
 * @param m The mutation.
 * @returns The mutated bytes.
 */
export function mutate(buf: Uint8Array, m: Mutation): Uint8Array {
  const len = buf.length;
  switch (m.op) {
    case "flip":
    case "set": {
      if (len === 0) return buf.slice();
      const out = buf.slice();
      const i = m.at % len;
      out[i] = m.op === "flip" ? out[i]! ^ (1 << m.bit) : m.value;
      return out;
    }
    case "truncate":
      return buf.slice(0, m.at % (len + 1));
    case "append":
      return concat([buf, m.bytes]);
    case "insert": {
      const i = m.at % (len + 1);
      return concat([buf.subarray(0, i), m.bytes, buf.subarray(i)]);
    }
    case "delete": {
      const i = m.at % (len + 1);
      return concat([buf.subarray(0, i), buf.subarray(i + m.length)]);
    }
    case "duplicate": {
      const i = m.at % (len + 1);
      const j = Math.min(len, i + m.length);
      return concat([buf.subarray(0, j), buf.subarray(i, j), buf.subarray(j)]);
    }
    case "varint": {
      const i = m.at % (len + 1);
      const old = m.replace ? varIntSizeAt(buf, i) : 0;
      return concat([buf.subarray(0, i), varIntBytes(m.value, m.width), buf.subarray(i + old)]);
    }
    case "int32": {
      const i = m.at % (len + 1);
      const b = new Uint8Array(4);
      new DataView(b.buffer).setInt32(0, m.value, true);
      return concat([buf.subarray(0, i), b, buf.subarray(i + 4)]);
    }
  }
}

/**
 * Applies mutations in order to a copy of `buf`.
 *
 * @param buf The bytes (not modified).
 * @param ms The mutations.
 */
export function mutateAll(buf: Uint8Array, ms: readonly Mutation[]): Uint8Array {
  let out = buf;
  for (const m of ms) out = mutate(out, m);
  return out === buf ? buf.slice() : out;
}

// ---- where the counts are ----

/** A count or length field in a payload. */
export interface CountField {
  /** Its offset in the payload. */
  at: number;
  /** A varint, or a fixed int32 (the block sub-header counts). */
  type: "varint" | "int32";
}

/** A cursor over a valid payload that notes where its counts are. */
class Walker {
  pos = 0;
  readonly fields: CountField[] = [];
  constructor(readonly buf: Uint8Array) {}
  skip(n: number): void {
    this.pos += n;
  }
  /** Notes a varint here and returns its value. */
  varInt(): number {
    const at = this.pos;
    this.fields.push({ at, type: "varint" });
    const d = this.buf[at]!;
    const view = new DataView(this.buf.buffer, this.buf.byteOffset);
    if (d < 0xfd) {
      this.pos += 1;
      return d;
    }
    if (d === 0xfd) {
      this.pos += 3;
      return view.getUint16(at + 1, true);
    }
    this.pos += 5; // no valid count here needs more than 32 bits
    return view.getUint32(at + 1, true);
  }
  /** Notes an int32 count here and returns its value. */
  int32(): number {
    const at = this.pos;
    this.fields.push({ at, type: "int32" });
    this.pos += 4;
    return new DataView(this.buf.buffer, this.buf.byteOffset).getInt32(at, true);
  }
  varBytes(): void {
    this.skip(this.varInt());
  }
  list(size: number): void {
    this.skip(this.varInt() * size);
  }
  tx(encoding: MessageEncoding): void {
    this.skip(4);
    const witness = encoding === "witness" && this.buf[this.pos] === 0 && this.buf[this.pos + 1] === 1;
    if (witness) this.skip(2);
    const inputs = this.varInt();
    for (let i = 0; i < inputs; i++) {
      this.skip(36);
      this.varBytes();
      this.skip(4);
    }
    const outputs = this.varInt();
    for (let i = 0; i < outputs; i++) {
      this.skip(8);
      this.varBytes();
    }
    if (witness) {
      for (let i = 0; i < inputs; i++) {
        const items = this.varInt();
        for (let j = 0; j < items; j++) this.varBytes();
      }
    }
    this.skip(4);
  }
}

/**
 * Finds every count and length field of a valid payload by walking its
 * layout (independently of the decoders): varint counts and lengths, and
 * the two int32 counts of a block's sub-headers.
 *
 * @param command The command.
 * @param payload A valid payload of `command`.
 * @param pver The protocol version.
 * @param encoding The encoding.
 */
export function countFields(
  command: Command,
  payload: Uint8Array,
  pver: number,
  encoding: MessageEncoding,
): CountField[] {
  const w = new Walker(payload);
  const addrSize = pver >= NET_ADDRESS_TIME_VERSION ? 30 : 26;
  switch (command) {
    case "version":
      w.skip(80);
      w.varBytes();
      w.skip(32 + 4 + (pver >= BIP0037_VERSION ? 1 : 0));
      break;
    case "addr":
      w.list(addrSize);
      break;
    case "addrcache":
      w.list(addrSize);
      w.list(addrSize);
      w.list(addrSize);
      break;
    case "getblocks":
    case "getheaders":
      w.skip(4);
      w.list(4);
      w.skip(32);
      break;
    case "inv":
    case "getdata":
    case "notfound":
      w.list(40);
      break;
    case "block": {
      w.skip(84);
      w.skip(w.int32() * 64 + 4);
      w.skip(w.int32() * 4);
      const txs = w.varInt();
      for (let i = 0; i < txs; i++) w.tx(encoding);
      break;
    }
    case "tx":
      w.tx(encoding);
      break;
    case "headers": {
      const n = w.varInt();
      for (let i = 0; i < n; i++) {
        w.skip(80);
        w.varInt();
      }
      break;
    }
    case "alert": {
      const n = w.varInt();
      const end = w.pos + n;
      if (n >= 45) {
        w.skip(28);
        w.list(4);
        w.skip(8);
        const subVers = w.varInt();
        for (let i = 0; i < subVers; i++) w.varBytes();
        w.skip(4);
        w.varBytes();
        w.varBytes();
        w.varBytes();
      }
      w.pos = end;
      w.varBytes();
      break;
    }
    case "filteradd":
      w.varBytes();
      break;
    case "filterload":
      w.varBytes();
      w.skip(9);
      break;
    case "merkleblock":
      w.skip(84);
      w.list(32);
      w.varBytes();
      break;
    case "reject": {
      const n = w.varInt();
      const cmd = new TextDecoder().decode(payload.subarray(w.pos, w.pos + n));
      w.skip(n + 1);
      w.varBytes();
      if (cmd === "block" || cmd === "tx") w.skip(32);
      break;
    }
    case "cfilter":
      w.skip(33);
      w.varBytes();
      break;
    case "cfheaders":
      w.skip(65);
      w.list(32);
      break;
    case "cfcheckpt":
      w.skip(33);
      w.list(32);
      break;
    default: // no count
      w.pos = payload.length;
  }
  assert.equal(w.pos, payload.length, `the layout walk of ${command} ends at ${w.pos}, not ${payload.length}`);
  return w.fields;
}

// ---- properties ----

/** A named property with the arbitrary it runs on. */
export interface FuzzProperty<T> {
  /** What it checks. */
  name: string;
  /** The inputs. */
  arb: fc.Arbitrary<T>;
  /** Throws when the property fails. */
  check: (input: T) => void;
}

/** Turns a {@linkcode FuzzProperty} into a fast-check property. */
export function toProperty<T>(p: FuzzProperty<T>): fc.IPropertyWithHooks<[T]> {
  return fc.property(p.arb, p.check);
}

/**
 * Encodes a case's message and decodes it back, as a payload and as a
 * frame, and checks that the result deep-equals the message and that the
 * decoded message encodes to the same bytes.
 *
 * @param c The case.
 * @param magic The network magic.
 */
export function checkRoundTrip(c: Case, magic: number): void {
  const { message, pver, encoding } = c;
  const payload = encodePayload(message, pver, encoding);
  const decoded = decodePayload(message.command, payload, pver, encoding);
  assert.deepStrictEqual(decoded, message);
  assert.deepStrictEqual(encodePayload(decoded, pver, encoding), payload);
  const opts = { magic, pver, encoding };
  const frame = encodeMessage(message, opts);
  assert.equal(frame.length, MESSAGE_HEADER_SIZE + payload.length);
  assert.deepStrictEqual(frame.subarray(MESSAGE_HEADER_SIZE), payload);
  const framed = decodeMessage(frame, opts);
  assert.equal(framed.bytes, frame.length);
  assert.deepStrictEqual(framed.message, message);
}

/**
 * A transaction without inputs, in the witness encoding, reads as the BIP
 * 144 marker: soterd cannot round-trip it either.
 */
function hasMarkerAmbiguity(msg: Message, encoding: MessageEncoding): boolean {
  if (encoding !== "witness") return false;
  if (msg.command === "tx") return msg.txIn.length === 0;
  if (msg.command === "block") return msg.transactions.some((tx) => tx.txIn.length === 0);
  return false;
}

/**
 * Checks that a decoded message re-encodes (or fails with a MessageError),
 * and that one decode-encode step reaches a fixed point: what it encodes to
 * decodes and encodes to the same bytes.
 *
 * @param msg A decoded message.
 * @param pver The protocol version.
 * @param encoding The encoding.
 */
export function checkReencode(msg: Message, pver: number, encoding: MessageEncoding): void {
  let bytes: Uint8Array;
  try {
    bytes = encodePayload(msg, pver, encoding);
  } catch (err) {
    if (err instanceof MessageError) return;
    throw notMessageError(err);
  }
  if (hasMarkerAmbiguity(msg, encoding)) return;
  const again = outcome(() => decodePayload(msg.command, bytes, pver, encoding));
  if (!("message" in again)) assert.fail(`the re-encoded ${msg.command} does not decode: ${again.kind}`);
  assert.deepStrictEqual(encodePayload(again.message, pver, encoding), bytes);
}

/** Inputs of {@linkcode payloadMutation}. */
export interface PayloadMutationInput {
  /** The valid case mutated. */
  c: Case;
  /** The magic of the frame. */
  magic: number;
  /** The mutations of the payload. */
  mutations: Mutation[];
  /** Another protocol version and encoding to decode the payload at. */
  other: { pver: number; encoding: MessageEncoding };
}

/**
 * Mutated payloads, framed with the right length and checksum so that the
 * payload decoder is reached: decodePayload and decodeMessage agree, only
 * ever throw MessageError, and what decodes re-encodes.
 */
export const payloadMutation: FuzzProperty<PayloadMutationInput> = {
  name: "mutated payloads (checksum recomputed) only throw MessageError",
  arb: fc.record({
    c: anyCaseArb,
    magic: magicArb,
    mutations: mutationsArb,
    other: fc.record({ pver: pverArb(), encoding: encodingArb }),
  }),
  check({ c, magic, mutations, other }) {
    const { message, pver, encoding } = c;
    const command = message.command;
    const payload = mutateAll(encodePayload(message, pver, encoding), mutations);
    const direct = outcome(() => decodePayload(command, payload, pver, encoding));
    const framed = outcome(() => decodeMessage(frameOf(command, payload, magic), { magic, pver, encoding }).message);
    if (!("kind" in framed && framed.kind === "payload-too-long")) assert.deepStrictEqual(framed, direct);
    if ("message" in direct) checkReencode(direct.message, pver, encoding);
    // The same bytes at a protocol version or encoding they were not made for.
    const cross = outcome(() => decodePayload(command, payload, other.pver, other.encoding));
    if ("message" in cross) checkReencode(cross.message, other.pver, other.encoding);
  },
};

/** Inputs of {@linkcode forgedCount}. */
export interface ForgedCountInput {
  /** The valid case. */
  c: Case;
  /** Which count field to forge (modulo their number). */
  which: number;
  /** The forged varint value. */
  value: bigint;
  /** The forged varint width (0 for canonical). */
  width: number;
  /** The forged value of an int32 count. */
  int32: number;
}

/**
 * Forged varint counts and lengths (and a block's int32 counts) in valid
 * payloads, at the positions a walk of the layout finds: decoding only
 * throws MessageError, allocates in proportion to the payload whatever the
 * count (nothing per declared entry), and what decodes re-encodes. (The limit of each count is checked
 * one by one in tests/fuzz.test.ts.)
 */
export const forgedCount: FuzzProperty<ForgedCountInput> = {
  name: "forged counts and lengths only throw MessageError, allocating by the payload",
  arb: fc.record({
    c: casesOf(COUNTED_COMMANDS),
    which: fc.nat(),
    value: forgedCountArb,
    width: fc.constantFrom(0, 0, 1, 3, 5, 9),
    int32: forgedInt32Arb,
  }),
  check({ c, which, value, width, int32 }) {
    const { message, pver, encoding } = c;
    const command = message.command;
    const payload = encodePayload(message, pver, encoding);
    const fields = countFields(command, payload, pver, encoding);
    assert.ok(fields.length > 0);
    const f = fields[which % fields.length]!;
    const forged = f.type === "varint"
      ? mutate(payload, { op: "varint", at: f.at, value, width, replace: true })
      : mutate(payload, { op: "int32", at: f.at, value: int32 });
    const o = allocatingByInput(
      forged,
      `a forged ${command}`,
      () => outcome(() => decodePayload(command, forged, pver, encoding)),
    );
    if ("message" in o) checkReencode(o.message, pver, encoding);
  },
};

/** Inputs of {@linkcode frameMutation}. */
export interface FrameMutationInput {
  /** The valid case. */
  c: Case;
  /** The network magic. */
  magic: number;
  /** The mutations of the whole frame. */
  mutations: Mutation[];
  /** Whether to recompute the checksum after mutating. */
  fix: boolean;
}

/**
 * Mutated whole frames (header included), with or without the checksum
 * recomputed: decodeMessage returns a message read from at most the input,
 * or throws a MessageError.
 */
export const frameMutation: FuzzProperty<FrameMutationInput> = {
  name: "mutated frames only throw MessageError",
  arb: fc.record({ c: anyCaseArb, magic: magicArb, mutations: mutationsArb, fix: fc.boolean() }),
  check({ c, magic, mutations, fix }) {
    const opts = { magic, pver: c.pver, encoding: c.encoding };
    const frame = mutateAll(encodeMessage(c.message, opts), mutations);
    if (fix) fixChecksum(frame);
    outcome(() => {
      const r = decodeMessage(frame, opts);
      assert.ok(r.bytes <= frame.length);
      return r.message;
    });
  },
};

/** Inputs of {@linkcode forgedLength}. */
export interface ForgedLengthInput {
  /** The valid case. */
  c: Case;
  /** The network magic. */
  magic: number;
  /** The forged length, or a change of the real one. */
  length: { exact: number } | { delta: number };
  /** Whether to cut or pad the payload to the forged length and fix the checksum. */
  fit: boolean;
}

/**
 * Forged header lengths: decodeMessage and FrameDecoder refuse lengths
 * above 32 MiB and above the command's limit before reading the payload,
 * the decoder holds nothing of a frame before its payload arrives, and
 * nothing but MessageError is thrown.
 */
export const forgedLength: FuzzProperty<ForgedLengthInput> = {
  name: "forged frame lengths are checked before the payload is buffered",
  arb: fc.record({
    c: anyCaseArb,
    magic: magicArb,
    length: fc.oneof(
      {
        arbitrary: fc.record({
          exact: fc.oneof(
            fc.constantFrom(0, 1, MAX_MESSAGE_PAYLOAD, MAX_MESSAGE_PAYLOAD + 1, 0xffff_ffff),
            fc.integer({ min: 0, max: 0xffff_ffff }),
          ),
        }),
        weight: 10,
      },
      { arbitrary: fc.record({ delta: fc.integer({ min: -64, max: 64 }) }), weight: 10 },
      { arbitrary: fc.record({ delta: fc.integer({ min: 65, max: 70_000 }) }), weight: 10 },
      // Rare: hashing a megabyte is slow with the plain TypeScript SHA-256.
      { arbitrary: fc.record({ delta: fc.constant(1 << 20) }), weight: 1 },
    ),
    fit: fc.boolean(),
  }),
  check({ c, magic, length, fit }) {
    const { message, pver, encoding } = c;
    const opts = { magic, pver, encoding };
    const real = encodeMessage(message, opts);
    const realLength = real.length - MESSAGE_HEADER_SIZE;
    const forged = "exact" in length ? length.exact : Math.max(0, realLength + length.delta);
    let frame: Uint8Array;
    if (fit && forged <= realLength + (1 << 20)) {
      frame = new Uint8Array(MESSAGE_HEADER_SIZE + forged);
      frame.set(real.subarray(0, Math.min(real.length, frame.length)));
    } else {
      frame = real.slice();
    }
    new DataView(frame.buffer).setUint32(16, forged, true);
    if (fit) fixChecksum(frame);

    const max = codecOf(message.command).maxPayloadLength(pver);
    const expectKind = forged > MAX_MESSAGE_PAYLOAD ? "oversize-length" : forged > max ? "payload-too-long" : undefined;
    const o = outcome(() => decodeMessage(frame, opts).message);
    if (expectKind) assert.deepStrictEqual(o, { kind: expectKind });

    const dec = new FrameDecoder(opts);
    dec.push(frame.subarray(0, MESSAGE_HEADER_SIZE));
    const first = outcome(() => {
      const r = dec.next();
      if (r === undefined) throw new MessageError("truncated", "waiting");
      return r.message;
    });
    if (expectKind) {
      assert.deepStrictEqual(first, { kind: expectKind });
    } else if (forged === 0) {
      assert.deepStrictEqual(first, o);
    } else {
      // Header accepted: nothing is held until payload bytes arrive.
      assert.deepStrictEqual(first, { kind: "truncated" });
      assert.equal(dec.buffered, 0);
    }
    if (frame.length > MESSAGE_HEADER_SIZE) {
      dec.push(frame.subarray(MESSAGE_HEADER_SIZE));
      assert.ok(dec.buffered <= frame.length - MESSAGE_HEADER_SIZE);
      const r = outcome(() => dec.next()?.message ?? { command: "verack" });
      if (expectKind === "oversize-length") assert.deepStrictEqual(r, { kind: expectKind });
      // A whole frame decodes as decodeMessage decodes it.
      if (!expectKind && forged > 0 && frame.length >= MESSAGE_HEADER_SIZE + forged) assert.deepStrictEqual(r, o);
    }
    try {
      dec.end();
    } catch (err) {
      if (!(err instanceof MessageError)) throw notMessageError(err);
    }
  },
};

// ---- streams ----

/** Where to cut a stream: sorted cut points, or every byte on its own. */
export type Cuts = number[] | "bytes";

/** Cut points for a stream (wrapped around its length), sometimes every byte. */
export const cutsArb: fc.Arbitrary<Cuts> = fc.oneof(
  { arbitrary: fc.array(fc.nat({ max: 1 << 24 }), { maxLength: 24 }), weight: 8 },
  { arbitrary: fc.constant("bytes" as const), weight: 1 },
);

/**
 * Splits `stream` into chunks at the cut points.
 *
 * @param stream The bytes.
 * @param cuts Where to cut.
 */
export function chunk(stream: Uint8Array, cuts: Cuts): Uint8Array[] {
  if (cuts === "bytes") return Array.from(stream, (_, i) => stream.subarray(i, i + 1));
  const points = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const p of points) {
    out.push(stream.subarray(prev, p)); // empty chunks included on purpose
    prev = p;
  }
  out.push(stream.subarray(prev));
  return out;
}

/** One frame as the reference walk over a stream saw it. */
interface RefFrame {
  /** Where it starts. */
  start: number;
  /** Where it ends (start + 24 + declared length). */
  end: number;
  /** Whether its header fails a check (so the decoder skips it). */
  badHeader: boolean;
}

/** What decoding a whole stream gave. */
export interface StreamResult {
  /** One outcome per frame. */
  outcomes: Outcome[];
  /** The kind thrown by `end()`, or null. */
  tail: string | null;
}

const HEADER_KINDS = new Set(["bad-magic", "unknown-command", "invalid-command", "payload-too-long"]);

/**
 * Decodes a stream frame by frame with decodeMessage, the reference for
 * FrameDecoder, and records where each frame is.
 *
 * @param stream The stream.
 * @param opts The codec options.
 */
export function referenceDecode(
  stream: Uint8Array,
  opts: { magic: number; pver: number; encoding: MessageEncoding },
): StreamResult & { frames: RefFrame[] } {
  const outcomes: Outcome[] = [];
  const frames: RefFrame[] = [];
  let off = 0;
  while (stream.length - off >= MESSAGE_HEADER_SIZE) {
    const length = lengthAt(stream, off);
    if (length > MAX_MESSAGE_PAYLOAD) {
      outcomes.push({ kind: "oversize-length" });
      return { outcomes, tail: null, frames };
    }
    const end = off + MESSAGE_HEADER_SIZE + length;
    const o = outcome(() => decodeMessage(stream.subarray(off, Math.min(end, stream.length)), opts).message);
    const badHeader = "kind" in o && HEADER_KINDS.has(o.kind);
    frames.push({ start: off, end, badHeader });
    if (end > stream.length) {
      // The stream ends inside this frame: a bad header is reported at once,
      // a good one waits for bytes that never come.
      if (badHeader) outcomes.push(o);
      return { outcomes, tail: badHeader ? null : "truncated", frames };
    }
    outcomes.push(o);
    off = end;
  }
  return { outcomes, tail: off < stream.length ? "truncated" : null, frames };
}

/**
 * Feeds chunks to a FrameDecoder, draining it after each, and checks after
 * every drain that it never holds more than the frame being assembled
 * (nothing at all of a frame it skips) and that every drain ends.
 *
 * @param chunks The chunks.
 * @param opts The codec options.
 * @param frames The reference frames, for the buffering check.
 */
export function decodeChunked(
  chunks: readonly Uint8Array[],
  opts: { magic: number; pver: number; encoding: MessageEncoding },
  frames: readonly RefFrame[],
): StreamResult {
  const dec = new FrameDecoder(opts);
  const outcomes: Outcome[] = [];
  let pushed = 0;
  let fatal: MessageError | undefined;
  for (const c of chunks) {
    dec.push(c);
    pushed += c.length;
    if (fatal) {
      assert.throws(() => dec.next(), (err) => err === fatal);
      continue;
    }
    // Each step consumes a header or finishes a pending frame.
    const budget = Math.floor(dec.buffered / MESSAGE_HEADER_SIZE) + 3;
    for (let i = 0;; i++) {
      assert.ok(i <= budget, `FrameDecoder.next() made no progress after ${i} calls`);
      let r;
      try {
        r = dec.next();
      } catch (err) {
        if (!(err instanceof MessageError)) throw notMessageError(err);
        outcomes.push({ kind: err.kind });
        if (err.kind === "oversize-length") {
          fatal = err;
          break;
        }
        continue;
      }
      if (r === undefined) break;
      outcomes.push({ message: r.message });
    }
    if (fatal) continue;
    // The frame being assembled is the first one not complete in `pushed`.
    // Frames are contiguous, so it starts where the last complete one ends.
    const current = frames.find((f) => f.end > pushed);
    let start = 0;
    for (const f of frames) if (f.end <= pushed) start = f.end;
    const held = dec.buffered;
    assert.ok(held >= 0 && held <= pushed - start, `holds ${held} bytes, but only ${pushed - start} are unread`);
    if (current && pushed - current.start >= MESSAGE_HEADER_SIZE) {
      if (current.badHeader) assert.equal(held, 0, "holds bytes of a frame it skips");
      else assert.ok(held < current.end - current.start, "holds more than the frame being assembled");
    } else {
      assert.ok(held < MESSAGE_HEADER_SIZE);
    }
  }
  let tail: string | null = null;
  try {
    dec.end();
  } catch (err) {
    if (!(err instanceof MessageError)) throw notMessageError(err);
    tail = err.kind;
  }
  return { outcomes, tail };
}

/** Inputs of {@linkcode streamChunking}. */
export interface StreamChunkingInput {
  /** The messages. */
  s: StreamCase;
  /** The network magic. */
  magic: number;
  /** Where to cut the stream. */
  cuts: Cuts;
}

/** Valid streams cut anywhere decode to the same messages. */
export const streamChunking: FuzzProperty<StreamChunkingInput> = {
  name: "FrameDecoder yields the same messages under any chunking",
  arb: fc.record({ s: streamArb(), magic: magicArb, cuts: cutsArb }),
  check({ s, magic, cuts }) {
    const opts = { magic, pver: s.pver, encoding: s.encoding };
    const stream = concat(s.messages.map((m) => encodeMessage(m, opts)));
    const ref = referenceDecode(stream, opts);
    const got = decodeChunked(chunk(stream, cuts), opts, ref.frames);
    assert.deepStrictEqual(got, { outcomes: s.messages.map((message) => ({ message })), tail: null });
  },
};

/** Inputs of {@linkcode streamMutation}. */
export interface StreamMutationInput extends StreamChunkingInput {
  /** The mutations of the whole stream. */
  mutations: Mutation[];
  /** Whether to recompute the checksums of complete frames after mutating. */
  fix: boolean;
}

/**
 * Mutated streams cut anywhere: FrameDecoder gives the same outcomes as one
 * push and as decodeMessage frame by frame, only throws MessageError, never
 * loops, and never holds more than the frame being assembled.
 */
export const streamMutation: FuzzProperty<StreamMutationInput> = {
  name: "FrameDecoder on mutated streams: same outcomes under any chunking, bounded",
  arb: fc.record({
    s: streamArb(),
    magic: magicArb,
    cuts: cutsArb,
    mutations: mutationsArb,
    fix: fc.boolean(),
  }),
  check({ s, magic, cuts, mutations, fix }) {
    const opts = { magic, pver: s.pver, encoding: s.encoding };
    const stream = mutateAll(concat(s.messages.map((m) => encodeMessage(m, opts))), mutations);
    if (fix) fixAllChecksums(stream);
    const ref = referenceDecode(stream, opts);
    const expected = { outcomes: ref.outcomes, tail: ref.tail };
    assert.deepStrictEqual(decodeChunked([stream], opts, ref.frames), expected);
    assert.deepStrictEqual(decodeChunked(chunk(stream, cuts), opts, ref.frames), expected);
  },
};

/**
 * Decodes chunks through a MessageDecoderStream that reports bad frames to
 * `onError`. Errors are reported while chunks are written and messages when
 * they are read, so the two are returned apart.
 *
 * @param chunks The chunks.
 * @param opts The codec options.
 */
export async function decodeWithStream(
  chunks: readonly Uint8Array[],
  opts: { magic: number; pver: number; encoding: MessageEncoding },
): Promise<{ messages: Message[]; errors: string[]; streamError: string | null }> {
  const messages: Message[] = [];
  const errors: string[] = [];
  let streamError: string | null = null;
  const source = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const c of chunks) controller.enqueue(c);
      controller.close();
    },
  });
  const decoded = source.pipeThrough(new MessageDecoderStream({ ...opts, onError: (err) => errors.push(err.kind) }));
  const reader = decoded.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      messages.push(value);
    }
  } catch (err) {
    if (!(err instanceof MessageError)) throw notMessageError(err);
    streamError = err.kind;
  }
  return { messages, errors, streamError };
}

/**
 * MessageDecoderStream over mutated streams cut anywhere gives the
 * reference's messages and errors: bad frames go to `onError`, a length
 * above 32 MiB or a stream ending inside a frame fails the stream.
 */
export const transformStreamMutation: FuzzProperty<StreamMutationInput> & {
  checkAsync: (input: StreamMutationInput) => Promise<void>;
} = {
  name: "MessageDecoderStream on mutated streams: same messages and errors under any chunking",
  arb: streamMutation.arb,
  check() {
    throw new Error("asynchronous: use checkAsync");
  },
  async checkAsync({ s, magic, cuts, mutations, fix }) {
    const opts = { magic, pver: s.pver, encoding: s.encoding };
    const stream = mutateAll(concat(s.messages.map((m) => encodeMessage(m, opts))), mutations);
    if (fix) fixAllChecksums(stream);
    const ref = referenceDecode(stream, opts);
    const kinds = ref.outcomes.flatMap((o) => ("kind" in o ? [o.kind] : []));
    const fatal = kinds.at(-1) === "oversize-length";
    const expected = {
      messages: ref.outcomes.flatMap((o) => ("message" in o ? [o.message] : [])),
      errors: fatal ? kinds.slice(0, -1) : kinds,
      streamError: fatal ? "oversize-length" : ref.tail,
    };
    const got = await decodeWithStream(chunk(stream, cuts), opts);
    assert.deepStrictEqual(got, expected);
  },
};

/** The mutation properties, which bench/fuzz.ts runs at length. */
export const MUTATION_PROPERTIES: readonly FuzzProperty<never>[] = [
  payloadMutation,
  forgedCount,
  frameMutation,
  forgedLength,
  streamMutation,
  streamChunking,
] as unknown as FuzzProperty<never>[];
