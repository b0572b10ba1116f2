// `deno bench` on message parsing: decode and encode of typical messages,
// the stream decoder over a mixed stream, and the checksum alone, each group
// with a Uint8Array copy of the same bytes as its baseline.
import { decodePayload, encodePayload, FrameDecoder, jsHasher, type Message, SIMNET } from "../mod.ts";
import { nativeHasher } from "../src/adapters/native_hash.ts";
import { makeMixedStream, randomChunks, sampleMessages } from "./fixtures.ts";

const samples = sampleMessages() as Record<string, Message>;
for (const [name, msg] of Object.entries(samples)) {
  const payload = encodePayload(msg);
  const group = `${name} (${payload.length} bytes)`;
  Deno.bench({ name: `copy ${name}`, group, baseline: true }, () => {
    new Uint8Array(payload.length).set(payload);
  });
  Deno.bench({ name: `decode ${name}`, group }, () => {
    decodePayload(msg.command, payload);
  });
  Deno.bench({ name: `encode ${name}`, group }, () => {
    encodePayload(msg);
  });
  if (msg.command === "block") {
    // A block's transactions are built on first access, and copied as bytes
    // when a decoded block is encoded before they are read.
    Deno.bench({ name: `decode ${name} and read its transactions`, group }, () => {
      decodePayload("block", payload).transactions;
    });
    const untouched = decodePayload("block", payload);
    Deno.bench({ name: `re-encode a decoded ${name}, transactions unread`, group }, () => {
      encodePayload(untouched);
    });
  }
}

const stream = makeMixedStream();
const chunks = randomChunks(stream);
const group = `mixed stream (${stream.length} bytes, ${chunks.length} chunks)`;
Deno.bench({ name: "copy stream", group, baseline: true }, () => {
  new Uint8Array(stream.length).set(stream);
});
Deno.bench({ name: "native double SHA-256 of the stream", group }, () => {
  nativeHasher.doubleSha256(stream);
});
for (const [name, hasher] of [["native", nativeHasher], ["plain JS", jsHasher]] as const) {
  Deno.bench({ name: `stream decode, ${name} checksums`, group }, () => {
    const dec = new FrameDecoder({ magic: SIMNET.magic, hasher });
    for (const c of chunks) {
      dec.push(c);
      while (dec.next() !== undefined) { /* count */ }
    }
    dec.end();
  });
}

const header = encodePayload(samples.headers!).subarray(1, 81);
Deno.bench({ name: "checksum of an 80-byte header, plain JS", group: "checksum" }, () => {
  jsHasher.doubleSha256(header);
});
Deno.bench({ name: "checksum of an 80-byte header, native hasher", group: "checksum" }, () => {
  nativeHasher.doubleSha256(header);
});
