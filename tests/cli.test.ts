// The command-line tool in-process: its argument parsing, its one-line
// message summaries, and `probe`/`listen` against scripted remotes over
// loopback (wrong networks, non-soter peers, silence, interrupts). One file
// for Deno, Bun and Node; node:test and node:assert only.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import "./_guard.ts"; // fails the file on any unhandled rejection or uncaught exception
import { MAINNET, REGTEST, SIMNET, TESTNET1 } from "../src/chain/params.ts";
import { defaultHasher } from "../src/hash/hasher.ts";
import { ConnectionError } from "../src/adapters/errors.ts";
import type { Conn, Listener } from "../src/adapters/types.ts";
import { LruSet } from "../src/peer/lru.ts";
import { Peer } from "../src/peer/peer.ts";
import { encodeMessage, encodePayload, MESSAGE_HEADER_SIZE, writeFrameHeader } from "../src/wire/frame.ts";
import { InvType } from "../src/wire/invvect.ts";
import { ipFromString } from "../src/wire/ip.ts";
import type { MessageOf } from "../src/wire/message.ts";
import { RejectCode } from "../src/wire/messages/reject.ts";
import { parseArgs, parseHostPort, UsageError, usageOf } from "../src/cli/args.ts";
import type { CliIo } from "../src/cli/io.ts";
import { runCli } from "../src/cli/main.ts";
import { summarizeMessage } from "../src/cli/summary.ts";
import { Dag } from "../examples/lib/dag.ts";
import { DagNode } from "../examples/lib/node.ts";
import { cleanupsAfterAll, connect, listen, runtime } from "./_runtime.ts";
import { within } from "./_util.ts";
import { Remote } from "./peer_helpers.ts";

const cleanups = cleanupsAfterAll();

/** Runs the tool in-process; `interrupt` aborts its signal. */
function cli(argv: string[]): { done: Promise<number>; out: string[]; err: string[]; interrupt: () => void } {
  const out: string[] = [], err: string[] = [];
  const ac = new AbortController();
  const io: CliIo = { connect, listen, out: (l) => out.push(l), err: (l) => err.push(l), interrupt: ac.signal };
  return { done: runCli(argv, io), out, err, interrupt: () => ac.abort() };
}

/**
 * A remote that runs `script` on each connection (reading nothing unless
 * it wants to); connections stay open until the end of the file.
 */
async function scripted(script: (conn: Conn) => Promise<void>): Promise<number> {
  const listener: Listener = await listen({ hostname: "127.0.0.1", port: 0 });
  const conns: Conn[] = [];
  cleanups.push(async () => {
    await listener[Symbol.asyncDispose]();
    for (const c of conns) c.close();
  });
  void (async () => {
    for await (const conn of listener) {
      conns.push(conn);
      void script(conn).catch(() => {});
    }
  })();
  return listener.addr.port;
}

async function write(conn: Conn, bytes: Uint8Array): Promise<void> {
  const w = conn.writable.getWriter();
  await w.write(bytes);
  w.releaseLock();
}

/** A version as soterd sends it, with overrides. */
function version(over: Partial<MessageOf<"version">> = {}): MessageOf<"version"> {
  return {
    command: "version",
    protocolVersion: 70013,
    services: 0x4dn,
    timestamp: BigInt(Math.floor(Date.now() / 1000)),
    addrYou: { timestamp: 0, services: 1n, ip: ipFromString("127.0.0.1"), port: 5555 },
    addrMe: { timestamp: 0, services: 0x4dn, ip: new Uint8Array(16), port: 0 },
    nonce: 0x1122334455667788n,
    userAgent: "/soterwire:0.6.0/soterd:4.2.0/",
    genesisHash: SIMNET.genesisHash,
    lastBlock: 42,
    disableRelayTx: false,
    ...over,
  };
}

