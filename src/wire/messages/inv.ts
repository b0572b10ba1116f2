/**
 * `inv`, `getdata` and `notfound`: lists of inventory vectors.
 *
 * @module
 */
import { type MessageCodec, tooManyToEncode } from "../codec.ts";
import {
  INV_VECT_SIZE,
  type InvVect,
  MAX_INV_PER_MSG,
  MAX_INV_VECT_PAYLOAD,
  readInvVect,
  writeInvVect,
} from "../invvect.ts";

/** `inv`: announces blocks and transactions. */
export interface InvMessage {
  /** The command. */
  command: "inv";
  /** The announced objects, at most 50,000. */
  invList: InvVect[];
}
/** `getdata`: requests blocks and transactions. */
export interface GetDataMessage {
  /** The command. */
  command: "getdata";
  /** The requested objects, at most 50,000. */
  invList: InvVect[];
}
/** `notfound`: the requested objects the remote does not have. */
export interface NotFoundMessage {
  /** The command. */
  command: "notfound";
  /** The objects not found, at most 50,000. */
  invList: InvVect[];
}

type InvFamily = InvMessage | GetDataMessage | NotFoundMessage;

function invListCodec<M extends InvFamily>(command: M["command"]): MessageCodec<M> {
  return {
    command,
    // soterd's limit still counts 36 bytes an entry although they are 40.
    maxPayloadLength: () => 9 + MAX_INV_PER_MSG * MAX_INV_VECT_PAYLOAD,
    decode(r) {
      const n = r.count(MAX_INV_PER_MSG, "inventory");
      // An array of its exact size when the bytes for all entries are there
      // (then a forged count cannot make it allocate more than the input).
      const invList: InvVect[] = n * INV_VECT_SIZE <= r.remaining ? new Array(n) : [];
      for (let i = 0; i < n; i++) invList[i] = readInvVect(r);
      return { command, invList } as M;
    },
    encode(w, msg) {
      const list = msg.invList;
      if (list.length > MAX_INV_PER_MSG) {
        tooManyToEncode(command, "inventory", list.length, MAX_INV_PER_MSG);
      }
      w.varInt(list.length);
      w.ensure(list.length * 40);
      for (let i = 0; i < list.length; i++) writeInvVect(w, list[i]!);
    },
  };
}

/** Codec of `inv`. */
export const invCodec: MessageCodec<InvMessage> = invListCodec("inv");
/** Codec of `getdata`. */
export const getdataCodec: MessageCodec<GetDataMessage> = invListCodec("getdata");
/** Codec of `notfound`. */
export const notfoundCodec: MessageCodec<NotFoundMessage> = invListCodec("notfound");
