/**
 * The four soter networks: their magics, default ports, seeds and genesis
 * blocks (soterd's `chaincfg/params.go`), and lookups by magic and name.
 *
 * @module
 */
import type { BlockMessage } from "../wire/messages/block.ts";
import { SoterNet } from "../wire/protocol.ts";
import {
  MAINNET_GENESIS_BLOCK,
  MAINNET_GENESIS_HASH,
  REGTEST_GENESIS_BLOCK,
  REGTEST_GENESIS_HASH,
  SIMNET_GENESIS_BLOCK,
  SIMNET_GENESIS_HASH,
  TESTNET1_GENESIS_BLOCK,
  TESTNET1_GENESIS_HASH,
} from "./genesis.ts";

/** The name of a soter network, as soterd's `chaincfg.Params.Name`. */
export type NetworkName = "mainnet" | "regtest" | "testnet1" | "simnet";

/** A DNS seed (or, for testnet1, a seed address). */
export interface DnsSeed {
  /** The host name or address. */
  readonly host: string;
  /** Whether the seed can filter by service flags. */
  readonly hasFiltering: boolean;
}

/** The parameters of one soter network that a peer needs. */
export interface ChainParams {
  /** The network's name. */
  readonly name: NetworkName;
  /** The magic that starts every frame (a uint32). */
  readonly magic: number;
  /** The default peer-to-peer port. */
  readonly defaultPort: number;
  /** Seeds for peer discovery; empty for regtest and simnet. */
  readonly dnsSeeds: readonly DnsSeed[];
  /** The genesis block (frozen; treat its byte arrays as read-only). */
  readonly genesisBlock: BlockMessage;
  /**
   * The genesis block hash in wire order, sent in `version` messages and
   * checked against the remote's. Treat it as read-only.
   */
  readonly genesisHash: Uint8Array;
  /** The proof-of-work limit in compact form. */
  readonly powLimitBits: number;
}

/** The main network. */
export const MAINNET: ChainParams = Object.freeze({
  name: "mainnet",
  magic: SoterNet.MainNet,
  defaultPort: 8333,
  dnsSeeds: Object.freeze([
    { host: "seed.bitcoin.sipa.be", hasFiltering: true },
    { host: "dnsseed.bluematt.me", hasFiltering: true },
    { host: "dnsseed.bitcoin.dashjr.org", hasFiltering: false },
    { host: "seed.bitcoinstats.com", hasFiltering: true },
    { host: "seed.bitnodes.io", hasFiltering: false },
    { host: "seed.bitcoin.jonasschnelli.ch", hasFiltering: true },
  ].map((s) => Object.freeze(s))),
  genesisBlock: MAINNET_GENESIS_BLOCK,
  genesisHash: MAINNET_GENESIS_HASH,
  powLimitBits: 0x1d00ffff,
});

/** The regression test network, whose magic is soterd's `wire.TestNet`. */
export const REGTEST: ChainParams = Object.freeze({
  name: "regtest",
  magic: SoterNet.TestNet,
  defaultPort: 18444,
  dnsSeeds: Object.freeze([]),
  genesisBlock: REGTEST_GENESIS_BLOCK,
  genesisHash: REGTEST_GENESIS_HASH,
  powLimitBits: 0x207fffff,
});

/** The public test network (version 1), the peer's default network. */
export const TESTNET1: ChainParams = Object.freeze({
  name: "testnet1",
  magic: SoterNet.TestNet1,
  defaultPort: 5070,
  dnsSeeds: Object.freeze([
    Object.freeze({ host: "134.209.59.43", hasFiltering: true }),
    Object.freeze({ host: "192.241.147.9", hasFiltering: true }),
  ]),
  genesisBlock: TESTNET1_GENESIS_BLOCK,
  genesisHash: TESTNET1_GENESIS_HASH,
  powLimitBits: 0x1d7fffff,
});

/** The simulation test network, for private test setups. */
export const SIMNET: ChainParams = Object.freeze({
  name: "simnet",
  magic: SoterNet.SimNet,
  defaultPort: 18555,
  dnsSeeds: Object.freeze([]),
  genesisBlock: SIMNET_GENESIS_BLOCK,
  genesisHash: SIMNET_GENESIS_HASH,
  powLimitBits: 0x207fffff,
});

/** The network the peer uses when none is given: testnet1. */
export const DEFAULT_NETWORK: ChainParams = TESTNET1;

/** The four networks: mainnet, regtest, testnet1, simnet. */
export const NETWORKS: readonly ChainParams[] = Object.freeze([
  MAINNET,
  REGTEST,
  TESTNET1,
  SIMNET,
]);

/**
 * Finds a network by its magic.
 *
 * @param magic The magic of a frame (a uint32).
 * @returns The network, or `undefined` for an unknown magic.
 *
 * @example
 * ```ts
 * import { networkByMagic } from "@soter/peer";
 * console.log(networkByMagic(0x12141c16)?.name); // "simnet"
 * ```
 */
export function networkByMagic(magic: number): ChainParams | undefined {
  const m = magic >>> 0;
  for (const net of NETWORKS) if (net.magic === m) return net;
  return undefined;
}

/**
 * Finds a network by its name.
 *
 * @param name `"mainnet"`, `"regtest"`, `"testnet1"` or `"simnet"`.
 * @returns The network, or `undefined` for another name.
 *
 * @example
 * ```ts
 * import { networkByName } from "@soter/peer";
 * console.log(networkByName("testnet1")?.defaultPort); // 5070
 * ```
 */
export function networkByName(name: string): ChainParams | undefined {
  for (const net of NETWORKS) if (net.name === name) return net;
  return undefined;
}
