// The runtime running a test file (Deno, Bun or Node) and its TCP adapter,
// so that the tests over real sockets run unchanged in all three. The
// choice is the examples' (examples/lib/runtime.ts), which the CLI and
// example tests exercise as well. Not a test file (the leading `_`).
import { after } from "node:test";
import { adapter } from "../examples/lib/runtime.ts";

export { adapter, connect, listen, runtime } from "../examples/lib/runtime.ts";

/** The adapter's native SHA-256. */
export const nativeHasher: typeof adapter.nativeHasher = adapter.nativeHasher;

/**
 * A list of cleanups that run, last first, after the calling file's tests,
 * whatever the tests did: everything opened is closed again. Call it once,
 * at the top level of a test file.
 */
export function cleanupsAfterAll(): Array<() => unknown> {
  const cleanups: Array<() => unknown> = [];
  after(async () => {
    for (const f of cleanups.splice(0).reverse()) await f();
  });
  return cleanups;
}
