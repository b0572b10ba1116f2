// fast-check arbitraries for the 31 soter messages: valid values within every
// limit, at random protocol versions where the message exists, in the
// normalised form a decoder returns, so that encode → decode gives back
// exactly the generated value. Not a test file; used by tests/fuzz.test.ts
// and bench/fuzz.ts.
//
// The normal forms, read off the codecs and the vectors' README:
// - NetAddress: `ip` is 16 bytes (the encoder also takes 4 or 0 bytes, the
//   decoder always returns 16); `timestamp` is 0 unless the message is
//   `addr`/`addrcache` at pver >= 31402 (never in `version`).
// - version: `disableRelayTx` is false below pver 70001 (no relay byte); the
//   user agent fits the frame limit (358 bytes from pver 31402, 350 below,
//   which leaves 240 or 233 bytes, below the 256-byte field limit; user
//   agents up to 256 bytes are checked as payloads in tests/fuzz.test.ts).
// - ping: nonce 0 at pver <= 60000. pong: exists only above 60000.
// - addr: at most one address below pver 209.
// - reject: `hash` is 32 zero bytes unless `cmd` is "block" or "tx".
// - block: parents.size and verification.size equal their list lengths.
// - tx and block transactions: with the base encoding, no witness data; with
//   the witness encoding at least one input (an input count of 0 is the
//   BIP 144 marker, so a transaction without inputs cannot round-trip).
// - alert: either `payload` is an alert and `serializedPayload` is exactly
//   `serializeAlert(payload)`, or `payload` is null and `serializedPayload`
//   does not parse (1 to 44 bytes: shorter than the 45 fixed bytes).
// - strings are valid UTF-8 (no lone surrogates); a leading BOM is kept.
// - objects are plain objects (fast-check's records have no prototype
//   unless told otherwise, and deepStrictEqual compares prototypes).
import fc from "fast-check";
import {
  type Alert,
  BIP0031_VERSION,
  BIP0035_VERSION,
  BIP0037_VERSION,
  type BlockHeader,
  type Command,
  COMMANDS,
  FEE_FILTER_VERSION,
  type InvVect,
  MAX_ADDR_PER_MSG,
  MAX_BLOCK_HEADERS_PER_MSG,
  MAX_CFCHECKPT_HEADERS,
  MAX_CFHEADERS_PER_MSG,
  MAX_CFILTER_DATA_SIZE,
  MAX_FILTER_ADD_DATA_SIZE,
  MAX_FILTER_LOAD_FILTER_SIZE,
  MAX_FILTER_LOAD_HASH_FUNCS,
  MAX_FLAGS_PER_MERKLE_BLOCK,
  MAX_INV_PER_MSG,
  MAX_TX_PER_BLOCK,
  MAX_WITNESS_ITEM_SIZE,
  type Message,
  type MessageEncoding,
  type MessageOf,
  MULTIPLE_ADDRESS_VERSION,
  NET_ADDRESS_TIME_VERSION,
  type NetAddress,
  PROTOCOL_VERSION,
  REJECT_VERSION,
  SEND_HEADERS_VERSION,
  serializeAlert,
  type Tx,
  type TxIn,
  versionCodec,
} from "../mod.ts";

/** A message with the protocol version and encoding it is valid at. */
export interface Case<C extends Command = Command> {
  /** The message, in the form the decoder returns. */
  message: MessageOf<C>;
  /** A protocol version at which the message exists and fits its frame. */
  pver: number;
  /** The transaction encoding. */
  encoding: MessageEncoding;
}

