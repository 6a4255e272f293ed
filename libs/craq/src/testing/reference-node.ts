/**
 * The user-space REFERENCE of a NetCRAQ chain node, written from the wire codec
 * (@netaccel/protocol `craq`) and the wire specification alone, for tests that do not need BPF.
 * It is NOT the XDP node (bpf/craq): same protocol and state machine, none of its code, none of
 * its performance. It implements NodeDataPlane so the scheduler can program it like the real one.
 *
 * Per key: the clean (committed) version and value, dirty versions not yet acknowledged (at most
 * `maxDirty`; a write beyond it is answered RETRY and counted), a writable flag. READ of a clean
 * key: answered here; of a dirty key: VERSION_QUERY to the tail, answered with that version.
 * WRITE/DELETE at the head get version = latest + 1 and PROPAGATE; the tail commits, answers the
 * client and ACKs up; ACK marks the version clean and drops older ones. At most once: every
 * node records which request created each version it stores (and what `install` brings), and
 * the head answers a WRITE/DELETE whose request it knows instead of applying it again (OK with
 * that version once committed, else RETRY), as bpf/craq's per-key record of request ids (craq_key.reqs). Chain-internal messages
 * of another epoch are dropped and counted; malformed datagrams are dropped and counted, never
 * answered.
 */
import { createSocket } from 'node:dgram';
import type { RemoteInfo, Socket } from 'node:dgram';
import { craq, ipFamily } from '@netaccel/protocol';
import type { CommittedValue, Endpoint, KeyCounters, KeyState, NodeConfig, NodeDataPlane } from '../data-plane.js';

type Msg = craq.CraqMessage;
type Client = craq.CraqClientAddress;

interface Dirty {
  readonly value: Uint8Array | null;
  readonly client: Client | undefined;
  readonly reqId: bigint;
}

interface KeyEntry {
  keyCheck: number;
  version: bigint;
  value: Uint8Array | null;
  readonly dirty: Map<bigint, Dirty>;
  writable: boolean;
  reads: bigint;
  writes: bigint;
}

export interface ReferenceNodeOptions {
  readonly name: string;
  /** Default 127.0.0.1. */
  readonly address?: string;
  /** Default 0: any free port. */
  readonly port?: number;
  /** Dirty versions kept per key before writes are answered RETRY. Default 8. */
  readonly maxDirty?: number;
}

/** Why datagrams were dropped. */
export interface ReferenceDrops {
  malformed: number;
  staleEpoch: number;
  dirtyFull: number;
  notNeighbour: number;
}

const NONE = new Uint8Array(0);

export class ReferenceNode implements NodeDataPlane {
  readonly name: string;
  readonly drops: ReferenceDrops = { malformed: 0, staleEpoch: 0, dirtyFull: 0, notNeighbour: 0 };
  /** WRITE/DELETEs answered from the request records instead of applied again. */
  duplicates = 0;
  readonly #socket: Socket;
  readonly #maxDirty: number;
  readonly #keys = new Map<bigint, KeyEntry>();
  /** At-most-once records: `${reqId}/${keyId}` -> the version that request created (never forgotten here). */
  readonly #requests = new Map<string, bigint>();
  readonly #commitListeners = new Set<(c: CommittedValue) => void>();
  #config: NodeConfig | undefined;
  #endpoint: Endpoint;
  #paused = false;

  private constructor(opts: ReferenceNodeOptions, socket: Socket, endpoint: Endpoint) {
    this.name = opts.name;
    this.#maxDirty = opts.maxDirty ?? 8;
    this.#socket = socket;
    this.#endpoint = endpoint;
    socket.on('message', (buf, rinfo) => this.#receive(buf, rinfo));
  }

  static async start(opts: ReferenceNodeOptions): Promise<ReferenceNode> {
    const address = opts.address ?? '127.0.0.1';
    const socket = createSocket(ipFamily(address) === 6 ? 'udp6' : 'udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(opts.port ?? 0, address, () => resolve());
    });
    return new ReferenceNode(opts, socket, { address, port: socket.address().port });
  }

  get endpoint(): Endpoint {
    return this.#endpoint;
  }

  get config(): NodeConfig | undefined {
    return this.#config;
  }

  /** Tests: a lossy link into this node — messages the predicate selects are dropped unseen (a lost PROPAGATE or ACK). */
  loseIncoming: ((m: craq.CraqMessage) => boolean) | undefined;

  /** Tests: a paused node drops everything it receives (a dead node that still has a socket). */
  set paused(p: boolean) {
    this.#paused = p;
  }

