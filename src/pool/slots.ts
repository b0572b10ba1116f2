/**
 * Outbound diversity: the address group an outbound address counts in,
 * and the pick of the next address to dial.
 *
 * @module
 */
import type { ChainParams } from "../chain/params.ts";
import { hostString, parseAddressKey } from "./addrkey.ts";
import type { AddrManager } from "./addrmgr.ts";
import type { ConnReq } from "./connmgr.ts";
import { groupKey } from "./netgroup.ts";

/**
 * The group an outbound address counts in: soterd's `GroupKey` (an IPv4
 * /16, an IPv6 /32...). With `allowUnroutable`, a local or private address
 * is a group of its own (they all share `local` or `unroutable`, which on
 * a test network of one machine would allow a single outbound peer); a
 * host name is a group of its own.
 *
 * @param addr `host:port`.
 * @param allowUnroutable Whether local addresses are in use.
 * @returns The group.
 */
export function outboundGroup(addr: string, allowUnroutable: boolean): string {
  let g: string;
  try {
    g = groupKey(parseAddressKey(addr));
  } catch {
    return addr;
  }
  return allowUnroutable && (g === "local" || g === "unroutable") ? addr : g;
}

/** What {@linkcode pickOutbound} needs. */
export interface PickContext {
  /** The address book. */
  addrManager: AddrManager;
  /** The outbound requests held (dialling, connected, waiting to retry). */
  requests: readonly ConnReq[];
  /** Outbound peers allowed per group. */
  maxPerGroup: number;
  /** See {@linkcode outboundGroup}. */
  allowUnroutable: boolean;
  /** The network (its default port is preferred), or `undefined` to take any port. */
  network: ChainParams | undefined;
  /** Whether a host is banned. */
  banned: (host: string) => boolean;
}

/**
 * Picks the next address to dial as soterd's server does: from the
 * address book, skipping addresses already held, groups already full and
 * banned hosts (and, for the first picks, recent attempts and other
 * ports).
 *
 * @param c The context.
 * @returns An address key (`host:port`), or `undefined` when none fits.
 */
export function pickOutbound(c: PickContext): string | undefined {
  const held = new Set<string>();
  const groups = new Map<string, number>();
  for (const r of c.requests) {
    held.add(r.addr);
    const g = outboundGroup(r.addr, c.allowUnroutable);
    groups.set(g, (groups.get(g) ?? 0) + 1);
  }
  const ka = c.addrManager.pickOutbound({
    skip: (ka) =>
      held.has(ka.key) || (groups.get(outboundGroup(ka.key, c.allowUnroutable)) ?? 0) >= c.maxPerGroup ||
      c.banned(hostString(ka.na)),
    ...(c.network === undefined ? {} : { defaultPort: c.network.defaultPort }),
  });
  return ka?.key;
}
