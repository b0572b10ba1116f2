/**
 * Address classes as soterd's address manager sees them: which addresses
 * are routable on the public internet, which reserved range an address
 * falls in, and the network group (an IPv4 /16, an IPv6 /32, a Tor key
 * prefix) that bucketing and outbound diversity are keyed by.
 *
 * Every function takes anything with an `ip` of 16 bytes (IPv4 as
 * IPv4-mapped IPv6, as on the wire) or 4 bytes (plain IPv4), such as a
 * {@linkcode NetAddress}; any other length counts as no address.
 *
 * @example
 * ```ts
 * import { groupKey, isRoutable, netAddress } from "@soter/peer";
 * const na = netAddress({ ip: "8.8.4.4", port: 18555 });
 * console.log(isRoutable(na), groupKey(na)); // true "8.8.0.0"
 * console.log(groupKey(netAddress({ ip: "192.168.1.9", port: 18555 }))); // "unroutable"
 * ```
 *
 * @module
 */
import { ipToString } from "../wire/ip.ts";

/** Anything that carries an IP address, such as a `NetAddress`. */
export interface HasIp {
  /** 16 bytes (IPv4 mapped into IPv6) or 4 bytes (IPv4). */
  readonly ip: Uint8Array;
}

const NO_ADDRESS = new Uint8Array(16);

/** The 16-byte form of an address: IPv4 mapped, anything else unspecified. */
function ip16(ip: Uint8Array): Uint8Array {
  if (ip.length === 16) return ip;
  if (ip.length !== 4) return NO_ADDRESS;
  const out = new Uint8Array(16);
  out[10] = 0xff;
  out[11] = 0xff;
  out.set(ip, 12);
  return out;
}

function v4(ip: Uint8Array): boolean {
  for (let i = 0; i < 10; i++) if (ip[i] !== 0) return false;
  return ip[10] === 0xff && ip[11] === 0xff;
}

/** A reserved range: IPv4 ranges match IPv4 addresses only, IPv6 ranges the others (as Go's `IPNet`). */
interface Range {
  readonly name: string;
  readonly v4: boolean;
  readonly prefix: readonly number[];
  readonly bits: number;
}

function range(name: string, v4: boolean, prefix: number[], bits: number): Range {
  return { name, v4, prefix, bits };
}

function inRange(ip: Uint8Array, r: Range): boolean {
  if (v4(ip) !== r.v4) return false;
  const at = r.v4 ? 12 : 0;
  let bits = r.bits;
  for (let i = 0; bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if (((ip[at + i]! ^ (r.prefix[i] ?? 0)) & mask) !== 0) return false;
  }
  return true;
}

const RFC1918 = [
  range("RFC1918", true, [10], 8),
  range("RFC1918", true, [172, 16], 12),
  range("RFC1918", true, [192, 168], 16),
];
const RFC2544 = range("RFC2544", true, [198, 18], 15);
const RFC3849 = range("RFC3849", false, [0x20, 0x01, 0x0d, 0xb8], 32);
const RFC3927 = range("RFC3927", true, [169, 254], 16);
const RFC3964 = range("RFC3964", false, [0x20, 0x02], 16);
const RFC4193 = range("RFC4193", false, [0xfc], 7);
const RFC4380 = range("RFC4380", false, [0x20, 0x01, 0, 0], 32);
const RFC4843 = range("RFC4843", false, [0x20, 0x01, 0x00, 0x10], 28);
const RFC4862 = range("RFC4862", false, [0xfe, 0x80, 0, 0, 0, 0, 0, 0], 64);
const RFC5737 = [
  range("RFC5737", true, [192, 0, 2], 24),
  range("RFC5737", true, [198, 51, 100], 24),
  range("RFC5737", true, [203, 0, 113], 24),
];
const RFC6052 = range("RFC6052", false, [0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0], 96);
const RFC6145 = range("RFC6145", false, [0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0], 96);
const RFC6598 = range("RFC6598", true, [100, 64], 10);
const ONION_CAT = range("OnionCat", false, [0xfd, 0x87, 0xd8, 0x7e, 0xeb, 0x43], 48);
const ZERO4 = range("0.0.0.0/8", true, [0], 8);
const HE_NET = range("he.net", false, [0x20, 0x01, 0x04, 0x70], 32);

