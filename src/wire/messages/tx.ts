/**
 * `tx`: one transaction.
 *
 * @module
 */
import type { MessageCodec } from "../codec.ts";
import { readTx, type Tx, writeTx } from "../tx.ts";
import { MAX_BLOCK_PAYLOAD } from "./block.ts";

/**
 * `tx`: a transaction, sent in answer to `getdata` or relayed. Witness data
 * travels only with the `"witness"` encoding.
 */
export interface TxMessage extends Tx {
  /** The command. */
  command: "tx";
}

/** Codec of `tx`. Its payload limit is soterd's `MaxBlockPayload`. */
export const txCodec: MessageCodec<TxMessage> = {
  command: "tx",
  maxPayloadLength: () => MAX_BLOCK_PAYLOAD,
  decode(r, _pver, encoding) {
    const tx = readTx(r, encoding);
    return {
      command: "tx",
      version: tx.version,
      txIn: tx.txIn,
      txOut: tx.txOut,
      lockTime: tx.lockTime,
    };
  },
  encode(w, msg, _pver, encoding) {
    writeTx(w, msg, encoding);
  },
};
