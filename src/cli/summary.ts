/**
 * One-line summaries of messages, for logs: what the command-line tool and
 * the examples print for live traffic. Runtime-neutral.
 *
 * @module
 */
import { blockHash } from "../wire/blockheader.ts";
import { hashToHex } from "../wire/hex.ts";
import { ipToString } from "../wire/ip.ts";
import { InvType, invTypeName, type InvVect } from "../wire/invvect.ts";
import type { Message } from "../wire/message.ts";
import { blockSerializeSize } from "../wire/messages/block.ts";
import { rejectCodeName } from "../wire/messages/reject.ts";
import type { NetAddress } from "../wire/netaddress.ts";
import { serviceNames } from "../wire/protocol.ts";
import { txHash } from "../wire/tx.ts";

/** Addresses shown in full in a summary; the rest are counted. */
const SHOWN_ADDRESSES = 3;

/**
 * Formats a network address as `host:port` (`[v6]:port` for IPv6).
 *
 * @param na The address.
 * @returns The printable address.
 */
export function formatNetAddress(na: NetAddress): string {
  const ip = ipToString(na.ip) ?? "?";
  return ip.includes(":") ? `[${ip}]:${na.port}` : `${ip}:${na.port}`;
}

/**
 * Names services as soterd prints them, with the hex value:
 * `SFNodeNetwork|SFNodeWitness (0x9)`.
 *
 * @param services The service bits.
 * @returns The names and the value.
 */
