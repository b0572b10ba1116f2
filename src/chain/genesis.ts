/**
 * The genesis blocks of the four soter networks, as in soterd's
 * `chaincfg/genesis.go`, and their hashes.
 *
 * All four share Bitcoin's genesis coinbase and merkle root and differ only
 * in the header's time, bits and nonce. Their parent and verification
 * sub-headers are empty, with version 1.
 *
 * @module
 */
import { jsHasher } from "../hash/hasher.ts";
import { blockHash, type BlockHeader } from "../wire/blockheader.ts";
import { fromHex, hashFromHex } from "../wire/hex.ts";
import type { BlockMessage } from "../wire/messages/block.ts";
import type { Tx } from "../wire/tx.ts";

// Freezes plain objects and arrays, recursively; typed arrays cannot be
// frozen and are left as they are.
function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !ArrayBuffer.isView(value)) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/** The genesis merkle root, which is the txid of the genesis coinbase. */
const GENESIS_MERKLE_ROOT = hashFromHex(
  "4a5e1e4baab89f3a32518a88c31bc87f618f76673e2cc77ab2127b7afdeda33b",
);

// The coinbase's signature script pushes 0x1d00ffff, 4 and the headline of
// The Times of 3 January 2009.
const COINBASE_SIGNATURE_SCRIPT = fromHex(
  "04ffff001d0104455468652054696d65732030332f4a616e2f32303039204368616e63656c6c6f72206f6e206272696e6b206f66207365636f6e64206261696c6f757420666f722062616e6b73",
);

// Pay-to-pubkey: a 65-byte public key and OP_CHECKSIG.
const COINBASE_PK_SCRIPT = fromHex(
  "4104678afdb0fe5548271967f1a67130b7105cd6a828e03909a67962e0ea1f61deb649f6bc3f4cef38c4f35504e51ec112de5c384df7ba0b8d578a4c702b6bf11d5fac",
);

function genesisCoinbase(): Tx {
  return {
    version: 1,
    txIn: [{
      previousOutPoint: { hash: new Uint8Array(32), index: 0xffffffff },
      signatureScript: COINBASE_SIGNATURE_SCRIPT,
      witness: [],
      sequence: 0xffffffff,
    }],
    txOut: [{ value: 5_000_000_000n, pkScript: COINBASE_PK_SCRIPT }],
    lockTime: 0,
  };
}

function genesisBlock(
  timestamp: number,
  bits: number,
  nonce: number,
): BlockMessage {
  const header: BlockHeader = {
    version: 1,
    prevBlock: new Uint8Array(32),
    merkleRoot: GENESIS_MERKLE_ROOT,
    timestamp,
    bits,
    nonce,
  };
  return deepFreeze({
    command: "block",
    header,
    parents: { version: 1, size: 0, parents: [] },
    verification: { version: 1, size: 0, cycleNonces: [] },
    transactions: [genesisCoinbase()],
  });
}

/**
 * The mainnet genesis block (Bitcoin's: 2009-01-03 18:15:05 UTC). Frozen;
 * treat its byte arrays as read-only too.
 */
export const MAINNET_GENESIS_BLOCK: BlockMessage = genesisBlock(
  0x495fab29,
  0x1d00ffff,
  0x7c2bac1d,
);

/** The regtest (`wire.TestNet`) genesis block (2011-02-02 23:16:42 UTC). */
export const REGTEST_GENESIS_BLOCK: BlockMessage = genesisBlock(
  1296688602,
  0x207fffff,
  2,
);

/** The testnet1 genesis block (2011-02-02 23:16:42 UTC). */
export const TESTNET1_GENESIS_BLOCK: BlockMessage = genesisBlock(
  1296688602,
  0x1d7fffff,
  0x1140c89,
);

/** The simnet genesis block (2018-12-03 18:51:34 UTC). */
export const SIMNET_GENESIS_BLOCK: BlockMessage = genesisBlock(
  1543863094,
  0x207fffff,
  2,
);

/**
 * The mainnet genesis hash, computed from the header at load time
 * (`000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f`).
 */
export const MAINNET_GENESIS_HASH: Uint8Array = blockHash(
  MAINNET_GENESIS_BLOCK.header,
  jsHasher,
);

/**
 * The regtest genesis hash
 * (`0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206`).
 */
export const REGTEST_GENESIS_HASH: Uint8Array = blockHash(
  REGTEST_GENESIS_BLOCK.header,
  jsHasher,
);

/**
 * The testnet1 genesis hash
 * (`000000253a4f7c9e9472ae3e93d9ed8f5aa5008d754a409c862c404cb381de8b`).
 */
export const TESTNET1_GENESIS_HASH: Uint8Array = blockHash(
  TESTNET1_GENESIS_BLOCK.header,
  jsHasher,
);

/**
 * The simnet genesis hash
 * (`5f2694c9f5d5808adf308c62995154d29596c36c554b15d3d95cdd6bebaf6cb2`).
 */
export const SIMNET_GENESIS_HASH: Uint8Array = blockHash(
  SIMNET_GENESIS_BLOCK.header,
  jsHasher,
);
