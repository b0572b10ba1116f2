// The pool at scale on the simulator (not a test file: the leading `_`):
// thousands of cheap listening nodes, churn, and an attacker holding many
// addresses in a few address groups who floods our address book. Shared by
// tests/sim_pool.test.ts (CI size) and bench/sim_pool.ts (10,000 nodes).
import {
  AddrManager,
  groupKey,
  ipToString,
  type NetAddress,
  netAddress,
  parseAddressKey,
  Peer,
  type PeerConfig,
  type PeerListeners,
  Pool,
  type SimHost,
  SIMNET,
  SimNet,
} from "../mod.ts";

/** Where every simulated node listens: simnet's default port, so the pool's port filter keeps them. */
const PORT = SIMNET.defaultPort;

/** /16 prefixes the attacker's addresses are in (public unicast space). */
const ATTACKER_PREFIXES = ["45.77", "91.200", "185.220", "5.188", "146.70", "193.29", "62.210", "23.129"];

/** Options of {@linkcode runPoolScenario}. */
export interface PoolScenarioOptions {
  /** The seed of the simulation. */
  seed: number;
  /** Honest listening nodes. */
  honest: number;
  /** Attacker nodes (each one address, all accepting connections). */
  attackers: number;
  /** Address groups (/16) the attacker's addresses are spread over. */
  attackerGroups: number;
  /** Attacker nodes that also connect in to our pool and flood it with `addr`. */
  attackerDialers: number;
  /** Virtual minutes to run. */
  minutes: number;
  /** Mean virtual seconds between two crashes of a random node (churn). */
  crashEvery: number;
  /** Restart our pool (same address book) every this many virtual minutes; default never. */
  restartEvery?: number;
  /** Honest addresses our address book starts with (as from DNS seeds). */
  seeds?: number;
  /** Honest addresses an honest node gives in answer to `getaddr`. */
  addrAnswer?: number;
  /** The simulator's settling window (see `SimNetOptions.window`); default exact. */
  window?: number;
  /** Called every virtual minute with the minutes run (for a progress line). */
  onMinute?: (minute: number, scenario: PoolScenarioResult) => void;
}

/** What {@linkcode runPoolScenario} measured. */
export interface PoolScenarioResult {
  /** The trace hash of the whole run. */
  traceHash: string;
  /** Trace entries. */
  traceCount: number;
  /** Simulator events run. */
  events: number;
  /** Checkpoints (simulator steps) at which the pool's outbound peers were counted. */
  checks: number;
  /** The most outbound slots the attacker held at once. */
  maxAttackerOutbound: number;
  /** The most outbound peers held at once (the target is 8). */
  maxOutbound: number;
  /** Outbound peers, averaged over the checkpoints after the first 10 virtual minutes. */
  meanOutbound: number;
  /** Outbound connections made to attacker addresses, and to honest ones, over the run. */
  attackerJoins: number;
  honestJoins: number;
  /** Outbound peers at the end, and their distinct address groups. */
  finalOutbound: number;
  outboundGroups: number;
  /** Addresses in our address book at the end, and how many are the attacker's. */
  bookSize: number;
  bookAttacker: number;
  /** Nodes crashed (and restarted later). */
  crashes: number;
  /** Times our pool was restarted. */
  restarts: number;
  /** Hosts in the simulation (ours included). */
  hosts: number;
  /** The first checkpoint at which the attacker held a majority, if any (virtual seconds and count). */
  violation: string | undefined;
}

function ipOf(addr: string): string {
  const i = addr.lastIndexOf(":");
  const host = addr.slice(0, i);
  return host.startsWith("[") ? host.slice(1, -1) : host;
}

function peerConfig(host: SimHost, name: string, listeners: PeerListeners): PeerConfig {
  return {
    network: SIMNET,
    userAgentName: name,
    userAgentVersion: "1.0.0",
    clock: host.clock,
    random: host.random,
    sentNonces: host.sentNonces,
    listeners,
  };
}

/** Draws `n` distinct items (or all) with the host's random stream. */
function sample<T>(host: SimHost, from: readonly T[], n: number): T[] {
  if (from.length <= n) return [...from];
  const picked = new Set<number>();
  while (picked.size < n) picked.add(host.rng.below(from.length));
  return [...picked].map((i) => from[i]!);
}

