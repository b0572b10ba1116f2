/**
 * Protocol versions, service flags and message encodings of the soter
 * protocol.
 *
 * @module
 */

/** The largest payload any frame may declare (soterd's `MaxMessagePayload`, 32 MiB). */
export const MAX_MESSAGE_PAYLOAD: number = 32 * 1024 * 1024;

/** The newest protocol version this library speaks (soterd's `ProtocolVersion`). */
export const PROTOCOL_VERSION = 70013;
/** From this version on, `addr` may carry more than one address. */
export const MULTIPLE_ADDRESS_VERSION = 209;
/** From this version on, addresses in `addr` carry a timestamp. */
export const NET_ADDRESS_TIME_VERSION = 31402;
/** BIP 31: `ping` carries a nonce and `pong` exists, above this version. */
export const BIP0031_VERSION = 60000;
/** BIP 35: `mempool` exists from this version on. */
export const BIP0035_VERSION = 60002;
/** BIP 37: bloom filters, `merkleblock` and the relay flag. */
export const BIP0037_VERSION = 70001;
/** `reject` exists from this version on. */
export const REJECT_VERSION = 70002;
/** BIP 111: peers must signal bloom support from this version on. */
export const BIP0111_VERSION = 70011;
/** `sendheaders` exists from this version on. */
export const SEND_HEADERS_VERSION = 70012;
/** `feefilter` exists from this version on. */
export const FEE_FILTER_VERSION = 70013;

/**
 * Service flags a node advertises in `version` and in network addresses.
 * They are bits of an unsigned 64-bit integer.
 */
export const ServiceFlag = {
  /** A full node that serves blocks. */
  NODE_NETWORK: 1n,
  /** Bitcoin's `getutxos` (not used by soter). */
  NODE_GETUTXO: 2n,
  /** Supports bloom filters (BIP 37). */
  NODE_BLOOM: 4n,
  /** Supports segregated witness. */
  NODE_WITNESS: 8n,
  /** Supports xthin blocks. */
  NODE_XTHIN: 16n,
  /** Reserved bit 5. */
  NODE_BIT5: 32n,
  /** Serves committed filters (BIP 157/158). */
  NODE_CF: 64n,
  /** Bit 7, "2X". */
  NODE_2X: 128n,
} as const;

/**
 * Tells whether `services` has every bit of `flag`.
 *
 * @param services The advertised services.
 * @param flag One or more {@linkcode ServiceFlag} bits.
 * @returns `true` when all bits are set.
 *
 * @example
 * ```ts
 * import { hasService, ServiceFlag } from "@soter/peer";
 * console.log(hasService(0x4dn, ServiceFlag.NODE_WITNESS)); // true
 * ```
 */
export function hasService(services: bigint, flag: bigint): boolean {
  return (services & flag) === flag;
}

const SERVICE_NAMES: ReadonlyArray<readonly [bigint, string]> = [
  [1n, "SFNodeNetwork"],
  [2n, "SFNodeGetUTXO"],
  [4n, "SFNodeBloom"],
  [8n, "SFNodeWitness"],
  [16n, "SFNodeXthin"],
  [32n, "SFNodeBit5"],
  [64n, "SFNodeCF"],
  [128n, "SFNode2X"],
];

/**
 * Names the flags in `services` as soterd prints them
 * (`SFNodeNetwork|SFNodeBloom|0x100`).
 *
 * @param services The service bits.
 * @returns The names joined by `|`, unknown bits in hex, `0x0` for none.
 */
export function serviceNames(services: bigint): string {
  if (services === 0n) return "0x0";
  const parts: string[] = [];
  let rest = services;
  for (const [bit, name] of SERVICE_NAMES) {
    if ((rest & bit) === bit) {
      parts.push(name);
      rest -= bit;
    }
  }
  if (rest !== 0n) parts.push("0x" + rest.toString(16));
  return parts.join("|");
}

/**
 * How transactions (and the transactions of blocks) are serialized:
 * `"base"` without witness data, `"witness"` with BIP 144 witness data.
 * Other messages are identical in both encodings.
 */
export type MessageEncoding = "base" | "witness";

/**
 * The network magics (soterd's `wire.SoterNet` values), written
 * little-endian at the start of every frame.
 */
export const SoterNet = {
  /** The main network. */
  MainNet: 0xd9b4bef9,
  /** The regression test network (`regtest`). */
  TestNet: 0xdab5bffa,
  /** The test network, version 1 (`testnet1`). */
  TestNet1: 0x0709110b,
  /** The simulation test network (`simnet`). */
  SimNet: 0x12141c16,
} as const;

/**
 * Names a magic as soterd's `SoterNet.String()` does, the form used in
 * soterd's "message from other network" error.
 *
 * @param magic A magic (a uint32).
 * @returns `"MainNet"`, `"TestNet"`, `"TestNet1"`, `"SimNet"`, or
 * `"Unknown SoterNet (<decimal>)"`.
 *
 * @example
 * ```ts
 * import { networkName } from "@soter/peer";
 * console.log(networkName(0xdab5bffa)); // "TestNet"
 * console.log(networkName(0xdeadbeef)); // "Unknown SoterNet (3735928559)"
 * ```
 */
export function networkName(magic: number): string {
  switch (magic >>> 0) {
    case SoterNet.MainNet:
      return "MainNet";
    case SoterNet.TestNet:
      return "TestNet";
    case SoterNet.TestNet1:
      return "TestNet1";
    case SoterNet.SimNet:
      return "SimNet";
    default:
      return `Unknown SoterNet (${magic >>> 0})`;
  }
}
