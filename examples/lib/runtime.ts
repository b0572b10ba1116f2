/**
 * The only runtime-specific part of the examples: the TCP adapter of the
 * runtime they run in, their command-line arguments, and whether a module
 * is the program being run.
 *
 * In your own code, import the adapter of your runtime directly:
 * `import { connect, listen } from "@soter/peer/deno"` (or `/bun`, `/node`).
 *
 * @module
 */
import { realpathSync } from "node:fs";
import process from "node:process";
import { fileURLToPath } from "node:url";
import type * as DenoAdapter from "../../src/adapters/deno.ts";

/** The runtime the examples run in. */
export const runtime: "deno" | "bun" | "node" = "Deno" in globalThis ? "deno" : "Bun" in globalThis ? "bun" : "node";

type Adapter = typeof DenoAdapter;

/** The adapter of this runtime (all three have the same shape). */
export const adapter: Adapter = runtime === "deno"
  ? await import("../../src/adapters/deno.ts")
  : runtime === "bun"
  ? await import("../../src/adapters/bun.ts")
  : await import("../../src/adapters/node.ts");

/** Opens a TCP connection (the adapter's `connect`). */
export const connect: Adapter["connect"] = adapter.connect;
/** Binds a TCP listener (the adapter's `listen`). */
export const listen: Adapter["listen"] = adapter.listen;

/**
 * The program's arguments, without the runtime and the script.
 *
 * @returns The arguments.
 */
export function args(): string[] {
  return process.argv.slice(2);
}

/**
 * Tells whether the module of `meta` is the program being run (Deno and
 * Bun say so in `import.meta.main`; under Node, compare with `argv[1]`).
 *
 * @param meta The module's `import.meta`.
 * @returns `true` when run directly, `false` when imported.
 */
export function isMain(meta: ImportMeta): boolean {
  const main = (meta as { main?: unknown }).main;
  if (typeof main === "boolean") return main;
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    // Node gives the module's real path, and argv[1] as typed.
    return fileURLToPath(meta.url) === realpathSync(script);
  } catch {
    return false;
  }
}

/**
 * Sets the exit code the program ends with, once nothing is left to do.
 *
 * @param code The exit code.
 */
export function setExitCode(code: number): void {
  process.exitCode = code;
}
