/**
 * User agents of the `version` message (`/soterwire:0.6.0/soterd:4.2.0/`)
 * and the name/semantic-version pairs soterd reads from them.
 *
 * @example Reading the versions in a user agent
 * ```ts
 * import { parseUserAgentSemVers } from "@soter/peer";
 * const vers = parseUserAgentSemVers("/soterwire:0.6.0/soterd:4.2.0(linux)/");
 * console.log(vers.get("soterd")?.major); // 4
 * ```
 *
 * @module
 */
import { MessageError } from "./errors.ts";

/** The user agent soterd's `wire` package puts in `version` messages. */
export const DEFAULT_USER_AGENT = "/soterwire:0.6.0/";

/** The longest user agent allowed, in UTF-8 bytes (soterd's `MaxUserAgentLen`). */
export const MAX_USER_AGENT_LENGTH = 256;

/**
 * A semantic version as soterd parses it (blang/semver 3): numeric major,
 * minor and patch, dot-separated pre-release and build identifiers.
 */
export interface SemVer {
  /**
   * The major version. soterd accepts any uint64; values above 2^53 lose
   * precision here.
   */
  major: number;
  /** The minor version (same range as `major`). */
  minor: number;
  /** The patch version (same range as `major`). */
  patch: number;
  /** Pre-release identifiers (after `-`), numeric ones in decimal. */
  pre: string[];
  /** Build metadata identifiers (after `+`). */
  build: string[];
}

/**
 * Counts the UTF-8 bytes of a string, which is what soterd's user agent
 * limit measures. Lone surrogates count 3 bytes, as `TextEncoder` writes
 * them.
 *
 * @param s The string.
 * @returns Its length in UTF-8 bytes.
 *
 * @example
 * ```ts
 * import { userAgentByteLength } from "@soter/peer";
 * console.log(userAgentByteLength("/Sötér:1.0/")); // 13
 * ```
 */
export function userAgentByteLength(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n += 4;
        i++;
      } else {
        n += 3;
      }
    } else n += 3;
  }
  return n;
}

/**
 * Appends `name:version(comments)/` to a user agent, as soterd's
 * `MsgVersion.AddUserAgent` does. The comments are joined with `"; "` and
 * the parentheses appear whenever at least one comment is given.
 *
 * @param base The user agent so far, e.g. {@linkcode DEFAULT_USER_AGENT}.
 * @param name The software's name.
 * @param version Its version, preferably `major.minor.patch`.
 * @param comments Optional comments.
 * @returns The longer user agent.
 * @throws {MessageError} `user-agent-too-long` when the result exceeds
 *   {@linkcode MAX_USER_AGENT_LENGTH} bytes.
 *
 * @example
 * ```ts
 * import { addUserAgent, DEFAULT_USER_AGENT } from "@soter/peer";
 * console.log(addUserAgent(DEFAULT_USER_AGENT, "soter-peer", "0.1.0", ["deno"]));
 * // "/soterwire:0.6.0/soter-peer:0.1.0(deno)/"
 * ```
 */
export function addUserAgent(
  base: string,
  name: string,
  version: string,
  comments: readonly string[] = [],
): string {
  let entry = `${name}:${version}`;
  if (comments.length !== 0) entry += `(${comments.join("; ")})`;
  const ua = `${base}${entry}/`;
  const n = userAgentByteLength(ua);
  if (n > MAX_USER_AGENT_LENGTH) {
    throw new MessageError(
      "user-agent-too-long",
      `Cannot add user agent: the result is ${n} bytes, more than the ${MAX_USER_AGENT_LENGTH} allowed`,
      { command: "version" },
    );
  }
  return ua;
}

/** ASCII digits only (the empty string passes, as in blang/semver). */
function allDigits(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}

/** ASCII letters, digits and `-` only (the empty string passes). */
function allAlphanum(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (
      !((c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) ||
        (c >= 0x61 && c <= 0x7a) || c === 0x2d)
    ) return false;
  }
  return true;
}

const U64_MAX_TEXT = "18446744073709551615";

/** Whether a string of digits is a uint64 that Go's `strconv.ParseUint` accepts. */
function isU64(digits: string): boolean {
  if (digits.length === 0 || digits.length > U64_MAX_TEXT.length) return false;
  return digits.length < U64_MAX_TEXT.length || digits <= U64_MAX_TEXT;
}

/** A numeric part: digits, no leading zero, fits uint64. */
function numericPart(s: string): number {
  if (
    !allDigits(s) || (s.length > 1 && s.charCodeAt(0) === 0x30) || !isU64(s)
  ) {
    return -1;
  }
  return Number(s);
}

