/**
 * `addrcache`: the sender's address cache in three lists (soter only), the
 * answer to `getaddrcache`.
 *
 * @module
 */
import { type MessageCodec, tooManyToEncode } from "../codec.ts";
import { MessageError } from "../errors.ts";
import { maxNetAddressPayload, type NetAddress, readNetAddress, writeNetAddress } from "../netaddress.ts";
import type { Reader } from "../reader.ts";
import type { Writer } from "../writer.ts";
import { MAX_ADDR_PER_MSG } from "./addr.ts";

/**
 * `addrcache`: the addresses of the sender's inbound and outbound peers and
 * the other addresses it knows, at most 1000 in all three lists together.
 */
export interface AddrCacheMessage {
  /** The command. */
  command: "addrcache";
  /** Addresses of peers connected to the sender. */
  inbound: NetAddress[];
  /** Addresses of peers the sender connected to. */
  outbound: NetAddress[];
  /** Other addresses the sender knows. */
  known: NetAddress[];
}

/** Reads one varint-counted list, keeping the three lists within 1000. */
function readList(
  r: Reader,
  pver: number,
  total: number,
  field: string,
): NetAddress[] {
  const n = r.varInt();
  if (total + n > MAX_ADDR_PER_MSG) {
    throw new MessageError(
      "too-many-entries",
      `Cannot decode addrcache: ${field} address count ${n} brings the total to ${
        total + n
      }, more than ${MAX_ADDR_PER_MSG}`,
      { command: "addrcache" },
    );
  }
  const list: NetAddress[] = [];
  for (let i = 0; i < n; i++) list.push(readNetAddress(r, pver, true));
  return list;
}

function writeList(w: Writer, list: NetAddress[], pver: number): void {
  w.varInt(list.length);
  for (let i = 0; i < list.length; i++) {
    writeNetAddress(w, list[i]!, pver, true);
  }
}

/**
 * Codec of `addrcache`: three lists, each a varint count and timestamped
 * addresses, 1000 addresses at most in total.
 */
export const addrcacheCodec: MessageCodec<AddrCacheMessage> = {
  command: "addrcache",
  maxPayloadLength: (pver) => 3 * 9 + MAX_ADDR_PER_MSG * maxNetAddressPayload(pver),
  decode(r, pver) {
    const inbound = readList(r, pver, 0, "inbound");
    const outbound = readList(r, pver, inbound.length, "outbound");
    const known = readList(r, pver, inbound.length + outbound.length, "known");
    return { command: "addrcache", inbound, outbound, known };
  },
  encode(w, msg, pver) {
    const total = msg.inbound.length + msg.outbound.length + msg.known.length;
    if (total > MAX_ADDR_PER_MSG) {
      tooManyToEncode("addrcache", "address", total, MAX_ADDR_PER_MSG);
    }
    w.ensure(3 + total * maxNetAddressPayload(pver));
    writeList(w, msg.inbound, pver);
    writeList(w, msg.outbound, pver);
    writeList(w, msg.known, pver);
  },
};