/**
 * Runs the scenario: our pool (outbound target 8, listening) on one host,
 * honest nodes answering the handshake and `getaddr`, attacker nodes that
 * answer `getaddr` with 1000 attacker addresses and push more every two
 * minutes, some of them dialling in to flood us, and random crashes with
 * restarts a few minutes later. After every simulator step it counts the
 * pool's outbound peers held by the attacker.
 *
 * @param o Sizes and durations.
 * @returns What was measured, with the trace hash.
 */
export async function runPoolScenario(o: PoolScenarioOptions): Promise<PoolScenarioResult> {
  const net = new SimNet({ seed: o.seed, ...(o.window === undefined ? {} : { window: o.window }) });
  const now = () => Math.floor(net.now / 1000);
  const us = net.host({ name: "us", ipv4: true, ipv6: true, bandwidth: 125_000_000 });

  // The attacker: addresses in a few /16s, every one a node that accepts.
  const attackerIps: string[] = [];
  for (let i = 0; i < o.attackers; i++) {
    const g = i % o.attackerGroups;
    const n = Math.floor(i / o.attackerGroups);
    attackerIps.push(`${ATTACKER_PREFIXES[g]}.${Math.floor(n / 250) % 256}.${(n % 250) + 1}`);
  }
  const attackerSet = new Set(attackerIps);
  const attackerAddrs = () => attackerIps.map((ip) => netAddress({ ip, port: PORT, timestamp: now(), services: 1n }));
  const flood = (host: SimHost, peer: Peer): void => {
    const push = () => {
      if (!peer.connected) return;
      peer.pushAddrMsg(attackerAddrs());
      host.clock.setTimeout(push, 120_000);
    };
    push();
  };
  /** An attacker's peer: answers `getaddr` with attacker addresses and pushes them unasked. */
  const evilPeer = (host: SimHost, remote?: string): Peer => {
    const config = peerConfig(host, "evil", { onGetAddr: (peer) => void peer.pushAddrMsg(attackerAddrs()) });
    const peer = remote === undefined ? Peer.inbound(config) : Peer.outbound(remote, config);
    void peer.ready.then((ok) => ok && flood(host, peer));
    return peer;
  };
  const attackerHosts: SimHost[] = [];
  for (const ip of attackerIps) {
    attackerHosts.push(net.host({
      name: `a${attackerHosts.length}`,
      ipv4: ip,
      ipv6: false,
      boot: async (host) => {
        const listener = await host.listen({ port: PORT });
        for await (const conn of listener) {
          evilPeer(host).associateConnection(conn);
        }
      },
    }));
  }

  // Honest nodes: they listen, and answer `getaddr` with honest addresses they know.
  const honestHosts: SimHost[] = [];
  const honestAddrs: NetAddress[] = [];
  const answer = o.addrAnswer ?? 100;
  for (let i = 0; i < o.honest; i++) {
    const host = net.host({
      boot: async (host) => {
        const listener = await host.listen({ hostname: "::", port: PORT });
        const listeners: PeerListeners = {
          onGetAddr: (peer) => {
            const t = now();
            void peer.pushAddrMsg(sample(host, honestAddrs, answer).map((na) => ({ ...na, timestamp: t })));
          },
        };
        for await (const conn of listener) {
          Peer.inbound(peerConfig(host, "honest", listeners)).associateConnection(conn);
        }
      },
    });
    honestHosts.push(host);
    for (const ip of host.addresses) honestAddrs.push(netAddress({ ip, port: PORT, timestamp: 0, services: 1n }));
  }

  // Our pool, with an address book seeded with a few honest addresses.
  const book = new AddrManager({ clock: us.clock, random: us.random, saveIntervalMs: 0 });
  const seedSrc = netAddress({ ip: "8.8.8.8", port: PORT, services: 0n });
  const seedList = sample(net.hosts[0]!, honestAddrs, o.seeds ?? 20).map((na) => ({ ...na, timestamp: now() }));
  book.addAddresses(seedList, seedSrc);
  const makePool = () =>
    new Pool({
      network: SIMNET,
      connect: (h, p, opts) => us.connect(h, p, opts),
      listenFn: (opts) => us.listen(opts),
      listen: [{ hostname: "::", port: PORT }],
      clock: us.clock,
      random: us.random,
      addrManager: book,
      peer: { userAgentName: "us", userAgentVersion: "1.0.0", sentNonces: us.sentNonces },
    });
  let pool = makePool();
  const target = 8;
  let restarts = 0;

  // Attacker nodes that dial in and flood, reconnecting when dropped.
  const usIp = us.ipv4!;
  for (const host of attackerHosts.slice(0, o.attackerDialers)) {
    const dial = async (): Promise<void> => {
      if (!host.up) return;
      const incarnation = host.incarnation;
      const peer = evilPeer(host, `${usIp}:${PORT}`);
      try {
        peer.associateConnection(await host.connect(usIp, PORT, { timeout: 20_000 }));
      } catch {
        peer.disconnect();
      }
      await peer.disconnected;
      if (host.up && host.incarnation === incarnation) host.clock.setTimeout(() => void dial(), 60_000);
    };
    host.clock.setTimeout(() => void dial(), 1000 + host.rng.below(60_000));
  }

  // Churn: a random node (honest or attacker) crashes, and restarts a few minutes later.
  const others = [...honestHosts, ...attackerHosts];
  let crashes = 0;
  const churn = () => {
    const host = others[net.random.below(others.length)]!;
    if (host.up) {
      host.crash(net.random.chance(0.5) ? "process" : "machine");
      crashes++;
      net.after(60_000 + net.random.below(600_000), () => host.restart());
    }
    net.after(1 + net.random.below(2 * o.crashEvery * 1000), churn);
  };
  net.after(o.crashEvery * 1000, churn);

  const r: PoolScenarioResult = {
    traceHash: "",
    traceCount: 0,
    events: 0,
    checks: 0,
    maxAttackerOutbound: 0,
    maxOutbound: 0,
    meanOutbound: 0,
    attackerJoins: 0,
    honestJoins: 0,
    finalOutbound: 0,
    outboundGroups: 0,
    bookSize: 0,
    bookAttacker: 0,
    crashes: 0,
    restarts: 0,
    hosts: net.hosts.length,
    violation: undefined,
  };
  let sumOutbound = 0;
  let counted = 0;
  const joined = new WeakSet<Peer>();
  const check = () => {
    r.checks++;
    let out = 0;
    let evil = 0;
    for (const peer of pool.peers()) {
      if (peer.inbound) continue;
      out++;
      const bad = attackerSet.has(ipOf(peer.addr));
      if (bad) evil++;
      if (!joined.has(peer)) {
        joined.add(peer);
        if (bad) r.attackerJoins++;
        else r.honestJoins++;
      }
    }
    r.maxOutbound = Math.max(r.maxOutbound, out);
    r.maxAttackerOutbound = Math.max(r.maxAttackerOutbound, evil);
    if (evil * 2 > target && r.violation === undefined) {
      r.violation = `${(net.time / 1000).toFixed(3)} s: ${evil} of ${target} outbound slots`;
      net.note("violation", r.violation);
    }
    if (net.time >= 600_000) {
      sumOutbound += out;
      counted++;
    }
  };

  await net.run({ until: pool.start() });
  for (let m = 1; m <= o.minutes; m++) {
    await net.run({ for: 60_000, onStep: check });
    o.onMinute?.(m, r);
    if (o.restartEvery !== undefined && m % o.restartEvery === 0 && m < o.minutes) {
      // Our node restarts with the address book it had: the moment an eclipse attacker waits for.
      await net.run({ until: pool.stop(), for: 600_000 });
      net.note("pool.restart", `${++restarts}`);
      pool = makePool();
      await net.run({ until: pool.start() });
    }
  }
  r.restarts = restarts;
  const outbound = pool.peers().filter((p) => !p.inbound);
  r.finalOutbound = outbound.length;
  r.outboundGroups = new Set(outbound.map((p) => groupKey(parseAddressKey(p.addr)))).size;
  for (const na of book.allAddresses()) {
    r.bookSize++;
    if (attackerSet.has(ipToString(na.ip) ?? "")) r.bookAttacker++;
  }
  await net.run({ until: pool.stop(), for: 600_000 });
  r.meanOutbound = counted === 0 ? 0 : sumOutbound / counted;
  r.crashes = crashes;
  r.events = net.events;
  r.traceHash = net.trace.hash;
  r.traceCount = net.trace.count;
  return r;
}