/**
 * Parses a semantic version with blang/semver's strict `Parse` rules, which
 * soterd uses on user agents: `MAJOR.MINOR.PATCH`, then optionally
 * `-pre.release` and `+build.meta`. Numeric parts have no leading zeros and
 * fit in a uint64; numeric pre-release identifiers likewise; other
 * identifiers are non-empty and use only `[0-9A-Za-z-]`.
 *
 * @param s The version text, e.g. `4.2.0` or `1.0.0-rc.1+build.5`.
 * @returns The version, or `null` when `s` is not a valid version.
 *
 * @example
 * ```ts
 * import { parseSemVer } from "@soter/peer";
 * console.log(parseSemVer("1.2.3-rc.1")); // { major: 1, minor: 2, patch: 3, pre: [ "rc", "1" ], build: [] }
 * console.log(parseSemVer("1.02.3")); // null
 * ```
 */
export function parseSemVer(s: string): SemVer | null {
  const dot1 = s.indexOf(".");
  if (dot1 < 0) return null;
  const dot2 = s.indexOf(".", dot1 + 1);
  if (dot2 < 0) return null;
  const major = numericPart(s.slice(0, dot1));
  const minor = numericPart(s.slice(dot1 + 1, dot2));
  if (major < 0 || minor < 0) return null;

  let patchText = s.slice(dot2 + 1);
  let build: string[] = [];
  let pre: string[] = [];
  const plus = patchText.indexOf("+");
  if (plus >= 0) {
    build = patchText.slice(plus + 1).split(".");
    patchText = patchText.slice(0, plus);
  }
  const dash = patchText.indexOf("-");
  if (dash >= 0) {
    pre = patchText.slice(dash + 1).split(".");
    patchText = patchText.slice(0, dash);
  }
  const patch = numericPart(patchText);
  if (patch < 0) return null;

  for (const id of pre) {
    if (id.length === 0) return null;
    if (allDigits(id)) {
      if ((id.length > 1 && id.charCodeAt(0) === 0x30) || !isU64(id)) {
        return null;
      }
    } else if (!allAlphanum(id)) {
      return null;
    }
  }
  for (const id of build) {
    if (id.length === 0 || !allAlphanum(id)) return null;
  }
  return { major, minor, patch, pre, build };
}

/**
 * Formats a semantic version as `MAJOR.MINOR.PATCH[-pre][+build]`.
 *
 * @param v The version.
 * @returns Its text.
 *
 * @example
 * ```ts
 * import { formatSemVer } from "@soter/peer";
 * console.log(formatSemVer({ major: 4, minor: 2, patch: 0, pre: ["rc", "1"], build: [] })); // "4.2.0-rc.1"
 * ```
 */
export function formatSemVer(v: SemVer): string {
  let s = `${v.major}.${v.minor}.${v.patch}`;
  if (v.pre.length > 0) s += "-" + v.pre.join(".");
  if (v.build.length > 0) s += "+" + v.build.join(".");
  return s;
}

/**
 * Splits one user agent entry `name:version(comments)` into its name and
 * semantic version, as soterd's `UserAgentToSemVer`. Without a `:`, the
 * whole entry is the version and the name is `""`; everything from the
 * first `(` after the `:` is ignored.
 *
 * @param ua One entry, without slashes, e.g. `soterd:4.2.0(linux)`.
 * @returns The name and version, or `null` when the version is not a valid
 *   semantic version.
 *
 * @example
 * ```ts
 * import { userAgentToSemVer } from "@soter/peer";
 * console.log(userAgentToSemVer("soterd:4.2.0")?.version.major); // 4
 * console.log(userAgentToSemVer("soterd:4.2")); // null
 * ```
 */
export function userAgentToSemVer(
  ua: string,
): { name: string; version: SemVer } | null {
  let name = "";
  let ver = ua;
  const colon = ua.indexOf(":");
  if (colon >= 0) {
    name = ua.slice(0, colon);
    ver = ua.slice(colon + 1);
    const paren = ver.indexOf("(");
    if (paren >= 0) ver = ver.slice(0, paren);
  }
  const version = parseSemVer(ver);
  return version === null ? null : { name, version };
}

/**
 * Reads every `name:version` entry of a slash-separated user agent, as
 * soterd's `ParseUserAgentSemVers`. Entries whose version does not parse
 * are skipped; a later entry with the same name replaces an earlier one.
 *
 * @param s A user agent, e.g. `/soterwire:0.6.0/soterd:4.2.0/`.
 * @returns The versions by name.
 *
 * @example
 * ```ts
 * import { parseUserAgentSemVers } from "@soter/peer";
 * const vers = parseUserAgentSemVers("/soterwire:0.6.0/soterd:4.2.0/");
 * console.log([...vers.keys()]); // [ "soterwire", "soterd" ]
 * ```
 */
export function parseUserAgentSemVers(s: string): Map<string, SemVer> {
  const vers = new Map<string, SemVer>();
  for (const entry of s.split("/")) {
    const parsed = userAgentToSemVer(entry);
    if (parsed !== null) vers.set(parsed.name, parsed.version);
  }
  return vers;
}
