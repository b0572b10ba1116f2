// Long fuzzing runs of the wire codec (issue #6): the mutation and stream
// properties of tests/fuzz_properties.ts, each with `cases` cases (default
// 100000) and a fresh random seed, printing cases per second. Runs under
// Deno, Bun and Node:
//   deno task fuzz [cases]   (deno run -A bench/fuzz.ts [cases])
//   bun bench/fuzz.ts [cases]
//   node --import tsx bench/fuzz.ts [cases]
// A failure prints fast-check's report (seed, path, shrunk counterexample);
// replay it in tests/fuzz.test.ts with FUZZ_SEED, or with fc.assert's
// `seed` and `path`. Exits 1 if any property failed.
import process from "node:process";
import fc from "fast-check";
import { MUTATION_PROPERTIES, toProperty, transformStreamMutation } from "../tests/fuzz_properties.ts";

const runtime = "Deno" in globalThis ? "deno" : "Bun" in globalThis ? "bun" : "node";
const arg = process.argv[2];
const cases = arg === undefined ? 100_000 : Number(arg);
if (!Number.isSafeInteger(cases) || cases <= 0) {
  console.error(`usage: bench/fuzz.ts [cases]: a positive integer, got ${JSON.stringify(arg)}`);
  process.exit(2);
}

console.log(`runtime: ${runtime}, ${cases} cases per property`);
// The Web Streams property is asynchronous, so every run returns a promise.
const runs: { name: string; run: (numRuns: number, seed: number) => Promise<fc.RunDetails<unknown>> }[] = [
  ...MUTATION_PROPERTIES.map((p) => ({
    name: p.name,
    run: (numRuns: number, seed: number) =>
      Promise.resolve(fc.check(toProperty(p), { numRuns, seed }) as fc.RunDetails<unknown>),
  })),
  {
    name: transformStreamMutation.name,
    run: (numRuns: number, seed: number) =>
      fc.check(fc.asyncProperty(transformStreamMutation.arb, transformStreamMutation.checkAsync), {
        numRuns,
        seed,
      }) as Promise<fc.RunDetails<unknown>>,
  },
];

let failed = 0;
for (const p of runs) {
  const seed = Math.floor(Math.random() * 0x8000_0000);
  const start = performance.now();
  const details = await p.run(cases, seed);
  const s = (performance.now() - start) / 1000;
  const ran = details.numRuns;
  const rate = Math.round(ran / s);
  console.log(
    `${details.failed ? "FAIL" : "ok  "} ${String(rate).padStart(7)} cases/s  ${ran} cases in ${
      s.toFixed(1)
    } s  seed ${seed}  ${p.name}`,
  );
  if (details.failed) {
    failed++;
    console.log(fc.defaultReportMessage(details));
  }
}
if (failed > 0) {
  console.log(`${failed} propert${failed === 1 ? "y" : "ies"} failed`);
  process.exit(1);
}