/** The lowest protocol version at which each command exists. */
export const MIN_PVER: { readonly [C in Command]: number } = {
  version: 0,
  verack: 0,
  getaddr: 0,
  getaddrcache: 0,
  addr: 0,
  addrcache: 0,
  getblocks: 0,
  inv: 0,
  getdata: 0,
  notfound: 0,
  block: 0,
  tx: 0,
  getheaders: 0,
  headers: 0,
  ping: 0,
  pong: BIP0031_VERSION + 1,
  alert: 0,
  mempool: BIP0035_VERSION,
  filteradd: BIP0037_VERSION,
  filterclear: BIP0037_VERSION,
  filterload: BIP0037_VERSION,
  merkleblock: BIP0037_VERSION,
  reject: REJECT_VERSION,
  sendheaders: SEND_HEADERS_VERSION,
  feefilter: FEE_FILTER_VERSION,
  getcfilters: 0,
  getcfheaders: 0,
  getcfcheckpt: 0,
  cfilter: 0,
  cfheaders: 0,
  cfcheckpt: 0,
};

/** Protocol versions where some field or limit changes, and their neighbours. */
const PVER_EDGES: readonly number[] = [
  0,
  1,
  106,
  MULTIPLE_ADDRESS_VERSION - 1,
  MULTIPLE_ADDRESS_VERSION,
  NET_ADDRESS_TIME_VERSION - 1,
  NET_ADDRESS_TIME_VERSION,
  BIP0031_VERSION,
  BIP0031_VERSION + 1,
  BIP0035_VERSION,
  BIP0037_VERSION - 1,
  BIP0037_VERSION,
  REJECT_VERSION,
  SEND_HEADERS_VERSION,
  FEE_FILTER_VERSION,
  PROTOCOL_VERSION,
  0x7fff_ffff,
];

/**
 * A protocol version of at least `min`: mostly one where something changes,
 * else any up to a little above the current version, rarely a huge one.
 *
 * @param min The lowest version.
 */
export function pverArb(min = 0): fc.Arbitrary<number> {
  const edges = PVER_EDGES.filter((p) => p >= min);
  return fc.oneof(
    { arbitrary: fc.constantFrom(...edges), weight: 3 },
    { arbitrary: fc.integer({ min, max: PROTOCOL_VERSION + 100 }), weight: 3 },
    { arbitrary: fc.integer({ min: Math.max(min, PROTOCOL_VERSION), max: 0x7fff_ffff }), weight: 1 },
  );
}

/** Either transaction encoding. */
export const encodingArb: fc.Arbitrary<MessageEncoding> = fc.constantFrom("base", "witness");

// ---- primitives ----

/**
 * `fc.record` with ordinary objects: by default fast-check makes records
 * without a prototype, which `deepStrictEqual` tells apart from decoded
 * messages.
 *
 * @param model An arbitrary per field.
 */
export function record<T>(model: { [K in keyof T]: fc.Arbitrary<T[K]> }): fc.Arbitrary<T> {
  return fc.record(model, { noNullPrototype: true }) as fc.Arbitrary<T>;
}

const u8 = fc.integer({ min: 0, max: 0xff });
const u16 = fc.integer({ min: 0, max: 0xffff });
const u32 = fc.integer({ min: 0, max: 0xffff_ffff });
const i32 = fc.integer({ min: -0x8000_0000, max: 0x7fff_ffff });
const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
const i64 = fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n });

/** 32 random bytes (a hash in wire order). */
export const hashArb: fc.Arbitrary<Uint8Array> = fc.uint8Array({ minLength: 32, maxLength: 32 });

/**
 * Bytes of at most `max`: mostly short, sometimes just around 253 so that
 * the length prefix takes 3 bytes.
 *
 * @param max The longest allowed.
 */
export function bytesArb(max: number): fc.Arbitrary<Uint8Array> {
  const short = fc.uint8Array({ maxLength: Math.min(max, 40) });
  if (max < 253) return short;
  return fc.oneof(
    { arbitrary: short, weight: 8 },
    { arbitrary: fc.uint8Array({ minLength: 250, maxLength: Math.min(max, 300) }), weight: 1 },
  );
}

/**
 * A list of at most `max` items: mostly up to 4, sometimes around 253 when
 * `bigLists` allows it, so that the count takes 3 bytes.
 *
 * @param item The items.
 * @param max The most allowed.
 * @param bigLists Whether lists around 253 entries may be generated.
 */
