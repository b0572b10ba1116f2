import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  addUserAgent,
  DEFAULT_USER_AGENT,
  formatSemVer,
  MAX_USER_AGENT_LENGTH,
  parseSemVer,
  parseUserAgentSemVers,
  type SemVer,
  userAgentByteLength,
  userAgentToSemVer,
} from "../src/wire/useragent.ts";
import { isKind } from "./_util.ts";

function v(major: number, minor: number, patch: number, pre: string[] = [], build: string[] = []): SemVer {
  return { major, minor, patch, pre, build };
}

describe("user agent constants", () => {
  it("match soterd", () => {
    assert.equal(DEFAULT_USER_AGENT, "/soterwire:0.6.0/");
    assert.equal(MAX_USER_AGENT_LENGTH, 256);
  });
});

describe("userAgentByteLength", () => {
  it("counts UTF-8 bytes as TextEncoder writes them", () => {
    const enc = new TextEncoder();
    for (const s of ["", "abc", "é", "Sötér", "日本", "😀", "a😀b", "\ud800", "\udc00x", "\ud800\ud800"]) {
      assert.equal(userAgentByteLength(s), enc.encode(s).length, JSON.stringify(s));
    }
  });
});

describe("addUserAgent", () => {
  it("appends name:version(comments)/ as soterd does", () => {
    let ua = addUserAgent(DEFAULT_USER_AGENT, "myclient", "1.2.3", ["optional", "comments"]);
    assert.equal(ua, "/soterwire:0.6.0/myclient:1.2.3(optional; comments)/");
    ua = addUserAgent(ua, "mygui", "3.4.5");
    assert.equal(ua, "/soterwire:0.6.0/myclient:1.2.3(optional; comments)/mygui:3.4.5/");
  });

  it("writes parentheses for any comment, even an empty one", () => {
    assert.equal(addUserAgent("/", "a", "1", [""]), "/a:1()/");
    assert.equal(addUserAgent("/", "a", "1", []), "/a:1/");
  });

  it("accepts exactly 256 bytes and refuses 257", () => {
    // base + name + ":" + "" + "/" = 256 bytes.
    const room = MAX_USER_AGENT_LENGTH - DEFAULT_USER_AGENT.length - 2;
    const ua = addUserAgent(DEFAULT_USER_AGENT, "t".repeat(room), "");
    assert.equal(ua.length, 256);
    assert.throws(
      () => addUserAgent(DEFAULT_USER_AGENT, "t".repeat(room + 1), ""),
      isKind("user-agent-too-long"),
    );
  });

  it("counts bytes, not characters", () => {
    // "/" + name + ":" + "/" with a 253-byte name is 256 bytes.
    const ua = addUserAgent("/", "é".repeat(126) + "a", "");
    assert.equal(ua.length, 130);
    assert.equal(userAgentByteLength(ua), 256);
    assert.throws(
      () => addUserAgent("/", "é".repeat(127), ""), // 130 characters, 257 bytes
      isKind("user-agent-too-long"),
    );
  });
});