/** The ranges `isRoutable` refuses, in soterd's order of checking. */
const UNROUTABLE: readonly Range[] = [
  ...RFC1918,
  RFC2544,
  RFC3927,
  RFC4862,
  RFC3849,
  RFC4843,
  ...RFC5737,
  RFC6598,
];

function loopback(ip: Uint8Array): boolean {
  if (v4(ip)) return ip[12] === 127;
  for (let i = 0; i < 15; i++) if (ip[i] !== 0) return false;
  return ip[15] === 1;
}

function local16(ip: Uint8Array): boolean {
  return loopback(ip) || inRange(ip, ZERO4);
}

function valid16(ip: Uint8Array): boolean {
  if (v4(ip)) {
    const a = ip[12]!, b = ip[13]!, c = ip[14]!, d = ip[15]!;
    return !(a === 0 && b === 0 && c === 0 && d === 0) && !(a === 255 && b === 255 && c === 255 && d === 255);
  }
  return ip.some((b) => b !== 0);
}

/**
 * Tells whether an address is IPv4 (4 bytes, or IPv4-mapped in 16).
 *
 * @param na The address.
 * @returns `true` for IPv4.
 */
export function isIPv4(na: HasIp): boolean {
  return v4(ip16(na.ip));
}

/**
 * Tells whether an address is local: loopback (`127.0.0.0/8`, `::1`) or in
 * `0.0.0.0/8` (soterd's `IsLocal`).
 *
 * @param na The address.
 * @returns `true` for a local address.
 */
export function isLocal(na: HasIp): boolean {
  return local16(ip16(na.ip));
}

/**
 * Tells whether an address is in the IPv6 range soter uses for Tor
 * (OnionCat, `fd87:d87e:eb43::/48`).
 *
 * @param na The address.
 * @returns `true` for a Tor address.
 */
export function isOnionCatTor(na: HasIp): boolean {
  return inRange(ip16(na.ip), ONION_CAT);
}

/**
 * Tells whether an address is valid at all: not unspecified (`0.0.0.0`,
 * `::`), not the IPv4 broadcast address, and 4 or 16 bytes long.
 *
 * @param na The address.
 * @returns `true` when valid.
 */
export function isValidAddress(na: HasIp): boolean {
  return valid16(ip16(na.ip));
}

/**
 * Names the reserved range an address is in, if any: `"RFC1918"` (private
 * IPv4), `"RFC2544"`, `"RFC3849"`, `"RFC3927"` (IPv4 link-local),
 * `"RFC3964"` (6to4), `"RFC4193"` (unique local IPv6), `"RFC4380"`
 * (Teredo), `"RFC4843"` (ORCHID), `"RFC4862"` (IPv6 link-local),
 * `"RFC5737"`, `"RFC6052"`, `"RFC6145"`, `"RFC6598"` (shared address
 * space), `"OnionCat"` (Tor), `"local"`, or `"invalid"`.
 *
 * @param na The address.
 * @returns The range's name, or `undefined` for an ordinary address.
 *
 * @example
 * ```ts
 * import { netAddress, reservedRange } from "@soter/peer";
 * console.log(reservedRange(netAddress({ ip: "10.1.2.3", port: 1 }))); // "RFC1918"
 * console.log(reservedRange(netAddress({ ip: "2002:102:304::1", port: 1 }))); // "RFC3964"
 * ```
 */
export function reservedRange(na: HasIp): string | undefined {
  const ip = ip16(na.ip);
  if (!valid16(ip)) return "invalid";
  if (local16(ip)) return "local";
  for (const r of UNROUTABLE) if (inRange(ip, r)) return r.name;
  for (const r of [ONION_CAT, RFC4193, RFC3964, RFC4380, RFC6052, RFC6145]) if (inRange(ip, r)) return r.name;
  return undefined;
}

