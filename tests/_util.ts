// Small helpers shared by the test files: MessageError checks, byte and hex
// builders, frame headers, codec round trips, deterministic bytes and a
// real-time cap on promises. Not a test file (the leading `_`); it runs
// unchanged under Deno, Bun and Node, and bench/fuzz.ts reaches it through
// tests/fuzz_properties.ts, so it imports nothing from node:test.
import assert from "node:assert/strict";
import { type Hasher, jsHasher } from "../src/hash/hasher.ts";
import type { MessageCodec } from "../src/wire/codec.ts";
import { MessageError, type MessageErrorKind } from "../src/wire/errors.ts";
import { MESSAGE_HEADER_SIZE, writeFrameHeader } from "../src/wire/frame.ts";
import { fromHex, toHex } from "../src/wire/hex.ts";
import { type MessageEncoding, PROTOCOL_VERSION } from "../src/wire/protocol.ts";
import { Reader } from "../src/wire/reader.ts";
import { Writer } from "../src/wire/writer.ts";

// ---- MessageError ----

/**
 * Runs `fn` and returns the kind of the MessageError it throws, or
 * `undefined` when it returns. Any other exception fails the test.
 */
export function thrownKind(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof MessageError, `not a MessageError: ${err}`);
    return err.kind;
  }
  return undefined;
}

/** Runs `fn`, which must throw a MessageError, and returns its kind. */
export function kindOf(fn: () => unknown): string {
  return thrownKind(fn) ?? assert.fail("expected a MessageError");
}

/**
 * A validator for `assert.throws`/`assert.rejects`: the error is a
 * MessageError of `kind`, and its message matches `pattern` if given.
 */
export function isKind(kind: MessageErrorKind, pattern?: RegExp): (err: unknown) => boolean {
  return (err: unknown): boolean => {
    assert.ok(err instanceof MessageError, `not a MessageError: ${err}`);
    assert.equal(err.kind, kind, err.message);
    if (pattern) assert.match(err.message, pattern);
    return true;
  };
}

/** Asserts that `fn` throws a MessageError of `kind`. */
export function throwsKind(fn: () => unknown, kind: MessageErrorKind): void {
  assert.throws(fn, isKind(kind));
}

// ---- bytes and hex ----

/** The bytes of `parts`, one after the other. */
export function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Like {@linkcode concat}, with each part as bytes, a hex string or a list of byte values. */
export function cat(...parts: (Uint8Array | string | readonly number[])[]): Uint8Array {
  return concat(
    parts.map((p) => typeof p === "string" ? fromHex(p) : p instanceof Uint8Array ? p : Uint8Array.from(p)),
  );
}

/** A 32-bit integer as four little-endian bytes in hex (int32 or uint32 alike). */
export function le32(n: number): string {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n >>> 0, true);
  return toHex(b);
}

/** The UTF-8 bytes of `s`, in hex. */
export function ascii(s: string): string {
  return toHex(new TextEncoder().encode(s));
}

