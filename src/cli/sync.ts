/**
 * `cli.ts sync`: download the blockDAG from several nodes into a block
 * store, with a live progress bar and a summary. Runtime-neutral.
 *
 * @module
 */
import { ConnectionError } from "../adapters/errors.ts";
import { LruSet } from "../peer/lru.ts";
import { Peer } from "../peer/peer.ts";
import { StorageError } from "../storage/storage.ts";
import { DagSync } from "../sync/dag_sync.ts";
import { BlockStore } from "../sync/store.ts";
import type { SyncProgress } from "../sync/types.ts";
import { SyncError } from "../sync/types.ts";
import type { HostPort, SyncCommand } from "./args.ts";
import { CLI_NAME, CLI_VERSION, type CliIo, formatHostPort, sniff } from "./io.ts";
import { explainFailure, type Seen } from "./probe.ts";

/** How often the progress line is redrawn, in ms. */
const REDRAW_MS = 250;
/** Width of the bar, in characters. */
const BAR = 24;

function mb(bytes: number): string {
  return (bytes / 1e6).toFixed(bytes >= 1e8 ? 0 : 2);
}

function duration(ms: number): string {
  if (!Number.isFinite(ms)) return "?";
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor(s / 60) % 60).padStart(2, "0")}m`;
}

/**
 * Draws the progress line: the height reached of the best announced, a
 * bar, blocks/s, MB/s, peers and the time left at the current pace.
 *
 * @param p The sync's progress.
 * @param startHeight The height stored when the run began.
 * @returns One line.
 */
export function progressLine(p: SyncProgress, startHeight: number): string {
  const best = Math.max(p.bestHeight, 1);
  const done = Math.min(1, p.height / best);
  const filled = Math.round(done * BAR);
  const secs = Math.max(p.elapsedMs, 1) / 1000;
  const heightsPerMs = (p.height - startHeight) / Math.max(p.elapsedMs, 1);
  const eta = p.height >= p.bestHeight ? 0 : heightsPerMs > 0 ? (p.bestHeight - p.height) / heightsPerMs : Infinity;
  return `[${"#".repeat(filled)}${"-".repeat(BAR - filled)}] height ${p.height}/${p.bestHeight}  ` +
    `${(p.blocks / secs).toFixed(0)} blk/s  ${mb(p.bytes / secs)} MB/s  ${p.peers} ${
      p.peers === 1 ? "peer" : "peers"
    }  ETA ${duration(eta)}`;
}

async function connectPeer(target: HostPort, cmd: SyncCommand, io: CliIo, nonces: LruSet<bigint>): Promise<Peer> {
  const address = formatHostPort(target);
  const sniffed = sniff(await io.connect(target.host, target.port, { timeout: cmd.timeout, signal: io.interrupt }));
  const seen: Seen = { version: undefined, first: undefined, head: new Uint8Array(0) };
  const peer = Peer.outbound(address, {
    network: cmd.network,
    userAgentName: CLI_NAME,
    userAgentVersion: CLI_VERSION,
    handshakeTimeout: cmd.timeout,
    sentNonces: nonces,
    listeners: {
      // soterd drops a peer that leaves its getblocks unanswered (it may take
      // us for a sync peer): answer as soterd does when it has nothing.
      onGetBlocks: (p) => void p.queueMessage({ command: "inv", invList: [] }),
      // Until the handshake ends, what arrives explains a failure.
      onRead: (p, _bytes, msg) => {
        if (msg === undefined || p.verAckReceived) return;
        if (msg.command === "version") seen.version ??= msg;
        else seen.first ??= msg;
      },
    },
  });
  peer.associateConnection(sniffed.conn);
  if (!(await peer.ready)) {
    const why = await peer.disconnected;
    seen.head = sniffed.head();
    throw new Error(explainFailure(why, address, cmd.network, seen, cmd.timeout));
  }
  return peer;
}

/** The summary of a run, as printed with `--json`. */
interface Summary {
  network: string;
  dir: string;
  peers: string[];
  interrupted: boolean;
  blocks: number;
  bytes: number;
  storedBlocks: number;
  storedBytes: number;
  height: number;
  bestHeight: number;
  tips: { hash: string; height: number }[];
  invalid: number;
  stalledPeers: number;
  recovered: { droppedRecords: number; truncatedBytes: number };
  seconds: number;
}

/**
 * Runs `sync`.
 *
 * @param cmd The parsed command.
 * @param io Sockets, storage, output and the interrupt signal.
 * @returns The exit code: 0 synced (or interrupted: run again to resume), 1 failed.
 */
export async function syncCommand(cmd: SyncCommand, io: CliIo): Promise<number> {
  if (io.fileStorage === undefined) {
    io.err("Error: sync needs file storage, which this runtime's wiring does not provide");
    return 1;
  }
  let store: BlockStore;
  try {
    store = await BlockStore.open(io.fileStorage(cmd.dir));
  } catch (err) {
    io.err(`Error: cannot open the block store in ${cmd.dir}: ${(err as Error).message}`);
    return 1;
  }
  const say = (line: string) => cmd.json ? undefined : io.out(line);
  const r = store.recovery;
  say(`Block store ${cmd.dir}: ${store.size} blocks up to height ${store.maxHeight}`);
  if (r.droppedRecords > 0 || r.truncatedBytes > 0) {
    io.err(
      `Warning: the store's tail was damaged: ${r.droppedRecords} index records dropped, ${r.truncatedBytes} bytes cut; those blocks are downloaded again`,
    );
  }
  const nonces = new LruSet<bigint>(50);
  const settled = await Promise.allSettled(cmd.targets.map((t) => connectPeer(t, cmd, io, nonces)));
  const peers: Peer[] = [];
  settled.forEach((s, i) => {
    const address = formatHostPort(cmd.targets[i]!);
    if (s.status === "fulfilled") {
      peers.push(s.value);
      say(`Connected to ${address}: ${s.value.userAgent}, last block ${s.value.startingHeight}`);
    } else {
      const e = s.reason;
      const detail = e instanceof ConnectionError || e instanceof Error ? e.message : String(e);
      io.err(`Cannot sync from ${address}: ${detail}`);
    }
  });
  if (peers.length === 0) {
    io.err("Error: no node to sync from");
    return 1;
  }
  const startHeight = store.maxHeight;
  const sync = new DagSync({
    network: cmd.network,
    peers,
    store,
    signal: io.interrupt,
    onInvalidBlock: (e) => {
      io.status?.("");
      io.err(`Banned ${e.peer}: ${e.message}`);
    },
  });
  const status = cmd.json ? undefined : io.status;
  let last = 0;
  let code = 0;
  try {
    for await (const _ of sync) {
      const now = Date.now();
      if (status !== undefined && now - last >= REDRAW_MS) {
        last = now;
        status(progressLine(sync.progress(), startHeight));
      }
    }
  } catch (err) {
    status?.("");
    const why = err instanceof SyncError || err instanceof StorageError ? err.message : String(err);
    io.err(`Error: ${why}`);
    code = 1;
  } finally {
    status?.("");
    for (const p of peers) p.disconnect();
  }
  const p = sync.progress();
  const tips = store.tips();
  const summary: Summary = {
    network: cmd.network.name,
    dir: cmd.dir,
    peers: peers.map((x) => x.addr),
    interrupted: io.interrupt.aborted,
    blocks: p.blocks,
    bytes: p.bytes,
    storedBlocks: store.size,
    storedBytes: store.bytes,
    height: store.maxHeight,
    bestHeight: p.bestHeight,
    tips: tips.map((t) => ({ hash: t.hex, height: t.height })),
    invalid: p.invalid,
    stalledPeers: p.stalledPeers,
    recovered: { droppedRecords: r.droppedRecords, truncatedBytes: r.truncatedBytes },
    seconds: p.elapsedMs / 1000,
  };
  if (cmd.json) io.out(JSON.stringify(summary));
  else {
    io.out(progressLine({ ...p, peers: peers.length }, startHeight));
    io.out(
      `${summary.interrupted ? "Interrupted (run again to resume)" : "Synced"}: ${p.blocks} blocks (${
        mb(p.bytes)
      } MB) in ${summary.seconds.toFixed(1)} s from ${peers.length} ${peers.length === 1 ? "peer" : "peers"}`,
    );
    io.out(`Stored: ${store.size} blocks, ${mb(store.bytes)} MB, up to height ${store.maxHeight}, in ${cmd.dir}`);
    io.out(`Tips (${tips.length}):`);
    for (const t of tips.slice(0, 16)) io.out(`  ${t.hex}  height ${t.height}`);
    if (tips.length > 16) io.out(`  … and ${tips.length - 16} more`);
    if (p.invalid > 0) io.out(`Bad blocks: ${p.invalid} (their peers were banned)`);
    if (p.stalledPeers > 0) io.out(`Peers dropped for stalling: ${p.stalledPeers}`);
  }
  return code;
}
