/**
 * Address keys: the `host:port` text soterd's address manager indexes
 * addresses by and writes into `peers.json` (`1.2.3.4:18555`,
 * `[2001:db8::1]:18555`, `aaaaaaaaaaaaaaaa.onion:18555`).
 *
 * @module
 */
import { ipFromString, ipToString } from "../wire/ip.ts";
import { type HasIp, isOnionCatTor } from "./netgroup.ts";

/** An address key could not be parsed. */
export class AddressKeyError extends Error {
  /** The text that failed to parse. */
  readonly key: string;

  /**
   * Makes an address key error.
   *
   * @param key The text that failed to parse.
   * @param detail What is wrong with it.
   */
  constructor(key: string, detail: string) {
    const shown = key.length > 80 ? key.slice(0, 80) + "…" : key;
    super(`Invalid address ${JSON.stringify(shown)}: ${detail}`);
    this.name = "AddressKeyError";
    this.key = key;
  }
}

const BASE32 = "abcdefghijklmnopqrstuvwxyz234567";
const ONION_PREFIX = [0xfd, 0x87, 0xd8, 0x7e, 0xeb, 0x43];

/** Encodes 10 bytes as 16 lowercase base32 characters (RFC 4648, no padding needed). */
function base32(bytes: Uint8Array): string {
  let out = "";
  let acc = 0;
  let bits = 0;
  for (const b of bytes) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += BASE32[(acc >>> bits) & 31];
    }
    acc &= (1 << bits) - 1;
  }
  return out;
}

/** Decodes 16 base32 characters (either case) into 10 bytes; `undefined` if invalid. */
function unbase32(text: string): Uint8Array | undefined {
  const out = new Uint8Array(10);
  let acc = 0;
  let bits = 0;
  let at = 0;
  for (const c of text.toLowerCase()) {
    const v = BASE32.indexOf(c);
    if (v < 0) return undefined;
    acc = (acc << 5) | v;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out[at++] = (acc >>> bits) & 0xff;
      acc &= (1 << bits) - 1;
    }
  }
  return at === 10 ? out : undefined;
}

/**
 * Prints the host part of an address as soterd does: a Tor address as its
 * 16-character `.onion` name, any other as Go prints the IP.
 *
 * @param na The address.
 * @returns The host text.
 */
export function hostString(na: HasIp): string {
  if (isOnionCatTor(na)) return base32(na.ip.subarray(6, 16)) + ".onion";
  return ipToString(na.ip) ?? "<nil>";
}

/**
 * Parses a host as soterd's `HostToNetAddress` does without name
 * resolution: a 16-character `.onion` name becomes its OnionCat address,
 * anything else must be an IP address.
 *
 * @param host The host text.
 * @returns The 16-byte IP.
 * @throws {AddressKeyError} When the host is neither.
 */
export function hostToIp(host: string): Uint8Array<ArrayBuffer> {
  if (host.length === 22 && host.endsWith(".onion")) {
    const key = unbase32(host.slice(0, 16));
    if (key === undefined) throw new AddressKeyError(host, "the onion name is not base32");
    const ip = new Uint8Array(16);
    ip.set(ONION_PREFIX);
    ip.set(key, 6);
    return ip;
  }
  try {
    return ipFromString(host);
  } catch {
    throw new AddressKeyError(host, "expected an IP address or a 16-character .onion name (names are not resolved)");
  }
}

/**
 * The key of an address (soterd's `NetAddressKey`): `ip:port` for IPv4
 * and Tor, `[ip]:port` for IPv6.
 *
 * @param na The address and its port.
 * @returns The key.
 *
 * @example
 * ```ts
 * import { addressKey, netAddress } from "@soter/peer";
 * console.log(addressKey(netAddress({ ip: "1.2.3.4", port: 18555 }))); // "1.2.3.4:18555"
 * console.log(addressKey(netAddress({ ip: "2001:db8::1", port: 18555 }))); // "[2001:db8::1]:18555"
 * ```
 */
export function addressKey(na: HasIp & { readonly port: number }): string {
  const host = hostString(na);
  return host.includes(":") ? `[${host}]:${na.port}` : `${host}:${na.port}`;
}

/**
 * Parses an address key (`1.2.3.4:18555`, `[2001:db8::1]:18555`,
 * `xxxxxxxxxxxxxxxx.onion:18555`) into its IP and port.
 *
 * @param key The key.
 * @returns The 16-byte IP and the port.
 * @throws {AddressKeyError} When the text is not an address key.
 *
 * @example
 * ```ts
 * import { parseAddressKey } from "@soter/peer";
 * console.log(parseAddressKey("[::1]:8333").port); // 8333
 * ```
 */
export function parseAddressKey(key: string): { ip: Uint8Array<ArrayBuffer>; port: number } {
  let host: string;
  let portText: string;
  if (key.startsWith("[")) {
    const close = key.indexOf("]");
    if (close < 0 || key[close + 1] !== ":") throw new AddressKeyError(key, "expected [host]:port");
    host = key.slice(1, close);
    portText = key.slice(close + 2);
  } else {
    const colon = key.lastIndexOf(":");
    if (colon < 0) throw new AddressKeyError(key, "missing port");
    host = key.slice(0, colon);
    portText = key.slice(colon + 1);
    if (host.includes(":")) throw new AddressKeyError(key, "an IPv6 host must be in brackets");
  }
  if (!/^[0-9]{1,5}$/.test(portText) || Number(portText) > 0xffff) {
    throw new AddressKeyError(key, "the port must be a number from 0 to 65535");
  }
  return { ip: hostToIp(host), port: Number(portText) };
}
