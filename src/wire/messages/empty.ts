/**
 * The six messages whose payload is empty: `verack`, `getaddr`,
 * `getaddrcache`, `mempool`, `filterclear` and `sendheaders`.
 *
 * @module
 */
import { type MessageCodec, pverTooLow } from "../codec.ts";
import { BIP0035_VERSION, BIP0037_VERSION, SEND_HEADERS_VERSION } from "../protocol.ts";

/** `verack`: acknowledges the remote's `version`. */
export interface VerAckMessage {
  /** The command. */
  command: "verack";
}
/** `getaddr`: asks for known addresses, answered with `addr`. */
export interface GetAddrMessage {
  /** The command. */
  command: "getaddr";
}
/** `getaddrcache`: asks for the remote's address cache, answered with `addrcache` (soter only). */
export interface GetAddrCacheMessage {
  /** The command. */
  command: "getaddrcache";
}
/** `mempool`: asks for the remote's mempool as `inv` (BIP 35, pver >= 60002). */
export interface MemPoolMessage {
  /** The command. */
  command: "mempool";
}
/** `filterclear`: removes the bloom filter (BIP 37, pver >= 70001). */
export interface FilterClearMessage {
  /** The command. */
  command: "filterclear";
}
/** `sendheaders`: asks for new blocks to be announced with `headers` (pver >= 70012). */
export interface SendHeadersMessage {
  /** The command. */
  command: "sendheaders";
}

function emptyCodec<M extends { command: string }>(
  command: M["command"],
  minPver: number,
): MessageCodec<M> {
  const msg = { command } as M;
  return {
    command,
    maxPayloadLength: () => 0,
    decode(_r, pver) {
      if (pver < minPver) pverTooLow(command, pver, "decode");
      return { ...msg };
    },
    encode(_w, _msg, pver) {
      if (pver < minPver) pverTooLow(command, pver, "encode");
    },
  };
}

/** Codec of `verack`. */
export const verackCodec: MessageCodec<VerAckMessage> = emptyCodec("verack", 0);
/** Codec of `getaddr`. */
export const getaddrCodec: MessageCodec<GetAddrMessage> = emptyCodec("getaddr", 0);
/** Codec of `getaddrcache`. */
export const getaddrcacheCodec: MessageCodec<GetAddrCacheMessage> = emptyCodec("getaddrcache", 0);
/** Codec of `mempool`. */
export const mempoolCodec: MessageCodec<MemPoolMessage> = emptyCodec("mempool", BIP0035_VERSION);
/** Codec of `filterclear`. */
export const filterclearCodec: MessageCodec<FilterClearMessage> = emptyCodec(
  "filterclear",
  BIP0037_VERSION,
);
/** Codec of `sendheaders`. */
export const sendheadersCodec: MessageCodec<SendHeadersMessage> = emptyCodec(
  "sendheaders",
  SEND_HEADERS_VERSION,
);
