/**
 * soter-peer: the soter peer-to-peer protocol in TypeScript.
 *
 * The runtime-neutral core, in layers:
 *
 * - the wire codec for all 31 soter messages (byte-exact with soterd),
 *   framing, the {@linkcode FrameDecoder} and Web Streams, and the chain
 *   parameters of the four networks;
 * - {@linkcode Peer}, one connection (soterd's `peer` package);
 * - {@linkcode AddrManager}, the address book (soterd's `addrmgr`, with its
 *   `peers.json`), and {@linkcode Pool}, the connections around it
 *   (outbound target, inbound limits, ban scores, rate limits, requests);
 * - {@linkcode DagSync}, a multi-peer blockDAG download with verification,
 *   and {@linkcode BlockStore}, which keeps the blocks so a sync resumes;
 * - {@linkcode Storage}, the seam both persist through
 *   ({@linkcode MemoryStorage} here, `fileStorage(dir)` in each adapter);
 * - {@linkcode SimNet}, a deterministic simulator whose hosts provide the
 *   same `connect`, `listen`, clock and random source as an adapter.
 *
 * It uses only Web Streams, `Uint8Array` and plain TypeScript; connect it to
 * sockets with the `./deno`, `./bun` or `./node` entry points.
 *
 * @example Encoding and decoding a frame
 * ```ts
 * import { decodeMessage, encodeMessage, SIMNET } from "@soter/peer";
 * const frame = encodeMessage({ command: "ping", nonce: 42n }, { magic: SIMNET.magic });
 * const { message } = decodeMessage(frame, { magic: SIMNET.magic });
 * console.log(message); // { command: "ping", nonce: 42n }
 * ```
 *
 * @example Two peers on a simulated network, and a block store in memory
 * ```ts
 * import { BlockStore, MemoryStorage, Peer, SIMNET, SimNet } from "@soter/peer";
 *
 * const net = new SimNet({ seed: 7 });
 * const node = net.host({ ipv4: "203.0.113.5" });
 * const client = net.host({ ipv4: true });
 * const listener = await node.listen({ port: 18555 });
 * void (async () => {
 *   for await (const conn of listener) {
 *     const { clock, random, sentNonces } = node;
 *     Peer.inbound({ network: SIMNET, clock, random, sentNonces }).associateConnection(conn);
 *   }
 * })();
 * const { clock, random, sentNonces } = client;
 * const peer = Peer.outbound("203.0.113.5:18555", { network: SIMNET, clock, random, sentNonces });
 * client.connect("203.0.113.5", 18555).then((conn) => peer.associateConnection(conn));
 * await net.run({ for: 10_000 }); // ten virtual seconds, in milliseconds of real time
 * console.log(await peer.ready); // true: the handshake is done
 * peer.disconnect();
 * await net.run({ for: 1_000 });
 *
 * const store = await BlockStore.open(new MemoryStorage()); // fileStorage(dir) from an adapter on disk
 * console.log(store.size); // 0
 * ```
 *
 * @module
 */
