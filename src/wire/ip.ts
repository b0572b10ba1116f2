/**
 * IP addresses as soter carries them: 16 bytes, IPv4 as an IPv4-mapped IPv6
 * address (`::ffff:a.b.c.d`). Formatting follows Go's `net.IP.String()`, so
 * addresses print exactly as soterd logs them.
 *
 * @example Parsing and printing
 * ```ts
 * import { ipFromString, ipToString } from "@soter/peer";
 * console.log(ipToString(ipFromString("127.0.0.1"))); // "127.0.0.1"
 * console.log(ipToString(ipFromString("2001:db8:0:0:1:0:0:1"))); // "2001:db8::1:0:0:1"
 * ```
 *
 * @module
 */
import { MessageError } from "./errors.ts";
import { toHex } from "./hex.ts";
import type { NetAddress } from "./netaddress.ts";

/**
 * Tells whether the 16 bytes at the start of `ip` are an IPv4-mapped IPv6
 * address (ten zero bytes, then 0xff 0xff).
 */
function isV4Mapped(ip: Uint8Array): boolean {
  for (let i = 0; i < 10; i++) if (ip[i] !== 0) return false;
  return ip[10] === 0xff && ip[11] === 0xff;
}

function dotted(ip: Uint8Array, at: number): string {
  return `${ip[at]}.${ip[at + 1]}.${ip[at + 2]}.${ip[at + 3]}`;
}

/**
 * Formats an IP address exactly as Go's `net.IP.String()` does.
 *
 * - An IPv4-mapped address (`::ffff:a.b.c.d`) and a 4-byte address print as
 *   a dotted quad `a.b.c.d`.
 * - Other 16-byte addresses print as IPv6 with RFC 5952 compression: groups
 *   in lowercase hex without leading zeros, the longest run of zero groups
 *   (the first one on a tie) replaced by `::`, never a single zero group
 *   (`::`, `::1`, `2001:db8::1:0:0:1`, `::102:304`).
 * - An empty array means the address was absent from the wire (for
 *   example the `addrMe` of a short `version` message) and gives `null`,
 *   as the golden vectors write it. Go would print `<nil>`.
 * - Any other length gives `?` followed by the bytes in hex, as in Go.
 *
 * @param ip The address bytes, usually 16 (as decoded from the wire).
 * @returns The printed address, or `null` for an empty array.
 *
 * @example
 * ```ts
 * import { ipToString } from "@soter/peer";
 * const ip = new Uint8Array(16);
 * ip[15] = 1;
 * console.log(ipToString(ip)); // "::1"
 * console.log(ipToString(new Uint8Array(0))); // null
 * ```
 */
export function ipToString(ip: Uint8Array): string | null {
  if (ip.length === 0) return null;
  if (ip.length === 4) return dotted(ip, 0);
  if (ip.length !== 16) return "?" + toHex(ip);
  if (isV4Mapped(ip)) return dotted(ip, 12);

  // Find the longest run of zero groups; on a tie keep the first.
  let bestStart = -1;
  let bestEnd = -1;
  for (let i = 0; i < 16; i += 2) {
    let j = i;
    while (j < 16 && ip[j] === 0 && ip[j + 1] === 0) j += 2;
    if (j > i) {
      if (j - i > bestEnd - bestStart) {
        bestStart = i;
        bestEnd = j;
      }
      i = j;
    }
  }
  // "::" must not shorten a single zero group.
  if (bestEnd - bestStart <= 2) {
    bestStart = -1;
    bestEnd = -1;
  }

  let s = "";
  for (let i = 0; i < 16; i += 2) {
    if (i === bestStart) {
      s += "::";
      i = bestEnd - 2;
      continue;
    }
    if (i > 0 && i !== bestEnd) s += ":";
    s += ((ip[i]! << 8) | ip[i + 1]!).toString(16);
  }
  return s;
}

function invalidIp(s: string): never {
  throw new MessageError(
    "invalid-value",
    `Invalid IP address: "${s.length > 64 ? s.slice(0, 64) + "…" : s}"`,
  );
}

/**
 * Parses a dotted quad into `out[at..at+4]`. Each part is 1 to 3 decimal
 * digits, at most 255, without leading zeros (as Go since 1.17).
 *
 * @returns `false` when `s` is not a dotted quad.
 */
function parseV4(s: string, out: Uint8Array, at: number): boolean {
  let part = 0;
  let digits = 0;
  let value = 0;
  let first = 0;
  for (let i = 0; i <= s.length; i++) {
    const c = i < s.length ? s.charCodeAt(i) : 0x2e; // a final "."
    if (c === 0x2e) {
      if (digits === 0 || (digits > 1 && first === 0x30) || part > 3) {
        return false;
      }
      out[at + part] = value;
      part++;
      digits = 0;
      value = 0;
    } else if (c >= 0x30 && c <= 0x39) {
      if (digits === 0) first = c;
      digits++;
      value = value * 10 + (c - 0x30);
      if (digits > 3 || value > 255) return false;
    } else {
      return false;
    }
  }
  return part === 4;
}

