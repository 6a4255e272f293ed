/**
 * `dataPlane.via: loader`: a chain node's NodeDataPlane over bpf/craq (craq.bpf.o) through the
 * node's ebpf-loader — @netaccel/dataplane's LoaderDataPlane for the maps, and the Loader API's
 * WatchRingBuffer for the tail's `craq_commits`.
 *
 *   configure      craq_config[0] = encodeConfig (role bits, epoch, self/pred/succ/tail with the
 *                  MACs of chain.nodes[].mac)
 *   install        craq_keys[id] = placedKey(keyCheck, version, value), HOLD unless writable,
 *                  its request ring (craq_key.reqs, at most once) the entry's own records up to
 *                  the version plus value.requests (one write: a retry finds them as soon as
 *                  the head takes writes)
 *   latest         the highest version held, with the requests the entry knows (requestsHeld:
 *                  its request ring and the slots' req_id), which a repair installs everywhere
 *   setWritable    craq_keys[id].flags HOLD, a read-modify-write of the whole entry (see below)
 *   get/keys/...   lookup/dump + decodeKeyEntry (dirty = last - clean; reads, writes)
 *   onCommit       WatchRingBuffer(craq_commits), decoded with decodeCommit, while listened to
 *
 * The node agent's duties run here, against the maps (no process on the node):
 *   commitDirty    (the node became the tail, writes held) clean := last for every key, and each
 *                  dirty version is handed to the commit listeners as the ring buffer would. The
 *                  clients of those writes are not answered (they time out and retry) and no ACK
 *                  goes up: the predecessors' entries are repaired by the chain manager's copy.
 *   resendDirty    not possible from here (the successor accepts PROPAGATE only from its
 *                  predecessor's address): answers 0 at once, without reading the map (the
 *                  reconfiguration waits for nothing). The versions left dirty are committed by
 *                  the chain manager's repair-dirty step that follows (it logs each key); a lost
 *                  message without a reconfiguration is repaired by its scan (lost-messages.ts).
 *   probes         liveness is asked of the loader (`alive`: the loader answers and the program
 *                  is still attached to the interface) — see loaderProbe in daemon.ts. (The XDP
 *                  program answers a READ of key id 0 NOT_PLACED itself, with no process here.)
 *
 * Races: the program changes an entry's versions with compare-and-swap; a whole-entry update
 * from here overwrites what a concurrent write did between the read and the update. `install`
 * on a placed key and `setWritable` are therefore only exact while the key's writes are held
 * (placement, reconfiguration) or idle; `setWritable(false)` on a busy key can lose the head's
 * record of one in-flight write (that write still commits at the tail and reaches etcd).
 */
import { CRAQ_DESCRIPTOR, NO_PEER, decodeCommit, decodeKeyEntry, encodeConfig, encodeKeyEntry, encodeKeyId, placedKey, requestsHeld, withRequests } from '@netaccel/bpf-programs/craq';
import type { CraqKeyEntry, CraqMapName, CraqPeer } from '@netaccel/bpf-programs/craq';
import type { CommittedValue, Endpoint, KeyCounters, KeyState, NodeConfig, NodeDataPlane } from '@netaccel/craq';
import { LoaderDataPlane } from '@netaccel/dataplane';
import type { MapAccess } from '@netaccel/dataplane';
import { LoaderClient, createRpcClient, isRpcError, loaderV1, statusName } from '@netaccel/rpc';
import type { RpcClient } from '@netaccel/rpc';
import type { Logger } from '@netaccel/telemetry';
import type { Probe } from './chain-manager.js';
import type { CraqSchedulerConfig } from './config.js';
import { NA_ERR_CRAQD_CONFIG_INVALID } from './errors.js';

export interface LoaderNodeOptions {
  readonly name: string;
  readonly endpoint: Endpoint;
  readonly loaderSocket: string;
  readonly iface: string;
  readonly objectPath: string;
  readonly xdpMode: 'native' | 'generic';
  /** Every chain node's address and MAC, by endpoint (`address:port`): the config map's peers. */
  readonly peers: ReadonlyMap<string, CraqPeer>;
  readonly log: Logger;
}

