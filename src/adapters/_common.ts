/**
 * Internal helpers shared by the runtime adapters: address formatting,
 * mapping runtime errors to {@linkcode ConnectionError}, and connect
 * deadlines. Runtime-neutral: it names no runtime API.
 *
 * @module
 */
import { ConnectionError, type ConnectionErrorCode } from "./errors.ts";
import type { ConnectOptions, NetAddr } from "./types.ts";

/** Read buffer and queue size of a connection, in bytes. */
export const HIGH_WATER_MARK = 64 * 1024;

/** Queue strategy counting bytes, for both directions of a connection. */
export const byteStrategy: QueuingStrategy<Uint8Array> = {
  highWaterMark: HIGH_WATER_MARK,
  size: (chunk) => chunk.byteLength,
};

/**
 * Formats a host and port for messages: `127.0.0.1:8333`, `[::1]:8333`.
 *
 * @param hostname An IP address or host name.
 * @param port A TCP port.
 * @returns The printable address.
 */
export function formatAddr(hostname: string, port: number): string {
  return hostname.includes(":") ? `[${hostname}]:${port}` : `${hostname}:${port}`;
}

/**
 * Builds a {@linkcode NetAddr}, tolerating the `undefined` some runtimes
 * report for a socket that is already closed.
 *
 * @param hostname The address, if known.
 * @param port The port, if known.
 * @returns The address.
 */
export function netAddr(
  hostname: string | undefined,
  port: number | undefined,
): NetAddr {
  return { hostname: hostname ?? "", port: port ?? 0 };
}

// Node and Bun report errno names in `code`; Deno reports `Deno.errors`
// class names in `name`.
const CODES: Record<string, ConnectionErrorCode> = {
  ECONNREFUSED: "refused",
  ConnectionRefused: "refused",
  ECONNRESET: "reset",
  ECONNABORTED: "reset",
  EPIPE: "reset",
  ConnectionReset: "reset",
  ConnectionAborted: "reset",
  BrokenPipe: "reset",
  NotConnected: "reset",
  UnexpectedEof: "reset",
  ETIMEDOUT: "timeout",
  TimedOut: "timeout",
  TimeoutError: "timeout",
  ENETUNREACH: "unreachable",
  EHOSTUNREACH: "unreachable",
  EADDRNOTAVAIL: "unreachable",
  ENOTFOUND: "unreachable",
  EAI_AGAIN: "unreachable",
  EAI_NONAME: "unreachable",
  NetworkUnreachable: "unreachable",
  AddrNotAvailable: "unreachable",
  BadResource: "closed",
  Interrupted: "closed",
  EBADF: "closed",
  ERR_STREAM_DESTROYED: "closed",
  ERR_SOCKET_CLOSED: "closed",
  ERR_STREAM_WRITE_AFTER_END: "closed",
  AbortError: "aborted",
  ABORT_ERR: "aborted",
};

function codeOf(err: unknown): ConnectionErrorCode {
  if (typeof err !== "object" || err === null) return "other";
  const { code, name, message } = err as {
    code?: unknown;
    name?: unknown;
    message?: unknown;
  };
  if (typeof code === "string" && code in CODES) return CODES[code]!;
  if (typeof name === "string" && name in CODES) return CODES[name]!;
  // Deno reports a failed DNS lookup as a plain Error.
  if (typeof message === "string" && /lookup address/i.test(message)) {
    return "unreachable";
  }
  return "other";
}

function detailOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Turns any runtime error into a {@linkcode ConnectionError} with a message
 * naming the address; a `ConnectionError` passes through unchanged.
 *
 * @param err The runtime error.
 * @param label The remote address, from {@linkcode formatAddr}.
 * @returns The error to report.
 */
export function toConnectionError(
  err: unknown,
  label: string,
): ConnectionError {
  if (err instanceof ConnectionError) return err;
  const code = codeOf(err);
  const cause = { cause: err };
  switch (code) {
    case "refused":
      return new ConnectionError(code, `Connection to ${label} refused`, cause);
    case "reset":
      return new ConnectionError(
        code,
        `Connection to ${label} reset by the remote`,
        cause,
      );
    case "timeout":
      return new ConnectionError(code, `Connection to ${label} timed out`, cause);
    case "closed":
      return closedError(label, err);
    case "aborted":
      return new ConnectionError(code, `Connection to ${label} aborted`, cause);
    case "unreachable":
      return new ConnectionError(
        code,
        `Connection to ${label} failed: unreachable: ${detailOf(err)}`,
        cause,
      );
    default:
      return new ConnectionError(
        code,
        `Connection to ${label} failed: ${detailOf(err)}`,
        cause,
      );
  }
}

/**
 * The error of a write or read on a connection closed locally.
 *
 * @param label The remote address, from {@linkcode formatAddr}.
 * @param cause The runtime error, if any.
 * @returns The error.
 */
export function closedError(label: string, cause?: unknown): ConnectionError {
  return new ConnectionError(
    "closed",
    `Connection to ${label} closed`,
    cause === undefined ? {} : { cause },
  );
}

/**
 * Turns a failure to bind into a {@linkcode ConnectionError}.
 *
 * @param err The runtime error.
 * @param label The local address, from {@linkcode formatAddr}.
 * @returns The error to report.
 */
export function listenError(err: unknown, label: string): ConnectionError {
  return new ConnectionError(
    codeOf(err),
    `Cannot listen on ${label}: ${detailOf(err)}`,
    { cause: err },
  );
}

/**
 * Runs one connection attempt under the caller's `signal` and `timeout`.
 * `start` receives a signal that fires when the attempt is abandoned; a
 * connection that still arrives afterwards is handed to `dispose`.
 *
 * @param label The remote address, from {@linkcode formatAddr}.
 * @param options The caller's options.
 * @param start Begins the attempt.
 * @param dispose Releases a connection made too late.
 * @returns The connection, or a rejection with a `ConnectionError`.
 */
export function attempt<T>(
  label: string,
  options: ConnectOptions,
  start: (signal: AbortSignal) => Promise<T>,
  dispose: (value: T) => void,
): Promise<T> {
  const { signal, timeout } = options;
  const aborted = () =>
    new ConnectionError("aborted", `Connection to ${label} aborted`, {
      cause: signal?.reason,
    });
  if (signal?.aborted) return Promise.reject(aborted());
  const controller = new AbortController();
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const onAbort = () => fail(aborted());
    const settle = (): boolean => {
      if (settled) return false;
      settled = true;
      if (timer !== undefined) clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      return true;
    };
    const fail = (err: ConnectionError) => {
      if (!settle()) return;
      controller.abort(err);
      reject(err);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    const started = performance.now();
    const onTimeout = () =>
      fail(
        new ConnectionError(
          "timeout",
          `Connection to ${label} timed out after ${timeout} ms`,
        ),
      );
    if (timeout !== undefined) timer = setTimeout(onTimeout, timeout);
    let pending: Promise<T>;
    try {
      pending = start(controller.signal);
    } catch (err) {
      pending = Promise.reject(err);
    }
    pending.then(
      (value) => {
        // A connection reported after the deadline is late, even when the
        // runtime reports it before running the expired timer.
        if (timeout !== undefined && performance.now() - started > timeout) {
          onTimeout();
        }
        if (settle()) resolve(value);
        else dispose(value);
      },
      (err: unknown) => {
        if (settle()) reject(toConnectionError(err, label));
      },
    );
  });
}
