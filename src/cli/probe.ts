/**
 * `cli.ts probe`: connect to a node, print its version, then its traffic.
 * Runtime-neutral.
 *
 * @module
 */
import { type ChainParams, networkByMagic, NETWORKS } from "../chain/params.ts";
import { ConnectionError } from "../adapters/errors.ts";
import type { DisconnectError } from "../peer/errors.ts";
import { LruSet } from "../peer/lru.ts";
import { Peer } from "../peer/peer.ts";
import { MessageError } from "../wire/errors.ts";
import { bytesEqual, hashToHex, ZERO_HASH } from "../wire/hex.ts";
import type { Message } from "../wire/message.ts";
import { rejectCodeName } from "../wire/messages/reject.ts";
import type { VersionMessage } from "../wire/messages/version.ts";
import type { ProbeCommand } from "./args.ts";
import { CLI_NAME, CLI_VERSION, type CliIo, fineClock, formatHostPort, showBytes, sniff, stopwatch } from "./io.ts";
import { formatNetAddress, formatServices, summarizeMessage } from "./summary.ts";

function networkOfGenesis(hash: Uint8Array): ChainParams | undefined {
  return NETWORKS.find((n) => bytesEqual(n.genesisHash, hash));
}

/**
 * Describes a remote's `version` as an indented block.
 *
 * @param v The version.
 * @param network Our network.
 * @param clockSkew The remote's clock minus ours, in seconds.
 * @returns The lines.
 */
export function versionLines(v: VersionMessage, network: ChainParams, clockSkew: number): string[] {
  const theirs = v.genesisHash.length === 32 ? v.genesisHash : ZERO_HASH;
  let genesis: string;
  if (bytesEqual(theirs, network.genesisHash)) genesis = `${hashToHex(theirs)} (matches ${network.name})`;
  else if (bytesEqual(theirs, ZERO_HASH)) genesis = "none (does NOT match: not a soter version message)";
  else {
    const other = networkOfGenesis(theirs);
    genesis = `${hashToHex(theirs)} (does NOT match ${network.name}${other ? `: it is ${other.name}'s` : ""})`;
  }
  return [
    `  user agent        ${v.userAgent}`,
    `  protocol version  ${v.protocolVersion}`,
    `  services          ${formatServices(v.services)}`,
    `  last block        ${v.lastBlock}`,
    `  genesis           ${genesis}`,
    `  time offset       ${clockSkew >= 0 ? "+" : ""}${clockSkew} s`,
    `  relays txs        ${v.disableRelayTx ? "no" : "yes"}`,
    `  sees us as        ${formatNetAddress(v.addrYou)}`,
  ];
}

/** What a handshake showed before it failed, for {@linkcode explainFailure}. */
export interface Seen {
  /** The remote's version, read (accepted or not). */
  version: VersionMessage | undefined;
  /** The first message read that was not a version. */
  first: Message | undefined;
  /** The first bytes received. */
  head: Uint8Array;
}

/**
 * Explains why a probe ended before or after the handshake, in one line.
 *
 * @param why Why the peer disconnected.
 * @param address The remote.
 * @param network Our network.
 * @param seen What was received.
 * @param timeout The handshake time allowed, in milliseconds.
 * @returns The error message.
 */
export function explainFailure(
  why: DisconnectError,
  address: string,
  network: ChainParams,
  seen: Seen,
  timeout: number,
): string {
  const first = seen.first;
  if (first?.command === "reject" && seen.version === undefined) {
    let hint = "";
    // soterd names both genesis hashes, ours first: "(ours != theirs)".
    const m = first.reason.match(/\(([0-9a-f]{64}) != ([0-9a-f]{64})\)/);
    const other = m === null ? undefined : NETWORKS.find((n) => hashToHex(n.genesisHash) === m[2]);
    if (other !== undefined && other !== network) hint = `; it is on ${other.name}: try --network ${other.name}`;
    return `${address} rejected us: ${first.cmd} ${rejectCodeName(first.code)}: ${first.reason}${hint}`;
  }
  const cause = why.cause;
  switch (why.reason) {
    case "handshake-timeout":
      return seen.head.length === 0
        ? `${address} sent nothing within ${timeout} ms: it does not look like a soter node`
        : `${address} sent ${seen.head.length}+ bytes but no complete message within ${timeout} ms: it does not look like a soter node (it sent ${
          showBytes(seen.head)
        })`;
    case "malformed": {
      // Before the version, a frame of another magic (whatever the decoder
      // tripped on first: soterd checks the length before the magic).
      const magic = seen.head.length >= 4
        ? (seen.head[0]! | seen.head[1]! << 8 | seen.head[2]! << 16 | seen.head[3]! << 24) >>> 0
        : undefined;
      if (seen.version === undefined && magic !== undefined && magic !== network.magic) {
        const other = networkByMagic(magic);
        if (other !== undefined) {
          return `Wrong network: ${address} speaks ${other.name} (magic 0x${
            magic.toString(16).padStart(8, "0")
          }), not ${network.name}; try --network ${other.name}`;
        }
        return `${address} is not a soter node: it sent ${showBytes(seen.head)}`;
      }
      if (cause instanceof MessageError && cause.command === "version" && seen.version === undefined) {
        return `${address} is not a soter node: its version does not decode as soter's (${cause.message})`;
      }
      return `${address} sent a malformed message: ${cause instanceof Error ? cause.message : why.message}`;
    }
    case "genesis-mismatch": {
      const v = seen.version;
      const theirs = v === undefined || v.genesisHash.length !== 32 ? ZERO_HASH : v.genesisHash;
      if (bytesEqual(theirs, ZERO_HASH)) {
        return `${address} is not a soter node: its version has no genesis hash (user agent ${v?.userAgent ?? "?"})`;
      }
      const other = networkOfGenesis(theirs);
      if (other !== undefined) {
        return `Wrong network: ${address} is on ${other.name} (genesis ${
          hashToHex(theirs)
        }), not ${network.name}; try --network ${other.name}`;
      }
      return `Wrong network: ${address} has genesis block ${hashToHex(theirs)}, ${network.name}'s is ${
        hashToHex(network.genesisHash)
      }`;
    }
    case "version-not-first":
      return `${address} sent ${first?.command ?? "a message"} before its version: it does not look like a soter node`;
    case "remote-closed":
      if (seen.version === undefined) {
        return seen.head.length === 0
          ? `${address} closed the connection without sending anything: it may be on another network than ${network.name} (try --network), or not a soter node`
          : `${address} closed the connection before its version, after sending ${showBytes(seen.head)}`;
      }
      return `${address} closed the connection`;
    case "read-failed":
    case "write-failed":
      return cause instanceof ConnectionError ? cause.message : why.message;
    default:
      return `Disconnected from ${address}: ${why.message}`;
  }
}