export function formatServices(services: bigint): string {
  return services === 0n ? "none (0x0)" : `${serviceNames(services)} (0x${services.toString(16)})`;
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

function short(hash: Uint8Array): string {
  return hashToHex(hash).slice(0, 12) + "…";
}

function addresses(list: readonly NetAddress[]): string {
  if (list.length === 0) return "";
  const shown = list.slice(0, SHOWN_ADDRESSES).map(formatNetAddress).join(", ");
  return list.length > SHOWN_ADDRESSES ? `: ${shown}, …` : `: ${shown}`;
}

const INV_KIND: ReadonlyMap<number, [string, string]> = new Map([
  [InvType.BLOCK, ["block", "blocks"]],
  [InvType.WITNESS_BLOCK, ["witness block", "witness blocks"]],
  [InvType.TX, ["tx", "txs"]],
  [InvType.WITNESS_TX, ["witness tx", "witness txs"]],
  [InvType.FILTERED_BLOCK, ["filtered block", "filtered blocks"]],
  [InvType.FILTERED_WITNESS_BLOCK, ["filtered witness block", "filtered witness blocks"]],
]);

function isBlock(type: number): boolean {
  return type === InvType.BLOCK || type === InvType.WITNESS_BLOCK || type === InvType.FILTERED_BLOCK ||
    type === InvType.FILTERED_WITNESS_BLOCK;
}

/** `1 block 5f26…cb2 at height 7`, or `120 blocks (heights 1..60), 2 txs`. */
function inventory(list: readonly InvVect[]): string {
  if (list.length === 0) return "empty";
  if (list.length === 1) {
    const iv = list[0]!;
    const [one] = INV_KIND.get(iv.type) ?? [invTypeName(iv.type)];
    return isBlock(iv.type) ? `${one} ${hashToHex(iv.hash)} at height ${iv.height}` : `${one} ${hashToHex(iv.hash)}`;
  }
  const counts = new Map<number, { n: number; min: number; max: number }>();
  for (const iv of list) {
    const c = counts.get(iv.type);
    if (c === undefined) counts.set(iv.type, { n: 1, min: iv.height, max: iv.height });
    else {
      c.n++;
      c.min = Math.min(c.min, iv.height);
      c.max = Math.max(c.max, iv.height);
    }
  }
  const parts: string[] = [];
  for (const [type, c] of counts) {
    const [one, many] = INV_KIND.get(type) ?? [invTypeName(type), invTypeName(type)];
    let part = plural(c.n, one, many);
    if (isBlock(type)) part += c.min === c.max ? ` (height ${c.min})` : ` (heights ${c.min}..${c.max})`;
    parts.push(part);
  }
  return parts.join(", ");
}

function locator(heights: readonly number[], stop: Uint8Array): string {
  const from = heights.length === 0 ? "no locator" : `after height ${heights.join(", ")}`;
  const to = stop.every((b) => b === 0) ? "to the tips" : `to ${short(stop)}`;
  return `${from} ${to}`;
}

/**
 * Summarizes a message on one line: its command and what matters in it
 * (counts, heights, hashes, nonces, reasons).
 *
 * @param msg The message.
 * @returns e.g. `inv 120 blocks (heights 1..60)` or `ping nonce 0x1f…`.
 *
 * @example
 * ```ts ignore
 * console.log(summarizeMessage({ command: "ping", nonce: 255n })); // "ping nonce 0xff"
 * ```
 */
export function summarizeMessage(msg: Message): string {
  switch (msg.command) {
    case "version":
      return `version ${msg.userAgent} pver ${msg.protocolVersion} services ${
        formatServices(msg.services)
      } last block ${msg.lastBlock}`;
    case "verack":
    case "getaddr":
    case "getaddrcache":
    case "mempool":
    case "sendheaders":
    case "filterclear":
      return msg.command;
    case "addr":
      return `addr ${plural(msg.addrList.length, "address", "addresses")}${addresses(msg.addrList)}`;
    case "addrcache":
      return `addrcache ${msg.inbound.length} inbound, ${msg.outbound.length} outbound, ${msg.known.length} known${
        addresses([...msg.inbound, ...msg.outbound, ...msg.known])
      }`;
    case "getblocks":
    case "getheaders":
      return `${msg.command} ${locator(msg.blockLocatorHeight, msg.hashStop)}`;
    case "inv":
    case "getdata":
    case "notfound":
      return `${msg.command} ${inventory(msg.invList)}`;
    case "block":
      return `block ${hashToHex(blockHash(msg.header))} with ${plural(msg.parents.parents.length, "parent")}, ${
        plural(msg.transactions.length, "tx", "txs")
      } (${blockSerializeSize(msg)} bytes)`;
    case "tx":
      return `tx ${hashToHex(txHash(msg))} ${plural(msg.txIn.length, "input")}, ${plural(msg.txOut.length, "output")}`;
    case "headers":
      return `headers ${msg.headers.length}`;
    case "ping":
    case "pong":
      return `${msg.command} nonce 0x${msg.nonce.toString(16)}`;
    case "alert":
      return msg.payload === null ? "alert (unparsable)" : `alert ${msg.payload.id}: ${msg.payload.statusBar}`;
    case "filteradd":
      return `filteradd ${msg.data.length} bytes`;
    case "filterload":
      return `filterload ${msg.filter.length} bytes, ${msg.hashFuncs} hash functions`;
    case "merkleblock":
      return `merkleblock ${hashToHex(blockHash(msg.header))} ${plural(msg.transactions, "tx", "txs")}`;
    case "reject":
      return `reject ${msg.cmd} ${rejectCodeName(msg.code)}: ${msg.reason}`;
    case "feefilter":
      return `feefilter ${msg.minFee} per kB`;
    case "getcfilters":
    case "getcfheaders":
      return `${msg.command} type ${msg.filterType} from height ${msg.startHeight} to ${short(msg.stopHash)}`;
    case "getcfcheckpt":
      return `getcfcheckpt type ${msg.filterType} to ${short(msg.stopHash)}`;
    case "cfilter":
      return `cfilter type ${msg.filterType} for ${short(msg.blockHash)} (${msg.data.length} bytes)`;
    case "cfheaders":
      return `cfheaders type ${msg.filterType} ${msg.filterHashes.length} to ${short(msg.stopHash)}`;
    case "cfcheckpt":
      return `cfcheckpt type ${msg.filterType} ${msg.filterHeaders.length} to ${short(msg.stopHash)}`;
  }
}