describe(`cli arguments (${runtime})`, () => {
  it("parses probe with defaults and every form of address", () => {
    assert.deepEqual(parseArgs(["probe", "10.0.0.1"]), {
      kind: "probe",
      target: { host: "10.0.0.1", port: 5070 },
      network: TESTNET1,
      count: undefined,
      timeout: 10_000,
    });
    const p = parseArgs(["probe", "[::1]:18555", "--network=simnet", "--count", "5", "--timeout", "300"]);
    assert.deepEqual(p, {
      kind: "probe",
      target: { host: "::1", port: 18555 },
      network: SIMNET,
      count: 5,
      timeout: 300,
    });
    assert.deepEqual(parseHostPort("::1", 8333), { host: "::1", port: 8333 });
    assert.deepEqual(parseHostPort("[2001:db8::1]", 8333), { host: "2001:db8::1", port: 8333 });
    assert.deepEqual(parseHostPort("seed.example:18444", 1), { host: "seed.example", port: 18444 });
  });

  it("parses listen and help", () => {
    assert.deepEqual(parseArgs(["listen", "--network", "regtest"]), {
      kind: "listen",
      host: "0.0.0.0",
      port: 18444,
      network: REGTEST,
    });
    assert.deepEqual(parseArgs(["listen", "--port", "0", "--host", "::"]), {
      kind: "listen",
      host: "::",
      port: 0,
      network: TESTNET1,
    });
    assert.deepEqual(parseArgs(["probe", "--help"]), { kind: "help", command: "probe" });
    assert.deepEqual(parseArgs(["help", "sync"]), { kind: "help", command: "sync" });
    assert.deepEqual(parseArgs(["-h"]), { kind: "help" });
  });

  it("a command's help shows its usage, description, options and examples only", () => {
    const sync = usageOf("sync");
    assert.match(sync, /cli\.ts sync <host\[:port\]>\.\.\./);
    assert.match(sync, /Download the blockDAG/);
    for (const option of ["--network", "--dir", "--timeout", "--json", "--help"]) {
      assert.ok(sync.includes(option), option);
    }
    for (const other of ["cli.ts probe", "cli.ts crawl", "--count", "--port", "--concurrency", "Accept peers"]) {
      assert.ok(!sync.includes(other), `sync's help mentions ${other}`);
    }
    const listen = usageOf("listen");
    assert.match(listen, /--port N/);
    assert.ok(!listen.includes("--json") && !listen.includes("--timeout"));
    assert.match(listen, /Exit codes/);
  });

  it("refuses malformed command lines with a clear message", () => {
    const cases: Array<[string[], RegExp]> = [
      [[], /No command given/],
      [["ping"], /Unknown command: "ping"/],
      [["probe"], /probe needs an address/],
      [["probe", "a", "b"], /Unexpected argument: b/],
      [["probe", "a", "--port", "1"], /Option --port does not apply to probe/],
      [["listen", "--count", "1"], /Option --count does not apply to listen/],
      [["probe", "a", "--verbose"], /Unknown option: --verbose/],
      [["probe", "a", "--count"], /Option --count needs a value/],
      [["probe", "a", "--count", "0"], /Invalid --count: "0" is not a positive integer/],
      [["probe", "a", "--timeout", "1.5"], /Invalid --timeout/],
      [["probe", "a:99999"], /Invalid port in a:99999/],
      [["probe", "[::1"], /missing '\]'/],
      [["listen", "--port", "x"], /Invalid --port/],
      [["listen", "--network", "simnet", "--network", "regtest"], /given twice/],
      [["probe", "a", "--network", "btc"], /Unknown network: "btc"/],
    ];
    for (const [argv, message] of cases) {
      assert.throws(() => parseArgs(argv), (err: unknown) => {
        assert.ok(err instanceof UsageError, `${argv.join(" ")}: ${err}`);
        assert.match(err.message, message);
        return true;
      });
    }
  });
});

