// Helpers of the sync tests (not a test file: the leading `_`): mini nodes
// serving a DAG over loopback, client peers connected to them, and DAGs that
// lie in one precise way.
import { Dag, type DagBlock, Xorshift } from "../examples/lib/dag.ts";
import { DagNode } from "../examples/lib/node.ts";
import assert from "node:assert/strict";
import {
  blockHash,
  type BlockMessage,
  bytesEqual,
  encodePayload,
  hashToHex,
  type Listener,
  LruSet,
  Peer,
  type PeerConfig,
  type SyncedBlock,
  type SyncPeerEvent,
  type SyncPeerSource,
} from "../mod.ts";
import { connect, listen } from "./_runtime.ts";

/** A mini node listening on loopback. */
export interface Served {
  node: DagNode;
  listener: Listener;
  port: number;
  close(): Promise<void>;
}

/**
 * Serves a DAG on 127.0.0.1 with a mini node.
 *
 * @param dag The DAG.
 * @returns The node and its port.
 */
export async function serve(dag: Dag): Promise<Served> {
  const node = new DagNode({ dag });
  const listener = await listen({ hostname: "127.0.0.1", port: 0 });
  const served = node.serve(listener);
  return {
    node,
    listener,
    port: listener.addr.port,
    async close() {
      listener.close();
      await node.close();
      await served.catch(() => {});
    },
  };
}

const nonces = new LruSet<bigint>(100);

/**
 * Connects a client peer to a node on loopback and waits for the handshake.
 *
 * @param port The node's port.
 * @param config More peer configuration.
 * @returns The peer, handshaken.
 */
export async function client(port: number, config: PeerConfig = {}): Promise<Peer> {
  const peer = Peer.outbound(`127.0.0.1:${port}`, {
    network: dagNetwork,
    userAgentName: "sync-test",
    userAgentVersion: "1.0.0",
    sentNonces: nonces,
    ...config,
  });
  peer.associateConnection(await connect("127.0.0.1", port));
  if (!(await peer.ready)) throw new Error(`handshake with 127.0.0.1:${port} failed`);
  return peer;
}

const dagNetwork = new Dag().network;

/**
 * A DAG that serves another's blocks but lies about some: `replace` gives,
 * for a block hash, the block to serve instead (or undefined for the
 * truth); `extra` are blocks it announces on top of the honest ones,
 * `height` changes the height it announces, and `hide` leaves blocks out of
 * its `inv`s (it still serves them).
 */
export class LyingDag extends Dag {
  readonly inner: Dag;
  readonly #replace: (b: DagBlock) => BlockMessage | undefined;
  readonly #extra: DagBlock[];
  readonly #height: (b: DagBlock) => number;
  readonly #hide: (b: DagBlock) => boolean;

  constructor(
    inner: Dag,
    lies: {
      replace?: (b: DagBlock) => BlockMessage | undefined;
      extra?: DagBlock[];
      height?: (b: DagBlock) => number;
      hide?: (b: DagBlock) => boolean;
    },
  ) {
    super(inner.network);
    this.inner = inner;
    this.#replace = lies.replace ?? (() => undefined);
    this.#extra = lies.extra ?? [];
    this.#height = lies.height ?? ((b) => b.height);
    this.#hide = lies.hide ?? (() => false);
  }

  #lie(b: DagBlock): DagBlock {
    const block = this.#replace(b) ?? b.block;
    return { ...b, block, height: this.#height(b) };
  }

  override get(hash: Uint8Array | string): DagBlock | undefined {
    const hex = typeof hash === "string" ? hash : hashToHex(hash);
    const extra = this.#extra.find((b) => b.hex === hex);
    if (extra !== undefined) return extra;
    const b = this.inner.get(hex);
    return b === undefined ? undefined : this.#lie(b);
  }

