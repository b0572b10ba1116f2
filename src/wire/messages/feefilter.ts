/**
 * `feefilter`: the minimum fee rate for relayed transactions (BIP 133).
 *
 * @module
 */
import { type MessageCodec, pverTooLow } from "../codec.ts";
import { FEE_FILTER_VERSION } from "../protocol.ts";

/** `feefilter`: do not announce transactions below this fee rate. Exists from pver 70013. */
export interface FeeFilterMessage {
  /** The command. */
  command: "feefilter";
  /** Minimum fee in atoms per kilobyte (int64). */
  minFee: bigint;
}

/** Codec of `feefilter`. */
export const feefilterCodec: MessageCodec<FeeFilterMessage> = {
  command: "feefilter",
  maxPayloadLength: () => 8,
  decode(r, pver) {
    if (pver < FEE_FILTER_VERSION) pverTooLow("feefilter", pver, "decode");
    return { command: "feefilter", minFee: r.i64() };
  },
  encode(w, msg, pver) {
    if (pver < FEE_FILTER_VERSION) pverTooLow("feefilter", pver, "encode");
    w.i64(msg.minFee);
  },
};