  configure(config: NodeConfig): Promise<void> {
    this.#config = config;
    return Promise.resolve();
  }

  install(v: CommittedValue, writable: boolean): Promise<void> {
    for (const r of v.requests ?? []) if (r.reqId !== 0n && r.version <= v.version) this.#requests.set(`${r.reqId}/${v.keyId}`, r.version);
    const e = this.#keys.get(v.keyId);
    if (e === undefined) {
      this.#keys.set(v.keyId, { keyCheck: v.keyCheck, version: v.version, value: v.value, dirty: new Map(), writable, reads: 0n, writes: 0n });
    } else {
      e.keyCheck = v.keyCheck;
      e.version = v.version;
      e.value = v.value;
      e.writable = writable;
      for (const ver of [...e.dirty.keys()]) if (ver <= v.version) e.dirty.delete(ver);
    }
    return Promise.resolve();
  }

  remove(keyId: bigint): Promise<void> {
    this.#keys.delete(keyId);
    return Promise.resolve();
  }

  setWritable(keyId: bigint, writable: boolean): Promise<void> {
    const e = this.#keys.get(keyId);
    if (e !== undefined) e.writable = writable;
    return Promise.resolve();
  }

  get(keyId: bigint): Promise<KeyState | undefined> {
    const e = this.#keys.get(keyId);
    return Promise.resolve(e === undefined ? undefined : stateOf(keyId, e));
  }

  getMany(keyIds: readonly bigint[]): Promise<KeyState[]> {
    return Promise.resolve(keyIds.flatMap((id) => {
      const e = this.#keys.get(id);
      return e === undefined ? [] : [stateOf(id, e)];
    }));
  }