describe(`message summaries (${runtime})`, () => {
  it("puts what matters on one line", () => {
    const h = (n: number) => new Uint8Array(32).fill(n);
    assert.equal(summarizeMessage({ command: "verack" }), "verack");
    assert.equal(summarizeMessage({ command: "ping", nonce: 255n }), "ping nonce 0xff");
    assert.equal(
      summarizeMessage({
        command: "inv",
        invList: [
          { type: InvType.BLOCK, hash: h(1), height: 3 },
          { type: InvType.BLOCK, hash: h(2), height: 5 },
          { type: InvType.TX, hash: h(3), height: 0 },
        ],
      }),
      "inv 2 blocks (heights 3..5), 1 tx",
    );
    assert.equal(
      summarizeMessage({ command: "getdata", invList: [{ type: InvType.BLOCK, hash: h(0xab), height: 9 }] }),
      `getdata block ${"ab".repeat(32)} at height 9`,
    );
    assert.equal(summarizeMessage({ command: "inv", invList: [] }), "inv empty");
    assert.equal(
      summarizeMessage({
        command: "reject",
        cmd: "version",
        code: RejectCode.INVALID,
        reason: "no",
        hash: new Uint8Array(32),
      }),
      "reject version REJECT_INVALID: no",
    );
    assert.equal(
      summarizeMessage({
        command: "getheaders",
        protocolVersion: 70013,
        blockLocatorHeight: [7],
        hashStop: new Uint8Array(32),
      }),
      "getheaders after height 7 to the tips",
    );
    const na = { timestamp: 0, services: 1n, ip: ipFromString("10.0.0.1"), port: 18555 };
    assert.equal(
      summarizeMessage({ command: "addrcache", inbound: [na], outbound: [], known: [na, na, na] }),
      "addrcache 1 inbound, 0 outbound, 3 known: 10.0.0.1:18555, 10.0.0.1:18555, 10.0.0.1:18555, …",
    );
    assert.match(summarizeMessage(version()), /^version \/soterwire:0\.6\.0\/soterd:4\.2\.0\/ pver 70013 services /);
    assert.match(summarizeMessage(SIMNET.genesisBlock), /^block 5f2694c9.* with 0 parents, 1 tx \(\d+ bytes\)$/);
  });
});