export function listArb<T>(item: fc.Arbitrary<T>, max: number, bigLists = true): fc.Arbitrary<T[]> {
  const short = fc.array(item, { maxLength: Math.min(max, 4) });
  if (!bigLists || max < 253) return short;
  return fc.oneof(
    { arbitrary: short, weight: 15 },
    { arbitrary: fc.array(item, { minLength: 251, maxLength: Math.min(max, 256) }), weight: 1 },
  );
}

const encoder = new TextEncoder();

/** Cuts `s` to whole code points of at most `maxBytes` UTF-8 bytes. */
function clipUtf8(s: string, maxBytes: number): string {
  if (encoder.encode(s).length <= maxBytes) return s;
  let out = "";
  let n = 0;
  for (const cp of s) {
    const size = encoder.encode(cp).length;
    if (n + size > maxBytes) break;
    out += cp;
    n += size;
  }
  return out;
}

/**
 * A valid Unicode string of at most `maxBytes` UTF-8 bytes: any code
 * points, Latin-1 ones, a leading byte order mark, or long ASCII.
 *
 * @param maxBytes The longest allowed in bytes.
 */
export function stringArb(maxBytes = 300): fc.Arbitrary<string> {
  return fc.oneof(
    { arbitrary: fc.string({ unit: "binary", maxLength: 24 }), weight: 4 },
    { arbitrary: fc.string({ unit: "binary-ascii", maxLength: 70 }), weight: 3 },
    { arbitrary: fc.string({ unit: "binary", maxLength: 8 }).map((s) => "\uFEFF" + s), weight: 1 },
    { arbitrary: fc.string({ unit: "grapheme-ascii", minLength: 60, maxLength: 300 }), weight: 1 },
  ).map((s) => clipUtf8(s, maxBytes));
}

/** An IP as 16 bytes: random, IPv4-mapped, or all zeros. */
const ipArb: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.uint8Array({ minLength: 16, maxLength: 16 }),
  fc.uint8Array({ minLength: 4, maxLength: 4 }).map((v4) => {
    const ip = new Uint8Array(16);
    ip[10] = 0xff;
    ip[11] = 0xff;
    ip.set(v4, 12);
    return ip;
  }),
  fc.constant(new Uint8Array(16)),
);

/**
 * A network address; `withTimestamp` says whether the timestamp is on the
 * wire (it is 0 otherwise).
 *
 * @param withTimestamp Whether a timestamp is carried.
 */
export function netAddressArb(withTimestamp: boolean): fc.Arbitrary<NetAddress> {
  return record({
    timestamp: withTimestamp ? u32 : fc.constant(0),
    services: u64,
    ip: ipArb,
    port: u16,
  });
}

/** An 80-byte block header. */
export const blockHeaderArb: fc.Arbitrary<BlockHeader> = record({
  version: i32,
  prevBlock: hashArb,
  merkleRoot: hashArb,
  timestamp: u32,
  bits: u32,
  nonce: u32,
});

/** An inventory vector. */
export const invVectArb: fc.Arbitrary<InvVect> = record({
  type: fc.oneof(fc.constantFrom(0, 1, 2, 3, 0x4000_0001, 0x4000_0002, 0x4000_0003), u32),
  hash: hashArb,
  height: i32,
});

/**
 * A transaction in the form decoding with `encoding` returns: no witness
 * data with `"base"`; at least one input with `"witness"`.
 *
 * @param encoding The encoding it will be written with.
 */
export function txArb(encoding: MessageEncoding): fc.Arbitrary<Tx> {
  const witness = encoding === "witness";
  const stack = witness
    ? fc.oneof(
      { arbitrary: fc.constant<Uint8Array[]>([]), weight: 2 },
      { arbitrary: fc.array(bytesArb(MAX_WITNESS_ITEM_SIZE), { maxLength: 3 }), weight: 3 },
    )
    : fc.constant<Uint8Array[]>([]);
  const txIn: fc.Arbitrary<TxIn> = record({
    previousOutPoint: record({ hash: hashArb, index: fc.oneof(u32, fc.constant(0xffff_ffff)) }),
    signatureScript: bytesArb(1000),
    witness: stack,
    sequence: u32,
  });
  return record({
    version: i32,
    txIn: fc.array(txIn, { minLength: witness ? 1 : 0, maxLength: 3 }),
    txOut: fc.array(record({ value: i64, pkScript: bytesArb(1000) }), { maxLength: 3 }),
    lockTime: u32,
  });
}