const CONFIG_KEY = Buffer.alloc(4);
const epKey = (e: Endpoint): string => `${e.address}:${e.port}`;

function stateOf(keyId: bigint, k: CraqKeyEntry): KeyState {
  const s = k.slots[Number(k.cleanVersion % BigInt(k.slots.length))];
  const value = s === undefined || s.version !== k.cleanVersion || s.tombstone ? null : s.value;
  return { keyId, keyCheck: k.keyCheck, version: k.cleanVersion, value, dirty: Number(k.lastVersion - k.cleanVersion), writable: !k.hold };
}

export class LoaderNode implements NodeDataPlane {
  readonly name: string;
  readonly endpoint: Endpoint;
  readonly #o: LoaderNodeOptions;
  readonly #dp: MapAccess<CraqMapName>;
  /** The commit stream's source: the loader's WatchRingBuffer (none: `onCommit` hears only commitDirty). */
  readonly #rpc: { client: RpcClient<typeof loaderV1.LoaderService>; objectId: string } | undefined;
  readonly #listeners = new Set<(c: CommittedValue) => void>();
  #watch: AbortController | undefined;
  /** The loader has no MapLookupBatch (an older one): lookups one by one, in parallel. */
  #noBatch = false;

  private constructor(o: LoaderNodeOptions, dp: MapAccess<CraqMapName>, objectId: string | undefined) {
    this.#o = o;
    this.name = o.name;
    this.endpoint = o.endpoint;
    this.#dp = dp;
    this.#rpc = objectId === undefined ? undefined : { client: createRpcClient(LoaderClient, { address: o.loaderSocket, deadlineMs: 10_000 }), objectId };
  }

  /** Loads craq.bpf.o through the node's loader and attaches it to the node's interface. */
  static async open(o: LoaderNodeOptions): Promise<LoaderNode> {
    const dp = await LoaderDataPlane.open(CRAQ_DESCRIPTOR, { address: o.loaderSocket, objectPath: o.objectPath, owner: `craq-scheduler/${o.name}`, iface: o.iface, xdpMode: o.xdpMode });
    return new LoaderNode(o, dp, dp.objectId);
  }

  /**
   * The same node over maps reached another way (tests: an InProcessDataPlane of craq.bpf.o in
   * this process). No commit stream: the caller reads the tail's ring buffer itself.
   */
  static overMaps(o: LoaderNodeOptions, maps: MapAccess<CraqMapName>): LoaderNode {
    return new LoaderNode(o, maps, undefined);
  }

