/**
 * Internal: the clock of a simulated host, reading the network's virtual
 * time and scheduling its timers as the host's own events.
 *
 * @module
 */
import type { Clock, TimerId } from "../peer/clock.ts";
import type { SimEvent, Source } from "./queue.ts";

/** Internal: a host's clock, whose timers die with the host. */
export class HostClock implements Clock {
  readonly #host: { readonly up: boolean };
  readonly #net: { readonly time: number; readonly start: number; cancel(event: SimEvent): boolean };
  readonly #src: Source;
  readonly timers = new Set<SimEvent>();

  constructor(
    host: { readonly up: boolean },
    net: { readonly time: number; readonly start: number; source(): Source; cancel(event: SimEvent): boolean },
  ) {
    this.#host = host;
    this.#net = net;
    this.#src = net.source();
  }

  now(): number {
    return this.#net.start + this.#net.time;
  }

  setTimeout(callback: () => void, delayMs: number): TimerId {
    const delay = Number.isFinite(delayMs) && delayMs > 0 ? delayMs : 0;
    const event: SimEvent = this.#src.at(this.#net.time + delay, () => {
      this.timers.delete(event);
      if (this.#host.up) callback();
    });
    this.timers.add(event);
    return event;
  }

  clearTimeout(id: TimerId): void {
    const event = id as SimEvent;
    if (this.timers.delete(event)) this.#net.cancel(event);
  }

  cancelAll(): void {
    for (const event of this.timers) this.#net.cancel(event);
    this.timers.clear();
  }
}
