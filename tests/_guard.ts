// Importing this module makes the test file fail on any unhandled promise
// rejection or uncaught exception, in Deno, Bun and Node alike:
//
//   import { assertNoUnhandled } from "./_guard.ts"; // or just: import "./_guard.ts";
//
// It records them with process-level handlers (node:process in all three,
// plus the global `unhandledrejection` and `error` events in Deno), and an
// `after()` hook fails the file if any were recorded. Tests that use
// sockets or peers also call `await assertNoUnhandled()` at their end, which
// pins a failure on the test that caused it.
//
// Why each runtime needs it (measured with Deno 2.9.6, Bun 1.4.5, Node 20):
// - Deno's test runner ignores an exception thrown from a timer callback,
//   during a test or after it, and ignores an error thrown by an `after()`
//   hook: the guard records the first, and exits with status 1 from its
//   hook when anything was recorded.
// - Node attributes late errors to the test that caused them ("generated
//   asynchronous activity after the test ended"); the guard adds the
//   assertion at the end of each test.
// - Bun's runner catches both kinds itself before process handlers run, and
//   fails the test; the guard then records nothing and stays silent.
import process from "node:process";
import { after } from "node:test";

interface Recorded {
  readonly kind: "unhandled rejection" | "uncaught exception";
  readonly error: unknown;
}

interface GuardState {
  readonly recorded: Recorded[];
  readonly seen: WeakSet<object>;
}

const KEY = Symbol.for("soter-peer.tests.guard");

function describeError(err: unknown): string {
  if (err instanceof Error) return err.stack ?? `${err.name}: ${err.message}`;
  return String(err);
}

function install(): GuardState {
  const g = globalThis as unknown as Record<symbol, GuardState | undefined>;
  const existing = g[KEY];
  if (existing !== undefined) return existing;
  const state: GuardState = { recorded: [], seen: new WeakSet() };
  g[KEY] = state;
  const record = (kind: Recorded["kind"], error: unknown) => {
    // Deno reports one rejection both to node:process and to the global
    // event: keep one.
    if (typeof error === "object" && error !== null) {
      if (state.seen.has(error)) return;
      state.seen.add(error);
    }
    state.recorded.push({ kind, error });
  };
  process.on("unhandledRejection", (reason: unknown) => record("unhandled rejection", reason));
  process.on("uncaughtException", (err: unknown) => record("uncaught exception", err));
  if ("Deno" in globalThis) {
    globalThis.addEventListener("unhandledrejection", (e: Event) => {
      e.preventDefault();
      record("unhandled rejection", (e as PromiseRejectionEvent).reason);
    });
    globalThis.addEventListener("error", (e: Event) => {
      e.preventDefault();
      record("uncaught exception", (e as ErrorEvent).error);
    });
  }
  return state;
}

const state = install();

/** Lets pending callbacks run, so that a rejection left by a test surfaces. */
function turns(n: number): Promise<void> {
  let p = Promise.resolve();
  for (let i = 0; i < n; i++) p = p.then(() => new Promise<void>((r) => setTimeout(r, 0)));
  return p;
}

/**
 * Throws if an unhandled rejection or uncaught exception was recorded since
 * the last call (each is reported once).
 */
export function checkNoUnhandled(): void {
  const found = state.recorded.splice(0);
  if (found.length === 0) return;
  const text = found.map((r, i) => `${i + 1}. ${r.kind}: ${describeError(r.error)}`).join("\n");
  throw new Error(`${found.length} unhandled error(s) in the test process:\n${text}`);
}

/**
 * Waits a few event-loop turns, then fails if anything went unhandled.
 * Call it at the end of every test that uses sockets or peers.
 */
export async function assertNoUnhandled(): Promise<void> {
  await turns(3);
  checkNoUnhandled();
}

/** How many errors are recorded and not yet reported (for the guard's own test). */
export function pendingUnhandled(): number {
  return state.recorded.length;
}

after(async () => {
  try {
    await assertNoUnhandled();
  } catch (err) {
    const deno = (globalThis as { Deno?: { exit(code: number): never } }).Deno;
    if (deno !== undefined) {
      // Deno ignores an error thrown here: make the run fail anyway.
      console.error(describeError(err));
      deno.exit(1);
    }
    throw err;
  }
});
