/**
 * The simulator's search mode: random scenarios (hosts running peers,
 * random faults) run with invariant checks after every event; a failing
 * scenario is shrunk to the smallest one that still fails, and reported
 * with its seed and trace. Runtime-neutral: `sim.ts` wires it to a
 * terminal.
 *
 * @module
 */
import { FAULT_KINDS, type FaultSpec, randomFaults, scheduleFaults } from "./faults.ts";
import { SimNet } from "./net.ts";
import { SimRandom } from "./random.ts";
import { PeerNetwork } from "./workload.ts";

/** One scenario: everything a run depends on. */
export interface Scenario {
  /** The seed of the network. */
  seed: number;
  /** How many hosts. */
  hosts: number;
  /** Outbound connections per connecting host. */
  outbound: number;
  /** Virtual minutes to run before stopping every program. */
  minutes: number;
  /** The faults, in time order. */
  faults: FaultSpec[];
}

/** What one scenario run gave. */
export interface ScenarioResult {
  /** Broken invariants (empty when the run passed). */
  violations: string[];
  /** Events run. */
  events: number;
  /** Virtual milliseconds simulated. */
  time: number;
  /** The trace hash. */
  hash: string;
  /** The trace lines, when asked for. */
  trace: string[];
  /** Disconnects by reason. */
  disconnects: Record<string, number>;
}

/**
 * Draws a scenario from a seed: 4 to 40 hosts, 1 or 2 outbound
 * connections, a few faults a minute.
 *
 * @param seed The seed.
 * @param minutes Virtual minutes (default: drawn, 5 to 30).
 * @returns The scenario.
 */
export function randomScenario(seed: number, minutes?: number): Scenario {
  const r = new SimRandom(seed).fork("scenario");
  const m = minutes ?? r.between(5, 30);
  return {
    seed,
    hosts: r.between(4, 40),
    outbound: r.between(1, 2),
    minutes: m,
    faults: randomFaults(r, { minutes: m, perMinute: 0.5 + r.float() * 4, kinds: FAULT_KINDS }),
  };
}

/**
 * Runs a scenario with invariant checks after every event, stops every
 * program, runs to idle, and checks that nothing was left behind.
 *
 * @param s The scenario.
 * @param keepTrace Keep the trace lines (for a report).
 * @returns The result.
 */
export async function runScenario(s: Scenario, keepTrace = false): Promise<ScenarioResult> {
  const net = new SimNet({ seed: s.seed, isolate: true, trace: { keep: keepTrace } });
  const work = new PeerNetwork(net, { hosts: s.hosts, outbound: s.outbound, invPerMinute: 30, startWithin: 30_000 });
  scheduleFaults(net, s.faults);
  const failed = () => work.violations.length > 0;
  try {
    await net.run({ for: s.minutes * 60_000, until: failed, onStep: () => work.checkStep() });
    if (!failed()) {
      work.stop();
      // Faults still scheduled (a restart, a heal) run out; nothing else may remain.
      await net.run({ until: failed, onStep: () => work.checkStep() });
      if (!failed()) work.checkEnd();
    }
  } catch (err) {
    work.violations.push(`${(net.time / 1000).toFixed(3)} s: ${err instanceof Error ? err.message : String(err)}`);
  }
  return {
    violations: [...work.violations],
    events: net.events,
    time: net.time,
    hash: net.trace.hash,
    trace: net.trace.lines(),
    disconnects: { ...work.stats.disconnects },
  };
}

/**
 * Shrinks a failing scenario: fewer faults, fewer hosts, fewer outbound
 * connections, fewer minutes, as long as it still fails.
 *
 * @param s The failing scenario.
 * @param fails Whether a scenario still fails.
 * @param budget How many runs shrinking may take (default 200).
 * @returns The smallest failing scenario found.
 */
