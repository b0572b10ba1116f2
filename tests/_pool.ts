// Helpers of the pool tests: an in-memory network of small nodes reached
// through the `connect`/`listen` seam the pool takes, so any IP address can
// be "dialled" and any remote address can knock at the pool's listener.
// Not a test file (the leading `_`).
import { ConnectionError } from "../src/adapters/errors.ts";
import type { ConnectOptions, Listener, ListenOptions } from "../src/adapters/types.ts";
import { SIMNET } from "../src/chain/params.ts";
import type { Conn, NetAddr } from "../src/peer/conn.ts";
import { LruSet } from "../src/peer/lru.ts";
import { Peer } from "../src/peer/peer.ts";
import { connPair } from "../src/peer/pipe.ts";
import type { PeerConfig } from "../src/peer/config.ts";
import { netAddress } from "../src/wire/ip.ts";
import type { NetAddress } from "../src/wire/netaddress.ts";
import { Dag } from "../examples/lib/dag.ts";
import { DagNode, type DagNodeOptions } from "../examples/lib/node.ts";

/** One small DAG shared by the nodes (generating one per node is slow). */
export const SHARED_DAG: Dag = Dag.generate({ height: 5 });

/** An `ip:port` key. */
export function key(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

/** A timestamped address (now, on the given clock time). */
export function addr(ip: string, port: number, nowMs: number): NetAddress {
  return netAddress({ ip, port, timestamp: Math.floor(nowMs / 1000), services: 1n });
}

/** A listener fed by hand: `push` a connection as if a remote had opened it. */
export class FakeListener implements Listener {
  readonly addr: NetAddr;
  #queue: Conn[] = [];
  #pull: ((r: IteratorResult<Conn>) => void) | undefined;
  #closed = false;

  constructor(addr: NetAddr) {
    this.addr = addr;
  }

  push(conn: Conn): void {
    if (this.#closed) {
      conn.close();
      return;
    }
    const pull = this.#pull;
    this.#pull = undefined;
    if (pull !== undefined) pull({ value: conn, done: false });
    else this.#queue.push(conn);
  }

  close(): void {
    this.#closed = true;
    for (const c of this.#queue.splice(0)) c.close();
    this.#pull?.({ value: undefined, done: true });
    this.#pull = undefined;
  }

  [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return Promise.resolve();
  }

  [Symbol.asyncIterator](): AsyncIterator<Conn> {
    return {
      next: () => {
        const c = this.#queue.shift();
        if (c !== undefined) return Promise.resolve({ value: c, done: false });
        if (this.#closed) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => this.#pull = resolve);
      },
    };
  }
}

/** What a connection the pool accepted shows the test: whether the pool ever read from it. */
export interface Knock {
  /** The remote's end. */
  remote: Conn;
  /** The pool's end, as handed to the pool. */
  local: Conn;
  /** Whether the pool asked for the bytes of its end. */
  read(): boolean;
  /** Settles when the pool's end was closed. */
  closed: Promise<void>;
}

/** A network of in-memory nodes, and the pool's listener. */
export class FakeNet {
  readonly nodes: Map<string, DagNode> = new Map();
  /** What answers a dial to each address. */
  readonly servers: Map<string, (conn: Conn) => void> = new Map();
  /** Peers made by `addRaw`, by address. */
  readonly raw: Map<string, Peer[]> = new Map();
  readonly dials: string[] = [];
  /** Addresses whose dials never settle (until aborted). */
  readonly blackholes: Set<string> = new Set();
  listener: FakeListener | undefined;
  readonly #nonces = new LruSet<bigint>(1000);

  /** Adds a node at `ip:port`. */
  add(ip: string, port = SIMNET.defaultPort, options: DagNodeOptions = {}): DagNode {
    const node = new DagNode({ dag: SHARED_DAG, peer: { sentNonces: this.#nonces }, ...options });
    this.nodes.set(key(ip, port), node);
    this.servers.set(key(ip, port), (conn) => node.accept(conn));
    return node;
  }

  /** Adds a bare peer at `ip:port` with only the given listeners (answers nothing else). */
  addRaw(ip: string, port: number, config: PeerConfig = {}): void {
    const k = key(ip, port);
    this.servers.set(k, (conn) => {
      const peer = Peer.inbound({
        network: SIMNET,
        userAgentName: "raw",
        userAgentVersion: "1.0.0",
        sentNonces: this.#nonces,
        ...config,
      });
      peer.associateConnection(conn);
      const list = this.raw.get(k) ?? [];
      list.push(peer);
      this.raw.set(k, list);
    });
  }

  /** Removes a node and disconnects its peers ("kills" it). */
  async kill(k: string): Promise<void> {
    const node = this.nodes.get(k);
    this.nodes.delete(k);
    this.servers.delete(k);
    await node?.close();
    for (const p of this.raw.get(k) ?? []) p.disconnect();
  }

  /** The pool's `connect`. */
  connect = (host: string, port: number, options: ConnectOptions = {}): Promise<Conn> => {
    const k = key(host, port);
    this.dials.push(k);
    if (this.blackholes.has(k)) {
      return new Promise((_, reject) => {
        options.signal?.addEventListener("abort", () => reject(new ConnectionError("aborted", `aborted ${k}`)));
      });
    }
    const serve = this.servers.get(k);
    if (serve === undefined) return Promise.reject(new ConnectionError("refused", `Connection refused: ${k}`));
    const [mine, theirs] = connPair({
      addrA: { hostname: host, port },
      addrB: { hostname: "10.255.0.1", port: 40000 },
    });
    serve(mine);
    return Promise.resolve(theirs);
  };

  /** The pool's `listen`: one fake listener. */
  listen = (options: ListenOptions): Promise<Listener> => {
    this.listener = new FakeListener({ hostname: options.hostname ?? "0.0.0.0", port: options.port || 18555 });
    return Promise.resolve(this.listener);
  };

  /** Opens a connection from `host` to the pool's listener. */
  knock(host: string, port = 50000): Knock {
    const [remote, local] = connPair({
      addrA: { hostname: host, port },
      addrB: { hostname: "10.255.0.1", port: 18555 },
    });
    let read = false;
    let onClose!: () => void;
    const closed = new Promise<void>((r) => onClose = r);
    const watched: Conn = {
      get readable() {
        read = true;
        return local.readable;
      },
      writable: local.writable,
      localAddr: local.localAddr,
      remoteAddr: local.remoteAddr,
      close() {
        local.close();
        onClose();
      },
    };
    this.listener!.push(watched);
    return { remote, local: watched, read: () => read, closed };
  }

  /** Opens a connection from `host` and makes a peer on it that speaks first. */
  client(host: string, config: PeerConfig = {}, port = 50000): Peer {
    const k = this.knock(host, port);
    const peer = Peer.outbound("10.255.0.1:18555", {
      network: SIMNET,
      userAgentName: "client",
      userAgentVersion: "1.0.0",
      sentNonces: this.#nonces,
      ...config,
    });
    peer.associateConnection(k.remote);
    return peer;
  }
}

/** Waits until `check` holds, letting promise callbacks run between checks (bounded). */
export async function until(check: () => boolean, what: string, turns = 2000): Promise<void> {
  for (let i = 0; i < turns; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, i < 100 ? 0 : 5));
  }
  throw new Error(`Timed out waiting until ${what}`);
}
