/**
 * The "new outbound peer" example of soterd's `peer` package, ported: a
 * mock inbound peer listens on 127.0.0.1 at the simnet port; an outbound
 * peer with `version` and `verack` listeners connects to it, waits for the
 * handshake (or a one-second timeout), disconnects and waits until it is
 * disconnected.
 *
 * ```sh
 * deno run -A examples/outbound_peer.ts [port]   # default 18555 (simnet); 0 picks a free port
 * bun examples/outbound_peer.ts [port]
 * npx tsx examples/outbound_peer.ts [port]
 * ```
 *
 * @module
 */
import { type Listener, LruSet, Peer, SIMNET } from "../mod.ts";
import { args, connect, isMain, listen, setExitCode } from "./lib/runtime.ts";

/**
 * Creates a basic inbound peer listening on 127.0.0.1 at `port`, as a
 * simnet node that offers no services. It returns once the listener is
 * active; the peer is created when the connection arrives.
 *
 * @param port The port; 0 picks a free one.
 * @returns The listener, and the inbound peer once a connection arrived.
 */
async function mockRemotePeer(port: number): Promise<{ listener: Listener; peer: Promise<Peer | undefined> }> {
  const listener = await listen({ hostname: "127.0.0.1", port });
  const peer = (async () => {
    for await (const conn of listener) {
      const p = Peer.inbound({
        userAgentName: "peer", // User agent name to advertise.
        userAgentVersion: "1.0.0", // User agent version to advertise.
        network: SIMNET,
        trickleInterval: 10_000,
        // Both peers live in this process: each keeps its own nonces, or the
        // remote would take our version for a connection to itself.
        sentNonces: new LruSet<bigint>(50),
      });
      p.associateConnection(conn);
      return p;
    }
    return undefined;
  })();
  return { listener, peer };
}

/**
 * Runs the example.
 *
 * @param port Where the mock remote peer listens; default the simnet port.
 * @param out Where lines go; default `console.log`.
 * @returns `true` when the handshake completed.
 */
export async function outboundPeerExample(
  port: number = SIMNET.defaultPort,
  out: (line: string) => void = console.log,
): Promise<boolean> {
  // Ordinarily this will not be needed since the outbound peer will be
  // connecting to a remote peer; since this example is run and tested, a
  // mock remote peer is needed to listen for the outbound peer.
  let mock;
  try {
    mock = await mockRemotePeer(port);
  } catch (err) {
    out(`mockRemotePeer: unexpected error ${(err as Error).message}`);
    return false;
  }
  const address = `127.0.0.1:${mock.listener.addr.port}`;

  // An outbound peer configured as a simnet node that offers no services,
  // with listeners for the version and verack messages. The verack listener
  // tells the code below that the handshake is finished.
  let verack!: () => void;
  const gotVerack = new Promise<void>((resolve) => verack = resolve);
  const p = Peer.outbound(address, {
    userAgentName: "peer", // User agent name to advertise.
    userAgentVersion: "1.0.0", // User agent version to advertise.
    network: SIMNET,
    services: 0n,
    trickleInterval: 10_000,
    sentNonces: new LruSet<bigint>(50),
    listeners: {
      onVersion: (_peer, msg) => out(`outbound: received version (${msg.userAgent})`),
      onVerAck: () => verack(),
    },
  });

  try {
    // Establish the connection to the peer address and give it to the peer.
    let conn;
    try {
      conn = await connect("127.0.0.1", mock.listener.addr.port, { timeout: 5000 });
    } catch (err) {
      out(`connect: error ${(err as Error).message}`);
      return false;
    }
    p.associateConnection(conn);

    // Wait for the verack message or time out in case of failure.
    let timer: ReturnType<typeof setTimeout> | undefined;
    const done = await Promise.race([
      gotVerack.then(() => true),
      new Promise<false>((resolve) => timer = setTimeout(() => resolve(false), 1000)),
    ]);
    clearTimeout(timer);
    if (done) out(`outbound: handshake with ${address} done, protocol version ${p.protocolVersion}`);
    else out("outboundPeerExample: verack timeout");

    // Disconnect the peer and wait until it is disconnected.
    p.disconnect();
    const why = await p.disconnected;
    out(`outbound: disconnected (${why.reason})`);
    return done;
  } finally {
    p.disconnect();
    mock.listener.close();
    const remote = await mock.peer;
    if (remote !== undefined) {
      // It sees our disconnect; should it not, it goes anyway.
      const timer = setTimeout(() => remote.disconnect(), 1000);
      out(`inbound: disconnected (${(await remote.disconnected).reason})`);
      clearTimeout(timer);
    }
  }
}

if (isMain(import.meta)) {
  const port = Number(args()[0] ?? SIMNET.defaultPort);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`Invalid port: ${args()[0]}`);
    setExitCode(2);
  } else if (!(await outboundPeerExample(port))) {
    setExitCode(1);
  }
}
