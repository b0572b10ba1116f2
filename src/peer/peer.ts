/**
 * The `Peer`: the I/O driver that ties the handshake, the output queue, the
 * inventory trickle, stall detection and the timers to a {@linkcode Conn}.
 *
 * @module
 */
import { FrameDecoder } from "../wire/decoder.ts";
import { MessageError } from "../wire/errors.ts";
import { encodeMessage } from "../wire/frame.ts";
import { InvType, type InvVect } from "../wire/invvect.ts";
import type { Message } from "../wire/message.ts";
import { MAX_ADDR_PER_MSG } from "../wire/messages/addr.ts";
import type { AddrCacheMessage } from "../wire/messages/addrcache.ts";
import { MAX_BLOCK_LOCATORS_PER_MSG } from "../wire/messages/getblocks.ts";
import { RejectCode, type RejectMessage } from "../wire/messages/reject.ts";
import type { VersionMessage } from "../wire/messages/version.ts";
import type { NetAddress } from "../wire/netaddress.ts";
import {
  BIP0031_VERSION,
  BIP0111_VERSION,
  hasService,
  type MessageEncoding,
  PROTOCOL_VERSION,
  REJECT_VERSION,
  ServiceFlag,
} from "../wire/protocol.ts";
import type { TimerId } from "./clock.ts";
import {
  LISTENER_NAMES,
  type PeerConfig,
  type PeerListeners,
  QUEUE_ENTRY_OVERHEAD,
  resolveConfig,
  type ResolvedConfig,
} from "./config.ts";
import type { Conn, NetAddr } from "./conn.ts";
import { ConfigError, DisconnectError, type DisconnectReason, isRemoteReset } from "./errors.ts";
import {
  buildLocalVersion,
  checkObsolete,
  checkRemoteVersion,
  formatAddr,
  hostNetAddress,
  makeReject,
  splitHostPort,
  VERSION_FIRST_REASON,
  type VersionRefusal,
} from "./handshake.ts";
import { InvTrickle, type OutItem, OutQueue } from "./outqueue.ts";
import { randomSubset, RepeatFilter, splitAddrCache } from "./push.ts";
import { randomU64 } from "./random.ts";
import { StallDetector } from "./stall.ts";
import { Subscription } from "./subscription.ts";
import type { PeerStats } from "./stats.ts";

/** Frames written in one tick are joined into writes of about this size. */
const WRITE_BATCH_BYTES = 256 * 1024;

/** Peers get ids from one counter per process, as in soterd. */
let nodeCount = 0;

type State = "new" | "handshake" | "open" | "closed";

type ReadResult =
  | { readonly kind: "message"; readonly message: Message; readonly payload: Uint8Array }
  | { readonly kind: "error"; readonly error: MessageError }
  | { readonly kind: "end"; readonly partial: boolean }
  | { readonly kind: "failed"; readonly error: unknown }
  | { readonly kind: "closed" };

/** Options of {@linkcode Peer.queueMessage}. */
export interface QueueMessageOptions {
  /**
   * How to encode transactions (in `tx` and `block`): `"base"` (the
   * default, as soterd's `QueueMessage`) or `"witness"`, which only a
   * remote with {@linkcode Peer.witnessEnabled} understands.
   */
  encoding?: MessageEncoding;
}

/** Options of {@linkcode Peer.messages}. */
export interface MessagesOptions {
  /**
   * How many messages may wait for the consumer before the peer stops
   * reading (default 16).
   */
  highWaterMark?: number;
}

function noop(): void {}

/**
 * Closes a connection and its streams. The peer calls it from a microtask,
 * not from its own methods: the errors the streams make and keep while
 * closing (a terminated stream, a closed connection) record the receivers
 * of the stack frames they are made in (V8 until the stack is formatted,
 * Deno for good). Made inside a method of the peer, they would record the
 * peer, and a connection still referenced by the application would keep
 * the closed peer alive.
 */