export { MessageError, type MessageErrorKind, type MessageErrorOptions } from "./src/wire/errors.ts";
export { Reader } from "./src/wire/reader.ts";
export { varIntSize, Writer } from "./src/wire/writer.ts";
export { bytesEqual, fromHex, hashFromHex, hashToHex, toHex, ZERO_HASH } from "./src/wire/hex.ts";
export {
  BIP0031_VERSION,
  BIP0035_VERSION,
  BIP0037_VERSION,
  BIP0111_VERSION,
  FEE_FILTER_VERSION,
  hasService,
  MAX_MESSAGE_PAYLOAD,
  type MessageEncoding,
  MULTIPLE_ADDRESS_VERSION,
  NET_ADDRESS_TIME_VERSION,
  networkName,
  PROTOCOL_VERSION,
  REJECT_VERSION,
  SEND_HEADERS_VERSION,
  ServiceFlag,
  serviceNames,
  SoterNet,
} from "./src/wire/protocol.ts";
export type { MessageCodec } from "./src/wire/codec.ts";
export { maxNetAddressPayload, type NetAddress, readNetAddress, writeNetAddress } from "./src/wire/netaddress.ts";
export { ipFromString, ipToString, netAddress, type NetAddressInit } from "./src/wire/ip.ts";
export {
  INV_VECT_SIZE,
  INV_WITNESS_FLAG,
  InvType,
  invTypeName,
  type InvVect,
  MAX_INV_PER_MSG,
  MAX_INV_VECT_PAYLOAD,
  readInvVect,
  writeInvVect,
} from "./src/wire/invvect.ts";
export {
  BLOCK_HEADER_SIZE,
  blockHash,
  type BlockHeader,
  blockHeaderBytes,
  readBlockHeader,
  writeBlockHeader,
} from "./src/wire/blockheader.ts";
export {
  MAX_PARENT_SUB_HEADER_PAYLOAD,
  MAX_PARENTS,
  type Parent,
  PARENT_SIZE,
  type ParentSubHeader,
  readParentSubHeader,
  writeParentSubHeader,
} from "./src/wire/parentsubheader.ts";
export {
  CYCLE_NONCE_SIZE,
  readVerificationSubHeader,
  type VerificationSubHeader,
  writeVerificationSubHeader,
} from "./src/wire/verificationsubheader.ts";
export {
  MAX_SCRIPT_SIZE,
  MAX_TX_IN_PER_MESSAGE,
  MAX_TX_OUT_PER_MESSAGE,
  MAX_WITNESS_ITEM_SIZE,
  MAX_WITNESS_ITEMS_PER_INPUT,
  type OutPoint,
  readTx,
  type Tx,
  txHash,
  txHasWitness,
  type TxIn,
  type TxOut,
  txSerializeSize,
  txWitnessHash,
  writeTx,
} from "./src/wire/tx.ts";
export {
  addUserAgent,
  DEFAULT_USER_AGENT,
  formatSemVer,
  MAX_USER_AGENT_LENGTH,
  parseSemVer,
  parseUserAgentSemVers,
  type SemVer,
  userAgentByteLength,
  userAgentToSemVer,
} from "./src/wire/useragent.ts";
export { addrCodec, type AddrMessage, MAX_ADDR_PER_MSG } from "./src/wire/messages/addr.ts";
export { addrcacheCodec, type AddrCacheMessage } from "./src/wire/messages/addrcache.ts";
export {
  type Alert,
  alertCodec,
  type AlertMessage,
  MAX_COUNT_SET_CANCEL,
  MAX_COUNT_SET_SUB_VER,
  parseAlert,
  serializeAlert,
} from "./src/wire/messages/alert.ts";
export {
  blockCodec,
  type BlockMessage,
  blockSerializeSize,
  MAX_BLOCK_PAYLOAD,
  MAX_TX_PER_BLOCK,
} from "./src/wire/messages/block.ts";
export {
  CF_CHECKPT_INTERVAL,
  cfcheckptCodec,
  type CFCheckptMessage,
  cfheadersCodec,
  type CFHeadersMessage,
  cfilterCodec,
  type CFilterMessage,
  FilterType,
  getcfcheckptCodec,
  type GetCFCheckptMessage,
  getcfheadersCodec,
  type GetCFHeadersMessage,
  getcfiltersCodec,
  type GetCFiltersMessage,
  MAX_CFCHECKPT_HEADERS,
  MAX_CFHEADERS_PER_MSG,
  MAX_CFILTER_DATA_SIZE,
  MAX_GET_CFILTERS_REQ_RANGE,
} from "./src/wire/messages/cfilters.ts";
export {
  filterclearCodec,
  type FilterClearMessage,
  getaddrcacheCodec,
  type GetAddrCacheMessage,
  getaddrCodec,
  type GetAddrMessage,
  mempoolCodec,
  type MemPoolMessage,
  sendheadersCodec,
  type SendHeadersMessage,
  verackCodec,
  type VerAckMessage,
} from "./src/wire/messages/empty.ts";
export { feefilterCodec, type FeeFilterMessage } from "./src/wire/messages/feefilter.ts";
export {
  BloomUpdateType,
  filteraddCodec,
  type FilterAddMessage,
  filterloadCodec,
  type FilterLoadMessage,
  MAX_FILTER_ADD_DATA_SIZE,
  MAX_FILTER_LOAD_FILTER_SIZE,
  MAX_FILTER_LOAD_HASH_FUNCS,
} from "./src/wire/messages/filter.ts";
export {
  getblocksCodec,
  type GetBlocksMessage,
  getheadersCodec,
  type GetHeadersMessage,
  MAX_BLOCK_LOCATORS_PER_MSG,
} from "./src/wire/messages/getblocks.ts";
export { headersCodec, type HeadersMessage, MAX_BLOCK_HEADERS_PER_MSG } from "./src/wire/messages/headers.ts";
export {
  getdataCodec,
  type GetDataMessage,
  invCodec,
  type InvMessage,
  notfoundCodec,
  type NotFoundMessage,
} from "./src/wire/messages/inv.ts";
export {
  MAX_FLAGS_PER_MERKLE_BLOCK,
  merkleblockCodec,
  type MerkleBlockMessage,
} from "./src/wire/messages/merkleblock.ts";
export { pingCodec, type PingMessage, pongCodec, type PongMessage } from "./src/wire/messages/ping.ts";
export { RejectCode, rejectCodec, rejectCodeName, type RejectMessage } from "./src/wire/messages/reject.ts";
export { txCodec, type TxMessage } from "./src/wire/messages/tx.ts";
export { versionCodec, type VersionMessage } from "./src/wire/messages/version.ts";
export {
  codecOf,
  CODECS,
  type Command,
  COMMANDS,
  isCommand,
  type Message,
  type MessageOf,
} from "./src/wire/message.ts";
export {
  checkFrameHeader,
  type CodecOptions,
  COMMAND_SIZE,
  type DecodedFrame,
  decodeMessage,
  decodePayload,
  encodeMessage,
  encodePayload,
  type FrameHeader,
  MESSAGE_HEADER_SIZE,
  parseFrameHeader,
  verifyChecksum,
  writeFrameHeader,
} from "./src/wire/frame.ts";
export { FrameDecoder } from "./src/wire/decoder.ts";
export { MessageDecoderStream, type MessageDecoderStreamOptions, MessageEncoderStream } from "./src/wire/streams.ts";
export { doubleSha256, sha256 } from "./src/hash/sha256.ts";
export { defaultHasher, type Hasher, jsHasher, setDefaultHasher } from "./src/hash/hasher.ts";
export {
  type ChainParams,
  DEFAULT_NETWORK,
  type DnsSeed,
  MAINNET,
  networkByMagic,
  networkByName,
  type NetworkName,
  NETWORKS,
  REGTEST,
  SIMNET,
  TESTNET1,
} from "./src/chain/params.ts";
export { ConnectionError, type ConnectionErrorCode, type ConnectionErrorOptions } from "./src/adapters/errors.ts";
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
