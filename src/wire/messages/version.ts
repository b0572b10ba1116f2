/**
 * `version`: the first message of a connection, advertising the sender's
 * protocol version, services, addresses, user agent and (soter) genesis
 * block.
 *
 * @module
 */
import type { MessageCodec } from "../codec.ts";
import { MessageError } from "../errors.ts";
import { maxNetAddressPayload, type NetAddress, readNetAddress, writeNetAddress } from "../netaddress.ts";
import { BIP0037_VERSION, MAX_MESSAGE_PAYLOAD } from "../protocol.ts";
import { MAX_USER_AGENT_LENGTH, userAgentByteLength } from "../useragent.ts";

// Keep a leading byte order mark: it is part of the string soterd sees.
const textDecoder = new TextDecoder("utf-8", { ignoreBOM: true });

/**
 * `version`: sent by each side before anything else. Wire order: pver,
 * services, timestamp, `addrYou`, `addrMe`, nonce, user agent, genesis
 * hash, last block, relay flag.
 *
 * Decoding accepts a payload that ends after `addrYou`, or after any later
 * field: the missing fields take their zero values (an absent `addrMe` has
 * an empty `ip`, services `0n` and port 0; an absent genesis hash is 32
 * zero bytes; an absent relay flag means relay, `disableRelayTx: false`).
 */
export interface VersionMessage {
  /** The command. */
  command: "version";
  /** The sender's protocol version (int32). */
  protocolVersion: number;
  /** The sender's service bits (uint64). */
  services: bigint;
  /** When the message was made, in unix seconds (int64). */
  timestamp: bigint;
  /** The receiver's address as the sender sees it (no timestamp). */
  addrYou: NetAddress;
  /** The sender's own address (no timestamp); soterd sends all zeros. */
  addrMe: NetAddress;
  /** A random nonce that detects connections to oneself (uint64). */
  nonce: bigint;
  /** The sender's user agent, at most 256 UTF-8 bytes. */
  userAgent: string;
  /** The hash of the sender's genesis block, 32 bytes in wire order. */
  genesisHash: Uint8Array;
  /** The sender's last block height (int32). */
  lastBlock: number;
  /**
   * Whether the sender asks not to be sent transactions (BIP 37). On the
   * wire as the inverted relay flag, written from protocol version 70001.
   */
  disableRelayTx: boolean;
}

function tooLong(direction: "decode" | "encode", n: number): never {
  throw new MessageError(
    "user-agent-too-long",
    `Cannot ${direction} version: user agent is ${n} bytes, more than the ${MAX_USER_AGENT_LENGTH} allowed`,
    { command: "version" },
  );
}

/**
 * Codec of `version`.
 *
 * The decoder reads the fields after `addrYou` only while bytes remain in
 * the reader, whatever `pver` says, so the reader must end where the
 * payload ends. A relay byte is read even below protocol version 70001, and
 * any non-zero value means relay. The user agent may be up to 32 MiB on the
 * wire but more than 256 bytes fails with `user-agent-too-long` once read.
 * Bytes after the relay flag are ignored.
 *
 * The maximum payload is soterd's `33 + 2 * maxNetAddressPayload(pver) + 9 +
 * 256` (358 from pver 31402, 350 below), which does not count the genesis
 * hash: a user agent longer than 240 bytes encodes but does not fit a
 * frame.
 */
export const versionCodec: MessageCodec<VersionMessage> = {
  command: "version",
  maxPayloadLength: (pver) => 33 + 2 * maxNetAddressPayload(pver) + 9 + MAX_USER_AGENT_LENGTH,
  decode(r, pver) {
    const protocolVersion = r.i32();
    const services = r.u64();
    const timestamp = r.i64();
    const addrYou = readNetAddress(r, pver, false);
    const addrMe = r.remaining > 0
      ? readNetAddress(r, pver, false)
      : { timestamp: 0, services: 0n, ip: new Uint8Array(0), port: 0 };
    const nonce = r.remaining > 0 ? r.u64() : 0n;
    let userAgent = "";
    if (r.remaining > 0) {
      const ua = r.varBytes(MAX_MESSAGE_PAYLOAD, "user agent");
      if (ua.length > MAX_USER_AGENT_LENGTH) tooLong("decode", ua.length);
      userAgent = textDecoder.decode(ua);
    }
    const genesisHash = r.remaining > 0 ? r.hash() : new Uint8Array(32);
    const lastBlock = r.remaining > 0 ? r.i32() : 0;
    const disableRelayTx = r.remaining > 0 ? r.u8() === 0 : false;
    return {
      command: "version",
      protocolVersion,
      services,
      timestamp,
      addrYou,
      addrMe,
      nonce,
      userAgent,
      genesisHash,
      lastBlock,
      disableRelayTx,
    };
  },
  encode(w, msg, pver) {
    const n = userAgentByteLength(msg.userAgent);
    if (n > MAX_USER_AGENT_LENGTH) tooLong("encode", n);
    w.i32(msg.protocolVersion);
    w.u64(msg.services);
    w.i64(msg.timestamp);
    writeNetAddress(w, msg.addrYou, pver, false);
    writeNetAddress(w, msg.addrMe, pver, false);
    w.u64(msg.nonce);
    w.varString(msg.userAgent);
    w.hash(msg.genesisHash, "genesisHash");
    w.i32(msg.lastBlock);
    if (pver >= BIP0037_VERSION) w.bool(!msg.disableRelayTx);
  },
};
