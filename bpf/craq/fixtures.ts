/**
 * The NetCRAQ test world (a chain of three nodes and a client on one segment, IPv4 and IPv6)
 * and the fixtures: {role, keys, input frame, expected verdict/reason/action and reply}. Each
 * fixture is run through the reference model and through the XDP program (craq.bpf.test.ts),
 * and the two are compared byte for byte; `expect` is the behaviour both must show.
 */
import { craq } from '@netaccel/protocol';
import { NO_PEER, placedKey, withRequests } from './codec.js';
import type { CraqConfig, CraqKeyEntry, CraqPeer } from './codec.js';
import { encodeFrame } from './frame.js';
import type { CraqNodeState, XdpVerdict } from './model.js';
import type { CraqReasonName, CraqStatName } from './reasons.js';

const { CraqOp, CraqFlag, CraqStatus } = craq;

export const PORT = craq.CRAQ_DEFAULT_PORT;
export const EPOCH = 7;

export const NODES: readonly CraqPeer[] = Object.freeze([1, 2, 3].map((i) => ({ ip4: `10.77.0.${i}`, ip6: `fd77::${i}`, mac: `02:77:00:00:00:0${i}`, port: PORT })));
export const CLIENT = Object.freeze({ ip4: '10.77.0.100', ip6: 'fd77::100', mac: '02:77:00:00:00:64', port: 40100 });

export type Role = 'head' | 'middle' | 'tail' | 'single';

/** The config of node `role` in the chain NODES[0] → NODES[1] → NODES[2]. */
export function chainConfig(role: Role, opts: { netchain?: boolean; enabled?: boolean; epoch?: number } = {}): CraqConfig {
  const i = role === 'head' || role === 'single' ? 0 : role === 'middle' ? 1 : 2;
  const single = role === 'single';
  return {
    enabled: opts.enabled ?? true,
    netchain: opts.netchain ?? false,
    head: i === 0,
    tail: i === 2 || single,
    epoch: opts.epoch ?? EPOCH,
    port: PORT,
    self: NODES[i]!,
    pred: i > 0 && !single ? NODES[i - 1]! : NO_PEER,
    succ: i < 2 && !single ? NODES[i + 1]! : NO_PEER,
    tail_: single ? NODES[0]! : NODES[2]!,
  };
}

export const KEY = craq.craqKey('/registry/leases/kube-node-lease/node-1');
export const KEY_TOMB = craq.craqKey('/registry/gone');
export const KEY_EMPTY = craq.craqKey('/registry/empty');
export const KEY_UNKNOWN = craq.craqKey('/registry/not-placed');
export const VALUE = new TextEncoder().encode('holder=node-1;renew=12345'); // 25 bytes: odd, padded
export const VALUE2 = new TextEncoder().encode('holder=node-2;renew=12346;x');

/** Keys of a node: KEY clean at version 5 (plus dirty versions up to `dirtyTo`), a tombstone, an empty key. */
export function worldKeys(dirtyTo = 5n): Map<bigint, CraqKeyEntry> {
  const base = placedKey(KEY.keyCheck, 5n, VALUE);
  const slots = [...base.slots];
  for (let v = 6n; v <= dirtyTo; v++) slots[Number(v % BigInt(slots.length))] = { version: v, value: VALUE2.subarray(0, Number(v)), tombstone: false };
  return new Map([
    [KEY.keyId, { ...base, lastVersion: dirtyTo, slots }],
    [KEY_TOMB.keyId, placedKey(KEY_TOMB.keyCheck, 3n, new Uint8Array(0), { tombstone: true })],
    [KEY_EMPTY.keyId, placedKey(KEY_EMPTY.keyCheck, 0n, undefined)],
  ]);
}

/** Keys of a NetChain node that applied up to `to`: as worldKeys(to), every version current (clean = last). */
export function netchainKeys(to: bigint): Map<bigint, CraqKeyEntry> {
  const keys = worldKeys(to);
  keys.set(KEY.keyId, { ...keys.get(KEY.keyId)!, cleanVersion: to });
  return keys;
}

interface Ep {
  readonly mac: string;
  readonly ip: string;
  readonly port: number;
}

function ep(p: { ip4: string; ip6: string; mac: string; port: number }, family: 4 | 6): Ep {
  return { mac: p.mac, ip: family === 4 ? p.ip4 : p.ip6, port: p.port };
}

