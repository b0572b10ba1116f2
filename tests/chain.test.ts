import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  MAINNET_GENESIS_BLOCK,
  MAINNET_GENESIS_HASH,
  SIMNET_GENESIS_BLOCK,
  TESTNET1_GENESIS_BLOCK,
} from "../src/chain/genesis.ts";
import {
  type ChainParams,
  DEFAULT_NETWORK,
  MAINNET,
  networkByMagic,
  networkByName,
  NETWORKS,
  REGTEST,
  SIMNET,
  TESTNET1,
} from "../src/chain/params.ts";
import { networkName, SoterNet } from "../src/wire/protocol.ts";
import { jsHasher } from "../src/hash/hasher.ts";
import { blockHash } from "../src/wire/blockheader.ts";
import { fromHex, hashToHex, toHex } from "../src/wire/hex.ts";
import { blockCodec } from "../src/wire/messages/block.ts";
import { Reader } from "../src/wire/reader.ts";
import { txHash } from "../src/wire/tx.ts";
import { Writer } from "../src/wire/writer.ts";
import { le32 } from "./_util.ts";

// The genesis coinbase shared by all four networks (Bitcoin's).
const COINBASE_SIG = "04ffff001d0104455468652054696d65732030332f4a616e2f32303039" +
  "204368616e63656c6c6f72206f6e206272696e6b206f66207365636f6e64206261696c" +
  "6f757420666f722062616e6b73";
const COINBASE_PK = "4104678afdb0fe5548271967f1a67130b7105cd6a828e03909a67962e0ea1f61de" +
  "b649f6bc3f4cef38c4f35504e51ec112de5c384df7ba0b8d578a4c702b6bf11d5fac";
const COINBASE_TX = "01000000" + "01" + "00".repeat(32) + "ffffffff" + "4d" + COINBASE_SIG +
  "ffffffff" + "01" + "00f2052a01000000" + "43" + COINBASE_PK + "00000000";
const MERKLE_ROOT = "4a5e1e4baab89f3a32518a88c31bc87f618f76673e2cc77ab2127b7afdeda33b";

interface Expected {
  params: ChainParams;
  name: string;
  goName: string;
  magic: number;
  port: number;
  timestamp: number;
  bits: number;
  nonce: number;
  hash: string;
}

const EXPECTED: Expected[] = [
  {
    params: MAINNET,
    name: "mainnet",
    goName: "MainNet",
    magic: 0xd9b4bef9,
    port: 8333,
    timestamp: 1231006505,
    bits: 0x1d00ffff,
    nonce: 2083236893,
    hash: "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f",
  },
  {
    params: REGTEST,
    name: "regtest",
    goName: "TestNet",
    magic: 0xdab5bffa,
    port: 18444,
    timestamp: 1296688602,
    bits: 0x207fffff,
    nonce: 2,
    hash: "0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206",
  },
  {
    params: TESTNET1,
    name: "testnet1",
    goName: "TestNet1",
    magic: 0x0709110b,
    port: 5070,
    timestamp: 1296688602,
    bits: 0x1d7fffff,
    nonce: 18091145,
    hash: "000000253a4f7c9e9472ae3e93d9ed8f5aa5008d754a409c862c404cb381de8b",
  },
  {
    params: SIMNET,
    name: "simnet",
    goName: "SimNet",
    magic: 0x12141c16,
    port: 18555,
    timestamp: 1543863094,
    bits: 0x207fffff,
    nonce: 2,
    hash: "5f2694c9f5d5808adf308c62995154d29596c36c554b15d3d95cdd6bebaf6cb2",
  },
];

