/**
 * The exact bytes a decoded block came in. The decoder leaves the byte
 * fields of a message as views into the payload it read (see
 * `DecodedFrame.payload`), so a block from `Peer.messages()` still points
 * at its bytes: the header's `prevBlock` starts 4 bytes into them.
 *
 * @module
 */
import { encodePayload } from "../wire/frame.ts";
import { type BlockMessage, blockSerializeSize } from "../wire/messages/block.ts";
import { PROTOCOL_VERSION } from "../wire/protocol.ts";

/**
 * The payload `block` was decoded from, without a copy when its fields are
 * views into it (checked: the header fields must read back from the
 * bytes), else its encoding (the same bytes: soter's encoding is
 * canonical, and the decoder refuses non-canonical input).
 *
 * @param block A decoded block.
 * @returns Its payload bytes.
 */
export function blockPayload(block: BlockMessage): Uint8Array {
  const pb = block.header.prevBlock;
  const start = pb.byteOffset - 4;
  const size = blockSerializeSize(block, "witness");
  if (start >= 0 && start + size <= pb.buffer.byteLength) {
    const bytes = new Uint8Array(pb.buffer, start, size);
    const view = new DataView(pb.buffer, start, 80);
    const mr = block.header.merkleRoot;
    if (
      mr.buffer === pb.buffer && mr.byteOffset === start + 36 &&
      view.getInt32(0, true) === block.header.version &&
      view.getUint32(68, true) === block.header.timestamp &&
      view.getUint32(72, true) === block.header.bits &&
      view.getUint32(76, true) === block.header.nonce
    ) {
      return bytes;
    }
  }
  return encodePayload(block, PROTOCOL_VERSION, "witness");
}