/** A frame from `from` to `to` carrying `payload`. */
export function frame(family: 4 | 6, from: Ep, to: Ep, payload: Uint8Array): Uint8Array {
  return encodeFrame({ family, srcMac: from.mac, dstMac: to.mac, src: from.ip, dst: to.ip, sport: from.port, dport: to.port, payload });
}

export function clientEp(family: 4 | 6 = 4): Ep {
  return ep(CLIENT, family);
}
export function nodeEp(i: number, family: 4 | 6 = 4): Ep {
  return ep(NODES[i]!, family);
}

const clientTrailer = (family: 4 | 6): craq.CraqClientAddress => ({ family, address: family === 4 ? CLIENT.ip4 : CLIENT.ip6, port: CLIENT.port, mac: CLIENT.mac });

function msg(op: craq.CraqOpCode, extra: Partial<craq.CraqMessage> = {}): craq.CraqMessage {
  return { op, status: 0, flags: 0, reqId: 42n, keyId: KEY.keyId, keyCheck: KEY.keyCheck, epoch: 0, version: 0n, value: new Uint8Array(0), ...extra };
}

/** A chain-internal message with the client trailer. */
function chainMsg(op: craq.CraqOpCode, family: 4 | 6, extra: Partial<craq.CraqMessage> = {}): Uint8Array {
  return craq.encodeCraq({ ...msg(op, { epoch: EPOCH, flags: CraqFlag.CLIENT, ...extra }), client: clientTrailer(family) });
}

export interface CraqExpect {
  readonly verdict: XdpVerdict;
  readonly reason?: CraqReasonName;
  readonly stat?: CraqStatName;
  /** The output message's op and status (XDP_TX). */
  readonly op?: number;
  readonly status?: number;
  /** Where the output goes: 'client', 'pred', 'succ', 'tail' or 'sender'. */
  readonly to?: 'client' | 'pred' | 'succ' | 'tail' | 'sender';
  /** Commits recorded in craq_commits. */
  readonly commits?: number;
}

export interface CraqFixture {
  readonly name: string;
  readonly role: Role;
  readonly state: CraqNodeState;
  readonly frame: Uint8Array;
  readonly expect: CraqExpect;
}

function state(role: Role, keys = worldKeys(), opts: Parameters<typeof chainConfig>[1] = {}): CraqNodeState {
  return { config: chainConfig(role, opts), keys };
}

/** `keys` with request `reqId` (default 42, the fixtures' req_id) recorded as having created `version` of key `keyId` (KEY). */
function applied(version: bigint, reqId = 42n, keyId = KEY.keyId, keys = worldKeys()): Map<bigint, CraqKeyEntry> {
  const out = new Map(keys);
  out.set(keyId, withRequests(out.get(keyId)!, [{ reqId, version }]));
  return out;
}

function fromClient(family: 4 | 6, node: number, payload: Uint8Array): Uint8Array {
  return frame(family, clientEp(family), nodeEp(node, family), payload);
}

function between(family: 4 | 6, from: number, to: number, payload: Uint8Array): Uint8Array {
  return frame(family, nodeEp(from, family), nodeEp(to, family), payload);
}

const enc = (m: craq.CraqMessage): Uint8Array => craq.encodeCraq(m);
const TX = 'XDP_TX' as const;

function malformed(mutate: (b: Uint8Array) => Uint8Array): Uint8Array {
  return fromClient(4, 0, mutate(enc(msg(CraqOp.READ))));
}

