import process from "node:process";

// Timing in passes for the benchmark scripts: every figure is the median of
// several passes with its min and max, and the cases of one table are timed
// interleaved (pass 1 of every case, then pass 2, ...), so that a ratio of
// two cases compares figures taken moments apart on the same machine.

/** One case: a function run repeatedly, and the bytes (or messages) one run handles. */
export interface Case {
  name: string;
  run: () => void;
  /** Bytes one run processes, for MB/s. */
  bytes: number;
  /** Messages one run processes, for msg/s (optional). */
  messages?: number;
}

/** Median, min and max of a list of figures. */
export interface Spread {
  median: number;
  min: number;
  max: number;
}

/** Summarises `xs` (not empty). */
export function spread(xs: readonly number[]): Spread {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
  return { median, min: s[0]!, max: s[s.length - 1]! };
}

/**
 * What a pass is timed by: `"wall"`, elapsed time (the default), or `"cpu"`,
 * the CPU time of this process (user and system, all its threads), which a
 * machine shared with other work disturbs far less: time spent waiting for
 * a core is not counted, but the runtime's own helper threads (garbage
 * collection, compilation) are.
 */
export type Clock = "wall" | "cpu";

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/**
 * Milliseconds per run of `fn`: the mean over a window of at least `windowMs`
 * (wall time) and `minRuns` runs, by `clock`.
 */
export function timePass(fn: () => void, windowMs: number, minRuns = 2, clock: Clock = "wall"): number {
  let runs = 0;
  const start = performance.now();
  const cpuStart = clock === "cpu" ? cpuMs() : 0;
  let now = start;
  while (runs < minRuns || now - start < windowMs) {
    fn();
    runs++;
    now = performance.now();
  }
  return (clock === "cpu" ? cpuMs() - cpuStart : now - start) / runs;
}

/** Timings of each case, one entry per pass, in milliseconds per run. */
export type Timings = Map<string, number[]>;

/**
 * Runs every case once to warm it up, then `passes` passes over all cases in
 * turn, each case for a window of `windowMs`. Calls `progress` after each pass.
 *
 * With `settle`, each timed window is preceded by an untimed one of a quarter
 * of its length running the same case, so that a case is timed in its own
 * steady state rather than paying for the transition from the case before it
 * (the garbage that case left, the memory the allocator handed back to the
 * system meanwhile): decoding the mixed stream right after a case that
 * allocates nothing measured up to 1.7x slower than right after another
 * decoding case.
 */
export function measure(
  cases: readonly Case[],
  passes: number,
  windowMs: number,
  progress?: (done: number, total: number) => void,
  clock: Clock = "wall",
  settle = false,
): Timings {
  const out: Timings = new Map(cases.map((c) => [c.name, []]));
  for (const c of cases) timePass(c.run, windowMs / 4, 1);
  for (let p = 0; p < passes; p++) {
    for (const c of cases) {
      if (settle) timePass(c.run, windowMs / 4, 1);
      out.get(c.name)!.push(timePass(c.run, windowMs, 2, clock));
    }
    progress?.(p + 1, passes);
  }
  return out;
}

/** MB/s of each pass of a case. */
export function mbps(c: Case, ms: readonly number[]): number[] {
  return ms.map((t) => c.bytes / 1e6 / (t / 1000));
}

/**
 * Pass-by-pass ratio of throughputs `a / b` (two cases timed in the same
 * passes): pass i of one against pass i of the other.
 */
export function ratios(a: Case, aMs: readonly number[], b: Case, bMs: readonly number[]): number[] {
  return aMs.map((t, i) => (a.bytes / t) / (b.bytes / bMs[i]!));
}
