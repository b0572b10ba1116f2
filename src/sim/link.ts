/**
 * Internal: a simulated TCP connection. Each direction carries the bytes
 * written at the link's bandwidth, delays them by its latency and jitter
 * (never reordering them), holds them while a partition separates the two
 * hosts, and applies backpressure: a writer waits while a window of bytes
 * is in flight or unread. Faults (a reset mid-frame, a corrupted byte, a
 * reader that stops reading) act on one direction.
 *
 * @module
 */
import { ConnectionError } from "../adapters/errors.ts";
import type { End } from "./end.ts";
import type { Source } from "./queue.ts";
import type { SimRandom } from "./random.ts";

/** How a link between two hosts behaves, in each direction. */
export interface LinkProfile {
  /** One-way delay in milliseconds. */
  latency: number;
  /** The most extra delay a chunk may get, in milliseconds (uniform); order is kept. */
  jitter: number;
  /** Bytes per virtual second. */
  bandwidth: number;
}

/** Bytes a writer may have in flight or unread before its writes wait (send buffer plus TCP window). */
const SEND_WINDOW = 256 * 1024;

/** The end-of-stream marker in a direction's queues. */
const FIN = Symbol("fin");
type Segment = Uint8Array | typeof FIN;

/** What a link needs from its host. */
export interface LinkHost {
  /** The host's name in the trace. */
  readonly name: string;
  /** Whether the host is running. */
  readonly up: boolean;
  /** How many times it has started; ends of an earlier run are dead. */
  readonly incarnation: number;
  /** The host's open ends, for a crash. */
  readonly ends: Set<End>;
}

/** What a link needs from the network. */
export interface LinkNet {
  /** Virtual milliseconds since the start. */
  readonly time: number;
  /** Writes complete in events of their own (with `isolate`). */
  readonly exact: boolean;
  /** Every chunk delivered goes into the trace. */
  readonly traceData: boolean;
  /** Records a trace entry. */
  record(kind: string, detail: string): void;
  /** Whether a partition separates the two hosts. */
  separated(a: LinkHost, b: LinkHost): boolean;
  /** Remembers a direction holding bytes until a partition heals. */
  hold(pipe: Pipe): void;
  /** Called once when both ends of a link are closed. */
  closed(link: Link): void;
  /** Reports a broken invariant: the run stops with it. */
  fail(err: unknown): void;
}

/** One direction of a link. */
export class Pipe {
  readonly link: Link;
  readonly from: End;
  readonly to: End;
  readonly #src: Source;
  readonly #profile: LinkProfile;
  readonly #rng: SimRandom;
  #wireFree = 0;
  #lastArrival = 0;
  #inflight = 0;
  #heldBytes = 0;
  #held: Segment[] = [];
  #blocked: Segment[] = [];
  #waiter: { resolve: () => void; reject: (err: unknown) => void } | undefined;
  #finSent = false;
  #healing = false;
  /** Bytes written into this direction. */
  sent = 0;
  /** Bytes handed to the receiving stream. */
  delivered = 0;
  /** The receiver has stopped reading (a fault). */
  stalled = false;
  /** The next chunk is cut short and the link reset (a fault). */
  cut = false;
  /** Chunks still to be corrupted (a fault). */
  corrupt = 0;
  /** Nothing more is carried (the sender was reset). */
  dead = false;

  constructor(link: Link, from: End, to: End, src: Source, profile: LinkProfile, rng: SimRandom) {
    this.link = link;
    this.from = from;
    this.to = to;
    this.#src = src;
    this.#profile = profile;
    this.#rng = rng;
  }

  /** Bytes in flight or unread. */
  get unacked(): number {
    return this.#inflight + this.#heldBytes;
  }

