/**
 * `cli.ts listen`: accept peers and log them. Runtime-neutral.
 *
 * @module
 */
import type { Listener } from "../adapters/types.ts";
import { LruSet } from "../peer/lru.ts";
import { Peer } from "../peer/peer.ts";
import type { ListenCommand } from "./args.ts";
import { CLI_NAME, CLI_VERSION, type CliIo, fineClock, formatHostPort, stopwatch } from "./io.ts";
import { formatServices, summarizeMessage } from "./summary.ts";

/**
 * Runs `listen` until the user interrupts.
 *
 * @param cmd The parsed command.
 * @param io The runtime services.
 * @returns The exit code: 0 once interrupted, 1 when the address cannot be bound.
 */
export async function listenCommand(cmd: ListenCommand, io: CliIo): Promise<number> {
  const { network } = cmd;
  let listener: Listener;
  try {
    listener = await io.listen({ hostname: cmd.host, port: cmd.port, signal: io.interrupt });
  } catch (err) {
    if (io.interrupt.aborted) return 0;
    io.err(`Error: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
  const stamp = stopwatch();
  io.out(`Listening on ${formatHostPort(listener.addr)} (${network.name}); Ctrl-C to stop`);
  const peers = new Set<Peer>();
  const nonces = new LruSet<bigint>(50);
  try {
    for await (const conn of listener) {
      const who = formatHostPort(conn.remoteAddr);
      const log = (text: string) => io.out(`${stamp()} ${who} ${text}`);
      let live = false;
      const peer = Peer.inbound({
        network,
        userAgentName: CLI_NAME,
        userAgentVersion: CLI_VERSION,
        clock: fineClock,
        sentNonces: nonces,
        listeners: {
          onVersion: (_p, msg) => {
            log(
              `version: ${msg.userAgent}, pver ${msg.protocolVersion}, services ${
                formatServices(msg.services)
              }, last block ${msg.lastBlock}`,
            );
            live = true;
          },
          onRead: (_p, _bytes, msg, err) => {
            if (err !== undefined) log(`unreadable message: ${err.message}`);
            else if (msg !== undefined && (live || msg.command !== "version")) log(`← ${summarizeMessage(msg)}`);
          },
          onWrite: (_p, _bytes, msg, err) => {
            if (live && err === undefined) log(`→ ${summarizeMessage(msg)}`);
          },
        },
      });
      peers.add(peer);
      log("connected");
      peer.associateConnection(conn);
      void peer.disconnected.then((why) => {
        peers.delete(peer);
        log(`disconnected: ${why.reason}: ${why.message}`);
      });
    }
  } catch (err) {
    io.err(`Error: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  } finally {
    listener.close();
    const left = [...peers];
    for (const p of left) p.disconnect();
    await Promise.all(left.map((p) => p.disconnected));
  }
  io.out("Stopped");
  return 0;
}