  latest(keyId: bigint): Promise<CommittedValue | undefined> {
    const e = this.#keys.get(keyId);
    if (e === undefined) return Promise.resolve(undefined);
    let top: CommittedValue = { keyId, keyCheck: e.keyCheck, version: e.version, value: e.value };
    for (const [version, d] of e.dirty) if (version > top.version) top = { keyId, keyCheck: e.keyCheck, version, value: d.value };
    const suffix = `/${keyId}`;
    const requests = [...this.#requests].filter(([k, v]) => k.endsWith(suffix) && v <= top.version).map(([k, version]) => ({ reqId: BigInt(k.slice(0, -suffix.length)), version }));
    return Promise.resolve({ ...top, requests });
  }

  keys(): Promise<KeyState[]> {
    return Promise.resolve([...this.#keys].map(([id, e]) => stateOf(id, e)));
  }

  counters(): Promise<KeyCounters[]> {
    return Promise.resolve([...this.#keys].map(([keyId, e]) => ({ keyId, reads: e.reads, writes: e.writes })));
  }

  onCommit(listener: (c: CommittedValue) => void): () => void {
    this.#commitListeners.add(listener);
    return () => this.#commitListeners.delete(listener);
  }

  resendDirty(): Promise<number> {
    const next = this.#config?.next;
    let n = 0;
    if (next === undefined) return Promise.resolve(0);
    for (const [keyId, e] of this.#keys) {
      for (const [version, d] of [...e.dirty].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
        this.#propagate(next, keyId, e.keyCheck, version, d);
        n++;
      }
    }
    return Promise.resolve(n);
  }

  commitDirty(): Promise<number> {
    let n = 0;
    for (const [keyId, e] of this.#keys) {
      for (const [version, d] of [...e.dirty].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
        this.#commit(keyId, e, version, d);
        n++;
      }
    }
    return Promise.resolve(n);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.#socket.close(() => resolve()));
  }

  #remember(reqId: bigint, keyId: bigint, version: bigint): void {
    if (reqId !== 0n) this.#requests.set(`${reqId}/${keyId}`, version);
  }

  #send(to: Endpoint, m: craq.CraqMessageInit): void {
    this.#socket.send(craq.encodeCraq(m), to.port, to.address);
  }

  #receive(buf: Buffer, rinfo: RemoteInfo): void {
    if (this.#paused) return;
    let m: Msg;
    try {
      m = craq.decodeCraq(buf);
    } catch {
      this.drops.malformed++;
      return;
    }
    if (this.loseIncoming?.(m) === true) return;
    const from: Endpoint = { address: rinfo.address, port: rinfo.port };
    const { CraqOp } = craq;
    switch (m.op) {
      case CraqOp.READ:
        return this.#read(m, from);
      case CraqOp.WRITE:
      case CraqOp.DELETE:
        return this.#write(m, from, rinfo);
      case CraqOp.PROPAGATE:
      case CraqOp.ACK:
      case CraqOp.VERSION_QUERY:
      case CraqOp.VERSION_REPLY:
        return this.#internal(m, from);
      default:
        this.drops.malformed++; // a reply sent to a node
    }
  }

  #read(m: Msg, from: Endpoint): void {
    const e = this.#keys.get(m.keyId);
    if (e === undefined || e.keyCheck !== m.keyCheck || this.#config === undefined) {
      this.#send(from, craq.craqReply(m, craq.CraqStatus.NOT_PLACED));
      return;
    }
    e.reads++;
    const tail = this.#config.role === 'tail' || this.#config.role === 'single';
    if (e.dirty.size === 0 || tail) {
      this.#answerRead(m, from, e, e.version, tail);
      return;
    }
    // dirty: ask the tail which version is committed; the client rides along in the trailer
    const client: Client = { family: ipFamily(from.address) === 6 ? 6 : 4, address: from.address, port: from.port, mac: '00:00:00:00:00:00' };
    this.#send(this.#config.tail, { op: craq.CraqOp.VERSION_QUERY, reqId: m.reqId, keyId: m.keyId, keyCheck: e.keyCheck, epoch: this.#config.epoch, client });
  }

  #answerRead(m: Msg, to: Endpoint, e: KeyEntry, version: bigint, fromTail: boolean): void {
    const flags = fromTail ? craq.CraqFlag.FROM_TAIL : 0;
    const value = version === e.version ? e.value : (e.dirty.get(version)?.value ?? e.value);
    if (value === null) this.#send(to, craq.craqReply(m, craq.CraqStatus.NOT_FOUND, { version, flags }));
    else this.#send(to, craq.craqReply(m, craq.CraqStatus.OK, { version, value, flags }));
  }

  #write(m: Msg, from: Endpoint, rinfo: RemoteInfo): void {
    const e = this.#keys.get(m.keyId);
    const c = this.#config;
    if (e === undefined || e.keyCheck !== m.keyCheck || c === undefined) return this.#send(from, craq.craqReply(m, craq.CraqStatus.NOT_PLACED));
    if (c.role !== 'head' && c.role !== 'single') return this.#send(from, craq.craqReply(m, craq.CraqStatus.NOT_HEAD));
    const applied = m.reqId === 0n ? undefined : this.#requests.get(`${m.reqId}/${m.keyId}`);
    if (applied !== undefined) {
      this.duplicates++;
      if (applied <= e.version) return this.#send(from, craq.craqReply(m, craq.CraqStatus.OK, { version: applied, flags: craq.CraqFlag.FROM_TAIL }));
      return this.#send(from, craq.craqReply(m, craq.CraqStatus.RETRY));
    }
    if (!e.writable) return this.#send(from, craq.craqReply(m, craq.CraqStatus.RETRY));
    if (e.dirty.size >= this.#maxDirty) {
      this.drops.dirtyFull++;
      return this.#send(from, craq.craqReply(m, craq.CraqStatus.RETRY));
    }
    e.writes++;
    const version = latest(e) + 1n;
    const client: Client = { family: rinfo.family === 'IPv6' ? 6 : 4, address: rinfo.address, port: rinfo.port, mac: '00:00:00:00:00:00' };
    const d: Dirty = { value: m.op === craq.CraqOp.DELETE ? null : m.value, client, reqId: m.reqId };
    this.#remember(m.reqId, m.keyId, version);
    if (c.role === 'single') return this.#commit(m.keyId, e, version, d);
    e.dirty.set(version, d);
    this.#propagate(c.next!, m.keyId, e.keyCheck, version, d);
  }

