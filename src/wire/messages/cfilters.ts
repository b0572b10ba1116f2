/**
 * Committed filter messages (BIP 157): `getcfilters`, `getcfheaders`,
 * `getcfcheckpt`, `cfilter`, `cfheaders` and `cfcheckpt`.
 *
 * @module
 */
import { MAX_MESSAGE_PAYLOAD } from "../protocol.ts";
import { type MessageCodec, tooLargeToEncode, tooManyToEncode } from "../codec.ts";
import type { Reader } from "../reader.ts";
import { varIntSize, type Writer } from "../writer.ts";

/** Filter types. */
export const FilterType = {
  /** The regular GCS filter (BIP 158). */
  REGULAR: 0,
} as const;

/** The largest filter `cfilter` may carry, in bytes. */
export const MAX_CFILTER_DATA_SIZE = 256 * 1024;
/** The most filter hashes `cfheaders` may carry. */
export const MAX_CFHEADERS_PER_MSG = 2000;
/** The most filter headers soterd decodes in `cfcheckpt`. */
export const MAX_CFCHECKPT_HEADERS = 100_000;
/** Blocks between two checkpoints of `cfcheckpt`. */
export const CF_CHECKPT_INTERVAL = 1000;
/** The widest range `getcfilters` may request. */
export const MAX_GET_CFILTERS_REQ_RANGE = 1000;

/** `getcfilters`: requests filters for a range of blocks. */
export interface GetCFiltersMessage {
  /** The command. */
  command: "getcfilters";
  /** A {@linkcode FilterType} (uint8). */
  filterType: number;
  /** Height of the first block (uint32). */
  startHeight: number;
  /** Hash of the last block. */
  stopHash: Uint8Array;
}

/** `getcfheaders`: requests filter headers for a range of blocks. */
export interface GetCFHeadersMessage {
  /** The command. */
  command: "getcfheaders";
  /** A {@linkcode FilterType} (uint8). */
  filterType: number;
  /** Height of the first block (uint32). */
  startHeight: number;
  /** Hash of the last block. */
  stopHash: Uint8Array;
}

/** `getcfcheckpt`: requests filter header checkpoints up to a block. */
export interface GetCFCheckptMessage {
  /** The command. */
  command: "getcfcheckpt";
  /** A {@linkcode FilterType} (uint8). */
  filterType: number;
  /** Hash of the last block. */
  stopHash: Uint8Array;
}

/** `cfilter`: one block's committed filter. */
export interface CFilterMessage {
  /** The command. */
  command: "cfilter";
  /** A {@linkcode FilterType} (uint8). */
  filterType: number;
  /** The block the filter belongs to. */
  blockHash: Uint8Array;
  /** The filter, at most 256 KiB. */
  data: Uint8Array;
}

/** `cfheaders`: filter hashes for a range of blocks. */
export interface CFHeadersMessage {
  /** The command. */
  command: "cfheaders";
  /** A {@linkcode FilterType} (uint8). */
  filterType: number;
  /** Hash of the last block of the range. */
  stopHash: Uint8Array;
  /** The filter header before the range. */
  prevFilterHeader: Uint8Array;
  /** One filter hash per block, at most 2,000. */
  filterHashes: Uint8Array[];
}

/** `cfcheckpt`: filter headers at every 1,000th block. */
export interface CFCheckptMessage {
  /** The command. */
  command: "cfcheckpt";
  /** A {@linkcode FilterType} (uint8). */
  filterType: number;
  /** Hash of the last block. */
  stopHash: Uint8Array;
  /** The checkpointed filter headers, at most 100,000. */
  filterHeaders: Uint8Array[];
}

function rangeCodec<M extends GetCFiltersMessage | GetCFHeadersMessage>(
  command: M["command"],
): MessageCodec<M> {
  return {
    command,
    maxPayloadLength: () => 1 + 4 + 32,
    decode(r) {
      const filterType = r.u8();
      const startHeight = r.u32();
      return { command, filterType, startHeight, stopHash: r.hash() } as M;
    },
    encode(w, msg) {
      w.u8(msg.filterType);
      w.u32(msg.startHeight);
      w.hash(msg.stopHash, "stopHash");
    },
  };
}