describe("parseSemVer", () => {
  const valid: Array<[string, SemVer]> = [
    ["0.0.0", v(0, 0, 0)],
    ["1.2.3", v(1, 2, 3)],
    ["4.2.0", v(4, 2, 0)],
    ["10.20.30", v(10, 20, 30)],
    ["1.2.3-rc.1", v(1, 2, 3, ["rc", "1"])],
    ["1.2.3-0", v(1, 2, 3, ["0"])],
    ["1.2.3-0a.x-y", v(1, 2, 3, ["0a", "x-y"])],
    ["1.2.3+build.5", v(1, 2, 3, [], ["build", "5"])],
    ["1.2.3+001", v(1, 2, 3, [], ["001"])], // leading zeros are fine in build metadata
    ["1.2.3-rc+b-c", v(1, 2, 3, ["rc"], ["b-c"])],
    ["1.2.3-a-b+c", v(1, 2, 3, ["a-b"], ["c"])],
    ["18446744073709551615.0.0", v(18446744073709551615, 0, 0)],
    ["1.2.3-18446744073709551615", v(1, 2, 3, ["18446744073709551615"])],
  ];
  for (const [text, want] of valid) {
    it(`parses ${text}`, () => assert.deepEqual(parseSemVer(text), want));
  }

  const invalid = [
    "",
    "1",
    "1.2",
    "1.2.3.4",
    "01.2.3",
    "1.02.3",
    "1.2.03",
    "00.0.0",
    "1..3",
    ".1.2",
    "1.2.",
    "1.2.x",
    "v1.2.3",
    " 1.2.3",
    "1.2.3 ",
    "-1.2.3",
    "1.2.3-",
    "1.2.3-01",
    "1.2.3-a..b",
    "1.2.3-a_b",
    "1.2.3-+b",
    "1.2.3+",
    "1.2.3+b+c",
    "1.2.3+b..c",
    "1.2.3-é",
    "18446744073709551616.0.0",
    "1.18446744073709551616.0",
    "1.2.99999999999999999999",
    "1.2.3-18446744073709551616",
  ];
  for (const text of invalid) {
    it(`rejects ${JSON.stringify(text)}`, () => assert.equal(parseSemVer(text), null));
  }
});

describe("formatSemVer", () => {
  it("writes MAJOR.MINOR.PATCH[-pre][+build]", () => {
    for (const text of ["0.6.0", "4.2.0-rc.1", "1.2.3+b.5", "1.2.3-a-b.0+c"]) {
      assert.equal(formatSemVer(parseSemVer(text)!), text);
    }
  });
});

describe("userAgentToSemVer", () => {
  it("splits name and version at the first colon", () => {
    assert.deepEqual(userAgentToSemVer("soterd:4.2.0"), { name: "soterd", version: v(4, 2, 0) });
  });
  it("ignores comments from the first parenthesis", () => {
    assert.deepEqual(userAgentToSemVer("soterd:0.6.0(linux; amd64)"), { name: "soterd", version: v(0, 6, 0) });
    assert.deepEqual(userAgentToSemVer("x:1.0.0(("), { name: "x", version: v(1, 0, 0) });
  });
  it("treats an entry without a colon as a bare version", () => {
    assert.deepEqual(userAgentToSemVer("1.2.3"), { name: "", version: v(1, 2, 3) });
    assert.equal(userAgentToSemVer("1.2.3(x)"), null); // the parenthesis only counts after a colon
  });
  it("returns null when the version does not parse", () => {
    assert.equal(userAgentToSemVer("soterd:4.2"), null);
    assert.equal(userAgentToSemVer("a:b:1.2.3"), null);
    assert.equal(userAgentToSemVer("soterd:"), null);
    assert.equal(userAgentToSemVer(""), null);
    assert.equal(userAgentToSemVer("Sötér:1.0(ünïcode)"), null);
  });
});

describe("parseUserAgentSemVers", () => {
  it("reads every name:version entry", () => {
    const vers = parseUserAgentSemVers("/soterwire:0.6.0/soterd:4.2.0(linux; amd64)/");
    assert.deepEqual([...vers], [["soterwire", v(0, 6, 0)], ["soterd", v(4, 2, 0)]]);
  });
  it("skips entries that do not parse", () => {
    const vers = parseUserAgentSemVers("/btcwire:0.5.0/btcd:0.12/junk//soterd:4.2.0-beta/");
    assert.deepEqual([...vers], [["btcwire", v(0, 5, 0)], ["soterd", v(4, 2, 0, ["beta"])]]);
  });
  it("lets a later entry replace an earlier one of the same name", () => {
    const vers = parseUserAgentSemVers("/soterd:1.0.0/soterd:4.0.0/");
    assert.equal(vers.size, 1);
    assert.deepEqual(vers.get("soterd"), v(4, 0, 0));
  });
  it("reads the default user agent and the empty string", () => {
    assert.deepEqual([...parseUserAgentSemVers(DEFAULT_USER_AGENT)], [["soterwire", v(0, 6, 0)]]);
    assert.equal(parseUserAgentSemVers("").size, 0);
    assert.deepEqual([...parseUserAgentSemVers("1.0.0")], [["", v(1, 0, 0)]]);
  });
});
