// Helpers of the sync tests (not a test file: the leading `_`): mini nodes
// serving a DAG over loopback, client peers connected to them, and DAGs that
// lie in one precise way.
import { Dag, type DagBlock } from "../examples/lib/dag.ts";
import { DagNode } from "../examples/lib/node.ts";
import { blockHash, type BlockMessage, hashToHex, type Listener, LruSet, Peer, type PeerConfig } from "../mod.ts";
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
 * truth); `extra` are blocks it announces on top of the honest ones, and
 * `height` changes the height it announces.
 */
export class LyingDag extends Dag {
  readonly inner: Dag;
  readonly #replace: (b: DagBlock) => BlockMessage | undefined;
  readonly #extra: DagBlock[];
  readonly #height: (b: DagBlock) => number;

  constructor(
    inner: Dag,
    lies: {
      replace?: (b: DagBlock) => BlockMessage | undefined;
      extra?: DagBlock[];
      height?: (b: DagBlock) => number;
    },
  ) {
    super(inner.network);
    this.inner = inner;
    this.#replace = lies.replace ?? (() => undefined);
    this.#extra = lies.extra ?? [];
    this.#height = lies.height ?? ((b) => b.height);
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
    const all = [...this.inner.locate(locator, hashStop, Number.MAX_SAFE_INTEGER).map((b) => this.#lie(b))];
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