  /** Sends bytes; the promise (if any) settles once the window has room again. */
  send(chunk: Uint8Array): Promise<void> | undefined {
    const net = this.link.net;
    const p = this.#profile;
    const now = net.time;
    const start = Math.max(now, this.#wireFree);
    this.#wireFree = start + (chunk.length * 1000) / p.bandwidth;
    const jitter = p.jitter > 0 ? this.#rng.float() * p.jitter : 0;
    const arrival = Math.max(this.#lastArrival, this.#wireFree + p.latency + jitter);
    this.#lastArrival = arrival;
    this.#inflight += chunk.length;
    this.sent += chunk.length;
    this.#src.at(arrival, () => this.#arrive(chunk, chunk.length));
    if (this.unacked <= SEND_WINDOW) {
      if (!net.exact) return undefined;
      // The write completes in an event of its own, so what the writer does
      // next never races with other work of this instant.
      return new Promise<void>((resolve) => this.#src.at(now, resolve));
    }
    return new Promise<void>((resolve, reject) => {
      this.#waiter = { resolve, reject };
    });
  }

  /** Sends the end of the stream after the bytes already sent. */
  fin(): void {
    if (this.#finSent || this.dead) return;
    this.#finSent = true;
    const sendAt = Math.max(this.link.net.time, this.#wireFree);
    const at = Math.max(this.#lastArrival, sendAt + this.#profile.latency);
    this.#lastArrival = at;
    this.#src.at(at, () => this.#arrive(FIN, 0));
  }

  /** Fails a writer waiting for the window. */
  failWriter(err: unknown): void {
    const w = this.#waiter;
    this.#waiter = undefined;
    w?.reject(err);
  }

  #release(): void {
    if (this.#waiter !== undefined && this.unacked <= SEND_WINDOW) {
      const w = this.#waiter;
      this.#waiter = undefined;
      w.resolve();
    }
  }

  #arrive(seg: Segment, length: number): void {
    this.#inflight -= length;
    if (this.dead) return;
    const to = this.to;
    const host = to.host;
    if (!host.up || to.incarnation !== host.incarnation) {
      // A machine that is down answers nothing; once restarted, its stack
      // resets connections it no longer knows.
      if (host.up) this.link.resetLater(this.from, `${host.name} restarted`);
      else this.#inflight += length;
      return;
    }
    if (this.#blocked.length > 0 || this.link.net.separated(this.from.host, host)) {
      this.#blocked.push(seg);
      this.#inflight += length;
      this.link.net.hold(this);
      return;
    }
    this.#take(seg);
  }

  /**
   * Delivers what a partition held, now that it healed (or holds it again).
   * The held bytes stay queued until they arrive, so bytes and the end of
   * the stream still on the wire cannot overtake them.
   */
  heal(): void {
    if (this.#healing || this.#blocked.length === 0) return;
    this.#healing = true;
    const at = Math.max(this.#lastArrival, this.link.net.time + this.#profile.latency);
    this.#lastArrival = at;
    this.#src.at(at, () => {
      this.#healing = false;
      const segs = this.#blocked;
      this.#blocked = [];
      for (let i = 0; i < segs.length; i++) {
        if (this.dead) return;
        if (this.link.net.separated(this.from.host, this.to.host)) {
          this.#blocked = segs.slice(i);
          this.link.net.hold(this);
          return;
        }
        const seg = segs[i]!;
        if (seg !== FIN) this.#inflight -= seg.length;
        this.#take(seg);
      }
    });
  }

  #take(seg: Segment): void {
    const to = this.to;
    if (to.state === "reset") return;
    if (to.state === "closed" || to.readCancelled) {
      // Data for a closed socket: its stack answers with a reset.
      if (seg !== FIN && to.state === "closed") this.link.resetLater(this.from, `${to.host.name} had closed`);
      this.#release();
      return;
    }
    let chunk = seg;
    if (chunk !== FIN && this.cut) {
      this.cut = false;
      const keep = this.#rng.below(chunk.length);
      this.link.net.record(
        "fault.cut",
        `${this.link.name} ${this.from.host.name}->${to.host.name} ${keep}/${chunk.length}`,
      );
      if (keep > 0) this.#push(chunk.subarray(0, keep));
      this.link.reset(to, "reset mid-frame");
      this.link.resetLater(this.from, "reset mid-frame");
      return;
    }
    if (chunk !== FIN && this.corrupt > 0 && chunk.length > 0) {
      this.corrupt--;
      const i = this.#rng.below(chunk.length);
      const bit = 1 << this.#rng.below(8);
      chunk = chunk.slice();
      chunk[i] = chunk[i]! ^ bit;
      this.link.net.record("fault.corrupted", `${this.link.name} ${this.from.host.name}->${to.host.name} byte ${i}`);
    }
    this.#push(chunk);
  }

  #push(seg: Segment): void {
    if (seg !== FIN) {
      if (this.link.net.traceData) {
        this.link.net.record("data", `${this.link.name} ${this.from.host.name}->${this.to.host.name} ${seg.length}`);
      }
      if (!this.stalled && this.#held.length === 0 && (this.to.desiredSize() ?? 0) > 0) {
        this.delivered += seg.length;
        this.to.enqueue(seg);
      } else {
        this.#held.push(seg);
        this.#heldBytes += seg.length;
      }
      this.#release();
      return;
    }
    if (this.#held.length === 0 && !this.stalled) this.to.end();
    else this.#held.push(FIN);
  }

  /** Moves held bytes into the receiving stream while it has room (and reads). */
  flush(): void {
    if (this.stalled) return;
    const to = this.to;
    while (this.#held.length > 0 && to.state === "open") {
      const seg = this.#held[0]!;
      if (seg === FIN) {
        this.#held.shift();
        to.end();
        break;
      }
      if ((to.desiredSize() ?? 0) <= 0) break;
      this.#held.shift();
      this.#heldBytes -= seg.length;
      this.delivered += seg.length;
      to.enqueue(seg);
    }
    this.#release();
  }

  /** Bytes that arrived and were not read (a close then resets). */
  get unread(): number {
    return this.#heldBytes;
  }

  /** Drops what is held (the receiver is gone). */
  drop(): void {
    this.#held = [];
    this.#heldBytes = 0;
    this.#blocked = [];
  }
}

/** A connection between two hosts: two ends, two directions. */
export class Link {
  readonly net: LinkNet;
  readonly name: string;
  readonly a: End;
  readonly b: End;
  readonly #latency: number;
  readonly #src: Source;
  #done = false;

  constructor(
    net: LinkNet,
    name: string,
    a: End,
    b: End,
    srcs: readonly [Source, Source, Source],
    profile: LinkProfile,
    rng: SimRandom,
  ) {
    this.net = net;
    this.name = name;
    this.a = a;
    this.b = b;
    this.#latency = profile.latency;
    this.#src = srcs[2];
    a.link = this;
    b.link = this;
    a.out = b.in = new Pipe(this, a, b, srcs[0], profile, rng.fork("a"));
    b.out = a.in = new Pipe(this, b, a, srcs[1], profile, rng.fork("b"));
    a.host.ends.add(a);
    b.host.ends.add(b);
  }

  /** The other end. */
  other(end: End): End {
    return end === this.a ? this.b : this.a;
  }

  /** Resets one end now: its streams fail with a `reset` error. */
  reset(end: End, why: string): void {
    if (end.state === "reset") return;
    const wasOpen = end.state === "open";
    end.state = "reset";
    end.host.ends.delete(end);
    end.out.dead = true;
    end.in.drop();
    if (wasOpen) {
      this.net.record("reset", `${this.name} at ${end.host.name}: ${why}`);
      end.fail(
        new ConnectionError(
          "reset",
          `Connection reset by peer: ${end.remoteAddr.hostname}:${end.remoteAddr.port} (${why})`,
        ),
      );
    }
    this.check();
  }

  /** Resets an end once a reset segment from the other side reaches it. */
  resetLater(end: End, why: string): void {
    if (end.state === "reset") return;
    this.#src.at(this.net.time + this.#latency, () => this.reset(end, why));
  }

  /** Destroys an end whose host crashed: nothing is sent to the other side. */
  destroy(end: End, why: string): void {
    this.reset(end, why);
  }

  /** Reports the link closed once neither end is open any more. */
  check(): void {
    if (this.#done || this.a.state === "open" || this.b.state === "open") return;
    this.#done = true;
    this.net.closed(this);
  }
}
