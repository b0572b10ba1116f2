// Small helpers of the simulator benchmarks (bench/sim_pool.ts,
// bench/sim_sync.ts, bench/sim_scale.ts): command-line flags, the runtime's
// name, and the median with its spread over passes (from _passes.ts).
import process from "node:process";
import { spread } from "./_passes.ts";

/** The number after `--name` on the command line, or `fallback`. */
export function numberFlag(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  return at < 0 ? fallback : Number(process.argv[at + 1]);
}

/** `deno`, `bun` or `node`. */
export const runtimeName: string = "Deno" in globalThis ? "deno" : "Bun" in globalThis ? "bun" : "node";

/** The median of some passes. */
export function medianOf(values: readonly number[]): number {
  return spread(values).median;
}

/** `median (min to max)`, each shown with `show`. */
export function withSpread(values: readonly number[], show: (x: number) => string): string {
  const { median, min, max } = spread(values);
  return `${show(median)} (${show(min)} to ${show(max)})`;
}
