// Deterministic benchmark fixtures: typical messages built from a seeded
// generator, and a mixed stream shaped like ../shared/bench/mixed-stream.bin.
import {
  type BlockMessage,
  encodeMessage,
  type HeadersMessage,
  type InvMessage,
  type Message,
  SIMNET,
  type Tx,
  type TxMessage,
  type VersionMessage,
} from "../mod.ts";

/** A small deterministic PRNG (xorshift32). */
export function prng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
}

function bytes(rand: () => number, n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = rand() & 0xff;
  return b;
}

/** A typical transaction: 2 inputs, 2 outputs, witness data when asked. */
export function makeTx(rand: () => number, witness: boolean): Tx {
  return {
    version: 2,
    txIn: Array.from({ length: 2 }, () => ({
      previousOutPoint: { hash: bytes(rand, 32), index: rand() % 4 },
      signatureScript: witness ? new Uint8Array(0) : bytes(rand, 107),
      witness: witness ? [bytes(rand, 72), bytes(rand, 33)] : [],
      sequence: 0xffffffff,
    })),
    txOut: Array.from({ length: 2 }, () => ({
      value: BigInt(rand()) * 1000n,
      pkScript: bytes(rand, 22 + (rand() % 3) * 3),
    })),
    lockTime: 0,
  };
}

const header = (rand: () => number) => ({
  version: 0x20000000,
  prevBlock: bytes(rand, 32),
  merkleRoot: bytes(rand, 32),
  timestamp: 1_600_000_000 + (rand() % 1_000_000),
  bits: 0x01010000,
  nonce: rand(),
});

/** A block of `txs` transactions with 3 parents and 42 cycle nonces. */
export function makeBlock(rand: () => number, txs: number): BlockMessage {
  return {
    command: "block",
    header: header(rand),
    parents: {
      version: 1,
      size: 3,
      parents: Array.from({ length: 3 }, () => ({ hash: bytes(rand, 32), data: bytes(rand, 32) })),
    },
    verification: { version: 1, size: 42, cycleNonces: Array.from({ length: 42 }, () => rand()) },
    transactions: Array.from({ length: txs }, (_, i) => makeTx(rand, i % 2 === 0)),
  };
}

/**
 * A deep copy of `block` in plain objects, every byte field an array of its
 * own: a block as a user builds it, sharing nothing with a decoded one.
 */
export function plainBlock(block: BlockMessage): BlockMessage {
  const b = (x: Uint8Array) => new Uint8Array(x);
  return {
    command: "block",
    header: { ...block.header, prevBlock: b(block.header.prevBlock), merkleRoot: b(block.header.merkleRoot) },
    parents: { ...block.parents, parents: block.parents.parents.map((p) => ({ hash: b(p.hash), data: b(p.data) })) },
    verification: { ...block.verification, cycleNonces: [...block.verification.cycleNonces] },
    transactions: block.transactions.map((tx) => ({
      version: tx.version,
      txIn: tx.txIn.map((i) => ({
        previousOutPoint: { hash: b(i.previousOutPoint.hash), index: i.previousOutPoint.index },
        signatureScript: b(i.signatureScript),
        witness: i.witness.map(b),
        sequence: i.sequence,
      })),
      txOut: tx.txOut.map((o) => ({ value: o.value, pkScript: b(o.pkScript) })),
      lockTime: tx.lockTime,
    })),
  };
}

/** The typical messages benchmarked one by one. */
export function sampleMessages(): {
  version: VersionMessage;
  inv: InvMessage;
  headers: HeadersMessage;
  tx: TxMessage;
  block: BlockMessage;
} {
  const rand = prng(7);
  const addr = { timestamp: 0, services: 0x4dn, ip: bytes(rand, 16), port: 18555 };
  return {
    version: {
      command: "version",
      protocolVersion: 70013,
      services: 0x4dn,
      timestamp: 1_700_000_000n,
      addrYou: addr,
      addrMe: addr,
      nonce: 0x1234567890abcdefn,
      userAgent: "/soterwire:0.6.0/soterd:4.2.0/",
      genesisHash: bytes(rand, 32),
      lastBlock: 123456,
      disableRelayTx: false,
    },
    inv: {
      command: "inv",
      invList: Array.from({ length: 1000 }, (_, i) => ({ type: 2, hash: bytes(rand, 32), height: i })),
    },
    headers: { command: "headers", headers: Array.from({ length: 2000 }, () => header(rand)) },
    tx: { command: "tx", ...makeTx(rand, true) },
    // About 1 MB: 4,000 transactions of ~250 bytes.
    block: makeBlock(rand, 4000),
  };
}

/**
 * A mixed stream like soterd's benchmark fixture (version, verack, then
 * ping/pong, inv, headers, tx, block and addr frames in shuffled order).
 */
export function makeMixedStream(magic: number = SIMNET.magic): Uint8Array<ArrayBuffer> {
  const rand = prng(11);
  const s = sampleMessages();
  const msgs: Message[] = [];
  for (let i = 0; i < 400; i++) msgs.push({ command: i % 2 ? "pong" : "ping", nonce: BigInt(rand()) });
  for (let i = 0; i < 20; i++) msgs.push(s.inv);
  for (let i = 0; i < 5; i++) msgs.push(s.headers);
  for (let i = 0; i < 5000; i++) msgs.push({ command: "tx", ...makeTx(rand, i % 2 === 0) });
  for (let i = 0; i < 6; i++) msgs.push(makeBlock(rand, 4000));
  const addr = Array.from({ length: 1000 }, () => ({
    timestamp: 1_700_000_000,
    services: 1n,
    ip: bytes(rand, 16),
    port: 18555,
  }));
  for (let i = 0; i < 10; i++) msgs.push({ command: "addr", addrList: addr });
  for (let i = msgs.length - 1; i > 0; i--) {
    const j = rand() % (i + 1);
    [msgs[i], msgs[j]] = [msgs[j]!, msgs[i]!];
  }
  msgs.unshift(s.version, { command: "verack" });
  const frames = msgs.map((m) => encodeMessage(m, { magic }));
  const out = new Uint8Array(frames.reduce((n, f) => n + f.length, 0));
  let o = 0;
  for (const f of frames) {
    out.set(f, o);
    o += f.length;
  }
  return out;
}

/** Cuts `data` into chunks of random sizes (1 byte to 64 KiB, mostly large). */
export function randomChunks(data: Uint8Array, seed = 3): Uint8Array[] {
  const rand = prng(seed);
  const out: Uint8Array[] = [];
  for (let i = 0; i < data.length;) {
    const n = rand() % 8 === 0 ? 1 + (rand() % 64) : 1 + (rand() % 65536);
    out.push(data.subarray(i, i + n));
    i += n;
  }
  return out;
}