  #peer(e: Endpoint | undefined): CraqPeer {
    if (e === undefined) return NO_PEER;
    const p = this.#o.peers.get(epKey(e));
    if (p === undefined) throw NA_ERR_CRAQD_CONFIG_INVALID(`chain node ${epKey(e)} is not in chain.nodes (its MAC is needed for the config map)`);
    return p;
  }

  async configure(c: NodeConfig): Promise<void> {
    const cfg = encodeConfig({
      enabled: true,
      netchain: false,
      head: c.role === 'head' || c.role === 'single',
      tail: c.role === 'tail' || c.role === 'single',
      epoch: c.epoch,
      port: this.endpoint.port,
      self: this.#peer(this.endpoint),
      pred: this.#peer(c.prev),
      succ: this.#peer(c.next),
      tail_: this.#peer(c.tail),
    });
    await this.#dp.update('craq_config', CONFIG_KEY, cfg);
  }

  async #entry(keyId: bigint): Promise<CraqKeyEntry | undefined> {
    const raw = await this.#dp.lookup('craq_keys', encodeKeyId(keyId));
    return raw === undefined ? undefined : decodeKeyEntry(raw);
  }

  async install(v: CommittedValue, writable: boolean): Promise<void> {
    const records = (v.requests ?? []).filter((r) => r.reqId !== 0n && r.version <= v.version);
    // at most once: the entry's request ring keeps the node's own records up to the version, plus value.requests
    const old = await this.#entry(v.keyId);
    const own = old !== undefined && old.keyCheck === v.keyCheck ? (old.requests ?? []).filter((r) => r.version <= v.version) : [];
    const e = v.value === null
      ? placedKey(v.keyCheck, v.version, v.version === 0n ? undefined : new Uint8Array(0), { tombstone: true, hold: !writable })
      : placedKey(v.keyCheck, v.version, v.value, { hold: !writable });
    await this.#dp.update('craq_keys', encodeKeyId(v.keyId), encodeKeyEntry(withRequests({ ...e, requests: own }, records)));
  }

  async remove(keyId: bigint): Promise<void> {
    await this.#dp.delete('craq_keys', encodeKeyId(keyId));
  }

  async setWritable(keyId: bigint, writable: boolean): Promise<void> {
    const e = await this.#entry(keyId);
    if (e === undefined || e.hold === !writable) return;
    await this.#dp.update('craq_keys', encodeKeyId(keyId), encodeKeyEntry({ ...e, hold: !writable }));
  }

  async get(keyId: bigint): Promise<KeyState | undefined> {
    const e = await this.#entry(keyId);
    return e === undefined ? undefined : stateOf(keyId, e);
  }

  /**
   * One MapLookupBatch per 4096 keys through the loader (a dump streams one message per entry,
   * and the reconfiguration waited for two of them); a loader without it: lookups in parallel.
   */
  async getMany(keyIds: readonly bigint[]): Promise<KeyState[]> {
    const rpc = this.#rpc;
    if (rpc !== undefined && !this.#noBatch) {
      try {
        const out: KeyState[] = [];
        for (let at = 0; at < keyIds.length; at += 4096) {
          const keys = keyIds.slice(at, at + 4096).map(encodeKeyId);
          const r = await rpc.client.mapLookupBatch(loaderV1.MapLookupBatchRequest.create({ mapId: `${rpc.objectId}/craq_keys`, keys }));
          for (const e of r.entries) out.push(stateOf(e.key.readBigUInt64LE(0), decodeKeyEntry(e.value)));
        }
        return out;
      } catch (err) {
        if (!isRpcError(err) || statusName(err.grpcCode) !== 'UNIMPLEMENTED') throw err;
        this.#noBatch = true;
        this.#o.log.info({ node: this.name }, 'the loader has no MapLookupBatch: key states read one lookup each');
      }
    }
    return (await Promise.all(keyIds.map((id) => this.get(id)))).flatMap((s) => (s === undefined ? [] : [s]));
  }

  /** The highest version held (the newest slot from lastVersion down that still holds its version), with the requests of the versions held. */
  async latest(keyId: bigint): Promise<CommittedValue | undefined> {
    const e = await this.#entry(keyId);
    if (e === undefined) return undefined;
    const requests = requestsHeld(e);
    for (let v = e.lastVersion; v > e.cleanVersion; v--) {
      const s = e.slots[Number(v % BigInt(e.slots.length))];
      if (s !== undefined && s.version === v) return { keyId, keyCheck: e.keyCheck, version: v, value: s.tombstone ? null : s.value, requests };
    }
    const c = stateOf(keyId, e);
    return { keyId, keyCheck: c.keyCheck, version: c.version, value: c.value, requests };
  }

  async #dump(): Promise<[bigint, CraqKeyEntry][]> {
    const out: [bigint, CraqKeyEntry][] = [];
    for await (const { key, value } of this.#dp.dump('craq_keys')) out.push([key.readBigUInt64LE(0), decodeKeyEntry(value)]);
    return out;
  }

  async keys(): Promise<KeyState[]> {
    return (await this.#dump()).map(([id, e]) => stateOf(id, e));
  }

  async counters(): Promise<KeyCounters[]> {
    return (await this.#dump()).map(([keyId, e]) => ({ keyId, reads: e.reads, writes: e.writes }));
  }

  onCommit(listener: (c: CommittedValue) => void): () => void {
    this.#listeners.add(listener);
    if (this.#watch === undefined && this.#rpc !== undefined) this.#startWatch(this.#rpc);
    return () => {
      this.#listeners.delete(listener);
      if (this.#listeners.size === 0) {
        this.#watch?.abort();
        this.#watch = undefined;
      }
    };
  }

  #emit(c: CommittedValue): void {
    for (const l of this.#listeners) l(c);
  }

  #startWatch(rpc: { client: RpcClient<typeof loaderV1.LoaderService>; objectId: string }): void {
    const ac = new AbortController();
    this.#watch = ac;
    const mapId = `${rpc.objectId}/craq_commits`;
    const run = async (): Promise<void> => {
      while (!ac.signal.aborted) {
        try {
          for await (const r of rpc.client.watchRingBuffer(loaderV1.WatchRingBufferRequest.create({ mapId }), { signal: ac.signal })) {
            const c = decodeCommit(r.data);
            this.#emit({ keyId: c.keyId, keyCheck: c.keyCheck, version: c.version, value: c.tombstone ? null : c.value });
          }
        } catch (err) {
          if (ac.signal.aborted) return;
          this.#o.log.warn({ err, node: this.name, mapId }, 'commit stream from the loader failed: watching again');
          await new Promise((r) => setTimeout(r, 200));
        }
      }
    };
    void run();
  }

  /** Nothing can be resent from here (see the module comment): repair-dirty commits what is left. */
  resendDirty(): Promise<number> {
    return Promise.resolve(0);
  }

  async commitDirty(): Promise<number> {
    let n = 0;
    for (const [keyId, e] of await this.#dump()) {
      if (e.lastVersion <= e.cleanVersion) continue;
      for (let v = e.cleanVersion + 1n; v <= e.lastVersion; v++) {
        const s = e.slots[Number(v % BigInt(e.slots.length))];
        if (s === undefined || s.version !== v) continue;
        this.#emit({ keyId, keyCheck: e.keyCheck, version: v, value: s.tombstone ? null : s.value });
        n++;
      }
      await this.#dp.update('craq_keys', encodeKeyId(keyId), encodeKeyEntry({ ...e, cleanVersion: e.lastVersion }));
    }
    return n;
  }

  /** The loader answers and the program is attached to the node's interface. */
  async alive(): Promise<boolean> {
    return this.#dp.attached().catch(() => false);
  }

  async close(): Promise<void> {
    this.#watch?.abort();
    this.#watch = undefined;
    this.#rpc?.client.close();
    await this.#dp.close();
  }
}

/** Every chain node's LoaderNode, in chain.nodes order (each needs iface and mac). */
export async function openLoaderNodes(c: CraqSchedulerConfig, log: Logger): Promise<LoaderNode[]> {
  const peers = new Map<string, CraqPeer>();
  c.chain.nodes.forEach((n, i) => {
    if (n.iface === undefined || n.mac === undefined) throw NA_ERR_CRAQD_CONFIG_INVALID(`chain.nodes[${i}] (${n.name}): dataPlane.via loader needs iface and mac`);
    const v6 = n.address.includes(':');
    peers.set(`${n.address}:${n.port}`, { ip4: v6 ? '0.0.0.0' : n.address, ip6: v6 ? n.address : '::', mac: n.mac, port: n.port });
  });
  const out: LoaderNode[] = [];
  try {
    for (const n of c.chain.nodes) {
      out.push(await LoaderNode.open({
        name: n.name,
        endpoint: { address: n.address, port: n.port },
        loaderSocket: n.loaderSocket ?? c.dataPlane.loaderSocket,
        iface: n.iface!,
        objectPath: c.dataPlane.object,
        xdpMode: c.dataPlane.xdpMode,
        peers,
        log,
      }));
    }
  } catch (err) {
    await Promise.all(out.map((n) => n.close().catch(() => undefined)));
    throw err;
  }
  return out;
}

/** Liveness through each node's loader (see the module comment), by endpoint. */
export function loaderProbe(nodes: readonly LoaderNode[]): Probe {
  const byEp = new Map(nodes.map((n) => [epKey(n.endpoint), n] as const));
  return async (endpoint) => (await byEp.get(epKey(endpoint))?.alive()) ?? false;
}