describe("chain parameters", () => {
  for (const e of EXPECTED) {
    it(`describes ${e.name}`, () => {
      assert.equal(e.params.name, e.name);
      assert.equal(e.params.magic, e.magic);
      assert.equal(e.params.defaultPort, e.port);
      assert.equal(hashToHex(e.params.genesisHash), e.hash);
      assert.equal(networkByMagic(e.magic), e.params);
      assert.equal(networkByName(e.name), e.params);
      assert.equal(networkName(e.magic), e.goName);
    });

    it(`builds the ${e.name} genesis block as soterd's chaincfg`, () => {
      const block = e.params.genesisBlock;
      const header = "01000000" + "00".repeat(32) + toHex(fromHex(MERKLE_ROOT).reverse()) +
        le32(e.timestamp) + le32(e.bits) + le32(e.nonce);
      const expected = fromHex(
        header + "01000000" + "00000000" + "01000000" + "00000000" + "01" + COINBASE_TX,
      );
      assert.equal(expected.length, 301);
      for (const encoding of ["base", "witness"] as const) {
        const w = new Writer();
        blockCodec.encode(w, block, 70013, encoding);
        assert.deepEqual(w.finish(), expected);
      }
      const decoded = blockCodec.decode(new Reader(expected), 70013, "witness");
      assert.deepEqual(decoded, block);
      assert.deepEqual(blockHash(decoded.header, jsHasher), e.params.genesisHash);
      assert.equal(hashToHex(txHash(block.transactions[0]!)), MERKLE_ROOT);
      assert.equal(e.params.powLimitBits, e.bits);
    });
  }

  it("lists the four networks, regtest under wire.TestNet", () => {
    assert.deepEqual(NETWORKS.map((n) => n.name), ["mainnet", "regtest", "testnet1", "simnet"]);
    assert.equal(REGTEST.magic, SoterNet.TestNet);
    assert.equal(MAINNET.magic, SoterNet.MainNet);
    assert.equal(TESTNET1.magic, SoterNet.TestNet1);
    assert.equal(SIMNET.magic, SoterNet.SimNet);
    assert.equal(DEFAULT_NETWORK, TESTNET1);
    assert.equal(new Set(NETWORKS.map((n) => hashToHex(n.genesisHash))).size, 4);
  });

  it("keeps soterd's seeds", () => {
    assert.equal(MAINNET.dnsSeeds.length, 6);
    assert.deepEqual(TESTNET1.dnsSeeds.map((s) => s.host), ["134.209.59.43", "192.241.147.9"]);
    assert.deepEqual(REGTEST.dnsSeeds, []);
    assert.deepEqual(SIMNET.dnsSeeds, []);
  });

  it("returns undefined for unknown magics and names", () => {
    assert.equal(networkByMagic(0xdeadbeef), undefined);
    assert.equal(networkByMagic(0), undefined);
    assert.equal(networkByName("testnet"), undefined);
    assert.equal(networkByName("MainNet"), undefined);
    assert.equal(networkByName("toString"), undefined);
  });

  it("matches magics given as signed int32", () => {
    assert.equal(networkByMagic(0xd9b4bef9 | 0), MAINNET);
    assert.equal(networkName(0xdab5bffa | 0), "TestNet");
  });

  it("names unknown magics as soterd", () => {
    assert.equal(networkName(0xdeadbeef), "Unknown SoterNet (3735928559)");
    assert.equal(networkName(0), "Unknown SoterNet (0)");
    assert.equal(networkName(0xd9b4bef8), "Unknown SoterNet (3652501240)");
  });

  it("freezes the parameters and the genesis blocks", () => {
    assert.ok(Object.isFrozen(MAINNET));
    assert.ok(Object.isFrozen(NETWORKS));
    assert.ok(Object.isFrozen(MAINNET_GENESIS_BLOCK.transactions));
    assert.ok(Object.isFrozen(SIMNET_GENESIS_BLOCK.header));
    assert.throws(() => {
      (TESTNET1_GENESIS_BLOCK.transactions as unknown[]).push(1);
    }, TypeError);
    assert.throws(() => {
      (MAINNET as { defaultPort: number }).defaultPort = 1;
    }, TypeError);
    assert.equal(MAINNET.genesisBlock, MAINNET_GENESIS_BLOCK);
    assert.equal(MAINNET.genesisHash, MAINNET_GENESIS_HASH);
  });
});