/**
 * Tells whether an address is routable on the public internet (soterd's
 * `IsRoutable`): valid, not local, and in none of the private,
 * documentation, link-local, benchmarking or shared ranges. Tor addresses
 * are routable although they sit inside RFC 4193's unique local range;
 * Teredo, 6to4 and NAT64 addresses are routable.
 *
 * @param na The address.
 * @returns `true` when routable.
 *
 * @example
 * ```ts
 * import { isRoutable, netAddress } from "@soter/peer";
 * console.log(isRoutable(netAddress({ ip: "127.0.0.1", port: 18555 }))); // false
 * console.log(isRoutable(netAddress({ ip: "2a01:4f8::1", port: 18555 }))); // true
 * ```
 */
export function isRoutable(na: HasIp): boolean {
  const ip = ip16(na.ip);
  if (!valid16(ip) || local16(ip)) return false;
  for (const r of UNROUTABLE) if (inRange(ip, r)) return false;
  return !inRange(ip, RFC4193) || inRange(ip, ONION_CAT);
}

/** The /16 of an IPv4 address as Go prints a masked address. */
function slash16(a: number, b: number): string {
  return `${a}.${b}.0.0`;
}

/**
 * The network group of an address (soterd's `GroupKey`): the string
 * `"local"` for a local address, `"unroutable"` for any other unroutable
 * one, the /16 for IPv4 (`"8.8.0.0"`), the embedded IPv4 /16 for NAT64,
 * IPv4-translated, 6to4 and Teredo addresses, `"tor:N"` with the first 4
 * bits of a Tor key, and the /32 for other IPv6 (/36 in Hurricane
 * Electric's `2001:470::/32`), printed as Go prints an IP.
 *
 * The address manager buckets addresses by group, and the pool allows at
 * most one outbound connection per group, so one operator holding many
 * addresses in one network cannot take over a node's connections.
 *
 * @param na The address.
 * @returns The group's name.
 *
 * @example
 * ```ts
 * import { groupKey, netAddress } from "@soter/peer";
 * console.log(groupKey(netAddress({ ip: "2001:db9:1234::5", port: 1 }))); // "2001:db9::"
 * console.log(groupKey(netAddress({ ip: "127.0.0.1", port: 1 }))); // "local"
 * ```
 */
export function groupKey(na: HasIp): string {
  const ip = ip16(na.ip);
  if (local16(ip)) return "local";
  if (!isRoutable({ ip })) return "unroutable";
  return networkOf(ip);
}

/**
 * The network an address is in, as `groupKey` computes it for routable
 * addresses, for any address: private and local ones get their /16 or
 * /32 too. The address manager buckets by it when told to keep unroutable
 * addresses, so a LAN's addresses do not all share one bucket.
 *
 * @param na The address.
 * @returns The network's name.
 */
export function networkGroup(na: HasIp): string {
  return networkOf(ip16(na.ip));
}

function networkOf(ip: Uint8Array): string {
  if (v4(ip)) return slash16(ip[12]!, ip[13]!);
  if (inRange(ip, RFC6145) || inRange(ip, RFC6052)) return slash16(ip[12]!, ip[13]!);
  if (inRange(ip, RFC3964)) return slash16(ip[2]!, ip[3]!);
  // Teredo carries the client's IPv4 address inverted in its last 4 bytes.
  if (inRange(ip, RFC4380)) return slash16(ip[12]! ^ 0xff, ip[13]! ^ 0xff);
  if (inRange(ip, ONION_CAT)) return `tor:${ip[6]! & 0x0f}`;
  const masked = new Uint8Array(16);
  masked.set(ip.subarray(0, 4));
  if (inRange(ip, HE_NET)) masked[4] = ip[4]! & 0xf0;
  return ipToString(masked)!;
}