/** Parses 1 to 4 hex digits; returns -1 when `s` is not a valid group. */
function parseGroup(s: string): number {
  if (s.length === 0 || s.length > 4) return -1;
  let v = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    let d: number;
    if (c >= 0x30 && c <= 0x39) d = c - 0x30;
    else if (c >= 0x61 && c <= 0x66) d = c - 0x61 + 10;
    else if (c >= 0x41 && c <= 0x46) d = c - 0x41 + 10;
    else return -1;
    v = v * 16 + d;
  }
  return v;
}

/**
 * Parses colon-separated groups (the last may be a dotted quad when
 * `lastMayBeV4`) into bytes. Returns `null` on a syntax error.
 */
function parseGroups(s: string, lastMayBeV4: boolean): number[] | null {
  const bytes: number[] = [];
  if (s.length === 0) return bytes;
  const groups = s.split(":");
  for (let g = 0; g < groups.length; g++) {
    const group = groups[g]!;
    if (lastMayBeV4 && g === groups.length - 1 && group.includes(".")) {
      const v4 = new Uint8Array(4);
      if (!parseV4(group, v4, 0)) return null;
      bytes.push(v4[0]!, v4[1]!, v4[2]!, v4[3]!);
      continue;
    }
    const v = parseGroup(group);
    if (v < 0) return null;
    bytes.push(v >> 8, v & 0xff);
  }
  return bytes;
}

/**
 * Parses an IP address into the 16 bytes soter puts on the wire.
 *
 * - IPv4 `a.b.c.d` (decimal parts up to 255, no leading zeros) becomes the
 *   IPv4-mapped address `::ffff:a.b.c.d`, as Go's `net.ParseIP` does.
 * - IPv6 accepts 1 to 4 hex digits per group in either case, one `::`
 *   standing for at least one zero group, and a dotted quad in place of
 *   the last two groups (`::ffff:1.2.3.4`, `64:ff9b::10.0.0.1`).
 *
 * Zones (`%eth0`), brackets, ports and prefixes are not accepted.
 *
 * @param s The address text.
 * @returns A new 16-byte array.
 * @throws {MessageError} `invalid-value` when `s` is not an IP address.
 *
 * @example
 * ```ts
 * import { ipFromString } from "@soter/peer";
 * console.log(ipFromString("1.2.3.4").slice(10)); // Uint8Array(6) [ 255, 255, 1, 2, 3, 4 ]
 * ```
 */
export function ipFromString(s: string): Uint8Array<ArrayBuffer> {
  const ip = new Uint8Array(16);
  if (!s.includes(":")) {
    ip[10] = 0xff;
    ip[11] = 0xff;
    if (!parseV4(s, ip, 12)) invalidIp(s);
    return ip;
  }
  const ellipsis = s.indexOf("::");
  if (ellipsis < 0) {
    const bytes = parseGroups(s, true);
    if (bytes === null || bytes.length !== 16) invalidIp(s);
    ip.set(bytes);
    return ip;
  }
  if (s.indexOf("::", ellipsis + 1) >= 0) invalidIp(s);
  const head = parseGroups(s.slice(0, ellipsis), false);
  const tail = parseGroups(s.slice(ellipsis + 2), true);
  // "::" must stand for at least one zero group.
  if (head === null || tail === null || head.length + tail.length > 14) {
    invalidIp(s);
  }
  ip.set(head, 0);
  ip.set(tail, 16 - tail.length);
  return ip;
}

/** What {@linkcode netAddress} takes. */
export interface NetAddressInit {
  /** The IP address, as text (see {@linkcode ipFromString}) or as bytes. */
  ip: string | Uint8Array;
  /** The TCP port, 0 to 65535. */
  port: number;
  /** The advertised service bits; 0 by default. */
  services?: bigint;
  /**
   * When the address was last seen, in unix seconds (uint32); 0 by
   * default. It is only sent in `addr` and `addrcache`.
   */
  timestamp?: number;
}

/**
 * Builds a {@linkcode NetAddress} from readable parts.
 *
 * Unlike soterd's `NewNetAddressIPPort`, the timestamp defaults to 0, not
 * to the current time: pass `Math.floor(Date.now() / 1000)` for addresses
 * sent in `addr`.
 *
 * @param init The address, port, and optional services and timestamp.
 * @returns A new network address with a 16-byte IP.
 * @throws {MessageError} `invalid-value` for a bad IP, port or timestamp.
 *
 * @example
 * ```ts
 * import { netAddress, ServiceFlag } from "@soter/peer";
 * const na = netAddress({ ip: "10.0.0.1", port: 18555, services: ServiceFlag.NODE_NETWORK });
 * console.log(na.port, na.services); // 18555 1n
 * ```
 */
export function netAddress(init: NetAddressInit): NetAddress {
  const { port, services = 0n, timestamp = 0 } = init;
  if (!Number.isInteger(port) || port < 0 || port > 0xffff) {
    throw new MessageError("invalid-value", `Invalid port: ${port}`);
  }
  if (timestamp >>> 0 !== timestamp) {
    throw new MessageError(
      "invalid-value",
      `Invalid address timestamp: ${timestamp} is not a uint32`,
    );
  }
  if (
    typeof services !== "bigint" || services < 0n ||
    services > 0xffff_ffff_ffff_ffffn
  ) {
    throw new MessageError(
      "invalid-value",
      `Invalid services: ${services} is not a uint64`,
    );
  }
  const ip = typeof init.ip === "string" ? ipFromString(init.ip) : init.ip;
  return { timestamp, services, ip, port };
}
