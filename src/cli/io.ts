/**
 * What the command-line tool needs from its runtime, given to it by
 * `cli.ts`, and small helpers shared by its commands. Runtime-neutral.
 *
 * @module
 */
import type { Clock } from "../peer/clock.ts";
import { systemClock } from "../peer/clock.ts";
import type { Conn, NetAddr } from "../peer/conn.ts";
import type { ConnectOptions, Listener, ListenOptions } from "../adapters/types.ts";

/** The version the tool reports in its user agent. */
export const CLI_VERSION = "0.1.0";
/** The name the tool reports in its user agent. */
export const CLI_NAME = "soter-peer-cli";

/** The runtime services of the tool: sockets, output, and Ctrl-C. */
export interface CliIo {
  /** The adapter's `connect`. */
  connect(hostname: string, port: number, options?: ConnectOptions): Promise<Conn>;
  /** The adapter's `listen`. */
  listen(options?: ListenOptions): Promise<Listener>;
  /** Writes a line to standard output. */
  out(line: string): void;
  /** Writes a line to standard error. */
  err(line: string): void;
  /** Aborted when the user interrupts (SIGINT). */
  interrupt: AbortSignal;
  /**
   * Replaces the live progress line (on a terminal's standard error); an
   * empty line clears it. Absent when there is no terminal.
   */
  progress?: (line: string) => void;
}

/** A clock with sub-millisecond resolution, so round trips on a LAN are measurable. */
export const fineClock: Clock = {
  ...systemClock,
  now: () => performance.timeOrigin + performance.now(),
};

/**
 * Formats an address: `host:port`, `[v6]:port`.
 *
 * @param addr The address.
 * @returns The text.
 */
export function formatHostPort(addr: NetAddr | { host: string; port: number }): string {
  const host = "hostname" in addr ? addr.hostname : addr.host;
  return host.includes(":") ? `[${host}]:${addr.port}` : `${host}:${addr.port}`;
}

/**
 * Returns a function giving the time since now, as `+1.234s`.
 *
 * @returns The stamp function.
 */
export function stopwatch(): () => string {
  const start = performance.now();
  return () => `+${((performance.now() - start) / 1000).toFixed(3)}s`;
}

/**
 * Wraps a connection to keep the first bytes it receives, to tell what a
 * remote that is not a soter node sent.
 *
 * @param conn The connection.
 * @param keep How many bytes to keep.
 * @returns The wrapped connection and a function giving the bytes kept.
 */
export function sniff(conn: Conn, keep = 64): { conn: Conn; head: () => Uint8Array } {
  let head = new Uint8Array(0);
  const readable = conn.readable.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        if (head.length < keep) {
          const more = chunk.subarray(0, keep - head.length);
          const next = new Uint8Array(head.length + more.length);
          next.set(head);
          next.set(more, head.length);
          head = next;
        }
        controller.enqueue(chunk);
      },
    }),
  );
  return {
    conn: {
      readable,
      writable: conn.writable,
      localAddr: conn.localAddr,
      remoteAddr: conn.remoteAddr,
      close: () => conn.close(),
    },
    head: () => head,
  };
}

/**
 * Shows bytes for a person: as text when printable (up to the first line
 * break), else in hex.
 *
 * @param bytes The bytes.
 * @returns e.g. `"HTTP/1.1 400 Bad Request"` or `16 03 01 02 00 01 00 01…`.
 */
export function showBytes(bytes: Uint8Array): string {
  let end = bytes.findIndex((b) => b === 0x0a || b === 0x0d);
  if (end < 0) end = bytes.length;
  const line = bytes.subarray(0, end);
  if (line.length > 0 && line.every((b) => b >= 0x20 && b < 0x7f)) {
    return JSON.stringify(String.fromCharCode(...line.subarray(0, 48)));
  }
  const shown = [...bytes.subarray(0, 16)].map((b) => b.toString(16).padStart(2, "0")).join(" ");
  return bytes.length > 16 ? `${shown}…` : shown;
}
