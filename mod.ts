/**
 * soter-peer: the soter peer-to-peer protocol in TypeScript.
 *
 * The runtime-neutral core: the wire codec for all 31 soter messages
 * (byte-exact with soterd), framing and Web Streams, chain parameters of the
 * four networks, and the `Peer`. It uses only Web Streams, `Uint8Array` and
 * plain TypeScript; connect it to sockets with the `./deno`, `./bun` or
 * `./node` entry points.
 *
 * @example Encoding and decoding a frame
 * ```ts
 * import { decodeMessage, encodeMessage, SIMNET } from "@soter/peer";
 * const frame = encodeMessage({ command: "ping", nonce: 42n }, { magic: SIMNET.magic });
 * const { message } = decodeMessage(frame, { magic: SIMNET.magic });
 * console.log(message); // { command: "ping", nonce: 42n }
 * ```
 *
 * @module
 */
export * from "./src/wire/errors.ts";
export * from "./src/wire/reader.ts";
export * from "./src/wire/writer.ts";
export * from "./src/wire/hex.ts";
export * from "./src/wire/protocol.ts";
export * from "./src/wire/codec.ts";
export * from "./src/wire/netaddress.ts";
export * from "./src/wire/ip.ts";
export * from "./src/wire/invvect.ts";
export * from "./src/wire/blockheader.ts";
export * from "./src/wire/parentsubheader.ts";
export * from "./src/wire/verificationsubheader.ts";
export * from "./src/wire/tx.ts";
export * from "./src/wire/useragent.ts";
export * from "./src/wire/messages/addr.ts";
export * from "./src/wire/messages/addrcache.ts";
export * from "./src/wire/messages/alert.ts";
export * from "./src/wire/messages/block.ts";
export * from "./src/wire/messages/cfilters.ts";
export * from "./src/wire/messages/empty.ts";
export * from "./src/wire/messages/feefilter.ts";
export * from "./src/wire/messages/filter.ts";
export * from "./src/wire/messages/getblocks.ts";
export * from "./src/wire/messages/headers.ts";
export * from "./src/wire/messages/inv.ts";
export * from "./src/wire/messages/merkleblock.ts";
export * from "./src/wire/messages/ping.ts";
export * from "./src/wire/messages/reject.ts";
export * from "./src/wire/messages/tx.ts";
export * from "./src/wire/messages/version.ts";
export * from "./src/wire/message.ts";
export * from "./src/wire/frame.ts";
export * from "./src/wire/decoder.ts";
export * from "./src/wire/streams.ts";
export * from "./src/hash/sha256.ts";
export * from "./src/hash/hasher.ts";
export * from "./src/chain/params.ts";
export * from "./src/adapters/errors.ts";
export type { ConnectOptions, Listener, ListenOptions } from "./src/adapters/types.ts";
export * from "./src/peer/mod.ts";
export { checkStorageName, type Storage, StorageError, type StorageErrorKind } from "./src/storage/storage.ts";
export { MemoryStorage } from "./src/storage/memory.ts";
export {
  type AddressRef,
  AddrManager,
  type AddrManagerOptions,
  type AddrManagerStats,
  type PickOutboundOptions,
} from "./src/pool/addrmgr.ts";
export { ADDRMGR, type KnownAddress } from "./src/pool/knownaddress.ts";
export type { AddrManagerEvent } from "./src/pool/peersstore.ts";
export { AddressPriority, reachability } from "./src/pool/localaddr.ts";
export {
  decodePeersFile,
  encodePeersFile,
  GO_ZERO_TIME,
  type PeersFile,
  type PeersFileAddress,
  PeersFileError,
  type PeersFileErrorKind,
} from "./src/pool/peersjson.ts";
export { addressKey, AddressKeyError, parseAddressKey } from "./src/pool/addrkey.ts";
export {
  groupKey,
  type HasIp,
  isIPv4,
  isLocal,
  isOnionCatTor,
  isRoutable,
  isValidAddress,
  reservedRange,
} from "./src/pool/netgroup.ts";
export { type BroadcastOptions, Pool, type PoolStats } from "./src/pool/pool.ts";
export {
  DEFAULT_BAN_DURATION,
  DEFAULT_BAN_THRESHOLD,
  DEFAULT_MAX_PEERS,
  DEFAULT_REQUEST_RETRIES,
  DEFAULT_REQUEST_TIMEOUT,
  type PoolOptions,
} from "./src/pool/options.ts";
export type { PoolEvent } from "./src/pool/events.ts";
export { PoolError, type PoolErrorKind } from "./src/pool/errors.ts";
export { isNotFoundFor, type RequestOptions, type RequestResult } from "./src/pool/request.ts";
export {
  type ConnReq,
  type ConnState,
  DEFAULT_DIAL_TIMEOUT,
  DEFAULT_MAX_FAILED_ATTEMPTS,
  DEFAULT_MAX_RETRY_INTERVAL,
  DEFAULT_RETRY_INTERVAL,
  DEFAULT_TARGET_OUTBOUND,
} from "./src/pool/connmgr.ts";
export { BAN_SCORE_HALF_LIFE, BAN_SCORE_LIFETIME, decayFactor, DynamicBanScore } from "./src/pool/banscore.ts";
export { type RateLimit, SlidingWindow } from "./src/pool/window.ts";
export {
  DEFAULT_INBOUND_PER_ADDRESS,
  DEFAULT_INBOUND_PER_GROUP,
  DEFAULT_RATE_LIMIT_PENALTY,
  DEFAULT_RATE_LIMITS,
  type LimitedCommand,
} from "./src/pool/ratelimit.ts";
export {
  type BanEntry,
  BANS_FILE,
  canonicalHost,
  type IpNetwork,
  networkContains,
  parseIpNetwork,
} from "./src/pool/bans.ts";
export { DISCONNECT_PENALTIES, type Penalty } from "./src/pool/misbehavior.ts";
export {
  BlockVerificationError,
  type BlockVerificationKind,
  compactToTarget,
  merkleRoot,
  tipsHash,
} from "./src/sync/verify.ts";
export {
  BLOCKS_FILE,
  BlockStore,
  type BlockStoreOptions,
  CHECKPOINT_FILE,
  INDEX_FILE,
  type StoredBlock,
  type StoredBlockInput,
  type StoreRecovery,
} from "./src/sync/store.ts";
export { DagSync, MAX_BLOCKS_PER_INV } from "./src/sync/dag_sync.ts";
export {
  type DagSyncOptions,
  type SyncedBlock,
  SyncError,
  type SyncErrorKind,
  type SyncPeerEvent,
  type SyncPeerSource,
  type SyncProgress,
} from "./src/sync/types.ts";
export * from "./src/sim/mod.ts";