/** A transaction that may carry witness data, whatever the encoding. */
export const txWithWitnessArb: fc.Arbitrary<Tx> = txArb("witness");

/** An alert with every field random within its limits. */
export const alertArb: fc.Arbitrary<Alert> = record({
  version: i32,
  relayUntil: i64,
  expiration: i64,
  id: i32,
  cancel: i32,
  setCancel: listArb(i32, 1000),
  minVer: i32,
  maxVer: i32,
  setSubVer: fc.array(stringArb(80), { maxLength: 3 }),
  priority: i32,
  comment: stringArb(),
  statusBar: stringArb(),
  reserved: stringArb(),
});

/** Lists of at most 1000 addresses in total, for `addrcache`. */
function addrCacheListsArb(pver: number): fc.Arbitrary<[NetAddress[], NetAddress[], NetAddress[]]> {
  const na = netAddressArb(pver >= NET_ADDRESS_TIME_VERSION);
  return fc.oneof(
    { arbitrary: fc.tuple(listArb(na, 4), listArb(na, 4), listArb(na, 4)), weight: 15 },
    // 1000 in total, the limit, with one list needing a 3-byte count.
    {
      arbitrary: fc.tuple(fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 0, max: 1000 }), na).map(
        ([a, b, addr]): [NetAddress[], NetAddress[], NetAddress[]] => {
          const lo = Math.min(a, b);
          const hi = Math.max(a, b);
          const fill = (n: number) => Array.from({ length: n }, () => addr);
          return [fill(lo), fill(hi - lo), fill(1000 - hi)];
        },
      ),
      weight: 1,
    },
  );
}

type Builders = {
  readonly [C in Command]: (pver: number, encoding: MessageEncoding) => fc.Arbitrary<MessageOf<C>>;
};

const ZERO_HASH = new Uint8Array(32);

const VERSION_FIXED = 4 + 8 + 8 + 26 + 26 + 8 + 32 + 4;

