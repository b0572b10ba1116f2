/**
 * Internal: the simulator's agenda, a binary heap of events ordered by
 * virtual time, then by the number of the entity that scheduled them, then
 * by that entity's own count. Ties never depend on the order in which
 * independent entities happened to schedule.
 *
 * @module
 */

/** One scheduled event; `run` is cleared when it is cancelled. */
export interface SimEvent {
  /** Virtual time in milliseconds. */
  readonly at: number;
  /** The scheduling entity's number. */
  readonly src: number;
  /** The entity's own sequence number. */
  readonly seq: number;
  /** What to do; `undefined` once cancelled. */
  run: (() => void) | undefined;
}

function before(a: SimEvent, b: SimEvent): boolean {
  if (a.at !== b.at) return a.at < b.at;
  if (a.src !== b.src) return a.src < b.src;
  return a.seq < b.seq;
}

/** A min-heap of events with lazy cancellation. */
export class Agenda {
  #heap: SimEvent[] = [];
  #live = 0;

  /** Events scheduled and neither run nor cancelled. */
  get size(): number {
    return this.#live;
  }

  /**
   * Adds an event.
   *
   * @param event The event.
   */
  push(event: SimEvent): void {
    const heap = this.#heap;
    let i = heap.length;
    heap.push(event);
    this.#live++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = heap[parent]!;
      if (!before(event, p)) break;
      heap[i] = p;
      i = parent;
    }
    heap[i] = event;
  }

  /**
   * Cancels an event that has not run.
   *
   * @param event The event.
   * @returns Whether it was pending.
   */
  cancel(event: SimEvent): boolean {
    if (event.run === undefined) return false;
    event.run = undefined;
    this.#live--;
    return true;
  }

  /**
   * The next live event, left in place.
   *
   * @returns The event, or `undefined` when none is left.
   */
  peek(): SimEvent | undefined {
    const heap = this.#heap;
    while (heap.length > 0 && heap[0]!.run === undefined) this.#popTop();
    return heap[0];
  }

  /**
   * Removes the next live event and returns its action; the event counts
   * as run, so cancelling it afterwards does nothing.
   *
   * @returns The action, or `undefined` when no event is left.
   */
  pop(): (() => void) | undefined {
    const top = this.peek();
    if (top === undefined) return undefined;
    this.#popTop();
    this.#live--;
    const run = top.run;
    top.run = undefined;
    return run;
  }

  #popTop(): void {
    const heap = this.#heap;
    const last = heap.pop()!;
    const n = heap.length;
    if (n === 0) return;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && before(heap[r]!, heap[l]!) ? r : l;
      if (!before(heap[c]!, last)) break;
      heap[i] = heap[c]!;
      i = c;
    }
    heap[i] = last;
  }
}

/**
 * An entity that schedules events (a host's clock, one direction of a
 * link, the network itself): its number and its own count order its
 * events among those due at the same time.
 */
export class Source {
  readonly #agenda: Agenda;
  /** The entity's number. */
  readonly id: number;
  #seq = 0;

  /**
   * Creates a source.
   *
   * @param agenda The agenda.
   * @param id The entity's number, unique in the simulation.
   */
  constructor(agenda: Agenda, id: number) {
    this.#agenda = agenda;
    this.id = id;
  }

  /**
   * Schedules `run` at virtual time `at`.
   *
   * @param at Virtual milliseconds.
   * @param run The action.
   * @returns The event, for {@linkcode Agenda.cancel}.
   */
  at(at: number, run: () => void): SimEvent {
    const event: SimEvent = { at, src: this.id, seq: this.#seq++, run };
    this.#agenda.push(event);
    return event;
  }
}

/**
 * Internal: a macrotask turn, after every pending promise job has run:
 * `setImmediate` where it exists (Deno, Bun, Node: one turn of the event
 * loop, which also lets Deno's own asynchronous steps finish, as one
 * `MessageChannel` message does not), else a `MessageChannel` message
 * (no 4 ms clamp, as nested `setTimeout`s get), else `setTimeout`.
 */
export function macrotaskYield(): { yield: () => Promise<void>; close: () => void } {
  const g = globalThis as { setImmediate?: (fn: () => void) => unknown };
  const immediate = g.setImmediate;
  if (typeof immediate === "function") {
    return { yield: () => new Promise<void>((resolve) => immediate(resolve)), close: () => {} };
  }
  if (typeof MessageChannel !== "function") {
    return { yield: () => new Promise((r) => setTimeout(r, 0)), close: () => {} };
  }
  const channel = new MessageChannel();
  const waiting: (() => void)[] = [];
  channel.port1.onmessage = () => waiting.shift()?.();
  return {
    yield: () =>
      new Promise<void>((resolve) => {
        waiting.push(resolve);
        channel.port2.postMessage(0);
      }),
    close: () => {
      channel.port1.close();
      channel.port2.close();
    },
  };
}