export async function shrinkScenario(
  s: Scenario,
  fails: (s: Scenario) => Promise<boolean>,
  budget = 200,
): Promise<Scenario> {
  let best = s;
  let runs = 0;
  const attempt = async (c: Scenario): Promise<boolean> => {
    if (runs >= budget) return false;
    runs++;
    if (await fails(c)) {
      best = c;
      return true;
    }
    return false;
  };
  let progress = true;
  while (progress && runs < budget) {
    progress = false;
    // Drop halves, then quarters, ... then single faults.
    for (let size = Math.max(1, best.faults.length >> 1); size >= 1; size >>= 1) {
      for (let i = 0; i + size <= best.faults.length;) {
        const faults = [...best.faults.slice(0, i), ...best.faults.slice(i + size)];
        if (await attempt({ ...best, faults })) progress = true;
        else i += size;
      }
    }
    for (const hosts of [2, 3, Math.floor(best.hosts / 2), best.hosts - 1]) {
      if (hosts >= 2 && hosts < best.hosts && await attempt({ ...best, hosts })) {
        progress = true;
        break;
      }
    }
    if (best.outbound > 1 && await attempt({ ...best, outbound: 1 })) progress = true;
    const last = best.faults.length > 0 ? Math.ceil((best.faults[best.faults.length - 1]!.at + 1) / 60_000) : 1;
    for (const minutes of [last, Math.ceil(best.minutes / 2), best.minutes - 1]) {
      if (minutes >= 1 && minutes < best.minutes && await attempt({ ...best, minutes })) {
        progress = true;
        break;
      }
    }
  }
  return best;
}

/** Options of {@linkcode search}. */
export interface SearchOptions {
  /** The first seed; the next scenarios take the following ones. */
  seed: number;
  /** Stop after this many scenarios (default: no limit). */
  runs?: number | undefined;
  /** Stop after this many milliseconds of wall time (default: no limit). */
  wallMs?: number | undefined;
  /** Virtual minutes per scenario (default: drawn per scenario). */
  minutes?: number | undefined;
  /** Reads the wall clock in milliseconds. */
  now: () => number;
  /** Called after every scenario. */
  onProgress?: (report: SearchReport) => void;
}

/** What a search found. */
export interface SearchReport {
  /** Scenarios run. */
  scenarios: number;
  /** Events run in total. */
  events: number;
  /** Virtual milliseconds simulated in total. */
  virtualMs: number;
  /** Wall milliseconds so far. */
  wallMs: number;
  /** Faults injected, by kind. */
  faults: Record<string, number>;
  /** Disconnects, by reason. */
  disconnects: Record<string, number>;
  /** The first failure, shrunk, if any. */
  failure?: {
    /** The scenario as drawn. */
    original: Scenario;
    /** The smallest scenario that still fails. */
    shrunk: Scenario;
    /** Its violations. */
    violations: string[];
    /** Its trace. */
    trace: string[];
  };
}

/**
 * Runs random scenarios until one fails, the runs or the wall time run
 * out; shrinks a failure.
 *
 * @param options Seeds, limits, clock and progress callback.
 * @returns The report.
 */
export async function search(options: SearchOptions): Promise<SearchReport> {
  const start = options.now();
  const report: SearchReport = { scenarios: 0, events: 0, virtualMs: 0, wallMs: 0, faults: {}, disconnects: {} };
  for (let seed = options.seed;; seed++) {
    if (options.runs !== undefined && report.scenarios >= options.runs) break;
    if (options.wallMs !== undefined && options.now() - start >= options.wallMs) break;
    const s = randomScenario(seed, options.minutes);
    const r = await runScenario(s);
    report.scenarios++;
    report.events += r.events;
    report.virtualMs += r.time;
    for (const f of s.faults) report.faults[f.kind] = (report.faults[f.kind] ?? 0) + 1;
    for (const [k, v] of Object.entries(r.disconnects)) report.disconnects[k] = (report.disconnects[k] ?? 0) + v;
    report.wallMs = options.now() - start;
    if (r.violations.length > 0) {
      const shrunk = await shrinkScenario(s, async (c) => (await runScenario(c)).violations.length > 0);
      const final = await runScenario(shrunk, true);
      report.failure = { original: s, shrunk, violations: final.violations, trace: final.trace };
      report.wallMs = options.now() - start;
      options.onProgress?.(report);
      break;
    }
    options.onProgress?.(report);
  }
  return report;
}
