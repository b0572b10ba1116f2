/**
 * The deterministic network simulator: `SimNet`, its hosts, its random
 * streams and its trace.
 *
 * @module
 */
export {
  type CrashMode,
  type LinkProfile,
  type SimConnection,
  type SimHost,
  type SimHostOptions,
  SimNet,
  type SimNetOptions,
  type SimPartition,
  type SimRunOptions,
  type SimRunResult,
} from "./net.ts";
export {
  FAULT_KINDS,
  type FaultKind,
  type FaultSpec,
  type FaultTarget,
  type RandomFaultOptions,
  randomFaults,
  scheduleFaults,
} from "./faults.ts";
export { SimRandom } from "./random.ts";
export { Trace, type TraceEntry, traceLine, type TraceOptions } from "./trace.ts";
