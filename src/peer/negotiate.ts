/**
 * The handshake's sequence over a session: our `version` (first when we
 * connected, after theirs when they did), the checks of the remote's
 * `version` with soterd's rejects, and the opening of the session.
 *
 * @module
 */
import type { Message } from "../wire/message.ts";
import { RejectCode, type RejectMessage } from "../wire/messages/reject.ts";
import {
  buildLocalVersion,
  checkObsolete,
  checkRemoteVersion,
  hostNetAddress,
  makeReject,
  VERSION_FIRST_REASON,
} from "./handshake.ts";
import { publish } from "./delivery.ts";
import { writeDirect } from "./output.ts";
import { randomU64 } from "./random.ts";
import { errorText, type Session } from "./session.ts";

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof value === "object" && value !== null && typeof (value as PromiseLike<unknown>).then === "function";
}

/**
 * Writes our `version`.
 *
 * @param s The session.
 * @returns `false` when the peer must stop.
 */
export async function writeLocalVersion(s: Session): Promise<boolean> {
  const cfg = s.cfg;
  let height = 0;
  if (cfg.newestBlock !== undefined) {
    try {
      height = (await cfg.newestBlock()).height;
    } catch (err) {
      s.shutdown("newest-block-error", `Cannot make a version message: ${errorText(err)}`, err);
      return false;
    }
    if (s.phase === "closed") return false;
  }
  // A 63-bit nonce, as soterd's rand.Int63.
  const nonce = randomU64(cfg.random) & 0x7fff_ffff_ffff_ffffn;
  cfg.sentNonces.add(nonce);
  const na = s.na ?? hostNetAddress("", 0, 0n);
  const msg = buildLocalVersion(cfg, na, nonce, height, cfg.clock.now());
  return await writeDirect(s, msg);
}

/**
 * Handles the first message read: it must be an acceptable `version`; then
 * ours follows (inbound), the session opens, and subscribers get the
 * remote's `version` first.
 *
 * @param s The session.
 * @param first The first message.
 */
export async function negotiate(s: Session, first: Message): Promise<void> {
  if (!(await acceptVersion(s, first))) return;
  s.open();
  await publish(s, first);
}

async function acceptVersion(s: Session, first: Message): Promise<boolean> {
  const cfg = s.cfg;
  if (first.command !== "version") {
    await writeDirect(s, makeReject(first.command, RejectCode.MALFORMED, VERSION_FIRST_REASON));
    s.shutdown("version-not-first", `${s} sent ${first.command} before version`);
    return false;
  }
  const msg = first;
  const refusal = checkRemoteVersion(cfg, msg, cfg.sentNonces);
  if (refusal !== undefined) {
    if (refusal.reject !== undefined) await writeDirect(s, refusal.reject);
    s.shutdown(refusal.reason, refusal.message);
    return false;
  }

  s.state.acceptVersion(msg, cfg.clock.now());
  s.versionAccepted();

  const listener = cfg.listeners.onVersion;
  if (listener !== undefined) {
    let reject: RejectMessage | undefined | void;
    try {
      const out = listener(s.peer, msg);
      reject = isThenable(out) ? await out : out;
    } catch (err) {
      s.listenerFailed("onVersion", err);
      return false;
    }
    if (s.phase === "closed") return false;
    if (reject !== undefined && reject !== null) {
      await writeDirect(s, reject);
      s.shutdown("version-rejected", `Version of ${s} rejected: ${reject.reason}`);
      return false;
    }
  }

  const obsolete = checkObsolete(msg);
  if (obsolete !== undefined) {
    if (obsolete.reject !== undefined) await writeDirect(s, obsolete.reject);
    s.shutdown(obsolete.reason, obsolete.message);
    return false;
  }

  if (s.inbound && !(await writeLocalVersion(s))) return false;
  return s.phase !== "closed";
}
