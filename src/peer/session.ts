/**
 * One peer's session: the handshake, the message dispatch, the output
 * queue and trickle, the timers, and the shutdown, tying the protocol
 * state ({@linkcode PeerState}) to the I/O driver ({@linkcode Link}).
 * `Peer` is its public face.
 *
 * @module
 */
import type { DecodedFrame } from "../wire/frame.ts";
import { FrameDecoder } from "../wire/decoder.ts";
import type { MessageError } from "../wire/errors.ts";
import type { Message } from "../wire/message.ts";
import { RejectCode } from "../wire/messages/reject.ts";
import type { NetAddress } from "../wire/netaddress.ts";
import { QUEUE_ENTRY_OVERHEAD, type ResolvedConfig } from "./config.ts";
import type { Conn } from "./conn.ts";
import { DisconnectError, type DisconnectReason, isRemoteReset } from "./errors.ts";
import { react } from "./delivery.ts";
import { formatAddr, hostNetAddress, makeReject } from "./handshake.ts";
import { Latch } from "./latch.ts";
import { Link, type LinkHost } from "./link.ts";
import { InvTrickle, type OutItem, OutQueue } from "./outqueue.ts";
import type { Peer } from "./peer.ts";
import { negotiate, writeLocalVersion } from "./negotiate.ts";
import { randomU64 } from "./random.ts";
import { PeerState } from "./state.ts";
import { StallDetector } from "./stall.ts";
import { Subscription } from "./subscription.ts";
import { encodeFrame, notifyWrite, queueInternal, rejectThenDisconnect } from "./output.ts";
import { PeerTimers, Slot, type TimerHost } from "./timers.ts";

type Phase = "new" | "handshake" | "open" | "closed";

function noop(): void {}

/** The message of an error, or the thing itself as text. */
export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The internals of one `Peer`. */
export class Session implements LinkHost, TimerHost {
  /** The resolved configuration. */
  readonly cfg: ResolvedConfig;
  /** Whether the remote opened the connection. */
  readonly inbound: boolean;
  /** The face given to listeners. */
  readonly peer: Peer;
  /** The protocol state and counters. */
  readonly state: PeerState;
  /** The remote's `host:port`. */
  addr: string;
  /** The remote's network address as sent in our `version`. */
  na: NetAddress | undefined;
  /** The connection, once associated. */
  conn: Conn | undefined;
  /** The output queue. */
  readonly queue: OutQueue;
  /** Inventory waiting for the trickle. */
  readonly trickle: InvTrickle = new InvTrickle();
  /** Why the peer disconnected. */
  reason: DisconnectError | undefined;
  /** Settles with the handshake's outcome. */
  readonly ready: Latch<boolean> = new Latch<boolean>();
  /** Settles with why the peer disconnected. */
  readonly closed: Latch<DisconnectError> = new Latch<DisconnectError>();

  #phase: Phase = "new";
  /** The I/O driver, once associated. */
  link: Link | undefined;
  readonly #stall: StallDetector;
  /** The timers. */
  readonly timers: PeerTimers;
  /** When the last message was handled (the idle wait starts there). */
  #idleSince = 0;
  /** A message is being handled: the idle wait is suspended. */
  #busy = false;
  /** The subscribers of `Peer.messages()`, once there are any. */
  subscriptions: Set<Subscription> | undefined;
  #abortListener: (() => void) | undefined;
  /** Why the peer goes once a last `reject` is written. */
  closing: { reason: DisconnectReason; message: string; cause: unknown } | undefined;
  /** Ends the wait for a last `reject` to be written. */
  guard: (() => void) | undefined;

