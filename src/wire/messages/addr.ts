/**
 * `addr`: a list of known peer addresses.
 *
 * @module
 */
import { type MessageCodec, tooManyToEncode } from "../codec.ts";
import { MessageError } from "../errors.ts";
import { maxNetAddressPayload, type NetAddress, readNetAddress, writeNetAddress } from "../netaddress.ts";
import { MULTIPLE_ADDRESS_VERSION } from "../protocol.ts";

/** The largest number of addresses in one `addr` (and in one `addrcache`). */
export const MAX_ADDR_PER_MSG = 1000;

/**
 * `addr`: addresses of peers the sender knows, each with the time it was
 * last seen (from protocol version 31402).
 */
export interface AddrMessage {
  /** The command. */
  command: "addr";
  /**
   * The addresses, at most 1000 (at most 1 to encode below protocol
   * version 209).
   */
  addrList: NetAddress[];
}

/**
 * Codec of `addr`.
 *
 * As in soterd, the decoder allows up to 1000 addresses at every protocol
 * version, while the encoder refuses more than one below protocol version
 * 209 (`MultipleAddressVersion`); the maximum payload there leaves room for
 * one address only.
 */
export const addrCodec: MessageCodec<AddrMessage> = {
  command: "addr",
  maxPayloadLength: (pver) =>
    9 +
    (pver < MULTIPLE_ADDRESS_VERSION ? 1 : MAX_ADDR_PER_MSG) *
      maxNetAddressPayload(pver),
  decode(r, pver) {
    const n = r.count(MAX_ADDR_PER_MSG, "address");
    // An array of its exact size when the bytes for all addresses are there
    // (then a forged count cannot make it allocate more than the input).
    const addrList: NetAddress[] = n * maxNetAddressPayload(pver) <= r.remaining ? new Array(n) : [];
    for (let i = 0; i < n; i++) addrList[i] = readNetAddress(r, pver, true);
    return { command: "addr", addrList };
  },
  encode(w, msg, pver) {
    const list = msg.addrList;
    if (pver < MULTIPLE_ADDRESS_VERSION && list.length > 1) {
      throw new MessageError(
        "too-many-entries",
        `Cannot encode addr: address count ${list.length} exceeds 1 at protocol version ${pver}`,
        { command: "addr" },
      );
    }
    if (list.length > MAX_ADDR_PER_MSG) {
      tooManyToEncode("addr", "address", list.length, MAX_ADDR_PER_MSG);
    }
    w.varInt(list.length);
    w.ensure(list.length * maxNetAddressPayload(pver));
    for (let i = 0; i < list.length; i++) {
      writeNetAddress(w, list[i]!, pver, true);
    }
  },
};