/** Codec of `getcfilters`. */
export const getcfiltersCodec: MessageCodec<GetCFiltersMessage> = rangeCodec("getcfilters");
/** Codec of `getcfheaders`. */
export const getcfheadersCodec: MessageCodec<GetCFHeadersMessage> = rangeCodec("getcfheaders");

/** Codec of `getcfcheckpt`. */
export const getcfcheckptCodec: MessageCodec<GetCFCheckptMessage> = {
  command: "getcfcheckpt",
  maxPayloadLength: () => 1 + 32,
  decode(r) {
    const filterType = r.u8();
    return { command: "getcfcheckpt", filterType, stopHash: r.hash() };
  },
  encode(w, msg) {
    w.u8(msg.filterType);
    w.hash(msg.stopHash, "stopHash");
  },
};

/** Codec of `cfilter`. */
export const cfilterCodec: MessageCodec<CFilterMessage> = {
  command: "cfilter",
  maxPayloadLength: () => varIntSize(MAX_CFILTER_DATA_SIZE) + MAX_CFILTER_DATA_SIZE + 32 + 1,
  decode(r) {
    const filterType = r.u8();
    const blockHash = r.hash();
    const data = r.varBytes(MAX_CFILTER_DATA_SIZE, "data");
    return { command: "cfilter", filterType, blockHash, data };
  },
  encode(w, msg) {
    if (msg.data.length > MAX_CFILTER_DATA_SIZE) {
      tooLargeToEncode("cfilter", "data", msg.data.length, MAX_CFILTER_DATA_SIZE);
    }
    w.u8(msg.filterType);
    w.hash(msg.blockHash, "blockHash");
    w.varBytes(msg.data);
  },
};

function readHashes(r: Reader, n: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < n; i++) out.push(r.hash());
  return out;
}

function writeHashes(w: Writer, hashes: Uint8Array[], field: string): void {
  w.varInt(hashes.length);
  w.ensure(hashes.length * 32);
  for (let i = 0; i < hashes.length; i++) w.hash(hashes[i]!, field);
}

/** Codec of `cfheaders`. */
export const cfheadersCodec: MessageCodec<CFHeadersMessage> = {
  command: "cfheaders",
  maxPayloadLength: () => 1 + 32 + 32 + 9 + 32 * MAX_CFHEADERS_PER_MSG,
  decode(r) {
    const filterType = r.u8();
    const stopHash = r.hash();
    const prevFilterHeader = r.hash();
    const n = r.count(MAX_CFHEADERS_PER_MSG, "filter hash");
    return { command: "cfheaders", filterType, stopHash, prevFilterHeader, filterHashes: readHashes(r, n) };
  },
  encode(w, msg) {
    w.u8(msg.filterType);
    w.hash(msg.stopHash, "stopHash");
    w.hash(msg.prevFilterHeader, "prevFilterHeader");
    if (msg.filterHashes.length > MAX_CFHEADERS_PER_MSG) {
      tooManyToEncode("cfheaders", "filter hash", msg.filterHashes.length, MAX_CFHEADERS_PER_MSG);
    }
    writeHashes(w, msg.filterHashes, "filter hash");
  },
};

/** Codec of `cfcheckpt`. */
export const cfcheckptCodec: MessageCodec<CFCheckptMessage> = {
  command: "cfcheckpt",
  maxPayloadLength: () => MAX_MESSAGE_PAYLOAD,
  decode(r) {
    const filterType = r.u8();
    const stopHash = r.hash();
    const n = r.count(MAX_CFCHECKPT_HEADERS, "filter header");
    return { command: "cfcheckpt", filterType, stopHash, filterHeaders: readHashes(r, n) };
  },
  encode(w, msg) {
    // soterd's encoder has no limit, but its decoder refuses more than
    // 100,000, so writing more would only produce an undecodable message.
    if (msg.filterHeaders.length > MAX_CFCHECKPT_HEADERS) {
      tooManyToEncode("cfcheckpt", "filter header", msg.filterHeaders.length, MAX_CFCHECKPT_HEADERS);
    }
    w.u8(msg.filterType);
    w.hash(msg.stopHash, "stopHash");
    writeHashes(w, msg.filterHeaders, "filter header");
  },
};