  override locate(locator: readonly number[], hashStop: Uint8Array, max: number): DagBlock[] {
    const all = this.inner.locate(locator, hashStop, Number.MAX_SAFE_INTEGER).filter((b) => !this.#hide(b)).map((b) =>
      this.#lie(b)
    );
    const start = locator[0] ?? -1;
    for (const e of this.#extra) if (e.height > start) all.push(e);
    all.sort((a, b) => a.height - b.height);
    return all.slice(0, max);
  }

  override newest(): DagBlock {
    return this.inner.newest();
  }

  override get height(): number {
    return this.inner.height;
  }
}

/**
 * A block made from `base` with changed fields, with its hash.
 *
 * @param base The block to start from.
 * @param change What to change.
 * @returns The new block and its hash.
 */
export function forge(base: DagBlock, change: (b: BlockMessage) => BlockMessage): DagBlock {
  const block = change(structuredClone(base.block));
  const hash = blockHash(block.header);
  return { block, hash, hex: hashToHex(hash), height: base.height };
}

/**
 * Serves `dag` from `n` mini nodes and connects a client to each.
 *
 * @param dag The DAG.
 * @param n How many nodes.
 * @param cleanups Where to register their closing.
 * @param config More configuration of the clients.
 * @returns The clients, handshaken.
 */
export async function nodes(
  dag: Dag,
  n: number,
  cleanups: Array<() => unknown>,
  config: PeerConfig = {},
): Promise<Peer[]> {
  const peers: Peer[] = [];
  for (let i = 0; i < n; i++) {
    const s = await serve(dag);
    cleanups.push(() => s.close());
    const p = await client(s.port, config);
    cleanups.push(() => p.disconnect());
    peers.push(p);
  }
  return peers;
}

/**
 * Checks that `got` is the whole DAG but genesis, once each, every parent
 * first, with the exact bytes and heights.
 *
 * @param dag The DAG.
 * @param got What the sync yielded.
 */
export function assertWholeDag(dag: Dag, got: readonly SyncedBlock[]): void {
  const genesis = dag.blocks()[0]!.hex;
  const seen = new Set<string>();
  for (const b of got) {
    assert.ok(!seen.has(b.hex), `block ${b.hex} yielded twice`);
    for (const p of b.block.parents.parents) {
      const ph = hashToHex(p.hash);
      assert.ok(ph === genesis || seen.has(ph), `block ${b.hex} before its parent ${ph}`);
    }
    const want = dag.get(b.hex);
    assert.ok(want !== undefined, `block ${b.hex} is not in the DAG`);
    assert.equal(b.height, want.height);
    assert.ok(bytesEqual(b.payload, encodePayload(want.block)), `bytes of ${b.hex}`);
    seen.add(b.hex);
  }
  assert.equal(got.length, dag.size - 1, "every block but genesis");
}

/**
 * A deterministic random source.
 *
 * @param seed The seed.
 * @returns A RandomSource.
 */
export function seededRandom(seed: number): (bytes: Uint8Array) => void {
  const x = new Xorshift(seed);
  return (bytes) => bytes.set(x.bytes(bytes.length));
}

/** A pool-shaped peer source that records what the sync reports. */
export class RecordingSource implements SyncPeerSource {
  readonly bans: { peer: Peer; reason: string }[] = [];
  readonly scores: { peer: Peer; points: number; reason: string }[] = [];
  readonly #peers: Peer[];
  constructor(peers: Peer[]) {
    this.#peers = peers;
  }
  peers(): Peer[] {
    return this.#peers.filter((p) => p.connected);
  }
  readonly #pending: SyncPeerEvent[] = [];
  #wake: (() => void) | undefined;
  #ended = false;
  /** Makes a peer join: listed by `peers()` and announced by `events()`. */
  join(peer: Peer): void {
    this.#peers.push(peer);
    this.#pending.push({ type: "peer-joined", peer });
    this.#wake?.();
  }
  events(): AsyncIterableIterator<SyncPeerEvent> {
    const it: AsyncIterableIterator<SyncPeerEvent> = {
      next: async () => {
        while (this.#pending.length === 0 && !this.#ended) await new Promise<void>((r) => this.#wake = r);
        const value = this.#pending.shift();
        return value === undefined ? { value: undefined, done: true } : { value, done: false };
      },
      return: () => {
        this.#ended = true;
        this.#wake?.();
        return Promise.resolve({ value: undefined, done: true });
      },
      [Symbol.asyncIterator]: () => it,
    };
    return it;
  }
  misbehaving(peer: Peer, points: number, reason: string): void {
    this.scores.push({ peer, points, reason });
  }
  ban(peer: Peer, reason: string): void {
    this.bans.push({ peer, reason });
    peer.disconnect();
  }
}
