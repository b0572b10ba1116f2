/**
 * The peer's protocol state without I/O: what the remote told us (its
 * `version`, its preferences), what the exchange negotiated, and the
 * counters soterd keeps per peer. The session feeds it the messages read
 * and written; it decides what a message means for the peer, not how it
 * travels.
 *
 * @module
 */
import type { Message } from "../wire/message.ts";
import type { VersionMessage } from "../wire/messages/version.ts";
import { BIP0031_VERSION, BIP0111_VERSION, hasService, ServiceFlag } from "../wire/protocol.ts";
import type { PeerStats } from "./stats.ts";

/** Peers get ids from one counter per process, as in soterd. */
let nodeCount = 0;

/**
 * What the peer itself does about a message read after the handshake,
 * before the listeners see it.
 */
export type Reaction =
  /** Hand it to the listeners and subscribers. */
  | "deliver"
  /** Answer with a `pong` carrying the same nonce, then deliver. */
  | "pong"
  /** A second `version`: reject it and disconnect. */
  | "duplicate-version"
  /** A second `verack`: disconnect. */
  | "duplicate-verack"
  /** A bloom filter command we do not serve, at a version that forbids it: disconnect. */
  | "bloom-not-supported"
  /** A bloom filter command we do not serve, from an old remote: ignore it. */
  | "ignore";

/** The flags and counters of one peer (soterd's `Peer` fields). */
export class PeerState {
  /** The id, assigned when the remote's `version` is accepted (0 before). */
  id = 0;
  /** The remote's user agent. */
  userAgent = "";
  /** The services the remote advertised (ours until its `version`). */
  services: bigint;
  /** Whether the remote's `version` has been read and accepted. */
  versionKnown = false;
  /** The protocol version the remote advertised. */
  advertisedPver = 0;
  /** The negotiated protocol version. */
  pver: number;
  /** Whether the remote sent `sendheaders`. */
  sendHeadersPreferred = false;
  /** Whether the remote's `verack` has been read. */
  verAckReceived = false;
  /** Whether the remote signals `NODE_WITNESS`. */
  witnessEnabled = false;
  /** The remote's clock minus ours, in seconds. */
  timeOffset = 0;
  /** When the connection was associated (ms since the epoch). */
  timeConnected = 0;
  /** The height in the remote's `version`. */
  startingHeight = 0;
  /** The highest block height known for the remote. */
  maxBlockHeight = 0;
  /** The last block the remote announced. */
  lastAnnouncedBlock: Uint8Array | undefined;
  /** The nonce of our unanswered ping (0n when none). */
  lastPingNonce = 0n;
  /** When our last ping was taken for writing. */
  lastPingTime = 0;
  /** The round trip of the last answered ping, in microseconds. */
  lastPingMicros = 0;
  /** When a message was last written. */
  lastSend = 0;
  /** When a message was last read. */
  lastRecv = 0;
  /** Bytes written. */
  bytesSent = 0;
  /** Bytes of the frames read. */
  bytesRecv = 0;

  /**
   * Creates the state of a new peer.
   *
   * @param services Our services, reported until the remote's are known.
   * @param pver Our protocol version, the ceiling of the negotiation.
   */
  constructor(services: bigint, pver: number) {
    this.services = services;
    this.pver = pver;
  }

  /**
   * Takes in the remote's accepted `version`: negotiates the protocol
   * version and records what it tells, and gives the peer its id.
   *
   * @param msg The remote's `version`.
   * @param now The current time in milliseconds.
   */
  acceptVersion(msg: VersionMessage, now: number): void {
    this.advertisedPver = msg.protocolVersion >>> 0;
    this.pver = Math.min(this.pver, this.advertisedPver);
    this.versionKnown = true;
    this.services = msg.services;
    this.maxBlockHeight = msg.lastBlock;
    this.startingHeight = msg.lastBlock;
    this.timeOffset = Number(msg.timestamp) - Math.floor(now / 1000);
    this.id = ++nodeCount;
    this.userAgent = msg.userAgent;
    this.witnessEnabled = hasService(msg.services, ServiceFlag.NODE_WITNESS);
  }

  /**
   * Records a message taken for writing (a ping starts a round trip).
   *
   * @param msg The message.
   * @param now The current time in milliseconds.
   */
  sending(msg: Message, now: number): void {
    if (msg.command === "ping" && this.pver > BIP0031_VERSION) {
      this.lastPingNonce = msg.nonce;
      this.lastPingTime = now;
    }
  }

  /**
   * Takes in a message read after the handshake and tells what the peer
   * does about it.
   *
   * @param msg The message.
   * @param ourServices The services we signal (bloom filters need `NODE_BLOOM`).
   * @param now The current time in milliseconds.
   * @returns The reaction.
   */
  received(msg: Message, ourServices: bigint, now: number): Reaction {
    switch (msg.command) {
      case "version":
        return "duplicate-version";
      case "verack":
        if (this.verAckReceived) return "duplicate-verack";
        this.verAckReceived = true;
        return "deliver";
      case "ping":
        return this.pver > BIP0031_VERSION ? "pong" : "deliver";
      case "pong":
        if (this.pver > BIP0031_VERSION && this.lastPingNonce !== 0n && msg.nonce === this.lastPingNonce) {
          this.lastPingMicros = Math.round((now - this.lastPingTime) * 1000);
          this.lastPingNonce = 0n;
        }
        return "deliver";
      case "sendheaders":
        this.sendHeadersPreferred = true;
        return "deliver";
      case "filteradd":
      case "filterclear":
      case "filterload":
        if (hasService(ourServices, ServiceFlag.NODE_BLOOM)) return "deliver";
        return this.pver >= BIP0111_VERSION ? "bloom-not-supported" : "ignore";
      default:
        return "deliver";
    }
  }

  /**
   * Returns the flags and counters at this moment.
   *
   * @param addr The remote's address.
   * @param inbound Whether the remote opened the connection.
   * @returns A snapshot with every field of soterd's `StatsSnap`.
   */
  snapshot(addr: string, inbound: boolean): PeerStats {
    return {
      id: this.id,
      addr,
      services: this.services,
      lastSend: this.lastSend,
      lastRecv: this.lastRecv,
      bytesSent: this.bytesSent,
      bytesRecv: this.bytesRecv,
      connTime: this.timeConnected,
      timeOffset: this.timeOffset,
      version: this.advertisedPver,
      userAgent: this.userAgent,
      inbound,
      startingHeight: this.startingHeight,
      lastBlock: this.maxBlockHeight,
      lastPingNonce: this.lastPingNonce,
      lastPingTime: this.lastPingTime,
      lastPingMicros: this.lastPingMicros,
    };
  }
}
