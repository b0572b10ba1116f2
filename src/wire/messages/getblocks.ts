/**
 * `getblocks` and `getheaders`: requests starting from a block locator,
 * which in soter is a list of at most one block height.
 *
 * @module
 */
import { type MessageCodec, tooManyToEncode } from "../codec.ts";

/** The largest number of locator heights soterd accepts. */
export const MAX_BLOCK_LOCATORS_PER_MSG = 1;

/** `getblocks`: asks for an `inv` of the blocks after a height. */
export interface GetBlocksMessage {
  /** The command. */
  command: "getblocks";
  /** The sender's protocol version (uint32). */
  protocolVersion: number;
  /** Block locator heights (int32), at most one. */
  blockLocatorHeight: number[];
  /** Stop at this block hash; zero for as many as allowed. */
  hashStop: Uint8Array;
}

/** `getheaders`: asks for `headers` after a height. */
export interface GetHeadersMessage {
  /** The command. */
  command: "getheaders";
  /** The sender's protocol version (uint32). */
  protocolVersion: number;
  /** Block locator heights (int32), at most one. */
  blockLocatorHeight: number[];
  /** Stop at this block hash; zero for as many as allowed. */
  hashStop: Uint8Array;
}

function locatorCodec<M extends GetBlocksMessage | GetHeadersMessage>(
  command: M["command"],
): MessageCodec<M> {
  return {
    command,
    maxPayloadLength: () => 4 + 9 + 4 * MAX_BLOCK_LOCATORS_PER_MSG + 32,
    decode(r) {
      const protocolVersion = r.u32();
      const n = r.count(MAX_BLOCK_LOCATORS_PER_MSG, "block locator height");
      const blockLocatorHeight: number[] = [];
      for (let i = 0; i < n; i++) blockLocatorHeight.push(r.i32());
      return { command, protocolVersion, blockLocatorHeight, hashStop: r.hash() } as M;
    },
    encode(w, msg) {
      const heights = msg.blockLocatorHeight;
      if (heights.length > MAX_BLOCK_LOCATORS_PER_MSG) {
        tooManyToEncode(command, "block locator height", heights.length, MAX_BLOCK_LOCATORS_PER_MSG);
      }
      w.u32(msg.protocolVersion);
      w.varInt(heights.length);
      for (const h of heights) w.i32(h);
      w.hash(msg.hashStop, "hashStop");
    },
  };
}

/** Codec of `getblocks`. */
export const getblocksCodec: MessageCodec<GetBlocksMessage> = locatorCodec("getblocks");
/** Codec of `getheaders`. */
export const getheadersCodec: MessageCodec<GetHeadersMessage> = locatorCodec("getheaders");
