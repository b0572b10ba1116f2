/**
 * `filteradd` and `filterload`: bloom filters (BIP 37).
 *
 * @module
 */
import { type MessageCodec, pverTooLow, tooLargeToEncode } from "../codec.ts";
import { MessageError } from "../errors.ts";
import { BIP0037_VERSION } from "../protocol.ts";
import { varIntSize } from "../writer.ts";

/** The largest element `filteradd` may add. */
export const MAX_FILTER_ADD_DATA_SIZE = 520;
/** The largest bloom filter `filterload` may load, in bytes. */
export const MAX_FILTER_LOAD_FILTER_SIZE = 36_000;
/** The most hash functions `filterload` may ask for. */
export const MAX_FILTER_LOAD_HASH_FUNCS = 50;

/** How a filter is updated when a transaction matches (`filterload` flags). */
export const BloomUpdateType = {
  /** Never update the filter. */
  NONE: 0,
  /** Add every matching output's outpoint. */
  ALL: 1,
  /** Add outpoints of matching pay-to-pubkey and multisig outputs only. */
  P2PUBKEY_ONLY: 2,
} as const;

/** `filteradd`: adds one element to the loaded bloom filter. Exists from pver 70001. */
export interface FilterAddMessage {
  /** The command. */
  command: "filteradd";
  /** The element, at most 520 bytes. */
  data: Uint8Array;
}

/** `filterload`: loads a bloom filter. Exists from pver 70001. */
export interface FilterLoadMessage {
  /** The command. */
  command: "filterload";
  /** The filter bits, at most 36,000 bytes. */
  filter: Uint8Array;
  /** Number of hash functions (uint32), at most 50. */
  hashFuncs: number;
  /** Random tweak for the hash functions (uint32). */
  tweak: number;
  /** A {@linkcode BloomUpdateType} (uint8). */
  flags: number;
}

/** Codec of `filteradd`. */
export const filteraddCodec: MessageCodec<FilterAddMessage> = {
  command: "filteradd",
  maxPayloadLength: () => varIntSize(MAX_FILTER_ADD_DATA_SIZE) + MAX_FILTER_ADD_DATA_SIZE,
  decode(r, pver) {
    if (pver < BIP0037_VERSION) pverTooLow("filteradd", pver, "decode");
    return { command: "filteradd", data: r.varBytes(MAX_FILTER_ADD_DATA_SIZE, "data") };
  },
  encode(w, msg, pver) {
    if (pver < BIP0037_VERSION) pverTooLow("filteradd", pver, "encode");
    if (msg.data.length > MAX_FILTER_ADD_DATA_SIZE) {
      tooLargeToEncode("filteradd", "data", msg.data.length, MAX_FILTER_ADD_DATA_SIZE);
    }
    w.varBytes(msg.data);
  },
};

function checkHashFuncs(n: number, direction: "decode" | "encode"): void {
  if (n > MAX_FILTER_LOAD_HASH_FUNCS) {
    throw new MessageError(
      "too-many-entries",
      `Cannot ${direction} filterload: ${n} hash functions exceed ${MAX_FILTER_LOAD_HASH_FUNCS}`,
      { command: "filterload" },
    );
  }
}

/** Codec of `filterload`. */
export const filterloadCodec: MessageCodec<FilterLoadMessage> = {
  command: "filterload",
  maxPayloadLength: () => varIntSize(MAX_FILTER_LOAD_FILTER_SIZE) + MAX_FILTER_LOAD_FILTER_SIZE + 9,
  decode(r, pver) {
    if (pver < BIP0037_VERSION) pverTooLow("filterload", pver, "decode");
    const filter = r.varBytes(MAX_FILTER_LOAD_FILTER_SIZE, "filter");
    const hashFuncs = r.u32();
    const tweak = r.u32();
    const flags = r.u8();
    checkHashFuncs(hashFuncs, "decode");
    return { command: "filterload", filter, hashFuncs, tweak, flags };
  },
  encode(w, msg, pver) {
    if (pver < BIP0037_VERSION) pverTooLow("filterload", pver, "encode");
    if (msg.filter.length > MAX_FILTER_LOAD_FILTER_SIZE) {
      tooLargeToEncode("filterload", "filter", msg.filter.length, MAX_FILTER_LOAD_FILTER_SIZE);
    }
    checkHashFuncs(msg.hashFuncs, "encode");
    w.varBytes(msg.filter);
    w.u32(msg.hashFuncs);
    w.u32(msg.tweak);
    w.u8(msg.flags);
  },
};
