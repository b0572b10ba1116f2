/**
 * The client side of the examples: waiting for answers from a peer, an
 * SPV-style header sync, a block download that checks every block, and
 * address discovery. Runtime-neutral.
 *
 * @module
 */
import {
  blockHash,
  blockSerializeSize,
  type Command,
  hashToHex,
  InvType,
  type InvVect,
  type Message,
  type MessageOf,
  type NetAddress,
  type Peer,
  ZERO_HASH,
} from "../../mod.ts";
import { checkBlock } from "./dag.ts";

/** How many messages of one command an {@linkcode Inbox} keeps unclaimed. */
const MAX_UNCLAIMED = 10_000;

interface Waiter {
  readonly commands: ReadonlySet<Command>;
  readonly resolve: (msg: Message) => void;
  readonly reject: (err: Error) => void;
  readonly timer: ReturnType<typeof setTimeout>;
}

/**
 * The messages a peer receives, claimed by command: `await
 * inbox.next("inv")` returns the first `inv` not yet claimed, waiting for
 * one if needed. It reads through {@linkcode Peer.messages}, so the peer's
 * listeners still see everything.
 */
export class Inbox {
  readonly #peer: Peer;
  readonly #buffered: Message[] = [];
  #waiters: Waiter[] = [];
  #ended = false;

  /**
   * Starts collecting the messages of `peer`.
   *
   * @param peer The peer; create the inbox before its handshake ends to see everything.
   */
  constructor(peer: Peer) {
    this.#peer = peer;
    void this.#pump();
  }

