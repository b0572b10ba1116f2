/**
 * The node's own addresses and which one to advertise to a given peer
 * (soterd's `AddLocalAddress` and `GetBestLocalAddress`): the one the peer
 * can best reach (an IPv4 peer gets an IPv4 address, a Tor peer a Tor
 * address...), then the one found by the most trusted means.
 *
 * @module
 */
import type { NetAddress } from "../wire/netaddress.ts";
import { ServiceFlag } from "../wire/protocol.ts";
import { addressKey } from "./addrkey.ts";
import { type HasIp, isIPv4, isOnionCatTor, isRoutable, reservedRange } from "./netgroup.ts";

/**
 * How an own address was found, from least to most trusted (soterd's
 * `AddressPriority`): a local interface, an address explicitly listened
 * on, UPnP, an external HTTP service, or the user (`--externalip`).
 */
export const AddressPriority = {
  /** Found on a local interface. */
  INTERFACE: 0,
  /** Explicitly listened on. */
  BOUND: 1,
  /** Obtained through UPnP. */
  UPNP: 2,
  /** Obtained from an external HTTP service. */
  HTTP: 3,
  /** Given by the user. */
  MANUAL: 4,
} as const;

/** One of the {@linkcode AddressPriority} values. */
export type AddressPriority = (typeof AddressPriority)[keyof typeof AddressPriority];

// soterd's reachability classes, worst first.
const UNREACHABLE = 0;
const DEFAULT = 1;
const TEREDO = 2;
const IPV6_WEAK = 3;
const IPV4 = 4;
const IPV6_STRONG = 5;
const PRIVATE = 6;

/**
 * How well a peer at `remote` can reach us at `local` (soterd's
 * `getReachabilityFrom`), 0 (unreachable) to 6 (both on Tor).
 *
 * @param local One of our addresses.
 * @param remote The peer's address.
 * @returns The reachability class.
 */
export function reachability(local: HasIp, remote: HasIp): number {
  if (!isRoutable(remote)) return UNREACHABLE;
  const localRoutable = isRoutable(local);
  if (isOnionCatTor(remote)) {
    if (isOnionCatTor(local)) return PRIVATE;
    return localRoutable && isIPv4(local) ? IPV4 : DEFAULT;
  }
  const localRange = reservedRange(local);
  if (reservedRange(remote) === "RFC4380") {
    if (!localRoutable) return DEFAULT;
    if (localRange === "RFC4380") return TEREDO;
    return isIPv4(local) ? IPV4 : IPV6_WEAK;
  }
  if (isIPv4(remote)) return localRoutable && isIPv4(local) ? IPV4 : UNREACHABLE;
  // An IPv6 peer.
  if (!localRoutable) return DEFAULT;
  if (localRange === "RFC4380") return TEREDO;
  if (isIPv4(local)) return IPV4;
  const tunnelled = localRange === "RFC3964" || localRange === "RFC6052" || localRange === "RFC6145";
  return tunnelled ? IPV6_WEAK : IPV6_STRONG;
}

/** The node's own addresses with how each was found. */
export class LocalAddresses {
  readonly #addrs = new Map<string, { na: NetAddress; score: number }>();

  /**
   * Adds an own address (soterd's `AddLocalAddress`). Adding a known
   * address again with a higher priority raises its score past it.
   *
   * @param na The address.
   * @param priority How it was found.
   * @returns `false` when the address is not routable (and was not added).
   */
  add(na: NetAddress, priority: AddressPriority): boolean {
    if (!isRoutable(na)) return false;
    const key = addressKey(na);
    const la = this.#addrs.get(key);
    if (la === undefined) this.#addrs.set(key, { na: { ...na, ip: na.ip.slice() }, score: priority });
    else if (la.score < priority) la.score = priority + 1;
    return true;
  }

  /** The own addresses known, as added. */
  list(): NetAddress[] {
    return [...this.#addrs.values()].map((la) => ({ ...la.na }));
  }

  /**
   * The own address to advertise to a peer (soterd's
   * `GetBestLocalAddress`): the best reachable, then the highest score.
   * Without one, an unroutable placeholder (`0.0.0.0` or `::`, port 0, the
   * network, witness and bloom services), as soterd.
   *
   * @param remote The peer's address.
   * @returns The address to advertise; check it with `isRoutable` before sending.
   */
  best(remote: HasIp): NetAddress {
    let bestReach = 0;
    let bestScore = -1;
    let best: NetAddress | undefined;
    // Unlike soterd, an address the peer cannot reach is never chosen for
    // its score alone.
    for (const la of this.#addrs.values()) {
      const reach = reachability(la.na, remote);
      if (reach > bestReach || (reach === bestReach && reach > 0 && la.score > bestScore)) {
        bestReach = reach;
        bestScore = la.score;
        best = la.na;
      }
    }
    if (best !== undefined) return { ...best };
    const ip = new Uint8Array(16);
    if (isIPv4(remote) || isOnionCatTor(remote)) ip[10] = ip[11] = 0xff;
    const services = ServiceFlag.NODE_NETWORK | ServiceFlag.NODE_WITNESS | ServiceFlag.NODE_BLOOM;
    return { timestamp: 0, services, ip, port: 0 };
  }
}
