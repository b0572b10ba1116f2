/**
 * A small soter node built on the library: it serves a {@linkcode Dag} to
 * the peers that connect to it and answers them as soterd does:
 *
 * - `getblocks` (locator height H, stop hash): an `inv` of the blocks above
 *   H in height order, at most 500, each carrying its height; always
 *   answered, even with an empty `inv`.
 * - `getheaders`: `headers` of the same blocks, at most 2000.
 * - `getdata`: each known block as `block`, the rest in one `notfound`;
 *   the next request is read only once the answer is written, as soterd
 *   waits for its `doneChan`.
 * - `getaddr`: `addr` with the known addresses, once per inbound
 *   connection (soterd ignores it on simnet; `answerGetAddr: false` does
 *   the same).
 * - `getaddrcache`: `addrcache` with its inbound peers (the asker among
 *   them), outbound peers and known addresses.
 * - {@linkcode DagNode.mine} adds a block on the tips and announces it to
 *   every peer with an `inv` of one block.
 *
 * Runtime-neutral: give it connections from any adapter.
 *
 * @module
 */
import {
  type ChainParams,
  type Conn,
  InvType,
  type InvVect,
  type Listener,
  LruSet,
  type NetAddress,
  Peer,
  type PeerConfig,
  type PeerListeners,
  ServiceFlag,
} from "../../mod.ts";
import { Dag, type DagBlock, MAX_BLOCKS_PER_MSG, MAX_HEADERS_PER_MSG } from "./dag.ts";

/** Options of a {@linkcode DagNode}. */
export interface DagNodeOptions {
  /** The DAG to serve; default a generated simnet DAG of height 100. */
  dag?: Dag;
  /** Our software's name in the user agent; default `"soter-dag-node"`. */
  userAgentName?: string;
  /** Our software's version; default `"0.1.0"`. */
  userAgentVersion?: string;
  /** Services to advertise; default network and witness. */
  services?: bigint;
  /** Other addresses to hand out in `addr` and `addrcache`. */
  known?: readonly NetAddress[];
  /** Answer `getaddr` (default `true`; soterd does not on simnet). */
  answerGetAddr?: boolean;
  /** Where to report what the node does, one line per event. */
  log?: (line: string) => void;
  /** More peer configuration (timeouts, clock…), and listeners called after the node's own. */
  peer?: PeerConfig;
}

/** What the node keeps per peer. */
interface PeerState {
  sentAddrs: boolean;
}

function now(): number {
  return Math.floor(Date.now() / 1000);
}

/**
 * A node serving a DAG. Accept connections with {@linkcode DagNode.serve}
 * or {@linkcode DagNode.accept}; stop with {@linkcode DagNode.close}.
 *
 * @example Serving on loopback
 * ```ts ignore
 * import { listen } from "@soter/peer/deno";
 * const node = new DagNode({ dag: Dag.generate({ height: 20 }) });
 * const listener = await listen({ hostname: "127.0.0.1", port: 0 });
 * void node.serve(listener);
 * // … later
 * listener.close();
 * await node.close();
 * ```
 */
export class DagNode {
  /** The DAG served. */
  readonly dag: Dag;
  /** The network. */
  readonly network: ChainParams;
  readonly #opts: DagNodeOptions;
  readonly #log: (line: string) => void;
  // Our own nonces: a node and a client in one process must not take each
  // other's version for a connection to themselves.
  readonly #nonces = new LruSet<bigint>(50);
  readonly #peers = new Map<Peer, PeerState>();
  readonly #outbound: NetAddress[] = [];
  readonly #known: NetAddress[];
  #closed = false;

  /**
   * Creates a node.
   *
   * @param options The DAG, identity, addresses and log.
   */
  constructor(options: DagNodeOptions = {}) {
    this.#opts = options;
    this.dag = options.dag ?? Dag.generate({ height: 100 });
    this.network = this.dag.network;
    this.#log = options.log ?? (() => {});
    this.#known = [...(options.known ?? [])];
  }

