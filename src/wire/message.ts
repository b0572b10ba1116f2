/**
 * The discriminated union of all 31 soter messages and the command table.
 *
 * @module
 */
import type { MessageCodec } from "./codec.ts";
import { type AddrMessage, addrCodec } from "./messages/addr.ts";
import { type AddrCacheMessage, addrcacheCodec } from "./messages/addrcache.ts";
import { type AlertMessage, alertCodec } from "./messages/alert.ts";
import { type BlockMessage, blockCodec } from "./messages/block.ts";
import {
  type CFCheckptMessage,
  cfcheckptCodec,
  type CFHeadersMessage,
  cfheadersCodec,
  type CFilterMessage,
  cfilterCodec,
  type GetCFCheckptMessage,
  getcfcheckptCodec,
  type GetCFHeadersMessage,
  getcfheadersCodec,
  type GetCFiltersMessage,
  getcfiltersCodec,
} from "./messages/cfilters.ts";
import {
  type FilterClearMessage,
  filterclearCodec,
  type GetAddrCacheMessage,
  getaddrcacheCodec,
  type GetAddrMessage,
  getaddrCodec,
  type MemPoolMessage,
  mempoolCodec,
  type SendHeadersMessage,
  sendheadersCodec,
  type VerAckMessage,
  verackCodec,
} from "./messages/empty.ts";
import { type FeeFilterMessage, feefilterCodec } from "./messages/feefilter.ts";
import {
  type FilterAddMessage,
  filteraddCodec,
  type FilterLoadMessage,
  filterloadCodec,
} from "./messages/filter.ts";
import {
  type GetBlocksMessage,
  getblocksCodec,
  type GetHeadersMessage,
  getheadersCodec,
} from "./messages/getblocks.ts";
import { type HeadersMessage, headersCodec } from "./messages/headers.ts";
import {
  type GetDataMessage,
  getdataCodec,
  type InvMessage,
  invCodec,
  type NotFoundMessage,
  notfoundCodec,
} from "./messages/inv.ts";
import {
  type MerkleBlockMessage,
  merkleblockCodec,
} from "./messages/merkleblock.ts";
import {
  pingCodec,
  type PingMessage,
  pongCodec,
  type PongMessage,
} from "./messages/ping.ts";
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
