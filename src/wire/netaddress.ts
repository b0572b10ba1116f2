/**
 * Network addresses as carried by `version`, `addr` and `addrcache`:
 * an optional uint32 timestamp, uint64 services, a 16-byte IP and a
 * big-endian port.
 *
 * @module
 */
import { NET_ADDRESS_TIME_VERSION } from "./protocol.ts";
import type { Reader } from "./reader.ts";
import type { Writer } from "./writer.ts";

/**
 * A peer's address and the services it offers.
 *
 * Decoded addresses hold a view into the input for `ip`; copy it
 * (`na.ip.slice()`) to keep it beyond the input buffer's life.
 */
export interface NetAddress {
  /**
   * When the address was last seen, in unix seconds (uint32). On the wire
   * only in `addr` and `addrcache` from protocol version 31402; 0 when
   * absent.
   */
  timestamp: number;
  /** The service bits the address advertises (uint64). */
  services: bigint;
  /**
   * The IP address: 16 bytes, IPv4 as IPv4-mapped IPv6. An empty array
   * means absent (the `addrMe` of a short `version`) and is written as 16
   * zero bytes; a 4-byte IPv4 address is written IPv4-mapped, as Go does.
   */
  ip: Uint8Array;
  /** The TCP port (uint16, big-endian on the wire). */
  port: number;
}

/** Size of an address on the wire without its timestamp. */
const NET_ADDRESS_SIZE = 26;

/**
 * Returns the size of a timestamped address at `pver` (soterd's
 * `maxNetAddressPayload`): 30 bytes from protocol version 31402, 26 below.
 *
 * @param pver The protocol version.
 * @returns 26 or 30.
 *
 * @example
 * ```ts
 * import { maxNetAddressPayload } from "@soter/peer";
 * console.log(maxNetAddressPayload(70013)); // 30
 * ```
 */
export function maxNetAddressPayload(pver: number): number {
  return pver >= NET_ADDRESS_TIME_VERSION ? NET_ADDRESS_SIZE + 4 : NET_ADDRESS_SIZE;
}

/**
 * Reads one address. The timestamp is read only when `withTimestamp` is
 * set and `pver` is at least 31402; otherwise it is 0.
 *
 * @param r The reader.
 * @param pver The protocol version.
 * @param withTimestamp Whether this message carries timestamps (`addr`,
 *   `addrcache`) or not (`version`).
 * @returns The address; `ip` is a 16-byte view into the input.
 * @throws {MessageError} `truncated` when the input ends inside it.
 */
export function readNetAddress(
  r: Reader,
  pver: number,
  withTimestamp: boolean,
): NetAddress {
  const timed = withTimestamp && pver >= NET_ADDRESS_TIME_VERSION;
  let pos = r.pos;
  if (r.end - pos >= (timed ? NET_ADDRESS_SIZE + 4 : NET_ADDRESS_SIZE)) {
    // All bytes are there: read them without a bounds check per field.
    const view = r.view;
    let timestamp = 0;
    if (timed) {
      timestamp = view.getUint32(pos, true);
      pos += 4;
    }
    r.pos = pos + NET_ADDRESS_SIZE;
    return {
      timestamp,
      services: view.getBigUint64(pos, true),
      ip: r.viewAt(pos + 8, 16),
      port: view.getUint16(pos + 24, false),
    };
  }
  // Field by field, so that truncation is reported at the field it hits.
  const timestamp = timed ? r.u32() : 0;
  const services = r.u64();
  const ip = r.bytes(16);
  const port = r.u16be();
  return { timestamp, services, ip, port };
}

/**
 * Writes one address, with its timestamp when `withTimestamp` is set and
 * `pver` is at least 31402.
 *
 * @param w The writer.
 * @param na The address.
 * @param pver The protocol version.
 * @param withTimestamp Whether this message carries timestamps.
 * @throws {MessageError} `invalid-value` for an IP that is not 0, 4 or 16
 *   bytes, or a field out of range.
 */
export function writeNetAddress(
  w: Writer,
  na: NetAddress,
  pver: number,
  withTimestamp: boolean,
): void {
  if (withTimestamp && pver >= NET_ADDRESS_TIME_VERSION) w.u32(na.timestamp);
  w.u64(na.services);
  const ip = na.ip;
  if (ip.length === 16) {
    w.bytes(ip);
  } else if (ip.length === 0 || ip.length === 4) {
    w.ensure(16);
    const buf = w.buf;
    const at = w.pos;
    buf.fill(0, at, at + 16);
    if (ip.length === 4) {
      buf[at + 10] = 0xff;
      buf[at + 11] = 0xff;
      buf.set(ip, at + 12);
    }
    w.pos = at + 16;
  } else {
    w.invalid("ip", `must be 16 bytes (or 4, or empty), got ${ip.length}`);
  }
  w.u16be(na.port);
}