describe(`cli probe and listen in-process (${runtime})`, () => {
  it("probe: until interrupted, then a clean exit", async () => {
    const node = new DagNode({ dag: Dag.generate({ height: 5 }) });
    const l = await listen({ hostname: "127.0.0.1", port: 0 });
    const serving = node.serve(l);
    cleanups.push(async () => {
      l.close();
      await serving;
      await node.close();
    });
    const run = cli(["probe", `127.0.0.1:${l.addr.port}`, "--network", "simnet"]);
    const pong = async () => {
      while (!run.out.some((line) => / ← pong /.test(line))) await new Promise((r) => setTimeout(r, 5));
    };
    await within(pong(), "the pong");
    run.interrupt();
    assert.equal(await within(run.done, "the end"), 0);
    assert.ok(run.out.includes("Interrupted; disconnecting"), run.out.join("\n"));
    assert.ok(run.out.includes("  last block        5"));
    assert.deepEqual(run.err, []);
  });

  it("probe: a remote that closes after the handshake is an error", async () => {
    const port = await scripted(async (conn) => {
      const remote = new Remote(conn);
      await remote.expect("version");
      await remote.send(version());
      await remote.send({ command: "verack" });
      // Close once the probe is past the handshake (it pings) and all it
      // sent is read: closing on unread bytes would reset the connection,
      // and a reset may discard what the probe had not read yet.
      for (let msg = await remote.next(); msg !== undefined && msg.command !== "ping"; msg = await remote.next());
      conn.close();
    });
    const run = cli(["probe", `127.0.0.1:${port}`, "--network", "simnet"]);
    assert.equal(await within(run.done, "the end"), 1);
    assert.ok(run.out.includes("  user agent        /soterwire:0.6.0/soterd:4.2.0/"), run.out.join("\n"));
    assert.ok(run.out.includes("  services          SFNodeNetwork|SFNodeBloom|SFNodeWitness|SFNodeCF (0x4d)"));
    assert.deepEqual(run.err, [`Error: 127.0.0.1:${port} closed the connection`]);
  });

  it("probe: a remote on another network (bad magic)", async () => {
    const port = await scripted((conn) => write(conn, encodeMessage(version(), { magic: REGTEST.magic })));
    const run = cli(["probe", `127.0.0.1:${port}`, "--network", "simnet"]);
    assert.equal(await within(run.done, "the end"), 1);
    assert.deepEqual(run.err, [
      `Error: Wrong network: 127.0.0.1:${port} speaks regtest (magic 0xdab5bffa), not simnet; try --network regtest`,
    ]);
  });

  it("probe: a remote with another genesis block, or none", async () => {
    const other = await scripted((conn) =>
      write(conn, encodeMessage(version({ genesisHash: REGTEST.genesisHash }), { magic: SIMNET.magic }))
    );
    const run = cli(["probe", `127.0.0.1:${other}`, "--network", "simnet"]);
    assert.equal(await within(run.done, "the end"), 1);
    assert.ok(run.out.includes(`127.0.0.1:${other} sent its version:`), run.out.join("\n"));
    assert.ok(run.out.some((l) => /^ {2}genesis {11}0f9188f1\w+ \(does NOT match simnet: it is regtest's\)$/.test(l)));
    assert.match(
      run.err[0]!,
      /^Error: Wrong network: 127\.0\.0\.1:\d+ is on regtest \(genesis 0f9188f1\w+\), not simnet/,
    );

    const none = await scripted((conn) =>
      write(conn, encodeMessage(version({ genesisHash: new Uint8Array(32) }), { magic: SIMNET.magic }))
    );
    const run2 = cli(["probe", `127.0.0.1:${none}`, "--network", "simnet"]);
    assert.equal(await within(run2.done, "the end"), 1);
    assert.deepEqual(run2.err, [
      `Error: 127.0.0.1:${none} is not a soter node: its version has no genesis hash (user agent /soterwire:0.6.0/soterd:4.2.0/)`,
    ]);
  });

  it("probe: a Bitcoin node on mainnet's magic is not a soter node", async () => {
    // btcd's version: no genesis hash between the user agent and the height.
    const full = encodePayload(version({ userAgent: "/btcwire:0.5.0/btcd:0.20.1/", genesisHash: MAINNET.genesisHash }));
    const payload = new Uint8Array(full.length - 32);
    payload.set(full.subarray(0, full.length - 37));
    payload.set(full.subarray(full.length - 5), full.length - 37);
    const frame = new Uint8Array(MESSAGE_HEADER_SIZE + payload.length);
    frame.set(payload, MESSAGE_HEADER_SIZE);
    writeFrameHeader(frame, MAINNET.magic, "version", payload.length, defaultHasher());
    const port = await scripted((conn) => write(conn, frame));
    const run = cli(["probe", `127.0.0.1:${port}`, "--network", "mainnet"]);
    assert.equal(await within(run.done, "the end"), 1);
    assert.match(run.err[0]!, /^Error: 127\.0\.0\.1:\d+ is not a soter node: its version does not decode as soter's/);
  });

  it("probe: something that is not a soter node at all", async () => {
    const http = await scripted((conn) =>
      write(conn, new TextEncoder().encode("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"))
    );
    const run = cli(["probe", `127.0.0.1:${http}`, "--network", "simnet"]);
    assert.equal(await within(run.done, "the end"), 1);
    assert.deepEqual(run.err, [`Error: 127.0.0.1:${http} is not a soter node: it sent "HTTP/1.1 400 Bad Request"`]);

    const silent = await scripted(() => Promise.resolve());
    const run2 = cli(["probe", `127.0.0.1:${silent}`, "--network", "simnet", "--timeout", "200"]);
    assert.equal(await within(run2.done, "the end"), 1);
    assert.deepEqual(run2.err, [
      `Error: 127.0.0.1:${silent} sent nothing within 200 ms: it does not look like a soter node`,
    ]);
  });

  it("probe: a connection that times out", async () => {
    const err: string[] = [];
    const io: CliIo = {
      connect: (host, port, options) => {
        assert.equal(options?.timeout, 250);
        return Promise.reject(
          new ConnectionError("timeout", `Connection to ${host}:${port} timed out after ${options?.timeout} ms`),
        );
      },
      listen,
      out: () => {},
      err: (l) => err.push(l),
      interrupt: new AbortController().signal,
    };
    assert.equal(await runCli(["probe", "10.255.255.1", "--network", "simnet", "--timeout", "250"], io), 1);
    assert.deepEqual(err, ["Error: Connection to 10.255.255.1:18555 timed out after 250 ms"]);
  });

  it("probe: the remote rejects our version", async () => {
    const port = await scripted((conn) =>
      write(
        conn,
        encodeMessage({
          command: "reject",
          cmd: "version",
          code: RejectCode.INVALID,
          reason: `peer genesis block hash different from ours (${
            "11".repeat(32)
          } != ${"0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206"})`,
          hash: new Uint8Array(32),
        }, { magic: SIMNET.magic }),
      )
    );
    const run = cli(["probe", `127.0.0.1:${port}`, "--network", "simnet"]);
    assert.equal(await within(run.done, "the end"), 1);
    assert.match(
      run.err[0]!,
      /^Error: 127\.0\.0\.1:\d+ rejected us: version REJECT_INVALID: peer genesis block hash different from ours \(.*\); it is on regtest: try --network regtest$/,
    );
  });

  it("listen: logs a peer, refuses one on another network, stops when interrupted", async () => {
    const run = cli(["listen", "--network", "simnet", "--host", "127.0.0.1", "--port", "0"]);
    const port = async () => {
      for (;;) {
        const m = run.out[0]?.match(/^Listening on 127\.0\.0\.1:(\d+) \(simnet\); Ctrl-C to stop$/);
        if (m) return Number(m[1]);
        await new Promise((r) => setTimeout(r, 5));
      }
    };
    const p = await within(port(), "listening");
    const peer = (network: typeof SIMNET) =>
      Peer.outbound(`127.0.0.1:${p}`, {
        network,
        userAgentName: "tester",
        userAgentVersion: "1.0.0",
        sentNonces: new LruSet<bigint>(50),
      });
    const good = peer(SIMNET);
    good.associateConnection(await connect("127.0.0.1", p));
    assert.equal(await within(good.ready, "handshake"), true);
    const wrong = { ...SIMNET, genesisHash: REGTEST.genesisHash };
    const bad = peer(wrong);
    bad.associateConnection(await connect("127.0.0.1", p));
    // It reads the listener's reject where a version should be.
    assert.equal((await within(bad.disconnected, "refusal")).reason, "version-not-first");
    const logged = async () => {
      while (!run.out.some((l) => /disconnected: genesis-mismatch/.test(l))) await new Promise((r) => setTimeout(r, 5));
    };
    await within(logged(), "the refusal logged");
    run.interrupt();
    assert.equal(await within(run.done, "the end"), 0);
    assert.equal((await within(good.disconnected, "good peer gone")).reason, "remote-closed");
    const text = run.out.join("\n");
    assert.match(text, /127\.0\.0\.1:\d+ version: \/soterwire:0\.6\.0\/tester:1\.0\.0\/, pver 70013/);
    assert.match(text, /127\.0\.0\.1:\d+ disconnected: genesis-mismatch: Peer is on another network/);
    assert.equal(run.out[run.out.length - 1], "Stopped");
    assert.deepEqual(run.err, []);
  });

  it("listen: an address in use is a one-line error", async () => {
    const taken = await listen({ hostname: "127.0.0.1", port: 0 });
    cleanups.push(() => taken[Symbol.asyncDispose]());
    const run = cli(["listen", "--host", "127.0.0.1", "--port", String(taken.addr.port)]);
    assert.equal(await within(run.done, "the end"), 1);
    assert.equal(run.err.length, 1);
    assert.match(run.err[0]!, new RegExp(`^Error: Cannot listen on 127\\.0\\.0\\.1:${taken.addr.port}: `));
  });
});
