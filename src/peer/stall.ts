/**
 * Stall detection without I/O: which requests expect which responses, their
 * deadlines, and the time spent in the user's handlers, which does not
 * count against the remote.
 *
 * @module
 */

/** The responses each request expects (soterd's `maybeAddDeadline`). */
export const EXPECTED_RESPONSES: Readonly<Record<string, readonly string[]>> = {
  version: ["verack"],
  mempool: ["inv"],
  getblocks: ["inv"],
  getdata: ["block", "merkleblock", "tx", "notfound"],
  getheaders: ["headers"],
};

/** Any of these answers a `getdata`, so one clears them all. */
const GETDATA_RESPONSES: ReadonlySet<string> = new Set(EXPECTED_RESPONSES.getdata);

interface Deadline {
  /** When the response is due, already moved by finished handler time. */
  due: number;
  /** When the deadline was set; handler time before it does not move it. */
  readonly since: number;
}

/**
 * Tracks the responses a peer waits for. A request sent sets (or resets) a
 * deadline for its responses; a response received clears it; the time the
 * peer spends in handlers (during which it reads nothing) moves every
 * deadline later. The driver calls {@linkcode StallDetector.check} on each
 * stall tick and disconnects when it names a command.
 *
 * Two choices differ from soterd on purpose:
 * - Handler time moves a deadline for good. soterd adds the handler time
 *   measured since the previous tick to every deadline for that one check
 *   and then forgets it, so a long handler only postpones a stall by up to
 *   one tick.
 * - The driver records our `version` as sent when the handshake ends, so a
 *   missing `verack` is a stall. soterd writes its `version` outside the
 *   output handler that sets deadlines, so it sets no `verack` deadline.
 */
export class StallDetector {
  readonly #timeout: number;
  /** Made when a deadline is set, dropped when none is left. */
  #pending: Map<string, Deadline> | undefined;
  #handlerSince: number | undefined;

  /**
   * Creates a detector.
   *
   * @param responseTimeout The time allowed for a response, in
   *   milliseconds (`getheaders` gets three times as much).
   */
  constructor(responseTimeout: number) {
    this.#timeout = responseTimeout;
  }

  /** How many responses are awaited. */
  get pending(): number {
    return this.#pending?.size ?? 0;
  }

  /**
   * Records a message sent: a request sets deadlines for its responses.
   * Pings are not tracked, as in soterd: their answers may wait behind a
   * long backlog.
   *
   * @param command The command sent.
   * @param now The current time in milliseconds.
   */
  sent(command: string, now: number): void {
    const responses = EXPECTED_RESPONSES[command];
    if (responses === undefined) return;
    const due = now + (command === "getheaders" ? 3 * this.#timeout : this.#timeout);
    const pending = this.#pending ??= new Map();
    for (const r of responses) pending.set(r, { due, since: now });
  }

  /**
   * Records a message received, clearing the deadline it answers.
   *
   * @param command The command received.
   */
  received(command: string): void {
    const pending = this.#pending;
    if (pending === undefined) return;
    if (GETDATA_RESPONSES.has(command)) {
      for (const r of GETDATA_RESPONSES) pending.delete(r);
    } else {
      pending.delete(command);
    }
    if (pending.size === 0) this.#pending = undefined;
  }

  /**
   * Records that a handler started; time until {@linkcode StallDetector.handlerFinished}
   * is not counted.
   *
   * @param now The current time in milliseconds.
   */
  handlerStarted(now: number): void {
    this.#handlerSince ??= now;
  }

  /**
   * Records that a handler finished, moving every deadline later by the
   * time it ran (counted from when the deadline was set, if later).
   *
   * @param now The current time in milliseconds.
   */
  handlerFinished(now: number): void {
    const start = this.#handlerSince;
    if (start === undefined) return;
    this.#handlerSince = undefined;
    const pending = this.#pending;
    if (pending === undefined) return;
    for (const d of pending.values()) {
      const from = Math.max(start, d.since);
      if (now > from) d.due += now - from;
    }
  }

  /**
   * Looks for a missed deadline, counting a handler still running as
   * excluded time.
   *
   * @param now The current time in milliseconds.
   * @returns The overdue response's command, or `undefined`.
   */
  check(now: number): string | undefined {
    const running = this.#handlerSince;
    for (const [command, d] of this.#pending ?? []) {
      const extra = running === undefined ? 0 : Math.max(0, now - Math.max(running, d.since));
      if (now >= d.due + extra) return command;
    }
    return undefined;
  }

  /** Forgets every deadline. */
  clear(): void {
    this.#pending = undefined;
    this.#handlerSince = undefined;
  }
}
