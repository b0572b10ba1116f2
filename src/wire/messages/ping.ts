/**
 * `ping` and `pong`: keep-alive messages with a nonce (BIP 31).
 *
 * @module
 */
import { type MessageCodec, pverTooLow } from "../codec.ts";
import { BIP0031_VERSION } from "../protocol.ts";

/**
 * `ping`: asks the remote to answer with a `pong` carrying the same nonce.
 * The nonce exists on the wire only above protocol version 60000; below,
 * it decodes as `0n` and is not written.
 */
export interface PingMessage {
  /** The command. */
  command: "ping";
  /** A random 64-bit nonce. */
  nonce: bigint;
}

/** `pong`: the answer to a `ping`, echoing its nonce. Exists above pver 60000. */
export interface PongMessage {
  /** The command. */
  command: "pong";
  /** The nonce of the `ping` being answered. */
  nonce: bigint;
}

/** Codec of `ping`. */
export const pingCodec: MessageCodec<PingMessage> = {
  command: "ping",
  maxPayloadLength: (pver) => (pver > BIP0031_VERSION ? 8 : 0),
  decode: (r, pver) => ({
    command: "ping",
    nonce: pver > BIP0031_VERSION ? r.u64() : 0n,
  }),
  encode(w, msg, pver) {
    if (pver > BIP0031_VERSION) w.u64(msg.nonce);
  },
};

/** Codec of `pong`. */
export const pongCodec: MessageCodec<PongMessage> = {
  command: "pong",
  maxPayloadLength: (pver) => (pver > BIP0031_VERSION ? 8 : 0),
  decode(r, pver) {
    if (pver <= BIP0031_VERSION) pverTooLow("pong", pver, "decode");
    return { command: "pong", nonce: r.u64() };
  },
  encode(w, msg, pver) {
    if (pver <= BIP0031_VERSION) pverTooLow("pong", pver, "encode");
    w.u64(msg.nonce);
  },
};