/** Deterministic bytes (xorshift32 from `seed`). */
export function pattern(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

// ---- frames ----

/** The simnet magic, written out (soterd's SimNet). */
export const SIMNET_MAGIC = 0x12141c16;

/** A 24-byte frame header: magic, command, length; the checksum is what the caller says. */
export function frameHeader(command: string, length: number, magic = SIMNET_MAGIC, checksum = 0): Uint8Array {
  const b = new Uint8Array(MESSAGE_HEADER_SIZE);
  const v = new DataView(b.buffer);
  v.setUint32(0, magic, true);
  for (let i = 0; i < command.length; i++) b[4 + i] = command.charCodeAt(i);
  v.setUint32(16, length, true);
  v.setUint32(20, checksum, true);
  return b;
}

/** A frame around any payload under any command, with the right length and checksum. */
export function frameOf(
  command: string,
  payload: Uint8Array,
  magic = SIMNET_MAGIC,
  hasher: Hasher = jsHasher,
): Uint8Array {
  const frame = new Uint8Array(MESSAGE_HEADER_SIZE + payload.length);
  frame.set(payload, MESSAGE_HEADER_SIZE);
  writeFrameHeader(frame, magic, command, payload.length, hasher);
  return frame;
}

// ---- codecs ----

/** The payload `codec` writes for `msg` (base encoding unless told). */
export function encodeWith<M>(
  codec: MessageCodec<M>,
  msg: M,
  pver = PROTOCOL_VERSION,
  encoding: MessageEncoding = "base",
): Uint8Array {
  const w = new Writer(16, codec.command);
  codec.encode(w, msg, pver, encoding);
  return w.finish();
}

/** What `codec` reads from a payload given as bytes or hex (base encoding unless told). */
export function decodeWith<M>(
  codec: MessageCodec<M>,
  payload: Uint8Array | string,
  pver = PROTOCOL_VERSION,
  encoding: MessageEncoding = "base",
): M {
  const bytes = typeof payload === "string" ? fromHex(payload) : payload;
  return codec.decode(new Reader(bytes, codec.command), pver, encoding);
}

/**
 * Hex-string encode and decode with `codec`, at soterd's protocol version
 * unless told (base encoding): the shape the message codec tests use.
 */
export function hexCodec<M>(codec: MessageCodec<M>): {
  encode(msg: M, pver?: number): string;
  decode(payload: Uint8Array | string, pver?: number): M;
} {
  return {
    encode: (msg, pver = PROTOCOL_VERSION) => toHex(encodeWith(codec, msg, pver)),
    decode: (payload, pver = PROTOCOL_VERSION) => decodeWith(codec, payload, pver),
  };
}

// ---- allocation ----

/** The constructors {@linkcode allocatedLengths} watches. */
const WATCHED = ["Array", "Uint8Array", "ArrayBuffer"] as const;

/**
 * Runs `fn` (synchronous) and reports the length of every array, byte
 * array and buffer it made from a length (`new Array(n)`, `Array(n)`,
 * `new Uint8Array(n)`, `new ArrayBuffer(n)`; a view on an existing buffer
 * is not counted): a decoder that allocates in proportion to a count it
 * read, rather than to its input, shows here, whatever the machine's speed.
 */
export function allocatedLengths<T>(fn: () => T): { value: T; lengths: number[] } {
  const lengths: number[] = [];
  const g = globalThis as unknown as Record<string, unknown>;
  const saved = WATCHED.map((name) => g[name]);
  const record = (args: unknown[]) => {
    if (args.length === 1 && typeof args[0] === "number") lengths.push(args[0]);
  };
  for (const name of WATCHED) {
    const ctor = g[name] as new (...args: unknown[]) => object;
    const proxy: object = new Proxy(ctor, {
      construct(target, args, newTarget) {
        record(args);
        return Reflect.construct(target, args, newTarget === proxy ? target : newTarget);
      },
      apply(target, self, args) {
        record(args);
        return Reflect.apply(target as unknown as (...a: unknown[]) => unknown, self, args);
      },
    });
    g[name] = proxy;
  }
  try {
    return { value: fn(), lengths };
  } finally {
    WATCHED.forEach((name, i) => g[name] = saved[i]);
  }
}

/**
 * Runs `fn`, which reads `input`, and fails if it made an array, byte
 * array or buffer longer than the input (or than 64, the room of
 * fixed-size fields such as a hash): what a decoder allocates must follow
 * the bytes it has, never a count it read.
 *
 * @returns What `fn` returned.
 */
export function allocatingByInput<T>(input: Uint8Array, what: string, fn: () => T): T {
  const { value, lengths } = allocatedLengths(fn);
  const most = lengths.reduce((a, b) => Math.max(a, b), 0);
  assert.ok(most <= Math.max(input.length, 64), `${what}: ${input.length} bytes made a length of ${most}`);
  return value;
}

// ---- time ----

/** Rejects when `promise` takes longer than `ms` of real time. */
export function within<T>(promise: Promise<T>, what: string, ms = 5000): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`Timed out waiting for ${what} (${ms} ms)`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