/**
 * Runs `probe`.
 *
 * @param cmd The parsed command.
 * @param io The runtime services.
 * @returns The exit code: 0 when `--count` messages arrived or the user
 *   interrupted, 1 on any failure.
 */
export async function probe(cmd: ProbeCommand, io: CliIo): Promise<number> {
  const { network, timeout, count } = cmd;
  const address = formatHostPort(cmd.target);
  if (io.interrupt.aborted) return 0;
  io.out(`Connecting to ${address} (${network.name})`);
  let raw;
  try {
    raw = await io.connect(cmd.target.host, cmd.target.port, { timeout, signal: io.interrupt });
  } catch (err) {
    if (io.interrupt.aborted) return 0;
    io.err(`Error: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
  const sniffed = sniff(raw);
  const seen: Seen = { version: undefined, first: undefined, head: new Uint8Array(0) };
  const stamp = stopwatch();
  let live = false;
  let stopped = false;
  let received = 0;
  let pingNonce: bigint | undefined;
  let pingSent = 0;
  let finish!: (code: number) => void;
  const finished = new Promise<number>((resolve) => finish = resolve);

  const peer = Peer.outbound(address, {
    network,
    userAgentName: CLI_NAME,
    userAgentVersion: CLI_VERSION,
    handshakeTimeout: timeout,
    clock: fineClock,
    sentNonces: new LruSet<bigint>(50),
    listeners: {
      onVersion: (p, msg) => {
        io.out(`Connected to ${address} (${network.name}), peer id ${p.id}`);
        for (const line of versionLines(msg, network, p.timeOffset)) io.out(line);
        io.out(`Traffic (${count === undefined ? "Ctrl-C to stop" : `until ${count} messages`}):`);
        live = true;
      },
      onRead: (_p, _bytes, msg) => {
        if (msg === undefined || stopped) return;
        if (!live) {
          if (msg.command === "version") seen.version ??= msg;
          else seen.first ??= msg;
          return;
        }
        let note = "";
        if (msg.command === "pong" && msg.nonce === pingNonce) {
          note = ` (round trip ${(performance.now() - pingSent).toFixed(2)} ms)`;
          pingNonce = undefined;
        }
        io.out(`${stamp()} ← ${summarizeMessage(msg)}${note}`);
        received++;
        if (count !== undefined && received >= count) {
          stopped = true;
          finish(0);
        }
      },
      onWrite: (_p, _bytes, msg, err) => {
        if (!live || stopped || err !== undefined) return;
        if (msg.command === "ping" && msg.nonce === pingNonce) pingSent = performance.now();
        io.out(`${stamp()} → ${summarizeMessage(msg)}`);
      },
    },
  });
  const onInterrupt = () => {
    stopped = true;
    finish(0);
  };
  io.interrupt.addEventListener("abort", onInterrupt, { once: true });
  void peer.disconnected.then(() => finish(-1));
  peer.associateConnection(sniffed.conn);
  void peer.ready.then((ok) => {
    if (!ok) return;
    // One ping to measure the round trip; soterd answers it.
    pingNonce = BigInt(Math.floor(Math.random() * 2 ** 48)) + 1n;
    void peer.queueMessage({ command: "ping", nonce: pingNonce });
  });

  const code = await finished;
  io.interrupt.removeEventListener("abort", onInterrupt);
  seen.head = sniffed.head();
  if (code === -1) {
    const why = await peer.disconnected;
    if (!live && seen.version !== undefined) {
      io.out(`${address} sent its version:`);
      for (const line of versionLines(seen.version, network, 0)) io.out(line);
    }
    io.err(`Error: ${explainFailure(why, address, network, seen, timeout)}`);
    return 1;
  }
  if (count !== undefined && received >= count) io.out(`Received ${received} messages; disconnecting`);
  else io.out("Interrupted; disconnecting");
  peer.disconnect();
  await peer.disconnected;
  const s = peer.statsSnapshot();
  io.out(`${s.bytesSent} bytes sent, ${s.bytesRecv} bytes received`);
  return 0;
}