  #propagate(to: Endpoint, keyId: bigint, keyCheck: number, version: bigint, d: Dirty): void {
    const flags = d.value === null ? craq.CraqFlag.TOMBSTONE : 0;
    this.#send(to, { op: craq.CraqOp.PROPAGATE, flags, reqId: d.reqId, keyId, keyCheck, epoch: this.#config!.epoch, version, value: d.value ?? NONE, ...(d.client === undefined ? {} : { client: d.client }) });
  }

  /** Commits `version` at the tail: clean, older dirty dropped, client answered, ACK up. */
  #commit(keyId: bigint, e: KeyEntry, version: bigint, d: Dirty): void {
    const c = this.#config!;
    if (version > e.version) {
      e.version = version;
      e.value = d.value;
      for (const v of [...e.dirty.keys()]) if (v <= version) e.dirty.delete(v);
      const committed: CommittedValue = { keyId, keyCheck: e.keyCheck, version, value: d.value };
      for (const l of this.#commitListeners) l(committed);
    }
    if (d.client !== undefined) {
      const op = d.value === null ? craq.CraqOp.DELETE_REPLY : craq.CraqOp.WRITE_REPLY;
      this.#send(d.client, { op, status: craq.CraqStatus.OK, flags: craq.CraqFlag.FROM_TAIL, reqId: d.reqId, keyId, keyCheck: e.keyCheck, epoch: c.epoch, version });
    }
    if (c.prev !== undefined) this.#send(c.prev, { op: craq.CraqOp.ACK, reqId: d.reqId, keyId, keyCheck: e.keyCheck, epoch: c.epoch, version, ...(d.client === undefined ? {} : { client: d.client }) });
  }

  #internal(m: Msg, from: Endpoint): void {
    const c = this.#config;
    if (c === undefined || m.epoch !== c.epoch) {
      this.drops.staleEpoch++;
      return;
    }
    const { CraqOp } = craq;
    const e = this.#keys.get(m.keyId);
    if (m.op === CraqOp.VERSION_REPLY) {
      if (e === undefined || m.client === undefined || e.keyCheck !== m.keyCheck) return;
      if (m.version > e.version && e.dirty.has(m.version)) {
        // the tail has committed it: clean here too (repairs a lost ACK, as bpf/craq does)
        e.version = m.version;
        e.value = e.dirty.get(m.version)!.value;
        for (const v of [...e.dirty.keys()]) if (v <= m.version) e.dirty.delete(v);
      }
      const req: Msg = { ...m, op: CraqOp.READ, status: 0, flags: 0, version: 0n, value: NONE };
      this.#answerRead(req, m.client, e, m.version < e.version ? e.version : m.version, true);
      return;
    }
    if (e === undefined || e.keyCheck !== m.keyCheck) return; // not placed here: dropped
    if (m.op === CraqOp.VERSION_QUERY) {
      this.#send(from, { op: CraqOp.VERSION_REPLY, reqId: m.reqId, keyId: m.keyId, keyCheck: e.keyCheck, epoch: c.epoch, version: e.version, ...(m.client === undefined ? {} : { client: m.client }) });
      return;
    }
    if (m.op === CraqOp.PROPAGATE) {
      if (c.prev === undefined || !same(from, c.prev)) {
        this.drops.notNeighbour++;
        return;
      }
      const d: Dirty = { value: (m.flags & craq.CraqFlag.TOMBSTONE) !== 0 ? null : m.value, client: m.client, reqId: m.reqId };
      e.writes++;
      if (m.version > e.version) this.#remember(m.reqId, m.keyId, m.version);
      if (c.role === 'tail') {
        if (m.version <= e.version) this.#send(c.prev, { op: CraqOp.ACK, reqId: m.reqId, keyId: m.keyId, keyCheck: e.keyCheck, epoch: c.epoch, version: e.version, ...(m.client === undefined ? {} : { client: m.client }) });
        else this.#commit(m.keyId, e, m.version, d);
        return;
      }
      if (m.version > e.version) e.dirty.set(m.version, d);
      this.#propagate(c.next!, m.keyId, e.keyCheck, m.version, d);
      return;
    }
    // ACK from the successor
    if (c.next === undefined || !same(from, c.next)) {
      this.drops.notNeighbour++;
      return;
    }
    if (m.version > e.version) {
      const d = e.dirty.get(m.version);
      e.version = m.version;
      e.value = d === undefined ? e.value : d.value;
    }
    for (const v of [...e.dirty.keys()]) if (v <= m.version) e.dirty.delete(v);
    if (c.prev !== undefined) this.#send(c.prev, { op: CraqOp.ACK, reqId: m.reqId, keyId: m.keyId, keyCheck: e.keyCheck, epoch: c.epoch, version: m.version, ...(m.client === undefined ? {} : { client: m.client }) });
  }
}

function latest(e: KeyEntry): bigint {
  let v = e.version;
  for (const d of e.dirty.keys()) if (d > v) v = d;
  return v;
}

function same(a: Endpoint, b: Endpoint): boolean {
  return a.port === b.port && a.address === b.address;
}

function stateOf(keyId: bigint, e: KeyEntry): KeyState {
  return { keyId, keyCheck: e.keyCheck, version: e.version, value: e.value, dirty: e.dirty.size, writable: e.writable };
}