  async #pump(): Promise<void> {
    for await (const msg of this.#peer.messages({ highWaterMark: 256 })) {
      const i = this.#waiters.findIndex((w) => w.commands.has(msg.command));
      if (i >= 0) {
        const [w] = this.#waiters.splice(i, 1);
        clearTimeout(w!.timer);
        w!.resolve(msg);
        continue;
      }
      this.#buffered.push(msg);
      if (this.#buffered.length > MAX_UNCLAIMED) this.#buffered.shift();
    }
    this.#ended = true;
    const why = (await this.#peer.disconnected).message;
    for (const w of this.#waiters.splice(0)) {
      clearTimeout(w.timer);
      w.reject(new Error(why));
    }
  }

  /**
   * Takes the first unclaimed message of one of `commands` if there is one.
   *
   * @param commands The commands accepted.
   * @returns The message, or `undefined`.
   */
  take<C extends Command>(...commands: C[]): MessageOf<C> | undefined {
    const i = this.#buffered.findIndex((m) => (commands as Command[]).includes(m.command));
    if (i < 0) return undefined;
    return this.#buffered.splice(i, 1)[0] as MessageOf<C>;
  }

  /**
   * Waits for the first unclaimed message of one of `commands`.
   *
   * @param commands The commands accepted.
   * @param timeoutMs How long to wait.
   * @returns The message.
   * @throws {Error} when nothing came in time or the peer disconnected.
   */
  next<C extends Command>(commands: C | readonly C[], timeoutMs = 10_000): Promise<MessageOf<C>> {
    const list: C[] = typeof commands === "string" ? [commands] : [...commands];
    const msg = this.take(...list);
    if (msg !== undefined) return Promise.resolve(msg);
    if (this.#ended) return Promise.reject(new Error(`${this.#peer} is disconnected`));
    return new Promise<MessageOf<C>>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w.timer !== timer);
        reject(new Error(`No ${list.join(" or ")} from ${this.#peer.addr} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#waiters.push({
        commands: new Set<Command>(list),
        resolve: (m) => resolve(m as MessageOf<C>),
        reject,
        timer,
      });
    });
  }
}

/** A header learnt by {@linkcode syncHeaders}, with its height. */
export interface KnownHeader {
  /** The header's block hash as soterd prints it. */
  readonly hex: string;
  /** The block hash, wire order. */
  readonly hash: Uint8Array;
  /** The block height. */
  readonly height: number;
  /** The header. */
  readonly header: MessageOf<"headers">["headers"][number];
}

/** The outcome of {@linkcode syncHeaders}. */
export interface HeaderSync {
  /** The headers, in the order received (height order). */
  readonly headers: KnownHeader[];
  /** The greatest height reached. */
  readonly height: number;
  /** The request rounds made. */
  readonly rounds: number;
}

/** Options of {@linkcode syncHeaders}. */
export interface HeaderSyncOptions {
  /** Start after this height (default 0: everything after genesis). */
  fromHeight?: number;
  /** Milliseconds to wait for each answer; default 10 s. */
  timeout?: number;
  /** Progress, one line per round. */
  log?: (line: string) => void;
}

function isBlockInv(iv: InvVect): boolean {
  return iv.type === InvType.BLOCK || iv.type === InvType.WITNESS_BLOCK;
}

/**
 * Syncs block headers SPV-style. Headers carry no height in soter, so
 * each round first asks `getblocks` for the next blocks (an `inv` whose
 * entries carry heights, at most 500), then `getheaders` from the same
 * height up to the last of them (which returns every block up to that
 * height, siblings the `inv` cut off included). Every header must hash to
 * a block of the `inv` or sit at its last height.
 *
 * @param peer A peer past its handshake.
 * @param inbox The peer's inbox.
 * @param options Start height, timeout, progress log.
 * @returns The headers with their heights.
 * @throws {Error} when the remote does not answer or sends a header it did not announce.
 */
export async function syncHeaders(peer: Peer, inbox: Inbox, options: HeaderSyncOptions = {}): Promise<HeaderSync> {
  const timeout = options.timeout ?? 10_000;
  const log = options.log ?? (() => {});
  let height = options.fromHeight ?? 0;
  const headers: KnownHeader[] = [];
  const seen = new Set<string>();
  let rounds = 0;
  for (;;) {
    peer.pushGetBlocksMsg([height], ZERO_HASH);
    const inv = await inbox.next("inv", timeout);
    const blocks = inv.invList.filter(isBlockInv);
    rounds++;
    const last = blocks[blocks.length - 1];
    if (last === undefined || last.height <= height) {
      log(`round ${rounds}: nothing above height ${height}: synced`);
      break;
    }
    const heightOf = new Map(blocks.map((iv) => [hashToHex(iv.hash), iv.height]));
    peer.pushGetHeadersMsg([height], last.hash);
    const got = await inbox.next("headers", timeout);
    for (const header of got.headers) {
      const hash = blockHash(header);
      const hex = hashToHex(hash);
      // A sibling at the last height that the 500-entry inv left out.
      const h = heightOf.get(hex) ?? last.height;
      if (seen.has(hex)) throw new Error(`Header ${hex} was sent twice`);
      seen.add(hex);
      headers.push({ hex, hash, height: h, header });
    }
    const missing = blocks.filter((iv) => !seen.has(hashToHex(iv.hash)));
    if (missing.length > 0) {
      throw new Error(`${missing.length} announced blocks have no header, e.g. ${hashToHex(missing[0]!.hash)}`);
    }
    log(
      `round ${rounds}: inv of ${blocks.length} blocks (heights ${
        blocks[0]!.height
      }..${last.height}), ${got.headers.length} headers, all hashes match`,
    );
    height = last.height;
  }
  return { headers, height, rounds };
}

/** The outcome of {@linkcode downloadBlocks}. */
export interface BlockDownload {
  /** Blocks received and checked. */
  readonly blocks: number;
  /** Their payload bytes. */
  readonly bytes: number;
  /** Blocks the remote did not have. */
  readonly notFound: number;
  /** The most parents seen in one block. */
  readonly maxParents: number;
}

/** Options of {@linkcode downloadBlocks}. */
export interface DownloadOptions {
  /** Blocks per `getdata`; default 100. */
  batch?: number;
  /** Milliseconds to wait for each block; default 10 s. */
  timeout?: number;
  /** Progress, one line per batch. */
  log?: (line: string) => void;
  /** Heights of blocks already known (genesis at least), by display hex. */
  known?: Map<string, number>;
}

/**
 * Downloads blocks with `getdata` in batches and checks each: its hash,
 * its parents (known, downloaded earlier), `prevBlock` = the parents' tips
 * hash, the merkle root, and the height its parents give it.
 *
 * @param peer A peer past its handshake.
 * @param inbox The peer's inbox.
 * @param wanted The blocks, in height order (parents before children).
 * @param options Batch size, timeout, progress log, known heights.
 * @returns What was downloaded.
 * @throws {Error} for a block that fails a check, or a remote that does not answer.
 */
export async function downloadBlocks(
  peer: Peer,
  inbox: Inbox,
  wanted: readonly { hash: Uint8Array; height: number }[],
  options: DownloadOptions = {},
): Promise<BlockDownload> {
  const batch = options.batch ?? 100;
  const timeout = options.timeout ?? 10_000;
  const log = options.log ?? (() => {});
  const known = options.known ?? new Map<string, number>();
  let blocks = 0, bytes = 0, notFound = 0, maxParents = 0;
  for (let i = 0; i < wanted.length; i += batch) {
    const part = wanted.slice(i, i + batch);
    void peer.queueMessage({
      command: "getdata",
      invList: part.map((w) => ({ type: InvType.BLOCK, hash: w.hash, height: w.height })),
    });
    let answered = 0;
    let partBytes = 0;
    while (answered < part.length) {
      const msg = await inbox.next(["block", "notfound"], timeout);
      if (msg.command === "notfound") {
        answered += msg.invList.length;
        notFound += msg.invList.length;
        continue;
      }
      const want = part[answered]!;
      answered++;
      const check = checkBlock(msg, want.hash, (hex) => known.get(hex));
      if (!check.ok) throw new Error(`Block ${hashToHex(want.hash)}: ${check.problem}`);
      if (check.height !== want.height) {
        throw new Error(
          `Block ${hashToHex(want.hash)}: its parents put it at height ${check.height}, not ${want.height}`,
        );
      }
      known.set(hashToHex(want.hash), check.height);
      blocks++;
      const size = blockSerializeSize(msg, "base");
      bytes += size;
      partBytes += size;
      maxParents = Math.max(maxParents, msg.parents.parents.length);
    }
    log(
      `blocks ${i + 1}..${i + part.length} of ${wanted.length} (heights ${part[0]!.height}..${
        part[part.length - 1]!.height
      }): ${partBytes} bytes, checked`,
    );
  }
  return { blocks, bytes, notFound, maxParents };
}

/** The addresses a node gave. */
export interface Addresses {
  /** From `addr` (empty when the node did not answer `getaddr`). */
  readonly addr: NetAddress[];
  /** From `addrcache`: its inbound peers. */
  readonly inbound: NetAddress[];
  /** From `addrcache`: its outbound peers. */
  readonly outbound: NetAddress[];
  /** From `addrcache`: other addresses it knows. */
  readonly known: NetAddress[];
}

/**
 * Asks a node for addresses: `getaddr` then `getaddrcache`. soterd always
 * answers the latter but not the former on simnet; since a node handles
 * messages in order, an `addr` answer arrives before the `addrcache` one or
 * not at all.
 *
 * @param peer A peer past its handshake.
 * @param inbox The peer's inbox.
 * @param timeout Milliseconds to wait for `addrcache`.
 * @returns The addresses.
 */
export async function fetchAddresses(peer: Peer, inbox: Inbox, timeout = 10_000): Promise<Addresses> {
  void peer.queueMessage({ command: "getaddr" });
  void peer.queueMessage({ command: "getaddrcache" });
  const cache = await inbox.next("addrcache", timeout);
  const out = {
    addr: [] as NetAddress[],
    inbound: [...cache.inbound],
    outbound: [...cache.outbound],
    known: [...cache.known],
  };
  // An address cache too big for one message comes in several.
  for (let more = inbox.take("addrcache"); more !== undefined; more = inbox.take("addrcache")) {
    out.inbound.push(...more.inbound);
    out.outbound.push(...more.outbound);
    out.known.push(...more.known);
  }
  for (let addr = inbox.take("addr"); addr !== undefined; addr = inbox.take("addr")) out.addr.push(...addr.addrList);
  return out;
}
