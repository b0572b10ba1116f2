/**
 * Internal: addresses for simulated hosts, spread over providers the way
 * real nodes are (a few large networks hold many nodes, many small ones a
 * few), so address-group logic (IPv4 /16, IPv6 /32) sees a realistic
 * network.
 *
 * @module
 */
import { ipFromString, ipToString } from "../wire/ip.ts";
import type { SimRandom } from "./random.ts";

/** Which address families a host gets. */
export type AddressFamilies = "ipv4" | "ipv6" | "dual";

/** How many distinct IPv4 /16 and IPv6 /32 providers hosts are spread over. */
const V4_PROVIDERS = 256;
const V6_PROVIDERS = 128;

/** First octets that are public unicast space (no 0, 10, 100, 127, 169, 172, 192, 198, 224 and up). */
const V4_FIRST: readonly number[] = Array.from({ length: 223 }, (_, i) => i + 1).filter(
  (o) => ![10, 100, 127, 169, 172, 192, 198].includes(o),
);
/** /16 prefixes of large IPv6 allocations (RIPE, ARIN, APNIC), avoiding 2001:0 (Teredo), 2001:db8 and 2002 (6to4). */
const V6_FIRST: readonly number[] = [0x2a00, 0x2a01, 0x2a02, 0x2a03, 0x2600, 0x2602, 0x2604, 0x2605, 0x2607, 0x2400];

/** Canonical text of an IP address (as soterd prints it), or `undefined` when not an IP literal. */
export function canonicalIp(text: string): string | undefined {
  const bare = text.startsWith("[") && text.endsWith("]") ? text.slice(1, -1) : text;
  try {
    return ipToString(ipFromString(bare)) ?? undefined;
  } catch {
    return undefined;
  }
}

/** Whether an address is IPv6 (not IPv4 or IPv4-mapped). */
export function isIpv6(address: string): boolean {
  return address.includes(":");
}

/** Deals out unique addresses; each provider's prefix derives from the seed and its number alone. */
export class AddressBook {
  readonly #root: SimRandom;
  readonly #v4 = new Map<number, [number, number]>();
  readonly #v6 = new Map<number, [number, number]>();
  readonly #used = new Set<string>();

  constructor(root: SimRandom) {
    this.#root = root;
  }

  /** Marks an address as taken; `false` when it already was. */
  claim(address: string): boolean {
    if (this.#used.has(address)) return false;
    this.#used.add(address);
    return true;
  }

  /** The /16 (IPv4) or /32 (IPv6) of provider `i`, from the seed and `i` alone. */
  #prefix(v6: boolean, i: number): [number, number] {
    const cache = v6 ? this.#v6 : this.#v4;
    let p = cache.get(i);
    if (p === undefined) {
      const r = this.#root.fork(`${v6 ? "v6" : "v4"} provider ${i}`);
      p = v6 ? [r.pick(V6_FIRST), r.below(0x10000)] : [r.pick(V4_FIRST), r.below(256)];
      cache.set(i, p);
    }
    return p;
  }

  /** A provider number, skewed so low numbers (large networks) hold more hosts. */
  static #provider(r: SimRandom, n: number): number {
    // Squaring a uniform draw gives a density falling with the provider's number.
    const u = r.float();
    return Math.floor(u * u * n);
  }

  /**
   * A new IPv4 address from the host's own stream.
   *
   * @param r The host's address stream.
   * @returns A dotted quad nobody has yet.
   */
  ipv4(r: SimRandom): string {
    for (;;) {
      const [a, b] = this.#prefix(false, AddressBook.#provider(r, V4_PROVIDERS));
      const text = `${a}.${b}.${r.below(256)}.${r.between(1, 254)}`;
      if (this.claim(text)) return text;
    }
  }

  /**
   * A new IPv6 address from the host's own stream.
   *
   * @param r The host's address stream.
   * @returns A canonical IPv6 address nobody has yet.
   */
  ipv6(r: SimRandom): string {
    for (;;) {
      const [a, b] = this.#prefix(true, AddressBook.#provider(r, V6_PROVIDERS));
      const groups = [a, b, r.below(0x10000), r.below(0x100), 0, 0, r.below(0x10000), r.between(1, 0xffff)];
      const text = canonicalIp(groups.map((g) => g.toString(16)).join(":"))!;
      if (this.claim(text)) return text;
    }
  }
}