  /** The peers connected now (those that completed the handshake or are doing it). */
  get peers(): Peer[] {
    return [...this.#peers.keys()];
  }

  /**
   * Adds an address to hand out as known.
   *
   * @param na The address.
   */
  addKnown(na: NetAddress): void {
    this.#known.push(na);
  }

  /**
   * Records an address we are connected to as outbound (listed in
   * `addrcache`).
   *
   * @param na The address.
   */
  addOutbound(na: NetAddress): void {
    this.#outbound.push(na);
  }

  /**
   * Accepts connections from `listener` until it closes.
   *
   * @param listener A bound listener.
   * @returns A promise that settles when the listener is closed.
   */
  async serve(listener: Listener): Promise<void> {
    for await (const conn of listener) {
      if (this.#closed) {
        conn.close();
        break;
      }
      this.accept(conn);
    }
  }

  /**
   * Serves one connection the remote opened.
   *
   * @param conn The connection.
   * @returns The peer, already associated.
   */
  accept(conn: Conn): Peer {
    const peer = Peer.inbound(this.#config());
    const state: PeerState = { sentAddrs: false };
    this.#peers.set(peer, state);
    peer.associateConnection(conn);
    this.#log(`accepted ${peer.addr}`);
    void peer.disconnected.then((why) => {
      this.#peers.delete(peer);
      this.#log(`${peer.addr} disconnected: ${why.reason}`);
    });
    return peer;
  }

  /**
   * Adds a block on all current tips (at most 8) and announces it to every
   * peer with an `inv` of that one block, as soterd announces a block it
   * accepts.
   *
   * @returns The new block.
   */
  mine(): DagBlock {
    const block = this.dag.add(this.dag.tips().slice(0, 8));
    const iv: InvVect = { type: InvType.BLOCK, hash: block.hash, height: block.height };
    for (const peer of this.#peers.keys()) peer.queueInventory(iv);
    const n = block.block.parents.parents.length;
    this.#log(`mined block ${block.hex} at height ${block.height} with ${n} ${n === 1 ? "parent" : "parents"}`);
    return block;
  }

  /**
   * Disconnects every peer and waits until they are gone. Close the
   * listener given to {@linkcode DagNode.serve} yourself.
   *
   * @returns A promise that settles once every peer disconnected.
   */
  async close(): Promise<void> {
    this.#closed = true;
    const peers = [...this.#peers.keys()];
    for (const p of peers) p.disconnect();
    await Promise.all(peers.map((p) => p.disconnected));
  }

  #config(): PeerConfig {
    const o = this.#opts;
    const extra = o.peer?.listeners ?? {};
    const own = this.#listeners();
    const listeners: PeerListeners = { ...extra };
    for (const key of Object.keys(own) as (keyof PeerListeners)[]) {
      const mine = own[key] as ((peer: Peer, msg: never) => void | Promise<void>) | undefined;
      const theirs = extra[key] as ((peer: Peer, msg: never) => unknown) | undefined;
      if (mine === undefined) continue;
      (listeners as Record<string, unknown>)[key] = theirs === undefined ? mine : async (peer: Peer, msg: never) => {
        await mine(peer, msg);
        await theirs(peer, msg);
      };
    }
    return {
      sentNonces: this.#nonces,
      ...o.peer,
      network: this.network,
      userAgentName: o.userAgentName ?? "soter-dag-node",
      userAgentVersion: o.userAgentVersion ?? "0.1.0",
      services: o.services ?? (ServiceFlag.NODE_NETWORK | ServiceFlag.NODE_WITNESS),
      newestBlock: () => {
        const b = this.dag.newest();
        return { hash: b.hash, height: b.height };
      },
      listeners,
    };
  }

  #listeners(): PeerListeners {
    const dag = this.dag;
    return {
      onVersion: (peer, msg) => {
        this.#log(`${peer.addr} is ${msg.userAgent}, pver ${msg.protocolVersion}, last block ${msg.lastBlock}`);
      },
      onGetBlocks: (peer, msg) => {
        const found = dag.locate(msg.blockLocatorHeight, msg.hashStop, MAX_BLOCKS_PER_MSG);
        const invList = found.map((b) => ({ type: InvType.BLOCK, hash: b.hash, height: b.height }));
        void peer.queueMessage({ command: "inv", invList });
        this.#log(
          `getblocks after height ${msg.blockLocatorHeight[0] ?? "-"} from ${peer.addr}: inv of ${found.length}`,
        );
      },
      onGetHeaders: (peer, msg) => {
        const found = dag.locate(msg.blockLocatorHeight, msg.hashStop, MAX_HEADERS_PER_MSG);
        void peer.queueMessage({ command: "headers", headers: found.map((b) => b.block.header) });
        this.#log(
          `getheaders after height ${msg.blockLocatorHeight[0] ?? "-"} from ${peer.addr}: ${found.length} headers`,
        );
      },
      onGetData: async (peer, msg) => {
        const missing: InvVect[] = [];
        let last: Promise<boolean> | undefined;
        let served = 0;
        for (const iv of msg.invList) {
          const b = iv.type === InvType.BLOCK || iv.type === InvType.WITNESS_BLOCK ? dag.get(iv.hash) : undefined;
          if (b === undefined) {
            missing.push(iv);
            continue;
          }
          last = peer.queueMessage(b.block, { encoding: iv.type === InvType.WITNESS_BLOCK ? "witness" : "base" });
          served++;
        }
        if (missing.length > 0) last = peer.queueMessage({ command: "notfound", invList: missing });
        this.#log(
          `getdata from ${peer.addr}: ${served} ${served === 1 ? "block" : "blocks"}, ${missing.length} not found`,
        );
        // Like soterd, read nothing more from this peer until it is written.
        if (last !== undefined) await last;
      },
      onGetAddr: (peer) => {
        const state = this.#peers.get(peer);
        if (this.#opts.answerGetAddr === false || !peer.inbound || state === undefined || state.sentAddrs) return;
        state.sentAddrs = true;
        const sent = peer.pushAddrMsg(this.#known);
        this.#log(`getaddr from ${peer.addr}: ${sent.length} addresses`);
      },
      onGetAddrCache: (peer) => {
        const inbound: NetAddress[] = [];
        for (const p of this.#peers.keys()) {
          const na = p.na;
          if (p.inbound && na !== undefined) inbound.push({ ...na, timestamp: now(), services: p.services });
        }
        const msgs = peer.pushAddrCacheMsg(inbound, this.#outbound, this.#known);
        this.#log(
          `getaddrcache from ${peer.addr}: ${inbound.length} inbound, ${this.#outbound.length} outbound, ${this.#known.length} known in ${msgs.length} addrcache`,
        );
      },
    };
  }
}