/** Per command, the arbitrary of its messages at a protocol version and encoding. */
export const BUILDERS: Builders = {
  version: (pver) => {
    const relay = pver >= BIP0037_VERSION ? 1 : 0;
    // The frame limit, minus the fixed fields, relay byte and 1-byte length.
    const uaMax = Math.min(256, versionCodec.maxPayloadLength(pver) - VERSION_FIXED - relay - 1);
    return record({
      command: fc.constant("version" as const),
      protocolVersion: i32,
      services: u64,
      timestamp: i64,
      addrYou: netAddressArb(false),
      addrMe: netAddressArb(false),
      nonce: u64,
      userAgent: fc.oneof(
        stringArb(uaMax),
        fc.constantFrom("/soterd:0.0.1/", "/btcwire:0.5.0/soterd:1.0.0(linux; amd64)/"),
      ),
      genesisHash: hashArb,
      lastBlock: i32,
      disableRelayTx: relay ? fc.boolean() : fc.constant(false),
    });
  },
  verack: () => fc.constant({ command: "verack" as const }),
  getaddr: () => fc.constant({ command: "getaddr" as const }),
  getaddrcache: () => fc.constant({ command: "getaddrcache" as const }),
  addr: (pver) =>
    record({
      command: fc.constant("addr" as const),
      addrList: listArb(
        netAddressArb(pver >= NET_ADDRESS_TIME_VERSION),
        pver < MULTIPLE_ADDRESS_VERSION ? 1 : MAX_ADDR_PER_MSG,
      ),
    }),
  addrcache: (pver) =>
    addrCacheListsArb(pver).map(([inbound, outbound, known]) => ({
      command: "addrcache" as const,
      inbound,
      outbound,
      known,
    })),
  getblocks: () =>
    record({
      command: fc.constant("getblocks" as const),
      protocolVersion: u32,
      blockLocatorHeight: fc.array(i32, { maxLength: 1 }),
      hashStop: hashArb,
    }),
  inv: () => record({ command: fc.constant("inv" as const), invList: listArb(invVectArb, MAX_INV_PER_MSG) }),
  getdata: () => record({ command: fc.constant("getdata" as const), invList: listArb(invVectArb, MAX_INV_PER_MSG) }),
  notfound: () => record({ command: fc.constant("notfound" as const), invList: listArb(invVectArb, MAX_INV_PER_MSG) }),
  block: (_pver, encoding) =>
    record({
      command: fc.constant("block" as const),
      header: blockHeaderArb,
      parents: fc.tuple(i32, fc.array(record({ hash: hashArb, data: hashArb }), { maxLength: 12 })).map((
        [version, parents],
      ) => ({ version, size: parents.length, parents })),
      verification: fc.tuple(i32, fc.array(u32, { maxLength: 42 })).map(([version, cycleNonces]) => ({
        version,
        size: cycleNonces.length,
        cycleNonces,
      })),
      transactions: fc.array(txArb(encoding), { maxLength: 3 }),
    }),
  tx: (_pver, encoding) => txArb(encoding).map((tx) => ({ command: "tx" as const, ...tx })),
  getheaders: () =>
    record({
      command: fc.constant("getheaders" as const),
      protocolVersion: u32,
      blockLocatorHeight: fc.array(i32, { maxLength: 1 }),
      hashStop: hashArb,
    }),
  headers: () =>
    record({
      command: fc.constant("headers" as const),
      headers: listArb(blockHeaderArb, MAX_BLOCK_HEADERS_PER_MSG),
    }),
  ping: (pver) =>
    record({ command: fc.constant("ping" as const), nonce: pver > BIP0031_VERSION ? u64 : fc.constant(0n) }),
  pong: () => record({ command: fc.constant("pong" as const), nonce: u64 }),
  alert: () =>
    fc.oneof(
      fc.tuple(alertArb, bytesArb(300)).map(([payload, signature]) => ({
        command: "alert" as const,
        serializedPayload: serializeAlert(payload),
        signature,
        payload,
      })),
      fc.tuple(fc.uint8Array({ minLength: 1, maxLength: 44 }), bytesArb(300)).map((
        [serializedPayload, signature],
      ) => ({ command: "alert" as const, serializedPayload, signature, payload: null })),
    ),
  mempool: () => fc.constant({ command: "mempool" as const }),
  filteradd: () => record({ command: fc.constant("filteradd" as const), data: bytesArb(MAX_FILTER_ADD_DATA_SIZE) }),
  filterclear: () => fc.constant({ command: "filterclear" as const }),
  filterload: () =>
    record({
      command: fc.constant("filterload" as const),
      filter: bytesArb(MAX_FILTER_LOAD_FILTER_SIZE),
      hashFuncs: fc.integer({ min: 0, max: MAX_FILTER_LOAD_HASH_FUNCS }),
      tweak: u32,
      flags: u8,
    }),
  merkleblock: () =>
    record({
      command: fc.constant("merkleblock" as const),
      header: blockHeaderArb,
      transactions: u32,
      hashes: listArb(hashArb, MAX_TX_PER_BLOCK),
      flags: bytesArb(MAX_FLAGS_PER_MERKLE_BLOCK),
    }),
  reject: () =>
    fc.oneof(fc.constantFrom("block", "tx", ...COMMANDS), stringArb(60), stringArb()).chain((cmd) =>
      record({
        command: fc.constant("reject" as const),
        cmd: fc.constant(cmd),
        code: fc.oneof(fc.constantFrom(0x01, 0x10, 0x11, 0x12, 0x40, 0x41, 0x42, 0x43), u8),
        reason: stringArb(),
        hash: cmd === "block" || cmd === "tx" ? hashArb : fc.constant(ZERO_HASH),
      })
    ),
  sendheaders: () => fc.constant({ command: "sendheaders" as const }),
  feefilter: () => record({ command: fc.constant("feefilter" as const), minFee: i64 }),
  getcfilters: () =>
    record({
      command: fc.constant("getcfilters" as const),
      filterType: u8,
      startHeight: u32,
      stopHash: hashArb,
    }),
  getcfheaders: () =>
    record({
      command: fc.constant("getcfheaders" as const),
      filterType: u8,
      startHeight: u32,
      stopHash: hashArb,
    }),
  getcfcheckpt: () => record({ command: fc.constant("getcfcheckpt" as const), filterType: u8, stopHash: hashArb }),
  cfilter: () =>
    record({
      command: fc.constant("cfilter" as const),
      filterType: u8,
      blockHash: hashArb,
      data: bytesArb(MAX_CFILTER_DATA_SIZE),
    }),
  cfheaders: () =>
    record({
      command: fc.constant("cfheaders" as const),
      filterType: u8,
      stopHash: hashArb,
      prevFilterHeader: hashArb,
      filterHashes: listArb(hashArb, MAX_CFHEADERS_PER_MSG),
    }),
  cfcheckpt: () =>
    record({
      command: fc.constant("cfcheckpt" as const),
      filterType: u8,
      stopHash: hashArb,
      filterHeaders: listArb(hashArb, MAX_CFCHECKPT_HEADERS),
    }),
};

