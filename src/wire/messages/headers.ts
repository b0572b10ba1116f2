/**
 * `headers`: block headers in answer to `getheaders`.
 *
 * @module
 */
import { type MessageCodec, tooManyToEncode } from "../codec.ts";
import { BLOCK_HEADER_SIZE, type BlockHeader, readBlockHeader, writeBlockHeader } from "../blockheader.ts";
import { MessageError } from "../errors.ts";

/** The most headers one `headers` message may carry (soterd's `MaxBlockHeadersPerMsg`). */
export const MAX_BLOCK_HEADERS_PER_MSG = 2000;

/**
 * `headers`: up to {@linkcode MAX_BLOCK_HEADERS_PER_MSG} block headers. On
 * the wire each header is followed by a transaction count that is always 0;
 * there are no parent or verification sub-headers.
 */
export interface HeadersMessage {
  /** The command. */
  command: "headers";
  /** The headers; their hashes are views into the decoded buffer. */
  headers: BlockHeader[];
}

/** Codec of `headers`. */
export const headersCodec: MessageCodec<HeadersMessage> = {
  command: "headers",
  // A varint count, then per header 80 bytes and a 1-byte zero count.
  maxPayloadLength: () => 9 + (BLOCK_HEADER_SIZE + 1) * MAX_BLOCK_HEADERS_PER_MSG,
  decode(r) {
    const count = r.count(MAX_BLOCK_HEADERS_PER_MSG, "header");
    // An array of its exact size when the bytes for all headers are there
    // (then a forged count cannot make it allocate more than the input).
    const headers: BlockHeader[] = count * (BLOCK_HEADER_SIZE + 1) <= r.remaining ? new Array(count) : [];
    for (let i = 0; i < count; i++) {
      headers[i] = readBlockHeader(r);
      const txCount = r.varInt();
      if (txCount !== 0) {
        throw new MessageError(
          "headers-with-txs",
          `Cannot decode ${r.what}: header ${i} has a transaction count of ${txCount}, expected 0`,
          { command: r.what },
        );
      }
    }
    return { command: "headers", headers };
  },
  encode(w, msg) {
    const headers = msg.headers;
    if (headers.length > MAX_BLOCK_HEADERS_PER_MSG) {
      tooManyToEncode(
        "headers",
        "header",
        headers.length,
        MAX_BLOCK_HEADERS_PER_MSG,
      );
    }
    w.varInt(headers.length);
    for (let i = 0; i < headers.length; i++) {
      writeBlockHeader(w, headers[i]!);
      w.u8(0);
    }
  },
};
