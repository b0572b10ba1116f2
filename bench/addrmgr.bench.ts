// `deno bench` on the address manager: learning addresses (two keyed double
// SHA-256 per address, with the plain TypeScript and the native hasher),
// picking one to dial, the getaddr sample, and saving and loading a book of
// 20,000 addresses in soterd's peers.json format.
import { AddrManager, type Hasher, jsHasher, ManualClock, MemoryStorage, type NetAddress, netAddress } from "../mod.ts";
import { nativeHasher } from "../src/adapters/native_hash.ts";

/** A deterministic random source (mulberry32). */
function seeded(seed: number): (bytes: Uint8Array) => void {
  let s = seed >>> 0;
  return (bytes) => {
    for (let i = 0; i < bytes.length; i++) {
      s = (s + 0x6d2b79f5) >>> 0;
      let t = Math.imul(s ^ (s >>> 15), s | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      bytes[i] = ((t ^ (t >>> 14)) >>> 24) & 0xff;
    }
  };
}

const clock = new ManualClock();
const now = Math.floor(clock.now() / 1000);
/** `n` public addresses in distinct /16s (first octets 11 to 99). */
function addresses(n: number, salt = 0): NetAddress[] {
  return Array.from({ length: n }, (_, i) => {
    const g = i + salt * 7919;
    return netAddress({
      ip: `${11 + (g % 89)}.${Math.floor(g / 89) % 256}.${(i >> 8) & 255}.${i & 255}`,
      port: 18555,
      timestamp: now,
    });
  });
}
const sources = addresses(200, 99);

function book(n: number, hasher: Hasher = jsHasher, storage?: MemoryStorage): AddrManager {
  const am = new AddrManager({ clock, random: seeded(1), hasher, ...(storage ? { storage } : {}) });
  const list = addresses(n);
  for (let i = 0; i < list.length; i++) am.addAddress(list[i]!, sources[i % sources.length]!);
  return am;
}

const fresh = addresses(1000, 3);
for (const [name, hasher] of [["TypeScript", jsHasher], ["native", nativeHasher]] as const) {
  Deno.bench({ name: `learn 1,000 addresses (${name} SHA-256)`, group: "learn" }, () => {
    const am = new AddrManager({ clock, random: seeded(2), hasher });
    for (let i = 0; i < fresh.length; i++) am.addAddress(fresh[i]!, sources[i % sources.length]!);
  });
}

const big = book(20_000);
big.allAddresses().slice(0, 5000).forEach((na) => big.good(na));
await clock.advance(3_600_000);
Deno.bench({ name: "getAddress from 15,000 new and 5,000 tried", group: "pick" }, () => {
  big.getAddress();
});
Deno.bench({ name: "pickOutbound (8 groups in use)", group: "pick" }, () => {
  const used = new Set([
    "11.0.0.0",
    "12.0.0.0",
    "13.0.0.0",
    "14.0.0.0",
    "15.0.0.0",
    "16.0.0.0",
    "17.0.0.0",
    "18.0.0.0",
  ]);
  big.pickOutbound({ defaultPort: 18555, skip: (ka) => used.has(ka.group) });
});
Deno.bench({ name: "addressCache (getaddr answer, 2,500 of 20,000)", group: "pick" }, () => {
  big.addressCache();
});

const storage = new MemoryStorage();
const saved = book(20_000, jsHasher, storage);
await saved.save();
const size = (await storage.size("peers.json"))!;
Deno.bench(
  { name: `save 20,000 addresses (${Math.round(size / 1024)} KiB of peers.json)`, group: "persist" },
  async () => {
    await saved.save();
  },
);
Deno.bench({ name: "load 20,000 addresses", group: "persist" }, async () => {
  const am = new AddrManager({ clock, storage, saveIntervalMs: 0 });
  await am.start();
});