/**
 * The messages of `command` at `pver` and `encoding`.
 *
 * @param command The command.
 * @param pver A protocol version at which it exists.
 * @param encoding The transaction encoding.
 */
export function messageArb<C extends Command>(
  command: C,
  pver: number,
  encoding: MessageEncoding,
): fc.Arbitrary<MessageOf<C>> {
  return (BUILDERS[command] as Builders[C])(pver, encoding);
}

/**
 * Cases of one command: a message, a protocol version where it exists, and
 * an encoding.
 *
 * @param command The command.
 */
export function caseArb<C extends Command>(command: C): fc.Arbitrary<Case<C>> {
  return fc.tuple(pverArb(MIN_PVER[command]), encodingArb).chain(([pver, encoding]) =>
    messageArb(command, pver, encoding).map((message): Case<C> => ({ message, pver, encoding }))
  );
}

/**
 * Cases of the given commands, each equally likely.
 *
 * @param commands The commands.
 */
export function casesOf(commands: readonly Command[]): fc.Arbitrary<Case> {
  return fc.constantFrom(...commands).chain((c) => caseArb(c) as fc.Arbitrary<Case>);
}

/** Cases of any of the 31 commands, each equally likely. */
export const anyCaseArb: fc.Arbitrary<Case> = casesOf(COMMANDS);

/** Commands whose payload has a count or a length prefix. */
export const COUNTED_COMMANDS: readonly Command[] = COMMANDS.filter((c) =>
  ![
    "verack",
    "getaddr",
    "getaddrcache",
    "mempool",
    "filterclear",
    "sendheaders",
    "ping",
    "pong",
    "feefilter",
    "getcfilters",
    "getcfheaders",
    "getcfcheckpt",
  ].includes(c)
);

/** Several messages valid at one protocol version and encoding, as a stream carries them. */
export interface StreamCase {
  /** The protocol version of the connection. */
  pver: number;
  /** The transaction encoding of the connection. */
  encoding: MessageEncoding;
  /** The messages, in order. */
  messages: Message[];
}

/**
 * A stream of up to `maxMessages` messages of commands that exist at its
 * protocol version.
 *
 * @param maxMessages The most messages.
 */
export function streamArb(maxMessages = 8): fc.Arbitrary<StreamCase> {
  return fc.tuple(pverArb(), encodingArb).chain(([pver, encoding]) => {
    const commands = COMMANDS.filter((c) => MIN_PVER[c] <= pver);
    const one = fc.constantFrom(...commands).chain((c) => messageArb(c, pver, encoding) as fc.Arbitrary<Message>);
    return fc.array(one, { maxLength: maxMessages }).map((messages) => ({ pver, encoding, messages }));
  });
}
