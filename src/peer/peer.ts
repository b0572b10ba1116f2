/**
 * The `Peer`: the public face of one connection's session. The work is
 * done behind it: the protocol state without I/O (`state.ts`), the
 * handshake (`negotiate.ts`, `handshake.ts`), the I/O driver (`link.ts`),
 * the timers (`timers.ts`), the output queue and trickle (`output.ts`,
 * `outqueue.ts`), and the delivery to listeners (`delivery.ts`), tied
 * together by `session.ts`.
 *
 * @module
 */
import type { InvVect } from "../wire/invvect.ts";
import type { Message } from "../wire/message.ts";
import type { AddrCacheMessage } from "../wire/messages/addrcache.ts";
import type { NetAddress } from "../wire/netaddress.ts";
import {
  type MessagesOptions,
  type PeerConfig,
  type QueueMessageOptions,
  resolveConfig,
  type ResolvedConfig,
} from "./config.ts";
import type { Conn } from "./conn.ts";
import type { DisconnectError } from "./errors.ts";
import { outboundNetAddress } from "./handshake.ts";
import { pushReject } from "./output.ts";
import { LocatorPusher, pushAddr, pushAddrCache, queueInventory, queueMessage } from "./send.ts";
import { bindSession, PeerInfo } from "./info.ts";
import { Session } from "./session.ts";

export type { MessagesOptions, QueueMessageOptions } from "./config.ts";

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
export class Peer extends PeerInfo implements AsyncDisposable {
  readonly #s: Session;
  readonly #locators = new LocatorPusher();

  private constructor(cfg: ResolvedConfig, inbound: boolean, addr: string, na: NetAddress | undefined) {
    super();
    this.#s = new Session(this, cfg, inbound, addr, na);
    bindSession(this, this.#s);
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
    return new Peer(cfg, false, address, outboundNetAddress(address, cfg));
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
    this.#s.associate(conn);
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
    this.#s.shutdown("local", "Disconnected locally");
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
    return this.#s.closed.promise;
  }

  /**
   * Settles with `true` once the remote's `version` is accepted and ours is
   * sent (messages then flow), or `false` if the peer disconnects first.
   * The remote's `verack` may still be on its way.
   */
  get ready(): Promise<boolean> {
    return this.#s.ready.promise;
  }

  /** Why the peer disconnected, or `undefined` while it has not. */
  get disconnectReason(): DisconnectError | undefined {
    return this.#s.reason;
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
    await this.#s.closed.promise;
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
    return this.#s.subscribe(hwm);
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
  queueMessage(msg: Message, options?: QueueMessageOptions): Promise<boolean> {
    return queueMessage(this.#s, msg, options?.encoding ?? "base");
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
    queueInventory(this.#s, iv, this.connected);
  }

  /**
   * Records that the remote has `iv`, so it is not announced to it.
   *
   * @param iv The inventory vector.
   */
  addKnownInventory(iv: InvVect): void {
    this.#s.trickle.markKnown(iv);
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
    return pushAddr(this.#s, addresses);
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
    return pushAddrCache(this.#s, inbound, outbound, known);
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
    return this.#locators.push(this.#s, "getblocks", locator, stopHash);
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
    return this.#locators.push(this.#s, "getheaders", locator, stopHash);
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
    return new Promise((resolve) => pushReject(this.#s, command, code, reason, hash, resolve));
  }

  /**
   * Records a new highest block height for the remote.
   *
   * @param height The height.
   */
  updateMaxBlockHeight(height: number): void {
    this.#s.state.maxBlockHeight = height;
  }

  /**
   * Records the last block the remote announced.
   *
   * @param hash The block hash in wire order.
   */
  updateLastAnnouncedBlock(hash: Uint8Array): void {
    this.#s.state.lastAnnouncedBlock = hash;
  }
}