  /**
   * Creates the internals of a peer.
   *
   * @param peer The public face.
   * @param cfg The resolved configuration.
   * @param inbound Whether the remote opened the connection.
   * @param addr The remote's address (empty for inbound peers until associated).
   * @param na The remote's network address, for outbound peers.
   */
  constructor(peer: Peer, cfg: ResolvedConfig, inbound: boolean, addr: string, na: NetAddress | undefined) {
    this.peer = peer;
    this.cfg = cfg;
    this.inbound = inbound;
    this.addr = addr;
    this.na = na;
    this.state = new PeerState(cfg.services, cfg.protocolVersion);
    this.queue = new OutQueue(cfg.maxQueueBytes, QUEUE_ENTRY_OVERHEAD);
    this.#stall = new StallDetector(cfg.stallResponseTimeout);
    this.timers = new PeerTimers(cfg.clock, this);
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

  /** The phase: before the connection, handshake, open, closed. */
  get phase(): Phase {
    return this.#phase;
  }

  /** Names the peer as soterd's logs do. */
  toString(): string {
    return `${this.addr} (${this.inbound ? "inbound" : "outbound"})`;
  }

  // ---------------------------------------------------------------------
  // Lifecycle.

  /**
   * Starts the handshake on a connection.
   *
   * @param conn The connection.
   */
  associate(conn: Conn): void {
    if (this.conn !== undefined) return;
    this.conn = conn;
    const cfg = this.cfg;
    const decoder = new FrameDecoder({
      magic: cfg.network.magic,
      pver: cfg.protocolVersion,
      encoding: "witness",
      hasher: cfg.hasher,
    });
    const link = new Link(conn, decoder, this.queue, this);
    this.link = link;
    if (this.#phase === "closed") {
      link.stop();
      return;
    }
    this.state.timeConnected = cfg.clock.now();
    if (this.inbound) {
      this.addr = formatAddr(conn.remoteAddr);
      this.na = hostNetAddress(conn.remoteAddr.hostname, conn.remoteAddr.port, this.state.services);
    }
    this.#phase = "handshake";
    try {
      link.start();
    } catch (err) {
      this.shutdown("read-failed", `Cannot use the connection to ${this}: ${errorText(err)}`, err);
      return;
    }
    this.timers.set(Slot.Handshake, cfg.handshakeTimeout);
    if (this.inbound) {
      link.read();
    } else {
      writeLocalVersion(this).then((ok) => ok && link.read(), (err) => this.onCrash(err));
    }
  }

  /**
   * Disconnects, once: stops the timers and the driver, drops what waits
   * to be written, ends the subscriptions and settles the promises.
   *
   * @param reason Why.
   * @param message What happened, for a person.
   * @param cause The underlying error, if any.
   */
  shutdown(reason: DisconnectReason, message: string, cause?: unknown): void {
    if (this.#phase === "closed") return;
    if ((reason === "read-failed" || reason === "write-failed") && isRemoteReset(cause)) {
      return this.shutdown("remote-closed", `${this} closed the connection: ${errorText(cause)}`, cause);
    }
    this.#phase = "closed";
    const err = new DisconnectError(reason, message, cause === undefined ? {} : { cause });
    this.reason = err;
    this.timers.stop();
    this.#stall.clear();
    this.trickle.clear();
    for (const item of this.queue.drain()) item.settle(false);
    this.link?.stop();
    if (this.subscriptions !== undefined) {
      for (const sub of this.subscriptions) sub.end();
      this.subscriptions.clear();
    }
    if (this.#abortListener !== undefined) {
      this.cfg.signal?.removeEventListener("abort", this.#abortListener);
      this.#abortListener = undefined;
    }
    this.ready.resolve(false);
    this.closed.resolve(err);
  }

  /**
   * Adds a subscriber for {@linkcode Peer.messages}.
   *
   * @param hwm How many messages may wait for it.
   * @returns The subscription (already ended when the peer is closed).
   */
  subscribe(hwm: number): Subscription {
    const sub = new Subscription(hwm, (s) => this.subscriptions?.delete(s));
    if (this.#phase === "closed") sub.end();
    else (this.subscriptions ??= new Set()).add(sub);
    return sub;
  }

  #abort(): void {
    const reason = this.cfg.signal?.reason;
    this.shutdown("aborted", `Aborted: ${errorText(reason)}`, reason);
  }

  /**
   * Disconnects because a listener threw or rejected.
   *
   * @param name The listener.
   * @param err What it threw.
   */
  listenerFailed(name: string, err: unknown): void {
    this.shutdown("listener-error", `Listener ${name} failed: ${errorText(err)}`, err);
  }

  // ---------------------------------------------------------------------
  // Timers.

  /** Runs a due timer slot ({@linkcode TimerHost}). */
  onTimer(slot: Slot): void {
    if (this.#phase === "closed") return;
    try {
      this.#runTimer(slot);
    } catch (err) {
      // Only a listener called from a timer task can throw here.
      this.shutdown("listener-error", `Timer task failed: ${errorText(err)}`, err);
    }
  }

  #runTimer(slot: Slot): void {
    const cfg = this.cfg;
    switch (slot) {
      case Slot.Handshake:
        this.shutdown(
          "handshake-timeout",
          `Protocol negotiation with ${this} timed out after ${cfg.handshakeTimeout / 1000} s`,
        );
        return;
      case Slot.Idle: {
        // Rather than re-arming a timer per message, check on firing
        // whether a message was handled meanwhile (or is being handled).
        const ms = cfg.idleTimeout;
        const idle = cfg.clock.now() - this.#idleSince;
        if (this.#busy || idle < ms) {
          this.timers.set(Slot.Idle, this.#busy ? ms : ms - idle);
          return;
        }
        this.shutdown("idle-timeout", `No message from ${this} for ${ms / 1000} s`);
        return;
      }
      case Slot.Ping:
        this.timers.set(Slot.Ping, cfg.pingInterval);
        queueInternal(this, { command: "ping", nonce: randomU64(cfg.random) });
        return;
      case Slot.Stall: {
        const overdue = this.#stall.check(cfg.clock.now());
        if (overdue !== undefined) {
          this.shutdown("stalled", `${this} appears to be stalled or misbehaving: ${overdue} timeout`);
          return;
        }
        this.#armStall();
        return;
      }
      case Slot.Trickle:
        // Armed again by the next vector queued.
        for (const invList of this.trickle.flush()) queueInternal(this, { command: "inv", invList });
        return;
      case Slot.RejectGuard:
        this.guard?.();
        return;
    }
  }

  // ---------------------------------------------------------------------
  // Output ({@linkcode LinkHost}).

  /** Records the messages about to be written ({@linkcode LinkHost}). */
  onSending(batch: readonly OutItem[], now: number): void {
    for (const item of batch) {
      this.state.sending(item.msg, now);
      this.#stall.sent(item.msg.command, now);
    }
    this.#armStall();
  }

  /** Sets the stall tick while a response is awaited (after the handshake). */
  #armStall(): void {
    if (this.#stall.pending > 0) this.timers.setTick(Slot.Stall, this.cfg.stallTickInterval);
  }

  /** Sets the trickle while inventory waits (after the handshake). */
  armTrickle(): void {
    if (this.trickle.pending > 0) this.timers.setTick(Slot.Trickle, this.cfg.trickleInterval);
  }

  /** Settles written messages ({@linkcode LinkHost}). */
  onWritten(batch: readonly OutItem[], bytes: number, now: number): void {
    this.state.bytesSent += bytes;
    this.state.lastSend = now;
    // A disconnect during the write already settled the batch as dropped:
    // do not report it as written after that.
    if (this.#phase === "closed") return;
    const listening = this.cfg.listeners.onWrite !== undefined;
    for (const item of batch) {
      item.settle(true);
      if (listening) notifyWrite(this, item.frame.length, item.msg, undefined);
    }
  }

  /** Reports a failed write and disconnects ({@linkcode LinkHost}). */
  onWriteError(batch: readonly OutItem[], err: unknown): void {
    if (this.#phase === "closed") return;
    for (const item of batch) notifyWrite(this, 0, item.msg, err as Error);
    const closing = this.closing;
    if (closing !== undefined) this.shutdown(closing.reason, closing.message, closing.cause);
    else this.shutdown("write-failed", `Cannot write to ${this}: ${errorText(err)}`, err);
  }

  /** The current time ({@linkcode LinkHost}). */
  now(): number {
    return this.cfg.clock.now();
  }

  /** The remote's `version` was accepted: read at the negotiated version. */
  versionAccepted(): void {
    const decoder = this.link!.decoder;
    decoder.pver = this.state.pver;
    decoder.encoding = this.state.witnessEnabled ? "witness" : "base";
  }

  /** Ends the handshake: our `verack`, then what was queued meanwhile; the timers start. */
  open(): void {
    const cfg = this.cfg;
    this.timers.clear(Slot.Handshake);
    const pver = this.state.pver;
    this.#phase = "open";
    // Our verack goes first; what was queued during the handshake follows,
    // re-encoded if the negotiated version differs.
    const early = this.queue.drain();
    const verack: Message = { command: "verack" };
    this.queue.push({
      msg: verack,
      encoding: "base",
      frame: encodeFrame(this, verack, pver, "base"),
      pver,
      settle: noop,
    });
    for (const item of early) {
      if (item.pver !== pver) {
        try {
          item.frame = encodeFrame(this, item.msg, pver, item.encoding);
          item.pver = pver;
        } catch (err) {
          item.settle(false);
          notifyWrite(this, 0, item.msg, err as Error);
          continue;
        }
      }
      this.queue.push(item);
    }
    // Our version expects a verack.
    this.#stall.sent("version", cfg.clock.now());
    this.#idleSince = cfg.clock.now();
    const timers = this.timers;
    timers.startTicks(this.#idleSince);
    timers.set(Slot.Idle, cfg.idleTimeout);
    timers.set(Slot.Ping, cfg.pingInterval);
    this.#armStall();
    this.armTrickle();
    this.link!.openOutput();
    this.ready.resolve(true);
  }

  // ---------------------------------------------------------------------
  // Reading ({@linkcode LinkHost}).

  /** Counts a frame, tells `onRead`, and handles its message. */
  onFrame(frame: DecodedFrame): Promise<void> | undefined {
    const state = this.state;
    const now = this.cfg.clock.now();
    state.bytesRecv += frame.bytes;
    state.lastRecv = now;
    const fn = this.cfg.listeners.onRead;
    if (fn !== undefined) {
      try {
        fn(this.peer, frame.bytes, frame.message, undefined);
      } catch (e) {
        this.listenerFailed("onRead", e);
        return undefined;
      }
    }
    if (this.#phase === "handshake") return negotiate(this, frame.message);
    if (this.#phase !== "open") return undefined;
    return this.#handle(frame, now);
  }

  /** Reports a bad frame to `onRead` and disconnects, with soterd's reject once open. */
  onMalformed(err: MessageError): void {
    const fn = this.cfg.listeners.onRead;
    if (fn !== undefined) {
      try {
        fn(this.peer, 0, undefined, err);
      } catch (e) {
        this.listenerFailed("onRead", e);
        return;
      }
    }
    const text = `Can't read message from ${this}: ${err.message}`;
    if (this.#phase !== "open") {
      // During the handshake soterd just disconnects.
      this.shutdown("malformed", text, err);
      return;
    }
    rejectThenDisconnect(this, makeReject("malformed", RejectCode.MALFORMED, text), "malformed", text, err);
  }

  /** The remote closed its side. */
  onEnd(partial: boolean): void {
    if (partial && this.#phase === "open") {
      const text = `Can't read message from ${this}: unexpected EOF`;
      rejectThenDisconnect(this, makeReject("malformed", RejectCode.MALFORMED, text), "malformed", text);
      return;
    }
    this.shutdown("remote-closed", `${this} closed the connection`);
  }

  /** Reading failed. */
  onReadError(err: unknown): void {
    this.shutdown("read-failed", `Cannot read from ${this}: ${errorText(err)}`, err);
  }

  /** Something threw that should not have: the peer still only disconnects. */
  onCrash(err: unknown): void {
    this.shutdown("read-failed", `Peer ${this} failed: ${errorText(err)}`, err);
  }

  /** The peer's own handling of a message, then the listener and subscribers. */
  #handle(frame: DecodedFrame, now: number): Promise<void> | undefined {
    this.#stall.received(frame.message.command);
    this.#busy = true;
    this.#stall.handlerStarted(now);
    const p = react(this, frame, now);
    if (p !== undefined) return p.then(() => this.#handled());
    this.#handled();
    return undefined;
  }

  #handled(): void {
    const now = this.cfg.clock.now();
    this.#stall.handlerFinished(now);
    if (this.#phase !== "open") return;
    this.#busy = false;
    this.#idleSince = now;
  }
}
