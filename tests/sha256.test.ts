import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { doubleSha256, hashFromHex, hashToHex, sha256, toHex } from "../mod.ts";

const enc = new TextEncoder();

describe("sha256", () => {
  it("matches the FIPS 180-2 examples", () => {
    assert.equal(toHex(sha256(enc.encode(""))), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    assert.equal(toHex(sha256(enc.encode("abc"))), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assert.equal(
      toHex(sha256(enc.encode("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"))),
      "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
    );
  });

  it("hashes a million 'a's", () => {
    assert.equal(
      toHex(sha256(new Uint8Array(1_000_000).fill(0x61))),
      "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0",
    );
  });

  it("gives the same digest at every padding boundary whatever the view offset", () => {
    const base = new Uint8Array(200).map((_, i) => (i * 7) & 0xff);
    for (const len of [55, 56, 63, 64, 65, 119, 120, 128]) {
      const a = sha256(base.slice(3, 3 + len));
      const b = sha256(base.subarray(3, 3 + len));
      assert.deepEqual(a, b, `length ${len}`);
    }
  });

  it("double-hashes as sha256(sha256(x))", () => {
    const data = enc.encode("hello");
    assert.deepEqual(doubleSha256(data), sha256(sha256(data)));
    assert.equal(toHex(doubleSha256(data)), "9595c9df90075148eb06860365df33584b75bff782a510c6cd4883a419833d50");
  });
});

describe("hash display order", () => {
  it("prints hashes byte-reversed as soterd's chainhash does", () => {
    const h = new Uint8Array(32);
    h[0] = 0x01;
    h[31] = 0xab;
    assert.equal(hashToHex(h), "ab" + "00".repeat(30) + "01");
    assert.deepEqual(hashFromHex(hashToHex(h)), h);
  });
});