/** Every fixture, IPv4 unless the name says IPv6. */
export function craqFixtures(): CraqFixture[] {
  const f: CraqFixture[] = [];
  const add = (name: string, role: Role, st: CraqNodeState, fr: Uint8Array, expect: CraqExpect): void => {
    f.push({ name, role, state: st, frame: fr, expect });
  };
  for (const fam of [4, 6] as const) {
    const v6 = fam === 6 ? ' (IPv6)' : '';
    add(`head: READ of a clean key is answered here${v6}`, 'head', state('head'), fromClient(fam, 0, enc(msg(CraqOp.READ))), { verdict: TX, stat: 'READ_CLEAN', op: CraqOp.READ_REPLY, status: CraqStatus.OK, to: 'sender' });
    add(`head: READ of a dirty key asks the tail${v6}`, 'head', state('head', worldKeys(7n)), fromClient(fam, 0, enc(msg(CraqOp.READ))), { verdict: TX, stat: 'READ_QUERY', op: CraqOp.VERSION_QUERY, to: 'tail' });
    add(`head: WRITE gets version last+1 and propagates${v6}`, 'head', state('head'), fromClient(fam, 0, enc(msg(CraqOp.WRITE, { value: VALUE2 }))), { verdict: TX, stat: 'WRITE', op: CraqOp.PROPAGATE, to: 'succ' });
    add(`tail: PROPAGATE commits, records it and ACKs${v6}`, 'tail', state('tail', worldKeys(6n)), between(fam, 1, 2, chainMsg(CraqOp.PROPAGATE, fam, { version: 7n, value: VALUE2 })), { verdict: TX, stat: 'COMMIT', op: CraqOp.ACK, to: 'pred', commits: 1 });
    add(`head: ACK makes the version clean and answers the client${v6}`, 'head', state('head', worldKeys(6n)), between(fam, 1, 0, chainMsg(CraqOp.ACK, fam, { version: 6n })), { verdict: TX, stat: 'WRITE_REPLY', op: CraqOp.WRITE_REPLY, status: CraqStatus.OK, to: 'client' });
    add(`tail: VERSION_QUERY answered with the committed version${v6}`, 'tail', state('tail'), between(fam, 0, 2, chainMsg(CraqOp.VERSION_QUERY, fam)), { verdict: TX, stat: 'VQUERY', op: CraqOp.VERSION_REPLY, to: 'sender' });
  }
  // head
  add('head: READ of an unknown key is answered NOT_PLACED', 'head', state('head'), fromClient(4, 0, enc(msg(CraqOp.READ, { ...KEY_UNKNOWN }))), { verdict: TX, stat: 'NOT_PLACED', op: CraqOp.READ_REPLY, status: CraqStatus.NOT_PLACED, to: 'sender' });
  add('head: WRITE of an unknown key is answered NOT_PLACED, nothing stored (IPv6)', 'head', state('head'), fromClient(6, 0, enc(msg(CraqOp.WRITE, { ...KEY_UNKNOWN, value: VALUE2 }))), { verdict: TX, stat: 'NOT_PLACED', op: CraqOp.WRITE_REPLY, status: CraqStatus.NOT_PLACED, to: 'sender' });
  add('middle: PROPAGATE of an unknown key is passed (NOT_PLACED)', 'middle', state('middle'), between(4, 0, 1, chainMsg(CraqOp.PROPAGATE, 4, { ...KEY_UNKNOWN, version: 6n, value: VALUE2 })), { verdict: 'XDP_PASS', reason: 'NOT_PLACED' });
  add('head: READ with another key_check is passed (collision)', 'head', state('head'), fromClient(4, 0, enc(msg(CraqOp.READ, { keyCheck: (KEY.keyCheck ^ 1) >>> 0 }))), { verdict: 'XDP_PASS', reason: 'KEY_CHECK' });
  add('head: READ of a placed key without value: NOT_FOUND', 'head', state('head'), fromClient(4, 0, enc(msg(CraqOp.READ, { ...KEY_EMPTY }))), { verdict: TX, stat: 'READ_CLEAN', op: CraqOp.READ_REPLY, status: CraqStatus.NOT_FOUND });
  add('head: READ of a tombstone: NOT_FOUND with its version', 'head', state('head'), fromClient(4, 0, enc(msg(CraqOp.READ, { ...KEY_TOMB }))), { verdict: TX, stat: 'READ_CLEAN', op: CraqOp.READ_REPLY, status: CraqStatus.NOT_FOUND });
  add('head: DELETE propagates a tombstone', 'head', state('head'), fromClient(4, 0, enc(msg(CraqOp.DELETE))), { verdict: TX, stat: 'WRITE', op: CraqOp.PROPAGATE, to: 'succ' });
  add('head: WRITE with CRAQ_MAX_DIRTY dirty versions: RETRY (dirty full)', 'head', state('head', worldKeys(9n)), fromClient(4, 0, enc(msg(CraqOp.WRITE, { value: VALUE }))), { verdict: TX, stat: 'RETRY', op: CraqOp.WRITE_REPLY, status: CraqStatus.RETRY, to: 'sender' });
  const held = (): Map<bigint, CraqKeyEntry> => new Map([...worldKeys()].map(([id, k]) => [id, id === KEY.keyId ? { ...k, hold: true } : k]));
  add('head: WRITE of a held key: RETRY (the scheduler holds writes)', 'head', state('head', held()), fromClient(4, 0, enc(msg(CraqOp.WRITE, { value: VALUE }))), { verdict: TX, stat: 'RETRY', op: CraqOp.WRITE_REPLY, status: CraqStatus.RETRY, to: 'sender' });
  add('head: DELETE of a held key: RETRY (IPv6)', 'head', state('head', held()), fromClient(6, 0, enc(msg(CraqOp.DELETE))), { verdict: TX, stat: 'RETRY', op: CraqOp.DELETE_REPLY, status: CraqStatus.RETRY, to: 'sender' });
  add('head: READ of a held clean key is still answered', 'head', state('head', held()), fromClient(4, 0, enc(msg(CraqOp.READ))), { verdict: TX, stat: 'READ_CLEAN', op: CraqOp.READ_REPLY, status: CraqStatus.OK, to: 'sender' });
  add('tail: PROPAGATE of a held key still commits (only the head refuses)', 'tail', state('tail', new Map([...worldKeys(6n)].map(([id, k]) => [id, { ...k, hold: true }]))), between(4, 1, 2, chainMsg(CraqOp.PROPAGATE, 4, { version: 7n, value: VALUE2 })), { verdict: TX, stat: 'COMMIT', op: CraqOp.ACK, to: 'pred', commits: 1 });
  add('head: WRITE of a 1024-byte value', 'head', state('head'), fromClient(4, 0, enc(msg(CraqOp.WRITE, { value: new Uint8Array(1024).fill(0xa5) }))), { verdict: TX, stat: 'WRITE', op: CraqOp.PROPAGATE });
  add('head: ACK of a DELETE answers DELETE_REPLY', 'head', state('head', worldKeys(6n)), between(4, 1, 0, chainMsg(CraqOp.ACK, 4, { version: 6n, flags: CraqFlag.CLIENT | CraqFlag.TOMBSTONE })), { verdict: TX, stat: 'WRITE_REPLY', op: CraqOp.DELETE_REPLY, status: CraqStatus.OK, to: 'client' });
  add('head: forged ACK from the tail (not the successor) is dropped', 'head', state('head', worldKeys(6n)), between(4, 2, 0, chainMsg(CraqOp.ACK, 4, { version: 6n })), { verdict: 'XDP_DROP', reason: 'FORGED' });
  add('head: ACK of another epoch is dropped', 'head', state('head', worldKeys(6n)), between(4, 1, 0, chainMsg(CraqOp.ACK, 4, { version: 6n, epoch: EPOCH + 1 })), { verdict: 'XDP_DROP', reason: 'WRONG_EPOCH' });
  add('head: ACK of a version never written is dropped (stale)', 'head', state('head'), between(4, 1, 0, chainMsg(CraqOp.ACK, 4, { version: 9n })), { verdict: 'XDP_DROP', reason: 'STALE' });
  add('head: VERSION_REPLY answers the client from the committed dirty version', 'head', state('head', worldKeys(8n)), between(4, 2, 0, chainMsg(CraqOp.VERSION_REPLY, 4, { version: 6n })), { verdict: TX, stat: 'READ_VREPLY', op: CraqOp.READ_REPLY, status: CraqStatus.OK, to: 'client' });
  add('head: VERSION_REPLY of a version no longer kept: RETRY', 'head', state('head', worldKeys(8n)), between(4, 2, 0, chainMsg(CraqOp.VERSION_REPLY, 4, { version: 2n })), { verdict: TX, stat: 'READ_VREPLY', op: CraqOp.READ_REPLY, status: CraqStatus.RETRY });
  add('head: VERSION_REPLY not from the tail is dropped', 'head', state('head', worldKeys(8n)), between(4, 1, 0, chainMsg(CraqOp.VERSION_REPLY, 4, { version: 6n })), { verdict: 'XDP_DROP', reason: 'FORGED' });
  add('head: VERSION_QUERY at a non-tail is dropped', 'head', state('head'), between(4, 1, 0, chainMsg(CraqOp.VERSION_QUERY, 4)), { verdict: 'XDP_DROP', reason: 'NOT_TAIL' });
  add('head: PROPAGATE at the head is forged', 'head', state('head'), between(4, 2, 0, chainMsg(CraqOp.PROPAGATE, 4, { version: 6n, value: VALUE })), { verdict: 'XDP_DROP', reason: 'FORGED' });
  // at most once (the key's request ring, craq_key.reqs)
  add('head: WRITE retried after its version committed: OK with that version, nothing applied', 'head', state('head', applied(4n, 42n, KEY.keyId, worldKeys())), fromClient(4, 0, enc(msg(CraqOp.WRITE, { value: VALUE2 }))), { verdict: TX, stat: 'DUPLICATE', op: CraqOp.WRITE_REPLY, status: CraqStatus.OK, to: 'sender' });
  add('head: WRITE retried while its version is dirty: RETRY, nothing applied', 'head', state('head', applied(6n, 42n, KEY.keyId, worldKeys(7n))), fromClient(4, 0, enc(msg(CraqOp.WRITE, { value: VALUE2 }))), { verdict: TX, stat: 'DUPLICATE', op: CraqOp.WRITE_REPLY, status: CraqStatus.RETRY, to: 'sender' });
  add('head: DELETE retried after its tombstone committed: DELETE_REPLY OK (IPv6)', 'head', state('head', applied(5n, 42n, KEY.keyId, worldKeys())), fromClient(6, 0, enc(msg(CraqOp.DELETE))), { verdict: TX, stat: 'DUPLICATE', op: CraqOp.DELETE_REPLY, status: CraqStatus.OK, to: 'sender' });
  add('head: a committed retry of a held key is answered OK (the hold refuses only new writes)', 'head', state('head', applied(5n, 42n, KEY.keyId, held())), fromClient(4, 0, enc(msg(CraqOp.WRITE, { value: VALUE2 }))), { verdict: TX, stat: 'DUPLICATE', op: CraqOp.WRITE_REPLY, status: CraqStatus.OK, to: 'sender' });
  add('head: the same request id on another key is a new write, and is recorded', 'head', state('head', applied(5n, 42n, KEY_TOMB.keyId, worldKeys())), fromClient(4, 0, enc(msg(CraqOp.WRITE, { value: VALUE2 }))), { verdict: TX, stat: 'WRITE', op: CraqOp.PROPAGATE, to: 'succ' });
  add('head: request id 0 is never deduplicated nor recorded', 'head', state('head'), fromClient(4, 0, enc(msg(CraqOp.WRITE, { value: VALUE2, reqId: 0n }))), { verdict: TX, stat: 'WRITE', op: CraqOp.PROPAGATE, to: 'succ' });
  add('middle: PROPAGATE records its request (a retry at this node as head is recognised)', 'middle', state('middle', applied(3n, 7n, KEY.keyId, worldKeys())), between(4, 0, 1, chainMsg(CraqOp.PROPAGATE, 4, { version: 6n, value: VALUE2 })), { verdict: TX, stat: 'PROPAGATE', op: CraqOp.PROPAGATE, to: 'succ' });
  add('single node: a WRITE retried after its commit: OK, no second commit', 'single', state('single', applied(5n, 42n, KEY.keyId, worldKeys())), fromClient(4, 0, enc(msg(CraqOp.WRITE, { value: VALUE2 }))), { verdict: TX, stat: 'DUPLICATE', op: CraqOp.WRITE_REPLY, status: CraqStatus.OK, commits: 0, to: 'sender' });
  // middle
  add('middle: WRITE is answered NOT_HEAD', 'middle', state('middle'), fromClient(4, 1, enc(msg(CraqOp.WRITE, { value: VALUE }))), { verdict: TX, stat: 'NOT_HEAD', op: CraqOp.WRITE_REPLY, status: CraqStatus.NOT_HEAD, to: 'sender' });
  add('middle: READ of a clean key is answered here', 'middle', state('middle'), fromClient(4, 1, enc(msg(CraqOp.READ))), { verdict: TX, stat: 'READ_CLEAN', op: CraqOp.READ_REPLY, status: CraqStatus.OK });
  add('middle: READ of a dirty key asks the tail', 'middle', state('middle', worldKeys(6n)), fromClient(4, 1, enc(msg(CraqOp.READ))), { verdict: TX, stat: 'READ_QUERY', op: CraqOp.VERSION_QUERY, to: 'tail' });
  add('middle: PROPAGATE is stored dirty and forwarded', 'middle', state('middle'), between(4, 0, 1, chainMsg(CraqOp.PROPAGATE, 4, { version: 6n, value: VALUE2 })), { verdict: TX, stat: 'PROPAGATE', op: CraqOp.PROPAGATE, to: 'succ' });
  add('middle: PROPAGATE from a non-neighbour is forged', 'middle', state('middle'), between(4, 2, 1, chainMsg(CraqOp.PROPAGATE, 4, { version: 6n, value: VALUE2 })), { verdict: 'XDP_DROP', reason: 'FORGED' });
  add('middle: PROPAGATE of a committed version is stale', 'middle', state('middle'), between(4, 0, 1, chainMsg(CraqOp.PROPAGATE, 4, { version: 5n, value: VALUE2 })), { verdict: 'XDP_DROP', reason: 'STALE' });
  add('middle: PROPAGATE beyond CRAQ_MAX_DIRTY is dropped (dirty full)', 'middle', state('middle'), between(4, 0, 1, chainMsg(CraqOp.PROPAGATE, 4, { version: 10n, value: VALUE2 })), { verdict: 'XDP_DROP', reason: 'DIRTY_FULL' });
  add('middle: ACK from the successor is applied and passed up', 'middle', state('middle', worldKeys(6n)), between(4, 2, 1, chainMsg(CraqOp.ACK, 4, { version: 6n })), { verdict: TX, stat: 'ACK', op: CraqOp.ACK, to: 'pred' });
  add('middle: PROPAGATE of a DELETE keeps the tombstone flag', 'middle', state('middle'), between(4, 0, 1, chainMsg(CraqOp.PROPAGATE, 4, { version: 6n, flags: CraqFlag.CLIENT | CraqFlag.TOMBSTONE })), { verdict: TX, stat: 'PROPAGATE', op: CraqOp.PROPAGATE });
  // tail
  add('tail: READ is answered FROM_TAIL', 'tail', state('tail'), fromClient(4, 2, enc(msg(CraqOp.READ))), { verdict: TX, stat: 'READ_CLEAN', op: CraqOp.READ_REPLY, status: CraqStatus.OK });
  add('tail: PROPAGATE of a DELETE commits a tombstone', 'tail', state('tail'), between(4, 1, 2, chainMsg(CraqOp.PROPAGATE, 4, { version: 6n, flags: CraqFlag.CLIENT | CraqFlag.TOMBSTONE })), { verdict: TX, stat: 'COMMIT', op: CraqOp.ACK, commits: 1 });
  add('tail: ACK at the tail is forged', 'tail', state('tail'), between(4, 1, 2, chainMsg(CraqOp.ACK, 4, { version: 5n })), { verdict: 'XDP_DROP', reason: 'FORGED' });
  add('tail: WRITE is answered NOT_HEAD', 'tail', state('tail'), fromClient(4, 2, enc(msg(CraqOp.DELETE))), { verdict: TX, stat: 'NOT_HEAD', op: CraqOp.DELETE_REPLY, status: CraqStatus.NOT_HEAD });
  // a chain of one
  add('single node: WRITE commits at once and answers', 'single', state('single'), fromClient(4, 0, enc(msg(CraqOp.WRITE, { value: VALUE2 }))), { verdict: TX, stat: 'COMMIT', op: CraqOp.WRITE_REPLY, status: CraqStatus.OK, commits: 1, to: 'sender' });
  // NetChain
  add('netchain head: READ is forwarded toward the tail', 'head', state('head', worldKeys(), { netchain: true }), fromClient(4, 0, enc(msg(CraqOp.READ))), { verdict: TX, stat: 'READ_FORWARD', op: CraqOp.READ, to: 'succ' });
  add('netchain middle: a forwarded READ goes on', 'middle', state('middle', worldKeys(), { netchain: true }), between(4, 0, 1, chainMsg(CraqOp.READ, 4)), { verdict: TX, stat: 'READ_FORWARD', op: CraqOp.READ, to: 'succ' });
  add('netchain tail: a forwarded READ is answered to the client', 'tail', state('tail', worldKeys(), { netchain: true }), between(4, 1, 2, chainMsg(CraqOp.READ, 4)), { verdict: TX, stat: 'READ_CLEAN', op: CraqOp.READ_REPLY, status: CraqStatus.OK, to: 'client' });
  add('netchain tail: a READ from the client is answered', 'tail', state('tail', worldKeys(), { netchain: true }), fromClient(4, 2, enc(msg(CraqOp.READ))), { verdict: TX, stat: 'READ_CLEAN', op: CraqOp.READ_REPLY });
  // NetChain writes: applied as the current value at every node, the tail answers the client, no ACK
  const nc = { netchain: true };
  for (const fam of [4, 6] as const) {
    const v6 = fam === 6 ? ' (IPv6)' : '';
    add(`netchain head: WRITE gets version last+1, applied as current, and propagates${v6}`, 'head', state('head', worldKeys(), nc), fromClient(fam, 0, enc(msg(CraqOp.WRITE, { value: VALUE2 }))), { verdict: TX, stat: 'WRITE', op: CraqOp.PROPAGATE, to: 'succ' });
    add(`netchain middle: PROPAGATE applied as current and forwarded${v6}`, 'middle', state('middle', worldKeys(), nc), between(fam, 0, 1, chainMsg(CraqOp.PROPAGATE, fam, { version: 6n, value: VALUE2 })), { verdict: TX, stat: 'PROPAGATE', op: CraqOp.PROPAGATE, to: 'succ' });
    add(`netchain tail: PROPAGATE commits, records it and answers the client${v6}`, 'tail', state('tail', worldKeys(), nc), between(fam, 1, 2, chainMsg(CraqOp.PROPAGATE, fam, { version: 6n, value: VALUE2 })), { verdict: TX, stat: 'COMMIT', op: CraqOp.WRITE_REPLY, status: CraqStatus.OK, to: 'client', commits: 1 });
    add(`netchain head: a retried WRITE it applied is re-sent down the chain as its version${v6}`, 'head', state('head', applied(6n, 42n, KEY.keyId, netchainKeys(6n)), nc), fromClient(fam, 0, enc(msg(CraqOp.WRITE, { value: VALUE2 }))), { verdict: TX, stat: 'DUPLICATE', op: CraqOp.PROPAGATE, to: 'succ' });
  }
  add('netchain head: no dirty bound (nothing waits for an ACK): WRITE propagates', 'head', state('head', worldKeys(9n), nc), fromClient(4, 0, enc(msg(CraqOp.WRITE, { value: VALUE }))), { verdict: TX, stat: 'WRITE', op: CraqOp.PROPAGATE, to: 'succ' });
  add('netchain head: DELETE propagates a tombstone', 'head', state('head', worldKeys(), nc), fromClient(4, 0, enc(msg(CraqOp.DELETE))), { verdict: TX, stat: 'WRITE', op: CraqOp.PROPAGATE, to: 'succ' });
  add('netchain head: WRITE of a held key: RETRY', 'head', state('head', held(), nc), fromClient(4, 0, enc(msg(CraqOp.WRITE, { value: VALUE }))), { verdict: TX, stat: 'RETRY', op: CraqOp.WRITE_REPLY, status: CraqStatus.RETRY, to: 'sender' });
  add('netchain tail: PROPAGATE of a DELETE commits a tombstone and answers DELETE_REPLY', 'tail', state('tail', worldKeys(), nc), between(4, 1, 2, chainMsg(CraqOp.PROPAGATE, 4, { version: 6n, flags: CraqFlag.CLIENT | CraqFlag.TOMBSTONE })), { verdict: TX, stat: 'COMMIT', op: CraqOp.DELETE_REPLY, status: CraqStatus.OK, to: 'client', commits: 1 });
  add('netchain middle: PROPAGATE several versions ahead is applied (no dirty bound)', 'middle', state('middle', worldKeys(), nc), between(4, 0, 1, chainMsg(CraqOp.PROPAGATE, 4, { version: 12n, value: VALUE2 })), { verdict: TX, stat: 'PROPAGATE', op: CraqOp.PROPAGATE, to: 'succ' });
  add('netchain head: a retried DELETE it applied is re-sent as a tombstone', 'head', state('head', applied(3n, 42n, KEY_TOMB.keyId, worldKeys()), nc), fromClient(4, 0, enc(msg(CraqOp.DELETE, { ...KEY_TOMB }))), { verdict: TX, stat: 'DUPLICATE', op: CraqOp.PROPAGATE, to: 'succ' });
  add('netchain head: a retry whose version it no longer keeps: RETRY, nothing re-sent', 'head', state('head', applied(1n, 42n, KEY.keyId, worldKeys()), nc), fromClient(4, 0, enc(msg(CraqOp.WRITE, { value: VALUE2 }))), { verdict: TX, stat: 'DUPLICATE', op: CraqOp.WRITE_REPLY, status: CraqStatus.RETRY, to: 'sender' });
  add('netchain middle: a re-sent version it holds is passed on with its value (nothing stored)', 'middle', state('middle', worldKeys(), nc), between(4, 0, 1, chainMsg(CraqOp.PROPAGATE, 4, { version: 5n, value: VALUE })), { verdict: TX, stat: 'DUPLICATE', op: CraqOp.PROPAGATE, to: 'succ' });
  add('netchain middle: an older version it does not hold is dropped (out of order)', 'middle', state('middle', worldKeys(), nc), between(4, 0, 1, chainMsg(CraqOp.PROPAGATE, 4, { version: 4n, value: VALUE })), { verdict: 'XDP_DROP', reason: 'STALE' });
  add('netchain tail: a re-sent version already committed is answered OK, no second commit', 'tail', state('tail', worldKeys(), nc), between(4, 1, 2, chainMsg(CraqOp.PROPAGATE, 4, { version: 5n, value: VALUE })), { verdict: TX, stat: 'DUPLICATE', op: CraqOp.WRITE_REPLY, status: CraqStatus.OK, to: 'client', commits: 0 });
  add('netchain tail: a version a newer one superseded is answered OK (IPv6)', 'tail', state('tail', worldKeys(), nc), between(6, 1, 2, chainMsg(CraqOp.PROPAGATE, 6, { version: 3n, value: VALUE2 })), { verdict: TX, stat: 'DUPLICATE', op: CraqOp.WRITE_REPLY, status: CraqStatus.OK, to: 'client', commits: 0 });
  add('netchain single node: WRITE commits at once and answers (as in CRAQ mode)', 'single', state('single', worldKeys(), nc), fromClient(4, 0, enc(msg(CraqOp.WRITE, { value: VALUE2 }))), { verdict: TX, stat: 'COMMIT', op: CraqOp.WRITE_REPLY, status: CraqStatus.OK, commits: 1, to: 'sender' });
  // not ours, malformed
  add('disabled node passes everything', 'head', state('head', worldKeys(), { enabled: false }), fromClient(4, 0, enc(msg(CraqOp.READ))), { verdict: 'XDP_PASS', reason: 'DISABLED' });
  add('another UDP port is not ours (uncounted)', 'head', state('head'), frame(4, clientEp(), { ...nodeEp(0), port: 53 }, enc(msg(CraqOp.READ))), { verdict: 'XDP_PASS' });
  add('a reply op is passed to this host', 'head', state('head'), fromClient(4, 0, enc({ ...msg(CraqOp.READ_REPLY), status: 0 })), { verdict: 'XDP_PASS', reason: 'REPLY' });
  add('malformed: 30 bytes of header', 'head', state('head'), malformed((b) => b.subarray(0, 30)), { verdict: 'XDP_DROP', reason: 'TRUNCATED' });
  add('malformed: bad magic', 'head', state('head'), malformed((b) => Uint8Array.of(0x4e, 0x44, ...b.subarray(2))), { verdict: 'XDP_DROP', reason: 'BAD_HEADER' });
  add('malformed: version 2', 'head', state('head'), malformed((b) => Uint8Array.of(...b.subarray(0, 2), 2, ...b.subarray(3))), { verdict: 'XDP_DROP', reason: 'BAD_HEADER' });
  add('malformed: unknown op 9', 'head', state('head'), malformed((b) => Uint8Array.of(...b.subarray(0, 3), 9, ...b.subarray(4))), { verdict: 'XDP_DROP', reason: 'UNKNOWN_OP' });
  add('malformed: request with a status', 'head', state('head'), malformed((b) => Uint8Array.of(...b.subarray(0, 4), 1, ...b.subarray(5))), { verdict: 'XDP_DROP', reason: 'BAD_HEADER' });
  add('malformed: value_len 1025', 'head', state('head'), fromClient(4, 0, (() => {
    const b = new Uint8Array(40 + 1025);
    b.set(enc(msg(CraqOp.WRITE)));
    b[6] = 0x04;
    b[7] = 0x01;
    return b;
  })()), { verdict: 'XDP_DROP', reason: 'VALUE_TOO_LARGE' });
  add('malformed: a value on a READ', 'head', state('head'), malformed((b) => Uint8Array.of(...b.subarray(0, 7), 1, ...b.subarray(8), 0)), { verdict: 'XDP_DROP', reason: 'VALUE_TOO_LARGE' });
  add('malformed: value shorter than value_len', 'head', state('head'), fromClient(4, 0, enc(msg(CraqOp.WRITE, { value: VALUE })).subarray(0, 50)), { verdict: 'XDP_DROP', reason: 'TRUNCATED' });
  add('malformed: bytes after the message', 'head', state('head'), malformed((b) => Uint8Array.of(...b, 0, 0)), { verdict: 'XDP_DROP', reason: 'BAD_LENGTH' });
  add('malformed: PROPAGATE without the CLIENT flag', 'middle', state('middle'), between(4, 0, 1, (() => {
    const b = chainMsg(CraqOp.PROPAGATE, 4, { version: 6n });
    b[5] = 0;
    return b;
  })()), { verdict: 'XDP_DROP', reason: 'BAD_HEADER' });
  add('malformed: trailer family 5', 'middle', state('middle'), between(4, 0, 1, (() => {
    const b = chainMsg(CraqOp.PROPAGATE, 4, { version: 6n });
    b[40] = 5;
    return b;
  })()), { verdict: 'XDP_DROP', reason: 'BAD_HEADER' });
  return f;
}
