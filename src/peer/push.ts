/**
 * The pure parts of the peer's push helpers: choosing addresses, splitting
 * an address cache, and recognising a repeated block request.
 *
 * @module
 */
import { MessageError } from "../wire/errors.ts";
import { bytesEqual, ZERO_HASH } from "../wire/hex.ts";
import type { AddrCacheMessage } from "../wire/messages/addrcache.ts";
import { MAX_ADDR_PER_MSG } from "../wire/messages/addr.ts";
import {
  type GetBlocksMessage,
  type GetHeadersMessage,
  MAX_BLOCK_LOCATORS_PER_MSG,
} from "../wire/messages/getblocks.ts";
import type { NetAddress } from "../wire/netaddress.ts";
import { PROTOCOL_VERSION } from "../wire/protocol.ts";
import { randomBelow, type RandomSource } from "./random.ts";

/**
 * Picks at most `max` items: all of them in order when they fit, else a
 * uniformly random subset (a partial Fisher-Yates shuffle).
 *
 * @param items The items.
 * @param max The most to keep.
 * @param random The random source.
 * @returns A new array.
 */
export function randomSubset<T>(items: readonly T[], max: number, random: RandomSource): T[] {
  const list = items.slice();
  const n = list.length;
  if (n <= max) return list;
  for (let i = 0; i < max; i++) {
    const j = i + randomBelow(random, n - i);
    const t = list[i]!;
    list[i] = list[j]!;
    list[j] = t;
  }
  list.length = max;
  return list;
}

/**
 * Splits an address cache into `addrcache` messages of at most 1000
 * addresses each: outbound addresses first, then inbound, then known, as
 * soterd fills them.
 *
 * @param inbound Addresses of inbound peers.
 * @param outbound Addresses of outbound peers.
 * @param known Other known addresses.
 * @returns The messages; none when all lists are empty.
 */
export function splitAddrCache(
  inbound: readonly NetAddress[],
  outbound: readonly NetAddress[],
  known: readonly NetAddress[],
): AddrCacheMessage[] {
  const msgs: AddrCacheMessage[] = [];
  let msg: AddrCacheMessage = { command: "addrcache", inbound: [], outbound: [], known: [] };
  let count = 0;
  const add = (list: "inbound" | "outbound" | "known", na: NetAddress) => {
    if (count >= MAX_ADDR_PER_MSG) {
      msgs.push(msg);
      msg = { command: "addrcache", inbound: [], outbound: [], known: [] };
      count = 0;
    }
    msg[list].push(na);
    count++;
  };
  for (const na of outbound) add("outbound", na);
  for (const na of inbound) add("inbound", na);
  for (const na of known) add("known", na);
  if (count > 0) msgs.push(msg);
  return msgs;
}

/**
 * Remembers the last `getblocks` or `getheaders` request, to skip sending
 * the same one twice in a row.
 */
export class RepeatFilter {
  #start: number | undefined;
  #stop: Uint8Array | undefined;
  readonly #zeroStopRepeats: boolean;

  /**
   * Creates a filter.
   *
   * @param zeroStopRepeats Whether a request with a zero stop hash is always
   * sent (soterd's rule for `getblocks`: it may need to ask again while its
   * height is unchanged).
   */
  constructor(zeroStopRepeats: boolean) {
    this.#zeroStopRepeats = zeroStopRepeats;
  }

  /**
   * Tells whether a request repeats the previous one: the same start height
   * and stop hash.
   *
   * @param locator The block locator heights.
   * @param stopHash The stop hash.
   * @returns `true` when it should be skipped.
   */
  isRepeat(locator: readonly number[], stopHash: Uint8Array): boolean {
    if (this.#zeroStopRepeats && bytesEqual(stopHash, ZERO_HASH)) return false;
    const start = locator[0];
    return this.#stop !== undefined && this.#start !== undefined && start !== undefined &&
      start === this.#start && bytesEqual(stopHash, this.#stop);
  }

  /**
   * Records a request as the previous one.
   *
   * @param locator The block locator heights.
   * @param stopHash The stop hash (copied).
   */
  record(locator: readonly number[], stopHash: Uint8Array): void {
    this.#start = locator[0];
    this.#stop = stopHash.slice();
  }
}

/**
 * Makes a `getblocks` or `getheaders` for a locator (at most one height)
 * and a stop hash.
 *
 * @param command The command.
 * @param locator The block locator heights.
 * @param stopHash The stop hash in wire order.
 * @returns The message.
 * @throws {MessageError} for more than one locator height.
 */
export function locatorMessage(
  command: "getblocks" | "getheaders",
  locator: readonly number[],
  stopHash: Uint8Array,
): GetBlocksMessage | GetHeadersMessage {
  if (locator.length > MAX_BLOCK_LOCATORS_PER_MSG) {
    throw new MessageError(
      "too-many-entries",
      `Cannot encode ${command}: block locator height count ${locator.length} exceeds ${MAX_BLOCK_LOCATORS_PER_MSG}`,
      { command },
    );
  }
  const fields = { protocolVersion: PROTOCOL_VERSION, blockLocatorHeight: [...locator], hashStop: stopHash };
  return command === "getblocks" ? { command, ...fields } : { command, ...fields };
}
