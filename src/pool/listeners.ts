/**
 * The pool's side of each peer: rate limits, addresses learned and given,
 * the ban-score increases soterd's server makes, and the hook that
 * requests watch answers through; composed with the application's own
 * listeners, which run after the pool's.
 *
 * @module
 */
import type { MessageListener, PeerListeners, ReadListener } from "../peer/config.ts";
import type { Peer } from "../peer/peer.ts";
import { MAX_INV_PER_MSG } from "../wire/invvect.ts";
import type { Message } from "../wire/message.ts";
import type { NetAddress } from "../wire/netaddress.ts";
import { hasService, NET_ADDRESS_TIME_VERSION, ServiceFlag } from "../wire/protocol.ts";

/** What the listeners need from the pool. */
export interface ListenerHost {
  /** Counts a message against the peer's rate limits (scoring the peer when over). */
  countMessage(peer: Peer, msg: Message): void;
  /** Raises the peer's ban score (soterd's `addBanScore`). */
  addBanScore(peer: Peer, persistent: number, transient: number, reason: string): void;
  /** A message arrived (requests in flight look for their answers). */
  received(peer: Peer, msg: Message): void;
  /** Learns addresses from a peer. */
  learn(peer: Peer, list: readonly NetAddress[]): void;
  /** The addresses to answer a first `getaddr` of an inbound peer with, if any. */
  addressCache(peer: Peer): NetAddress[] | undefined;
  /** The `addrcache` lists: our inbound and outbound peers and the known addresses. */
  addrCacheLists(): { inbound: NetAddress[]; outbound: NetAddress[]; known: NetAddress[] } | undefined;
  /** Our service bits. */
  readonly services: bigint;
  /** The time source, in milliseconds. */
  now(): number;
  /** Where to report. */
  log(line: string): void;
}

/** soterd moves a timestamp more than 10 minutes ahead to 5 days ago. */
const FUTURE_SLACK_S = 10 * 60;
const FIVE_DAYS_S = 5 * 24 * 60 * 60;

/** The pool's part, then the application's (unless the pool's part disconnected the peer). */
function after<M>(own: (peer: Peer, msg: M) => void, theirs: MessageListener<M> | undefined): MessageListener<M> {
  return (peer, msg, payload) => {
    own(peer, msg);
    if (theirs !== undefined && peer.connected) return theirs(peer, msg, payload);
  };
}

/**
 * Makes the listeners of one peer.
 *
 * @param host The pool.
 * @param user The application's listeners (called after the pool's, unless the pool disconnected the peer).
 * @returns The composed listeners.
 */
export function poolListeners(host: ListenerHost, user: PeerListeners = {}): PeerListeners {
  const answered = new WeakSet<Peer>();
  const onRead: ReadListener = (peer, bytes, msg, err) => {
    if (msg !== undefined && peer.connected) {
      host.countMessage(peer, msg);
      if (peer.connected) host.received(peer, msg);
    }
    user.onRead?.(peer, bytes, msg, err);
  };

  return {
    ...user,
    onRead,
    onAddr: after((peer, msg) => {
      // Old-style addresses carry no timestamp: soterd ignores them.
      if (peer.protocolVersion < NET_ADDRESS_TIME_VERSION) return;
      if (msg.addrList.length === 0) {
        host.log(`${peer} sent an addr without addresses: disconnecting`);
        peer.disconnect();
        return;
      }
      const nowS = Math.floor(host.now() / 1000);
      for (const na of msg.addrList) {
        if (na.timestamp > nowS + FUTURE_SLACK_S) na.timestamp = Math.max(0, nowS - FIVE_DAYS_S);
      }
      host.learn(peer, msg.addrList);
    }, user.onAddr),
    onAddrCache: after((peer, msg) => {
      host.learn(peer, [...msg.outbound, ...msg.known]);
    }, user.onAddrCache),
    onGetAddr: after((peer) => {
      // soterd answers inbound peers once per connection only.
      if (!peer.inbound || answered.has(peer)) return;
      answered.add(peer);
      const list = host.addressCache(peer);
      if (list !== undefined && list.length > 0) peer.pushAddrMsg(list);
    }, user.onGetAddr),
    onGetAddrCache: after((peer) => {
      const lists = host.addrCacheLists();
      if (lists !== undefined) peer.pushAddrCacheMsg(lists.inbound, lists.outbound, lists.known);
    }, user.onGetAddrCache),
    onMemPool: after((peer) => {
      if (!hasService(host.services, ServiceFlag.NODE_BLOOM)) {
        host.log(`${peer} sent mempool although we do not signal bloom filtering: disconnecting`);
        peer.disconnect();
        return;
      }
      host.addBanScore(peer, 0, 33, "mempool");
    }, user.onMemPool),
    onGetData: after((peer, msg) => {
      host.addBanScore(peer, 0, Math.floor(msg.invList.length * 99 / MAX_INV_PER_MSG), "getdata");
    }, user.onGetData),
  };
}
