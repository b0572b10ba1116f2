// Helpers for the address manager tests: a seeded random source, address
// builders and a manager on a manual clock. Not a test file (the leading `_`).
import { AddrManager, type AddrManagerOptions } from "../src/pool/addrmgr.ts";
import type { AddrManagerEvent } from "../src/pool/peersstore.ts";
import { ManualClock } from "../src/peer/clock.ts";
import type { RandomSource } from "../src/peer/random.ts";
import { MemoryStorage } from "../src/storage/memory.ts";
import { netAddress } from "../src/wire/ip.ts";
import type { NetAddress } from "../src/wire/netaddress.ts";

/** A deterministic random source (mulberry32) for reproducible draws. */
export function seededRandom(seed: number): RandomSource {
  let s = seed >>> 0;
  return (bytes) => {
    for (let i = 0; i < bytes.length; i++) {
      s = (s + 0x6d2b79f5) >>> 0;
      let t = s;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      bytes[i] = ((t ^ (t >>> 14)) >>> 24) & 0xff;
    }
  };
}

/** The IPv4 address a.b.c.d (public unless the caller picks otherwise). */
export function v4(a: number, b: number, c: number, d: number, port = 18555, timestamp = 0): NetAddress {
  return netAddress({ ip: `${a}.${b}.${c}.${d}`, port, timestamp });
}

/** A manager on a manual clock with a seeded random source and in-memory storage, recording its events. */
export function testManager(
  seed = 1,
  options: AddrManagerOptions = {},
): {
  am: AddrManager;
  clock: ManualClock;
  storage: MemoryStorage;
  events: AddrManagerEvent[];
  nowSec: () => number;
} {
  const clock = options.clock instanceof ManualClock ? options.clock : new ManualClock();
  const storage = options.storage instanceof MemoryStorage ? options.storage : new MemoryStorage();
  const events: AddrManagerEvent[] = [];
  const am = new AddrManager({
    random: seededRandom(seed),
    ...options,
    clock,
    storage,
    onEvent: (e) => events.push(e),
  });
  return { am, clock, storage, events, nowSec: () => Math.floor(clock.now() / 1000) };
}

/** First octets of public IPv4 space (1 to 99 without the private 10). */
const FIRST = Array.from({ length: 99 }, (_, i) => i + 1).filter((a) => a !== 10);

/**
 * The public IPv4 address number `i` (0 to 65535) of group `g`: every `g`
 * is a distinct /16, so `groupKey` differs per `g` and is shared within it.
 */
export function inGroup(g: number, i: number, timestamp = 0, port = 18555): NetAddress {
  const a = FIRST[g % FIRST.length]!;
  const b = Math.floor(g / FIRST.length) % 256;
  return v4(a, b, (i >> 8) & 255, i & 255, port, timestamp);
}
