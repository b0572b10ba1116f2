// Small helpers of the simulator benchmarks (bench/sim_pool.ts,
// bench/sim_sync.ts): command-line flags, the runtime's name, and the
// median with its spread over passes.
import process from "node:process";

/** The number after `--name` on the command line, or `fallback`. */
export function numberFlag(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  return at < 0 ? fallback : Number(process.argv[at + 1]);
}

/** `deno`, `bun` or `node`. */
export const runtimeName: string = "Deno" in globalThis ? "deno" : "Bun" in globalThis ? "bun" : "node";

/** The median of some passes (the upper one of an even count). */
export function medianOf(values: readonly number[]): number {
  const sorted = values.toSorted((x, y) => x - y);
  return sorted[sorted.length >> 1]!;
}

/** `median (min to max)`, each shown with `show`. */
export function withSpread(values: readonly number[], show: (x: number) => string): string {
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  return `${show(medianOf(values))} (${show(lo)} to ${show(hi)})`;
}