function closeConnection(
  conn: Conn,
  reader: ReadableStreamDefaultReader<Uint8Array> | undefined,
  writer: WritableStreamDefaultWriter<Uint8Array> | undefined,
): void {
  try {
    conn.close();
  } catch {
    // close() must not throw; be safe anyway.
  }
  reader?.cancel().catch(noop);
  writer?.abort().catch(noop);
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof value === "object" && value !== null && typeof (value as PromiseLike<unknown>).then === "function";
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/**
 * A soter peer: it speaks the protocol over one {@linkcode Conn}, full
 * duplex. It performs the `version`/`verack` handshake with soterd's
 * checks, answers pings and pings in turn, batches and trickles inventory,
 * detects stalled and idle remotes, and calls your listeners (or yields to
 * {@linkcode Peer.messages}) for each message received. A misbehaving
 * remote ends in a disconnect, reported by {@linkcode Peer.disconnected};
 * nothing is thrown at you.
 *
 * The caller makes the connections: create a peer with
 * {@linkcode Peer.outbound} or {@linkcode Peer.inbound}, then give it its
 * connection with {@linkcode Peer.associateConnection}.
 *
 * @example Two peers talking over an in-memory connection
 * ```ts
 * import { connPair, LruSet, Peer, SIMNET } from "@soter/peer";
 * const [a, b] = connPair();
 * const server = Peer.inbound({
 *   network: SIMNET,
 *   userAgentName: "server",
 *   userAgentVersion: "1.0.0",
 *   sentNonces: new LruSet<bigint>(50),
 * });
 * const client = Peer.outbound(`${a.localAddr.hostname}:${a.localAddr.port}`, {
 *   network: SIMNET,
 *   userAgentName: "client",
 *   userAgentVersion: "1.0.0",
 *   sentNonces: new LruSet<bigint>(50),
 *   listeners: { onVerAck: (peer) => console.log("handshake done with", peer.userAgent) },
 * });
 * server.associateConnection(a);
 * client.associateConnection(b);
 * console.log(await client.ready); // true
 * client.disconnect();
 * console.log((await server.disconnected).reason); // "remote-closed"
 * ```
 */
export class Peer implements AsyncDisposable {
  readonly #cfg: ResolvedConfig;
  readonly #inbound: boolean;
  #addr: string;
  #na: NetAddress | undefined;

  #state: State = "new";
  #conn: Conn | undefined;
  #reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  #writer: WritableStreamDefaultWriter<Uint8Array> | undefined;
  readonly #decoder: FrameDecoder;
  readonly #queue: OutQueue;
  #inflight: OutItem[] = [];
  #wake: (() => void) | undefined;
  readonly #trickle = new InvTrickle();
  readonly #stall: StallDetector;
  readonly #timers = new Set<TimerId>();
  /** When the last message was handled (the idle wait starts there). */
  #idleSince = 0;
  /** A message is being handled: the idle wait is suspended. */
  #busy = false;
  readonly #subscriptions = new Set<Subscription>();
  #abortListener: (() => void) | undefined;
  #remoteVersion: VersionMessage | undefined;
  #closing: { reason: DisconnectReason; message: string; cause: unknown } | undefined;

  // Flags.
  #id = 0;
  #userAgent = "";
  #services: bigint;
  #versionKnown = false;
  #advertisedPver = 0;
  #pver: number;
  #sendHeadersPreferred = false;
  #verAckReceived = false;
  #witnessEnabled = false;

  // Statistics.
  #timeOffset = 0;
  #timeConnected = 0;
  #startingHeight = 0;
  #maxBlockHeight = 0;
  #lastAnnouncedBlock: Uint8Array | undefined;
  #lastPingNonce = 0n;
  #lastPingTime = 0;
  #lastPingMicros = 0;
  #lastSend = 0;
  #lastRecv = 0;
  #bytesSent = 0;
  #bytesRecv = 0;

  readonly #prevGetBlocks = new RepeatFilter(true);
  readonly #prevGetHeaders = new RepeatFilter(false);

  readonly #ready = deferred<boolean>();
  readonly #closed = deferred<DisconnectError>();
  #reason: DisconnectError | undefined;

  private constructor(cfg: ResolvedConfig, inbound: boolean, addr: string, na: NetAddress | undefined) {
    this.#cfg = cfg;
    this.#inbound = inbound;
    this.#addr = addr;
    this.#na = na;
    this.#services = cfg.services;
    this.#pver = cfg.protocolVersion;
    this.#decoder = new FrameDecoder({
      magic: cfg.network.magic,
      pver: cfg.protocolVersion,
      encoding: "witness",
      hasher: cfg.hasher,
    });
    this.#queue = new OutQueue(cfg.maxQueueBytes, QUEUE_ENTRY_OVERHEAD);
    this.#stall = new StallDetector(cfg.stallResponseTimeout);
    const signal = cfg.signal;
    if (signal !== undefined) {
      if (signal.aborted) {
        this.#abort();
      } else {
        this.#abortListener = () => this.#abort();
        signal.addEventListener("abort", this.#abortListener, { once: true });
      }
    }
  }

  /**
   * Creates a peer for a connection the remote opened. Its address is
   * taken from the connection.
   *
   * @param config The configuration; every field has soterd's default.
   * @returns The peer, waiting for {@linkcode Peer.associateConnection}.
   * @throws {ConfigError} for a configuration soterd would refuse.
   *
   * @example Accepting a connection
   * ```ts
   * import { connPair, Peer, SIMNET } from "@soter/peer";
   * const [conn] = connPair();
   * const peer = Peer.inbound({ network: SIMNET, userAgentName: "myapp", userAgentVersion: "1.0.0" });
   * peer.associateConnection(conn);
   * peer.disconnect();
   * ```
   */
  static inbound(config: PeerConfig = {}): Peer {
    return new Peer(resolveConfig(config), true, "", undefined);
  }

  /**
   * Creates a peer for a connection we open to `address`. The address goes
   * into our `version` (through `hostToNetAddress` when given).
   *
   * @param address The remote's `host:port` (or `[v6]:port`).
   * @param config The configuration; every field has soterd's default.
   * @returns The peer, waiting for {@linkcode Peer.associateConnection}.
   * @throws {ConfigError} for a malformed address, a failing
   *   `hostToNetAddress`, or a configuration soterd would refuse.
   *
   * @example Connecting
   * ```ts ignore
   * import { Peer, SIMNET } from "@soter/peer";
   * import { connect } from "@soter/peer/deno";
   * const peer = Peer.outbound("127.0.0.1:18555", { network: SIMNET, userAgentName: "myapp", userAgentVersion: "1.0.0" });
   * peer.associateConnection(await connect("127.0.0.1", 18555));
   * ```
   */
  static outbound(address: string, config: PeerConfig = {}): Peer {
    const cfg = resolveConfig(config);
    const hp = splitHostPort(address);
    if (hp === undefined) {
      throw new ConfigError(`Invalid peer address: ${JSON.stringify(address)} is not host:port`);
    }
    let na: NetAddress;
    if (cfg.hostToNetAddress !== undefined) {
      try {
        na = cfg.hostToNetAddress(hp.host, hp.port, cfg.services);
      } catch (err) {
        throw new ConfigError(`Cannot resolve peer address ${address}: ${errorText(err)}`, { cause: err });
      }
    } else {
      na = hostNetAddress(hp.host, hp.port, cfg.services);
    }
    return new Peer(cfg, false, address, na);
  }

  // ---------------------------------------------------------------------
  // Lifecycle.

  /**
   * Gives the peer its connection and starts the handshake: an outbound
   * peer writes its `version` first, an inbound one reads first. Calling
   * it again has no effect; calling it after {@linkcode Peer.disconnect}
   * closes `conn`.
   *
   * @param conn The connection.
   */
  associateConnection(conn: Conn): void {
    if (this.#conn !== undefined) return;
    this.#conn = conn;
    if (this.#state === "closed") {
      this.#closeConn();
      return;
    }
    this.#timeConnected = this.#cfg.clock.now();
    if (this.#inbound) {
      this.#addr = formatAddr(conn.remoteAddr);
      this.#na = hostNetAddress(conn.remoteAddr.hostname, conn.remoteAddr.port, this.#services);
    }
    this.#state = "handshake";
    void this.#run(conn);
  }

  /**
   * Disconnects: closes the connection, stops every timer, drops queued
   * messages (their promises settle with `false`) and ends
   * {@linkcode Peer.messages}. Calling it again has no effect.
   *
   * @example
   * ```ts
   * import { Peer } from "@soter/peer";
   * const peer = Peer.inbound();
   * peer.disconnect();
   * console.log(peer.connected); // false
   * ```
   */
  disconnect(): void {
    this.#shutdown("local", "Disconnected locally");
  }

  /**
   * Settles once the peer has disconnected, for whatever reason, with why.
   * It never rejects.
   *
   * @example
   * ```ts
   * import { Peer } from "@soter/peer";
   * const peer = Peer.inbound();
   * setTimeout(() => peer.disconnect(), 0);
   * console.log((await peer.disconnected).reason); // "local"
   * ```
   */
  get disconnected(): Promise<DisconnectError> {
    return this.#closed.promise;
  }

  /**
   * Settles with `true` once the remote's `version` is accepted and ours is
   * sent (messages then flow), or `false` if the peer disconnects first.
   * The remote's `verack` may still be on its way.
   */
  get ready(): Promise<boolean> {
    return this.#ready.promise;
  }

  /** Why the peer disconnected, or `undefined` while it has not. */
  get disconnectReason(): DisconnectError | undefined {
    return this.#reason;
  }

  /**
   * Disconnects and waits for it, for `await using`.
   *
   * @returns A promise that settles once disconnected.
   *
   * @example
   * ```ts
   * import { Peer } from "@soter/peer";
   * {
   *   await using peer = Peer.inbound();
   *   console.log(peer.connected); // false (no connection yet)
   * } // disconnected here
   * ```
   */
  async [Symbol.asyncDispose](): Promise<void> {
    this.disconnect();
    await this.#closed.promise;
  }

  /**
   * Iterates over the messages received from now on, as an alternative to
   * listeners (both see the same messages: everything after a successful
   * handshake, starting with the remote's `version`, except refused
   * duplicates and ignored bloom filter commands). The iteration ends when
   * the peer disconnects. When `highWaterMark` messages wait unconsumed,
   * the peer stops reading until the consumer catches up (that time does not
   * count against the remote's response deadlines); breaking out of the
   * loop unsubscribes.
   *
   * @param options The buffer size.
   * @returns An async iterator of messages.
   *
   * @example Logging what arrives
   * ```ts ignore
   * for await (const msg of peer.messages()) {
   *   console.log(msg.command);
   * }
   * console.log("gone:", (await peer.disconnected).reason);
   * ```
   */
  messages(options: MessagesOptions = {}): AsyncIterableIterator<Message> {
    const hwm = Math.max(1, Math.floor(options.highWaterMark ?? 16));
    const sub = new Subscription(hwm, (s) => this.#subscriptions.delete(s));
    if (this.#state === "closed") sub.end();
    else this.#subscriptions.add(sub);
    return sub;
  }

  // ---------------------------------------------------------------------
  // Output.

  /**
   * Queues a message for the remote. Messages are written in order,
   * several per write when queued in the same tick. Messages queued during
   * the handshake are written after our `verack`.
   *
   * The output queue is bounded by `maxQueueBytes`: when a remote does not
   * read and the queue would grow beyond it, the peer disconnects with
   * `send-queue-full` rather than grow without bound.
   *
   * @param msg The message.
   * @param options The transaction encoding.
   * @returns A promise that settles with `true` once the connection has
   *   taken the bytes, or `false` if the message was dropped (the peer
   *   disconnected first, had no connection yet, or the message cannot be
   *   encoded at the protocol version negotiated later). It never rejects.
   * @throws {MessageError} when the message cannot be encoded at the
   *   current protocol version (a bad field, or a command too new for the
   *   remote).
   *
   * @example Waiting until a message is written
   * ```ts ignore
   * const written = await peer.queueMessage({ command: "getaddr" });
   * ```
   */
  queueMessage(msg: Message, options: QueueMessageOptions = {}): Promise<boolean> {
    if (this.#state === "closed" || this.#state === "new") return Promise.resolve(false);
    const encoding = options.encoding ?? "base";
    const pver = this.#pver;
    const frame = this.#encode(msg, pver, encoding);
    return this.#enqueue(msg, encoding, frame, pver);
  }

  /**
   * Queues inventory to announce. Blocks go out at once in an `inv` of
   * their own; other inventory waits for the next trickle (every
   * `trickleInterval`) and goes out in `inv` batches of at most 1000.
   * Inventory the remote is known to have is skipped, and so is everything
   * before the remote's `version` is accepted or after a disconnect. At most
   * 50,000 vectors wait for a trickle; more are dropped (soterd's waiting
   * list has no bound).
   *
   * @param iv The inventory vector.
   *
   * @example
   * ```ts ignore
   * peer.queueInventory({ type: InvType.TX, hash: txid, height: 0 });
   * ```
   */
  queueInventory(iv: InvVect): void {
    if (this.#trickle.isKnown(iv)) return;
    if (!this.connected || !this.#versionKnown) return;
    if (iv.type === InvType.BLOCK || iv.type === InvType.WITNESS_BLOCK) {
      void this.#queueInternal({ command: "inv", invList: [iv] });
      return;
    }
    this.#trickle.add(iv);
  }

  /**
   * Records that the remote has `iv`, so it is not announced to it.
   *
   * @param iv The inventory vector.
   */
  addKnownInventory(iv: InvVect): void {
    this.#trickle.markKnown(iv);
  }

  /**
   * Sends an `addr` with the given addresses: all of them, or a random
   * 1000 when there are more. Nothing is sent for an empty list.
   *
   * @param addresses The addresses.
   * @returns The addresses actually sent.
   * @throws {MessageError} when an address cannot be encoded.
   *
   * @example
   * ```ts ignore
   * const sent = peer.pushAddrMsg(knownAddresses);
   * ```
   */
  pushAddrMsg(addresses: readonly NetAddress[]): NetAddress[] {
    if (addresses.length === 0) return [];
    const list = randomSubset(addresses, MAX_ADDR_PER_MSG, this.#cfg.random);
    void this.queueMessage({ command: "addr", addrList: list });
    return list;
  }

  /**
   * Sends `addrcache` messages with the given addresses, split so each holds
   * at most 1000 (outbound addresses first, then inbound, then known, as
   * soterd does).
   *
   * @param inbound Addresses of inbound peers.
   * @param outbound Addresses of outbound peers.
   * @param known Other known addresses.
   * @returns The messages queued (none when all lists are empty).
   * @throws {MessageError} when an address cannot be encoded.
   */
  pushAddrCacheMsg(
    inbound: readonly NetAddress[],
    outbound: readonly NetAddress[],
    known: readonly NetAddress[],
  ): AddrCacheMessage[] {
    const msgs = splitAddrCache(inbound, outbound, known);
    for (const m of msgs) void this.queueMessage(m);
    return msgs;
  }

  /**
   * Sends a `getblocks` for a locator (at most one height) and a stop hash,
   * unless it repeats the previous request's start height and non-zero stop
   * hash (a zero stop hash is always sent: soterd may need to ask again
   * while its height is unchanged).
   *
   * @param locator The block locator heights (at most one).
   * @param stopHash The stop hash in wire order; zero for as many as allowed.
   * @returns `false` when skipped as a repeat.
   * @throws {MessageError} for more than one locator height.
   *
   * @example Asking for the blocks above height 100
   * ```ts ignore
   * peer.pushGetBlocksMsg([100], ZERO_HASH);
   * ```
   */
  pushGetBlocksMsg(locator: readonly number[], stopHash: Uint8Array): boolean {
    return this.#pushLocator("getblocks", this.#prevGetBlocks, locator, stopHash);
  }

  /**
   * Sends a `getheaders` for a locator (at most one height) and a stop
   * hash, unless it repeats the previous request's start height and stop
   * hash.
   *
   * @param locator The block locator heights (at most one).
   * @param stopHash The stop hash in wire order; zero for as many as allowed.
   * @returns `false` when skipped as a repeat.
   * @throws {MessageError} for more than one locator height.
   */
  pushGetHeadersMsg(locator: readonly number[], stopHash: Uint8Array): boolean {
    return this.#pushLocator("getheaders", this.#prevGetHeaders, locator, stopHash);
  }

  /**
   * Sends a `reject`. It is skipped when the remote's protocol version is
   * known to be below 70002 (no `reject` there). The hash is sent only for
   * `tx` and `block` (zero when missing).
   *
   * @param command The rejected command.
   * @param code A {@linkcode RejectCode}.
   * @param reason Details for a person.
   * @param hash The rejected transaction or block, in wire order.
   * @returns A promise that settles with `true` once written, `false` when
   *   skipped or dropped.
   *
   * @example
   * ```ts ignore
   * await peer.pushRejectMsg("tx", RejectCode.NONSTANDARD, "non-standard script", txid);
   * ```
   */
  pushRejectMsg(command: string, code: number, reason: string, hash?: Uint8Array): Promise<boolean> {
    if (this.#versionKnown && this.#pver < REJECT_VERSION) return Promise.resolve(false);
    return this.#queueInternal(makeReject(command, code, reason, hash));
  }

  // ---------------------------------------------------------------------
  // Observation.

  /** The peer's id, assigned when the remote's `version` is accepted (0 before). */
  get id(): number {
    return this.#id;
  }

  /** The remote's address, `host:port`. */
  get addr(): string {
    return this.#addr;
  }

  /** Whether the remote opened the connection. */
  get inbound(): boolean {
    return this.#inbound;
  }

  /** The remote's network address as sent in our `version`. */
  get na(): NetAddress | undefined {
    return this.#na;
  }

  /** The services the remote advertised (ours until its `version`). */
  get services(): bigint {
    return this.#services;
  }

  /** The remote's user agent. */
  get userAgent(): string {
    return this.#userAgent;
  }

  /** The negotiated protocol version: the lower of ours and the remote's. */
  get protocolVersion(): number {
    return this.#pver;
  }

  /** Whether the remote's `version` has been read. */
  get versionKnown(): boolean {
    return this.#versionKnown;
  }

  /** Whether the remote's `verack` has been read. */
  get verAckReceived(): boolean {
    return this.#verAckReceived;
  }

  /** Whether the remote sent `sendheaders` (it wants headers, not block inventory). */
  get wantsHeaders(): boolean {
    return this.#sendHeadersPreferred;
  }

  /** Whether the remote signals `NODE_WITNESS`, so its transactions are read with witness data. */
  get witnessEnabled(): boolean {
    return this.#witnessEnabled;
  }

  /** The height the remote reported in its `version`. */
  get startingHeight(): number {
    return this.#startingHeight;
  }

  /** The highest block height known for the remote. */
  get maxBlockHeight(): number {
    return this.#maxBlockHeight;
  }

  /** The remote's clock minus ours, in seconds, from its `version`. */
  get timeOffset(): number {
    return this.#timeOffset;
  }

  /** The hash of the last block the remote announced, if recorded. */
  get lastAnnouncedBlock(): Uint8Array | undefined {
    return this.#lastAnnouncedBlock;
  }

  /** The nonce of our unanswered ping (0n when none). */
  get lastPingNonce(): bigint {
    return this.#lastPingNonce;
  }

  /** When our last ping was taken for writing (ms since the epoch, 0 for never), as soterd's `lastPingTime`. */
  get lastPingTime(): number {
    return this.#lastPingTime;
  }

  /** The round trip of the last answered ping, in microseconds. */
  get lastPingMicros(): number {
    return this.#lastPingMicros;
  }

  /** When a message was last written (ms since the epoch, 0 for never). */
  get lastSend(): number {
    return this.#lastSend;
  }

  /** When a message was last read (ms since the epoch, 0 for never). */
  get lastRecv(): number {
    return this.#lastRecv;
  }

  /** Bytes written, frame headers included (a failed write counts none). */
  get bytesSent(): number {
    return this.#bytesSent;
  }

  /**
   * Bytes of the frames read, headers included. A frame that fails to
   * decode counts none (soterd counts the bytes it consumed).
   */
  get bytesReceived(): number {
    return this.#bytesRecv;
  }

  /** When the connection was associated (ms since the epoch, 0 before). */
  get timeConnected(): number {
    return this.#timeConnected;
  }

  /** Whether a connection is associated and the peer has not disconnected. */
  get connected(): boolean {
    return this.#conn !== undefined && this.#state !== "closed";
  }

  /** Encoded bytes queued and not yet taken by the connection. */
  get queuedBytes(): number {
    return this.#queue.bytes;
  }

  /** The connection's local address, while connected. */
  get localAddr(): NetAddr | undefined {
    return this.connected ? this.#conn?.localAddr : undefined;
  }

  /** The connection's remote address, while connected. */
  get remoteAddr(): NetAddr | undefined {
    return this.connected ? this.#conn?.remoteAddr : undefined;
  }

  /**
   * Records a new highest block height for the remote.
   *
   * @param height The height.
   */
  updateMaxBlockHeight(height: number): void {
    this.#maxBlockHeight = height;
  }

  /**
   * Records the last block the remote announced.
   *
   * @param hash The block hash in wire order.
   */
  updateLastAnnouncedBlock(hash: Uint8Array): void {
    this.#lastAnnouncedBlock = hash;
  }

  /**
   * Returns the peer's flags and counters at this moment.
   *
   * @returns A snapshot with every field of soterd's `StatsSnap`.
   *
   * @example
   * ```ts
   * import { Peer } from "@soter/peer";
   * const stats = Peer.inbound().statsSnapshot();
   * console.log(stats.bytesSent, stats.inbound); // 0 true
   * ```
   */
  statsSnapshot(): PeerStats {
    return {
      id: this.#id,
      addr: this.#addr,
      services: this.#services,
      lastSend: this.#lastSend,
      lastRecv: this.#lastRecv,
      bytesSent: this.#bytesSent,
      bytesRecv: this.#bytesRecv,
      connTime: this.#timeConnected,
      timeOffset: this.#timeOffset,
      version: this.#advertisedPver,
      userAgent: this.#userAgent,
      inbound: this.#inbound,
      startingHeight: this.#startingHeight,
      lastBlock: this.#maxBlockHeight,
      lastPingNonce: this.#lastPingNonce,
      lastPingTime: this.#lastPingTime,
      lastPingMicros: this.#lastPingMicros,
    };
  }

  /**
   * Names the peer as soterd's logs do.
   *
   * @returns `address (inbound)` or `address (outbound)`.
   */
  toString(): string {
    return `${this.#addr} (${this.#inbound ? "inbound" : "outbound"})`;
  }

  // ---------------------------------------------------------------------
  // Internals: timers.

  /** Reads the state afresh (TypeScript narrows fields across `await`). */
  #isClosed(): boolean {
    return this.#state === "closed";
  }

  #setTimer(ms: number, fn: () => void): TimerId | undefined {
    if (this.#state === "closed") return undefined;
    const clock = this.#cfg.clock;
    const id: TimerId = clock.setTimeout(() => {
      this.#timers.delete(id);
      if (this.#state === "closed") return;
      try {
        fn();
      } catch (err) {
        // Only a listener called from a timer task can throw here.
        this.#shutdown("listener-error", `Timer task failed: ${errorText(err)}`, err);
      }
    }, ms);
    this.#timers.add(id);
    return id;
  }

  #clearTimer(id: TimerId | undefined): void {
    if (id === undefined || !this.#timers.has(id)) return;
    this.#timers.delete(id);
    this.#cfg.clock.clearTimeout(id);
  }

  #every(ms: number, fn: () => void): void {
    const tick = () => {
      fn();
      this.#setTimer(ms, tick);
    };
    this.#setTimer(ms, tick);
  }

  /**
   * Starts the idle timeout. Rather than re-arming a timer per message, the
   * timer checks on firing whether a message was handled meanwhile (or is
   * being handled) and waits again for the rest.
   */
  #startIdle(): void {
    const cfg = this.#cfg;
    const ms = cfg.idleTimeout;
    this.#idleSince = cfg.clock.now();
    const check = () => {
      const idle = cfg.clock.now() - this.#idleSince;
      if (this.#busy || idle < ms) {
        this.#setTimer(this.#busy ? ms : ms - idle, check);
        return;
      }
      this.#shutdown("idle-timeout", `No message from ${this} for ${ms / 1000} s`);
    };
    this.#setTimer(ms, check);
  }

  // ---------------------------------------------------------------------
  // Internals: shutdown.

  #abort(): void {
    const reason = this.#cfg.signal?.reason;
    this.#shutdown("aborted", `Aborted: ${errorText(reason)}`, reason);
  }

  #closeConn(): void {
    const conn = this.#conn;
    if (conn === undefined) return;
    const reader = this.#reader;
    const writer = this.#writer;
    queueMicrotask(() => closeConnection(conn, reader, writer));
  }

  #shutdown(reason: DisconnectReason, message: string, cause?: unknown): void {
    if (this.#state === "closed") return;
    if ((reason === "read-failed" || reason === "write-failed") && isRemoteReset(cause)) {
      return this.#shutdown("remote-closed", `${this} closed the connection: ${errorText(cause)}`, cause);
    }
    this.#state = "closed";
    const err = new DisconnectError(reason, message, cause === undefined ? {} : { cause });
    this.#reason = err;
    for (const id of this.#timers) this.#cfg.clock.clearTimeout(id);
    this.#timers.clear();
    this.#stall.clear();
    this.#trickle.clear();
    for (const item of this.#queue.drain()) item.settle(false);
    for (const item of this.#inflight) item.settle(false);
    for (const sub of this.#subscriptions) sub.end();
    this.#subscriptions.clear();
    if (this.#abortListener !== undefined) {
      this.#cfg.signal?.removeEventListener("abort", this.#abortListener);
      this.#abortListener = undefined;
    }
    this.#wake?.();
    this.#closeConn();
    this.#ready.resolve(false);
    this.#closed.resolve(err);
  }

  #refuse(refusal: VersionRefusal): void {
    this.#shutdown(refusal.reason, refusal.message);
  }

  #listenerFailed(name: string, err: unknown): void {
    this.#shutdown("listener-error", `Listener ${name} failed: ${errorText(err)}`, err);
  }

  // ---------------------------------------------------------------------
  // Internals: writing.

  #encode(msg: Message, pver: number, encoding: MessageEncoding): Uint8Array {
    const cfg = this.#cfg;
    return encodeMessage(msg, { magic: cfg.network.magic, pver, encoding, hasher: cfg.hasher });
  }

  #enqueue(msg: Message, encoding: MessageEncoding, frame: Uint8Array, pver: number): Promise<boolean> {
    if (!this.#queue.fits(frame.length)) {
      this.#shutdown(
        "send-queue-full",
        `Output queue full: ${this.#queue.entries} messages of ${this.#queue.bytes} bytes wait for ${this} and ${frame.length} more would exceed ${this.#cfg.maxQueueBytes} (with ${QUEUE_ENTRY_OVERHEAD} bytes a message)`,
      );
      return Promise.resolve(false);
    }
    const { promise, resolve } = deferred<boolean>();
    this.#queue.push({ msg, encoding, frame, pver, settle: resolve });
    this.#wake?.();
    return promise;
  }

  /** Queues a message of the peer's own; encoding errors drop it. */
  #queueInternal(msg: Message): Promise<boolean> {
    if (this.#state === "closed" || this.#state === "new") return Promise.resolve(false);
    let frame: Uint8Array;
    try {
      frame = this.#encode(msg, this.#pver, "base");
    } catch (err) {
      this.#notifyWrite(0, msg, err as Error);
      return Promise.resolve(false);
    }
    return this.#enqueue(msg, "base", frame, this.#pver);
  }

  #notifyWrite(bytes: number, msg: Message, err: Error | undefined): void {
    const fn = this.#cfg.listeners.onWrite;
    if (fn === undefined) return;
    try {
      fn(this, bytes, msg, err);
    } catch (e) {
      this.#listenerFailed("onWrite", e);
    }
  }

  /** Writes a message outside the queue (handshake); `false` when the peer must stop. */
  async #writeDirect(msg: Message): Promise<boolean> {
    let frame: Uint8Array;
    try {
      frame = this.#encode(msg, this.#pver, "witness");
    } catch (err) {
      // soterd ignores this too: e.g. a reject cannot exist below 70002.
      this.#notifyWrite(0, msg, err as Error);
      return this.#state !== "closed";
    }
    try {
      await this.#writer!.write(frame);
    } catch (err) {
      if (this.#state !== "closed") {
        this.#notifyWrite(0, msg, err as Error);
        this.#shutdown("write-failed", `Cannot write to ${this}: ${errorText(err)}`, err);
      }
      return false;
    }
    this.#bytesSent += frame.length;
    this.#lastSend = this.#cfg.clock.now();
    this.#notifyWrite(frame.length, msg, undefined);
    return this.#state !== "closed";
  }

  /** Writes a reject, then disconnects (within the response timeout if the remote does not read). */
  async #rejectThenDisconnect(
    reject: RejectMessage,
    reason: DisconnectReason,
    message: string,
    cause?: unknown,
  ): Promise<void> {
    // Should writing the reject fail, this is still why the peer goes.
    this.#closing = { reason, message, cause };
    const written = this.pushRejectMsg(reject.cmd, reject.code, reject.reason, reject.hash);
    let guard: TimerId | undefined;
    const timeout = new Promise<void>((resolve) => {
      guard = this.#setTimer(this.#cfg.stallResponseTimeout, resolve);
    });
    await Promise.race([written, timeout]);
    this.#clearTimer(guard);
    this.#shutdown(reason, message, cause);
  }

  async #writeLoop(writer: WritableStreamDefaultWriter<Uint8Array>): Promise<void> {
    const clock = this.#cfg.clock;
    while (this.#state === "open") {
      if (this.#queue.length === 0) {
        await new Promise<void>((resolve) => {
          this.#wake = resolve;
        });
        this.#wake = undefined;
        continue;
      }
      const batch = this.#queue.take(WRITE_BATCH_BYTES);
      this.#inflight = batch;
      const now = clock.now();
      let total = 0;
      for (const item of batch) {
        total += item.frame.length;
        const msg = item.msg;
        if (msg.command === "ping" && this.#pver > BIP0031_VERSION) {
          this.#lastPingNonce = msg.nonce;
          this.#lastPingTime = now;
        }
        this.#stall.sent(msg.command, now);
      }
      let chunk: Uint8Array;
      if (batch.length === 1) {
        chunk = batch[0]!.frame;
      } else {
        chunk = new Uint8Array(total);
        let at = 0;
        for (const item of batch) {
          chunk.set(item.frame, at);
          at += item.frame.length;
        }
      }
      try {
        await writer.write(chunk);
      } catch (err) {
        this.#inflight = [];
        this.#queue.release(total, batch.length);
        for (const item of batch) item.settle(false);
        if (!this.#isClosed()) {
          for (const item of batch) this.#notifyWrite(0, item.msg, err as Error);
          const closing = this.#closing;
          if (closing !== undefined) this.#shutdown(closing.reason, closing.message, closing.cause);
          else this.#shutdown("write-failed", `Cannot write to ${this}: ${errorText(err)}`, err);
        }
        return;
      }
      this.#inflight = [];
      this.#queue.release(total, batch.length);
      this.#bytesSent += total;
      this.#lastSend = clock.now();
      // A disconnect during the write already settled the batch as dropped:
      // do not report it as written after that.
      if (this.#isClosed()) return;
      for (const item of batch) {
        item.settle(true);
        this.#notifyWrite(item.frame.length, item.msg, undefined);
      }
    }
  }

  // ---------------------------------------------------------------------
  // Internals: reading.

  async #readFrame(): Promise<ReadResult> {
    const reader = this.#reader!;
    for (;;) {
      if (this.#state === "closed") return { kind: "closed" };
      let frame;
      try {
        frame = this.#decoder.next();
      } catch (err) {
        if (!(err instanceof MessageError)) throw err;
        const fn = this.#cfg.listeners.onRead;
        if (fn !== undefined) {
          try {
            fn(this, 0, undefined, err);
          } catch (e) {
            this.#listenerFailed("onRead", e);
            return { kind: "closed" };
          }
        }
        return { kind: "error", error: err };
      }
      if (frame !== undefined) {
        this.#bytesRecv += frame.bytes;
        this.#lastRecv = this.#cfg.clock.now();
        const fn = this.#cfg.listeners.onRead;
        if (fn !== undefined) {
          try {
            fn(this, frame.bytes, frame.message, undefined);
          } catch (e) {
            this.#listenerFailed("onRead", e);
            return { kind: "closed" };
          }
        }
        return { kind: "message", message: frame.message, payload: frame.payload };
      }
      let r: ReadableStreamReadResult<Uint8Array>;
      try {
        r = await reader.read();
      } catch (err) {
        return this.#isClosed() ? { kind: "closed" } : { kind: "failed", error: err };
      }
      if (r.done) return { kind: "end", partial: !this.#decoder.idle };
      this.#decoder.push(r.value);
    }
  }

  /** Ends the peer after a read that gave no message (with soterd's reject where it sends one). */
  #readFailed(r: ReadResult): Promise<void> | undefined {
    switch (r.kind) {
      case "closed":
      case "message":
        return undefined;
      case "failed":
        this.#shutdown("read-failed", `Cannot read from ${this}: ${errorText(r.error)}`, r.error);
        return undefined;
      case "end":
        if (r.partial && this.#state === "open") {
          const text = `Can't read message from ${this}: unexpected EOF`;
          return this.#rejectThenDisconnect(
            makeReject("malformed", RejectCode.MALFORMED, text),
            "malformed",
            text,
          );
        }
        this.#shutdown("remote-closed", `${this} closed the connection`);
        return undefined;
      case "error": {
        const text = `Can't read message from ${this}: ${r.error.message}`;
        if (this.#state !== "open") {
          // During the handshake soterd just disconnects.
          this.#shutdown("malformed", text, r.error);
          return undefined;
        }
        return this.#rejectThenDisconnect(
          makeReject("malformed", RejectCode.MALFORMED, text),
          "malformed",
          text,
          r.error,
        );
      }
    }
  }

  async #run(conn: Conn): Promise<void> {
    try {
      try {
        this.#reader = conn.readable.getReader();
        this.#writer = conn.writable.getWriter();
      } catch (err) {
        this.#shutdown("read-failed", `Cannot use the connection to ${this}: ${errorText(err)}`, err);
        return;
      }
      this.#reader.closed.catch(noop);
      this.#writer.closed.catch(noop);
      const ms = this.#cfg.handshakeTimeout;
      const handshakeTimer = this.#setTimer(ms, () => {
        this.#shutdown("handshake-timeout", `Protocol negotiation with ${this} timed out after ${ms / 1000} s`);
      });
      if (!(await this.#negotiate())) return;
      this.#clearTimer(handshakeTimer);
      this.#open();
      await this.#readLoop();
    } catch (err) {
      // Nothing above should throw; if it does, the peer still only disconnects.
      this.#shutdown("read-failed", `Peer ${this} failed: ${errorText(err)}`, err);
    }
  }

  async #writeLocalVersion(): Promise<boolean> {
    const cfg = this.#cfg;
    let height = 0;
    if (cfg.newestBlock !== undefined) {
      try {
        height = (await cfg.newestBlock()).height;
      } catch (err) {
        this.#shutdown("newest-block-error", `Cannot make a version message: ${errorText(err)}`, err);
        return false;
      }
      if (this.#state === "closed") return false;
    }
    // A 63-bit nonce, as soterd's rand.Int63.
    const nonce = randomU64(cfg.random) & 0x7fff_ffff_ffff_ffffn;
    cfg.sentNonces.add(nonce);
    const na = this.#na ?? hostNetAddress("", 0, 0n);
    const msg = buildLocalVersion(cfg, na, nonce, height, cfg.clock.now());
    return await this.#writeDirect(msg);
  }

  async #negotiate(): Promise<boolean> {
    const cfg = this.#cfg;
    if (!this.#inbound && !(await this.#writeLocalVersion())) return false;
    const r = await this.#readFrame();
    if (r.kind !== "message") {
      await this.#readFailed(r);
      return false;
    }
    const first = r.message;
    if (first.command !== "version") {
      await this.#writeDirect(makeReject(first.command, RejectCode.MALFORMED, VERSION_FIRST_REASON));
      this.#shutdown("version-not-first", `${this} sent ${first.command} before version`);
      return false;
    }
    const msg = first;
    const refusal = checkRemoteVersion(cfg, msg, cfg.sentNonces);
    if (refusal !== undefined) {
      if (refusal.reject !== undefined) await this.#writeDirect(refusal.reject);
      this.#refuse(refusal);
      return false;
    }

    // Negotiate.
    this.#advertisedPver = msg.protocolVersion >>> 0;
    this.#pver = Math.min(this.#pver, this.#advertisedPver);
    this.#versionKnown = true;
    this.#services = msg.services;
    this.#maxBlockHeight = msg.lastBlock;
    this.#startingHeight = msg.lastBlock;
    this.#timeOffset = Number(msg.timestamp) - Math.floor(cfg.clock.now() / 1000);
    this.#id = ++nodeCount;
    this.#userAgent = msg.userAgent;
    this.#witnessEnabled = hasService(msg.services, ServiceFlag.NODE_WITNESS);
    this.#decoder.pver = this.#pver;
    this.#decoder.encoding = this.#witnessEnabled ? "witness" : "base";

    const listener = cfg.listeners.onVersion;
    if (listener !== undefined) {
      let reject: RejectMessage | undefined | void;
      try {
        const out = listener(this, msg);
        reject = isThenable(out) ? await out : out;
      } catch (err) {
        this.#listenerFailed("onVersion", err);
        return false;
      }
      if (this.#state === "closed") return false;
      if (reject !== undefined && reject !== null) {
        await this.#writeDirect(reject);
        this.#shutdown("version-rejected", `Version of ${this} rejected: ${reject.reason}`);
        return false;
      }
    }

    const obsolete = checkObsolete(msg);
    if (obsolete !== undefined) {
      if (obsolete.reject !== undefined) await this.#writeDirect(obsolete.reject);
      this.#refuse(obsolete);
      return false;
    }

    if (this.#inbound && !(await this.#writeLocalVersion())) return false;
    this.#remoteVersion = msg;
    return this.#state !== "closed";
  }

  #open(): void {
    const cfg = this.#cfg;
    this.#state = "open";
    // Our verack goes first; what was queued during the handshake follows,
    // re-encoded if the negotiated version differs.
    const early = this.#queue.drain();
    const verack: Message = { command: "verack" };
    const verackFrame = this.#encode(verack, this.#pver, "base");
    const { resolve } = deferred<boolean>();
    this.#queue.push({ msg: verack, encoding: "base", frame: verackFrame, pver: this.#pver, settle: resolve });
    for (const item of early) {
      if (item.pver !== this.#pver) {
        try {
          item.frame = this.#encode(item.msg, this.#pver, item.encoding);
          item.pver = this.#pver;
        } catch (err) {
          item.settle(false);
          this.#notifyWrite(0, item.msg, err as Error);
          continue;
        }
      }
      this.#queue.push(item);
    }
    // Our version expects a verack.
    this.#stall.sent("version", cfg.clock.now());
    this.#startIdle();
    this.#every(cfg.pingInterval, () => {
      void this.#queueInternal({ command: "ping", nonce: randomU64(cfg.random) });
    });
    this.#every(cfg.stallTickInterval, () => {
      const overdue = this.#stall.check(cfg.clock.now());
      if (overdue !== undefined) {
        this.#shutdown("stalled", `${this} appears to be stalled or misbehaving: ${overdue} timeout`);
      }
    });
    this.#every(cfg.trickleInterval, () => {
      if (this.#trickle.pending === 0) return;
      for (const invList of this.#trickle.flush()) void this.#queueInternal({ command: "inv", invList });
    });
    void this.#writeLoop(this.#writer!).catch((err) => {
      this.#shutdown("write-failed", `Cannot write to ${this}: ${errorText(err)}`, err);
    });
    this.#ready.resolve(true);
  }

  async #readLoop(): Promise<void> {
    const clock = this.#cfg.clock;
    const version = this.#remoteVersion;
    this.#remoteVersion = undefined;
    if (version !== undefined) {
      const p = this.#publish(version);
      if (p !== undefined) await p;
    }
    while (this.#state === "open") {
      const r = await this.#readFrame();
      if (r.kind !== "message") {
        await this.#readFailed(r);
        return;
      }
      const msg = r.message;
      this.#stall.received(msg.command);
      this.#busy = true;
      this.#stall.handlerStarted(clock.now());
      const p = this.#handle(msg, r.payload);
      if (p !== undefined) await p;
      this.#stall.handlerFinished(clock.now());
      if (this.#state !== "open") return;
      this.#busy = false;
      this.#idleSince = clock.now();
    }
  }

  /** The peer's own handling of a message, then the listener and subscribers. */
  #handle(msg: Message, payload: Uint8Array): Promise<void> | undefined {
    switch (msg.command) {
      case "version":
        return this.#rejectThenDisconnect(
          makeReject("version", RejectCode.DUPLICATE, "duplicate version message"),
          "duplicate-version",
          `${this} sent a second version`,
        );
      case "verack":
        if (this.#verAckReceived) {
          this.#shutdown("duplicate-verack", `${this} sent a second verack`);
          return undefined;
        }
        this.#verAckReceived = true;
        break;
      case "ping":
        if (this.#pver > BIP0031_VERSION) void this.#queueInternal({ command: "pong", nonce: msg.nonce });
        break;
      case "pong":
        if (this.#pver > BIP0031_VERSION && this.#lastPingNonce !== 0n && msg.nonce === this.#lastPingNonce) {
          this.#lastPingMicros = Math.round((this.#cfg.clock.now() - this.#lastPingTime) * 1000);
          this.#lastPingNonce = 0n;
        }
        break;
      case "sendheaders":
        this.#sendHeadersPreferred = true;
        break;
      case "filteradd":
      case "filterclear":
      case "filterload":
        if (!hasService(this.#cfg.services, ServiceFlag.NODE_BLOOM)) {
          if (this.#pver >= BIP0111_VERSION) {
            this.#shutdown(
              "bloom-not-supported",
              `${this} sent ${msg.command} at protocol version ${this.#pver} although we do not signal bloom filter support`,
            );
          }
          return undefined;
        }
        break;
    }
    return this.#deliver(msg, payload);
  }

  #deliver(msg: Message, payload: Uint8Array): Promise<void> | undefined {
    const name = LISTENER_NAMES[msg.command];
    const fn = this.#cfg.listeners[name] as ((peer: Peer, msg: Message, payload: Uint8Array) => unknown) | undefined;
    if (fn !== undefined) {
      let out: unknown;
      try {
        out = fn(this, msg, payload);
      } catch (err) {
        this.#listenerFailed(name, err);
        return undefined;
      }
      if (isThenable(out)) return this.#finishDelivery(name, out, msg);
    }
    return this.#publish(msg);
  }

  async #finishDelivery(name: keyof PeerListeners, pending: PromiseLike<unknown>, msg: Message): Promise<void> {
    try {
      await pending;
    } catch (err) {
      this.#listenerFailed(name, err);
      return;
    }
    if (this.#state !== "open") return;
    const p = this.#publish(msg);
    if (p !== undefined) await p;
  }

  #publish(msg: Message): Promise<void> | undefined {
    if (this.#subscriptions.size === 0) return undefined;
    let waits: Promise<void>[] | undefined;
    for (const sub of this.#subscriptions) {
      const w = sub.push(msg);
      if (w !== undefined) (waits ??= []).push(w);
    }
    return waits === undefined ? undefined : Promise.all(waits).then(noop);
  }

  /** Queues a getblocks or getheaders unless it repeats the previous one. */
  #pushLocator(
    command: "getblocks" | "getheaders",
    previous: RepeatFilter,
    locator: readonly number[],
    stopHash: Uint8Array,
  ): boolean {
    if (previous.isRepeat(locator, stopHash)) return false;
    if (locator.length > MAX_BLOCK_LOCATORS_PER_MSG) {
      throw new MessageError(
        "too-many-entries",
        `Cannot encode ${command}: block locator height count ${locator.length} exceeds ${MAX_BLOCK_LOCATORS_PER_MSG}`,
        { command },
      );
    }
    void this.queueMessage({
      command,
      protocolVersion: PROTOCOL_VERSION,
      blockLocatorHeight: [...locator],
      hashStop: stopHash,
    });
    previous.record(locator, stopHash);
    return true;
  }
}
