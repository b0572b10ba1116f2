/**
 * The discriminated union of all 31 soter messages and the command table.
 *
 * @module
 */
import type { MessageCodec } from "./codec.ts";
import { addrCodec, type AddrMessage } from "./messages/addr.ts";
import { addrcacheCodec, type AddrCacheMessage } from "./messages/addrcache.ts";
import { alertCodec, type AlertMessage } from "./messages/alert.ts";
import { blockCodec, type BlockMessage } from "./messages/block.ts";
import {
  cfcheckptCodec,
  type CFCheckptMessage,
  cfheadersCodec,
  type CFHeadersMessage,
  cfilterCodec,
  type CFilterMessage,
  getcfcheckptCodec,
  type GetCFCheckptMessage,
  getcfheadersCodec,
  type GetCFHeadersMessage,
  getcfiltersCodec,
  type GetCFiltersMessage,
} from "./messages/cfilters.ts";
import {
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
} from "./messages/empty.ts";
import { feefilterCodec, type FeeFilterMessage } from "./messages/feefilter.ts";
import { filteraddCodec, type FilterAddMessage, filterloadCodec, type FilterLoadMessage } from "./messages/filter.ts";
import {
  getblocksCodec,
  type GetBlocksMessage,
  getheadersCodec,
  type GetHeadersMessage,
} from "./messages/getblocks.ts";
import { headersCodec, type HeadersMessage } from "./messages/headers.ts";
import {
  getdataCodec,
  type GetDataMessage,
  invCodec,
  type InvMessage,
  notfoundCodec,
  type NotFoundMessage,
} from "./messages/inv.ts";
import { merkleblockCodec, type MerkleBlockMessage } from "./messages/merkleblock.ts";
import { pingCodec, type PingMessage, pongCodec, type PongMessage } from "./messages/ping.ts";
import { rejectCodec, type RejectMessage } from "./messages/reject.ts";
import { txCodec, type TxMessage } from "./messages/tx.ts";
import { versionCodec, type VersionMessage } from "./messages/version.ts";

/**
 * Any soter message: a plain object whose `command` tells which.
 *
 * @example Narrowing on the command
 * ```ts
 * import type { Message } from "@soter/peer";
 * function describe(msg: Message): string {
 *   switch (msg.command) {
 *     case "ping": return `ping ${msg.nonce}`;
 *     case "inv": return `inv of ${msg.invList.length}`;
 *     default: return msg.command;
 *   }
 * }
 * ```
 */
export type Message =
  | VersionMessage
  | VerAckMessage
  | GetAddrMessage
  | GetAddrCacheMessage
  | AddrMessage
  | AddrCacheMessage
  | GetBlocksMessage
  | InvMessage
  | GetDataMessage
  | NotFoundMessage
  | BlockMessage
  | TxMessage
  | GetHeadersMessage
  | HeadersMessage
  | PingMessage
  | PongMessage
  | AlertMessage
  | MemPoolMessage
  | FilterAddMessage
  | FilterClearMessage
  | FilterLoadMessage
  | MerkleBlockMessage
  | RejectMessage
  | SendHeadersMessage
  | FeeFilterMessage
  | GetCFiltersMessage
  | GetCFHeadersMessage
  | GetCFCheckptMessage
  | CFilterMessage
  | CFHeadersMessage
  | CFCheckptMessage;

/** The command name of any soter message. */
export type Command = Message["command"];

/** The message type of one command, e.g. `MessageOf<"ping">`. */
export type MessageOf<C extends Command> = Extract<Message, { command: C }>;

/** Every codec, by command. */
export const CODECS: { readonly [C in Command]: MessageCodec<MessageOf<C>> } = {
  version: versionCodec,
  verack: verackCodec,
  getaddr: getaddrCodec,
  getaddrcache: getaddrcacheCodec,
  addr: addrCodec,
  addrcache: addrcacheCodec,
  getblocks: getblocksCodec,
  inv: invCodec,
  getdata: getdataCodec,
  notfound: notfoundCodec,
  block: blockCodec,
  tx: txCodec,
  getheaders: getheadersCodec,
  headers: headersCodec,
  ping: pingCodec,
  pong: pongCodec,
  alert: alertCodec,
  mempool: mempoolCodec,
  filteradd: filteraddCodec,
  filterclear: filterclearCodec,
  filterload: filterloadCodec,
  merkleblock: merkleblockCodec,
  reject: rejectCodec,
  sendheaders: sendheadersCodec,
  feefilter: feefilterCodec,
  getcfilters: getcfiltersCodec,
  getcfheaders: getcfheadersCodec,
  getcfcheckpt: getcfcheckptCodec,
  cfilter: cfilterCodec,
  cfheaders: cfheadersCodec,
  cfcheckpt: cfcheckptCodec,
};

/** The 31 commands, in soterd's order. */
export const COMMANDS: readonly Command[] = Object.keys(CODECS) as Command[];

/**
 * Tells whether `command` is one of the 31 soter commands.
 *
 * @param command A command name.
 * @returns `true` for a known command.
 */
export function isCommand(command: string): command is Command {
  return Object.hasOwn(CODECS, command);
}

/**
 * Returns the codec of a command.
 *
 * @param command A known command.
 * @returns Its codec.
 */
export function codecOf<C extends Command>(command: C): MessageCodec<MessageOf<C>> {
  return CODECS[command] as unknown as MessageCodec<MessageOf<C>>;
}
