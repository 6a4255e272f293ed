/**
 * The reference model of a NetCRAQ chain node: pure, `craqStep(state, frame)` → verdict, reason
 * or action, output frame, commits and the new state. It is the specification both data planes
 * are checked against: the XDP program (craq.bpf.test.ts runs the same frames through
 * BPF_PROG_TEST_RUN and compares verdict, output bytes, counters and key state) and the P4
 * program (p4/netcraq.p4info.ts maps each model action onto a P4 action).
 */
import { craq, formatIPv4, formatIPv6, formatMac } from '@netaccel/protocol';
import type { CraqCommit, CraqConfig, CraqKeyEntry, CraqPeer, CraqSlot } from './codec.js';
import { CRAQ_MAX_VALUE, CRAQ_REQ_RING, withRequests } from './codec.js';
import { encodeFrame, l4Offset } from './frame.js';
import type { CraqFrame } from './frame.js';
import type { CraqReasonName, CraqStatName } from './reasons.js';

const { CraqOp, CraqFlag, CraqStatus } = craq;
const HDR = 40;
const TRAILER = 28;

export type XdpVerdict = 'XDP_PASS' | 'XDP_DROP' | 'XDP_TX';

export interface CraqNodeState {
  readonly config: CraqConfig;
  /** Placed keys, each with its request ring (CraqKeyEntry.requests: at most once). */
  readonly keys: ReadonlyMap<bigint, CraqKeyEntry>;
}

/**
 * The version request `reqId` created of key `k` as the program finds it: the first of the key's
 * request ring (craq_key.reqs, by index) naming it; undefined for request id 0 or none.
 */
export function craqRemembered(k: CraqKeyEntry, reqId: bigint): bigint | undefined {
  if (reqId === 0n) return undefined;
  const ring = BigInt(CRAQ_REQ_RING);
  const hits = (k.requests ?? []).filter((r) => r.reqId === reqId).sort((a, b) => Number((a.version % ring) - (b.version % ring)));
  return hits[0]?.version;
}

export interface CraqStep {
  readonly verdict: XdpVerdict;
  /** Why a packet was passed or dropped (counted in craq_reasons); undefined when not ours. */
  readonly reason?: CraqReasonName;
  /** What the node did (craq_stats) when it sent a frame. */
  readonly stat?: CraqStatName;
  /** The output frame (XDP_TX), or the input unchanged. */
  readonly frame: Uint8Array;
  readonly commits: readonly CraqCommit[];
  readonly state: CraqNodeState;
}

interface Endpoint {
  readonly mac: string;
  readonly ip: string;
  readonly port: number;
}

interface Parsed {
  readonly family: 4 | 6;
  readonly l2: { readonly src: string; readonly dst: string };
  readonly src: string;
  readonly dst: string;
  readonly sport: number;
  readonly dport: number;
  readonly msg: craq.CraqMessage;
  readonly trailer?: craq.CraqClientAddress;
  /** The trailer as raw bytes (forwarded unchanged). */
  readonly trailerBytes?: Uint8Array;
}

type ParseResult = { parsed: Parsed } | { verdict: XdpVerdict; reason?: CraqReasonName };

function ip(b: Uint8Array, off: number, family: 4 | 6): string {
  return family === 4 ? formatIPv4(b, off) : formatIPv6(b, off);
}

/** The program's parser (craq_helpers.h craq_parse), check for check. */
export function parseCraqFrame(f: Uint8Array, port: number): ParseResult {
  const dv = new DataView(f.buffer, f.byteOffset, f.byteLength);
  if (f.length < 14) return { verdict: 'XDP_PASS' };
  const type = dv.getUint16(12);
  let family: 4 | 6;
  let l4: number;
  if (type === 0x0800) {
    if (f.length < 34 || f[23] !== 17) return { verdict: 'XDP_PASS' };
    if (f.length < 42 || dv.getUint16(36) !== port) return { verdict: 'XDP_PASS' };
    if (f[14] !== 0x45 || (dv.getUint16(20) & 0x3fff) !== 0) return { verdict: 'XDP_PASS', reason: 'IP' };
    const tot = dv.getUint16(16);
    if (tot < 20 + 8 || tot - 20 !== dv.getUint16(38)) return { verdict: 'XDP_DROP', reason: 'BAD_LENGTH' };
    family = 4;
    l4 = 34;
  } else if (type === 0x86dd) {
    if (f.length < 54) return { verdict: 'XDP_PASS' };
    if (f[20] !== 17) return { verdict: 'XDP_PASS' };
    if (f.length < 62 || dv.getUint16(56) !== port) return { verdict: 'XDP_PASS' };
    if (dv.getUint16(18) !== dv.getUint16(58)) return { verdict: 'XDP_DROP', reason: 'BAD_LENGTH' };
    family = 6;
    l4 = 54;
  } else {
    return { verdict: 'XDP_PASS' };
  }
  const udpLen = dv.getUint16(l4 + 4);
  if (udpLen < 8 + HDR || f.length < l4 + 8 + HDR) return { verdict: 'XDP_DROP', reason: 'TRUNCATED' };
  if (l4 + udpLen > f.length) return { verdict: 'XDP_DROP', reason: 'TRUNCATED' };
  const h = l4 + 8;
  const op = f[h + 3]!;
  const status = f[h + 4]!;
  const flags = f[h + 5]!;
  if (dv.getUint16(h) !== craq.CRAQ_MAGIC || f[h + 2] !== 1 || (flags & ~craq.CRAQ_FLAGS_MASK) !== 0) return { verdict: 'XDP_DROP', reason: 'BAD_HEADER' };
  if (op >= 1 && op <= 7) {
    if (status !== 0) return { verdict: 'XDP_DROP', reason: 'BAD_HEADER' };
  } else if (op >= 0x81 && op <= 0x83) {
    return { verdict: 'XDP_PASS', reason: 'REPLY' };
  } else {
    return { verdict: 'XDP_DROP', reason: 'UNKNOWN_OP' };
  }
  const hasTrailer = (flags & CraqFlag.CLIENT) !== 0;
  if ((op >= CraqOp.PROPAGATE) !== hasTrailer && !(op === CraqOp.READ && hasTrailer)) return { verdict: 'XDP_DROP', reason: 'BAD_HEADER' };
  const valueLen = dv.getUint16(h + 6);
  if (valueLen > CRAQ_MAX_VALUE || (valueLen > 0 && op !== CraqOp.WRITE && op !== CraqOp.PROPAGATE)) return { verdict: 'XDP_DROP', reason: 'VALUE_TOO_LARGE' };
  const want = HDR + (hasTrailer ? craq.craqPad4(valueLen) + TRAILER : valueLen);
  if (udpLen - 8 < want) return { verdict: 'XDP_DROP', reason: 'TRUNCATED' };
  if (udpLen - 8 !== want) return { verdict: 'XDP_DROP', reason: 'BAD_LENGTH' };
  let trailer: craq.CraqClientAddress | undefined;
  let trailerBytes: Uint8Array | undefined;
  if (hasTrailer) {
    const t = h + HDR + craq.craqPad4(valueLen);
    const fam = f[t]!;
    if (fam !== 4 && fam !== 6) return { verdict: 'XDP_DROP', reason: 'BAD_HEADER' };
    trailerBytes = f.slice(t, t + TRAILER);
    trailer = { family: fam, address: ip(f, t + 4, fam), port: dv.getUint16(t + 2), mac: formatMac(f, t + 20) };
  }
  const msg: craq.CraqMessage = {
    op: op as craq.CraqOpCode,
    status: 0,
    flags,
    reqId: dv.getBigUint64(h + 8),
    keyId: dv.getBigUint64(h + 16),
    keyCheck: dv.getUint32(h + 24),
    epoch: dv.getUint32(h + 28),
    version: dv.getBigUint64(h + 32),
    value: f.slice(h + HDR, h + HDR + valueLen),
  };
  const off = family === 4 ? 26 : 22;
  const alen = family === 4 ? 4 : 16;
  return {
    parsed: {
      family,
      l2: { dst: formatMac(f, 0), src: formatMac(f, 6) },
      src: ip(f, off, family),
      dst: ip(f, off + alen, family),
      sport: dv.getUint16(l4),
      dport: dv.getUint16(l4 + 2),
      msg,
      ...(trailer ? { trailer, trailerBytes } : {}),
    },
  };
}

function peerEndpoint(p: CraqPeer, family: 4 | 6): Endpoint {
  return { mac: p.mac, ip: family === 4 ? p.ip4 : p.ip6, port: p.port };
}

/** Encodes a payload with the codec; the trailer is the client address (or raw bytes forwarded). */
function payload(m: craq.CraqMessage, client: craq.CraqClientAddress | undefined, rawTrailer?: Uint8Array): Uint8Array {
  const bytes = craq.encodeCraq(client ? { ...m, client } : { ...m, flags: m.flags & ~CraqFlag.CLIENT });
  if (rawTrailer && client) bytes.set(rawTrailer, bytes.length - TRAILER);
  return bytes;
}

function frameOf(family: 4 | 6, src: Endpoint, dst: Endpoint, p: Uint8Array): Uint8Array {
  const f: CraqFrame = { family, srcMac: src.mac, dstMac: dst.mac, src: src.ip, dst: dst.ip, sport: src.port, dport: dst.port, payload: p };
  return encodeFrame(f);
}

function slotOf(k: CraqKeyEntry, v: bigint): CraqSlot | undefined {
  return k.slots[Number(v % BigInt(k.slots.length))];
}

function withSlot(k: CraqKeyEntry, v: bigint, value: Uint8Array, tombstone: boolean, reqId: bigint): CraqKeyEntry {
  const slots = [...k.slots];
  slots[Number(v % BigInt(slots.length))] = { version: v, value, tombstone, ...(reqId === 0n ? {} : { reqId }) };
  return { ...k, slots };
}

const max = (a: bigint, b: bigint): bigint => (a > b ? a : b);

/** One frame through one node. */
export function craqStep(state: CraqNodeState, frame: Uint8Array): CraqStep {
  const cfg = state.config;
  const same = (verdict: XdpVerdict, reason?: CraqReasonName): CraqStep => ({ verdict, ...(reason ? { reason } : {}), frame, commits: [], state });
  const r = parseCraqFrame(frame, cfg.port || craq.CRAQ_DEFAULT_PORT);
  if (!('parsed' in r)) return same(r.verdict, r.reason);
  const p = r.parsed;
  if (!cfg.enabled) return same('XDP_PASS', 'DISABLED');
  const k0 = state.keys.get(p.msg.keyId);
  if (!k0) {
    // a client's request of a key not here is answered NOT_PLACED (the client uses etcd); a chain message is passed
    if (p.msg.op > CraqOp.DELETE || p.trailer) return same('XDP_PASS', 'NOT_PLACED');
    const np: craq.CraqMessage = { ...p.msg, op: (p.msg.op | 0x80) as craq.CraqOpCode, status: CraqStatus.NOT_PLACED, flags: 0, version: 0n, value: new Uint8Array(0) };
    const out = frameOf(p.family, { mac: p.l2.dst, ip: p.dst, port: p.dport }, { mac: p.l2.src, ip: p.src, port: p.sport }, payload(np, undefined));
    return { verdict: 'XDP_TX', stat: 'NOT_PLACED', frame: out, commits: [], state };
  }
  if (k0.keyCheck !== p.msg.keyCheck) return same('XDP_PASS', 'KEY_CHECK');

  const head = cfg.head;
  const tail = cfg.tail;
  /** Chain replication as NetChain does it (no ACK path; the tail answers writes); a chain of one commits at once in both modes. */
  const netchain = cfg.netchain && !(head && tail);
  const fam = p.family;
  const m = p.msg;
  const maxDirty = BigInt(k0.slots.length - 1);
  const self: Endpoint = { ...peerEndpoint(cfg.self, fam), port: cfg.port || craq.CRAQ_DEFAULT_PORT };
  const receiver: Endpoint = { mac: p.l2.dst, ip: p.dst, port: p.dport };
  const sender: Endpoint = { mac: p.l2.src, ip: p.src, port: p.sport };
  const senderTrailer: craq.CraqClientAddress = { family: fam, address: p.src, port: p.sport, mac: p.l2.src };
  const clientOf = (t: craq.CraqClientAddress): Endpoint => ({ mac: t.mac, ip: t.address, port: t.port });
  const isPeer = (peer: CraqPeer): boolean => p.src === (fam === 4 ? peer.ip4 : peer.ip6);

  if (p.trailer) {
    if (m.epoch !== cfg.epoch) return same('XDP_DROP', 'WRONG_EPOCH');
    if (p.trailer.family !== fam) return same('XDP_DROP', 'BAD_HEADER');
    if (((m.op === CraqOp.PROPAGATE || m.op === CraqOp.READ) && (head || !isPeer(cfg.pred))) || (m.op === CraqOp.ACK && (tail || !isPeer(cfg.succ))) || (m.op === CraqOp.VERSION_REPLY && !isPeer(cfg.tail_))) {
      return same('XDP_DROP', 'FORGED');
    }
  }
  if (((m.op === CraqOp.WRITE || m.op === CraqOp.DELETE) && head && !tail && cfg.succ.port === 0) || (m.op === CraqOp.PROPAGATE && (tail ? cfg.pred.port : cfg.succ.port) === 0) || (m.op === CraqOp.ACK && !head && cfg.pred.port === 0)) {
    return same('XDP_DROP', 'NO_ROLE');
  }

  const keys = new Map(state.keys);
  const rest = { config: cfg, keys };
  /** k with the record that this message's request created version v (request id 0: none). */
  const remember = (k: CraqKeyEntry, v: bigint): CraqKeyEntry => (m.reqId === 0n ? k : withRequests(k, [{ reqId: m.reqId, version: v }]));
  const done = (k: CraqKeyEntry, stat: CraqStatName, out: Uint8Array, commits: CraqCommit[] = []): CraqStep => {
    keys.set(m.keyId, k);
    return { verdict: 'XDP_TX', stat, frame: out, commits, state: rest };
  };
  const dropWith = (k: CraqKeyEntry, reason: CraqReasonName): CraqStep => {
    keys.set(m.keyId, k);
    return { verdict: 'XDP_DROP', reason, frame, commits: [], state: rest };
  };
  const reply = (op: number, status: craq.CraqStatusCode, version: bigint, flags: number, value: Uint8Array = new Uint8Array(0)): craq.CraqMessage => ({
    ...m,
    op: (op | 0x80) as craq.CraqOpCode,
    status,
    flags,
    version,
    value,
  });
  const answerRead = (k: CraqKeyEntry, version: bigint, flags: number, src: Endpoint, dst: Endpoint, stat: CraqStatName): CraqStep => {
    const s = slotOf(k, version);
    if (version === 0n || !s || s.version !== version || s.tombstone) {
      const status = version !== 0n && (!s || s.version !== version) ? CraqStatus.RETRY : CraqStatus.NOT_FOUND;
      return done(k, stat, frameOf(fam, src, dst, payload(reply(CraqOp.READ, status, version, flags), undefined)));
    }
    return done(k, stat, frameOf(fam, src, dst, payload(reply(CraqOp.READ, CraqStatus.OK, version, flags, s.value), undefined)));
  };

  switch (m.op) {
    case CraqOp.READ: {
      const k = { ...k0, reads: k0.reads + 1n };
      if (p.trailer) {
        if (tail) return answerRead(k, k.cleanVersion, CraqFlag.FROM_TAIL, self, clientOf(p.trailer), 'READ_CLEAN');
        if (cfg.succ.port === 0) return dropWith(k, 'NO_ROLE');
        return done(k, 'READ_FORWARD', frameOf(fam, self, peerEndpoint(cfg.succ, fam), payload(m, p.trailer, p.trailerBytes)));
      }
      if (!tail && cfg.netchain) {
        if (cfg.succ.port === 0) return dropWith(k, 'NO_ROLE');
        const fwd = { ...m, flags: CraqFlag.CLIENT, epoch: cfg.epoch };
        return done(k, 'READ_FORWARD', frameOf(fam, self, peerEndpoint(cfg.succ, fam), payload(fwd, senderTrailer)));
      }
      if (tail || k.lastVersion <= k.cleanVersion) return answerRead(k, k.cleanVersion, tail ? CraqFlag.FROM_TAIL : 0, receiver, sender, 'READ_CLEAN');
      if (cfg.tail_.port === 0) return dropWith(k, 'NO_ROLE');
      const q = { ...m, op: CraqOp.VERSION_QUERY, flags: CraqFlag.CLIENT, epoch: cfg.epoch, version: 0n };
      return done(k, 'READ_QUERY', frameOf(fam, self, peerEndpoint(cfg.tail_, fam), payload(q, senderTrailer)));
    }
    case CraqOp.WRITE:
    case CraqOp.DELETE: {
      const tomb = m.op === CraqOp.DELETE;
      if (!head) return done(k0, 'NOT_HEAD', frameOf(fam, receiver, sender, payload(reply(m.op, CraqStatus.NOT_HEAD, 0n, 0), undefined)));
      // at most once: a request already applied is answered (OK once committed, else RETRY), not applied again
      const applied = craqRemembered(k0, m.reqId);
      if (applied !== undefined && netchain) {
        // NetChain: the head never learns of commits; it re-sends the version down the chain, whose tail answers
        const s = slotOf(k0, applied);
        if (!s || s.version !== applied) return done(k0, 'DUPLICATE', frameOf(fam, receiver, sender, payload(reply(m.op, CraqStatus.RETRY, 0n, 0), undefined)));
        const resend = { ...m, op: CraqOp.PROPAGATE, flags: CraqFlag.CLIENT | (s.tombstone ? CraqFlag.TOMBSTONE : 0), epoch: cfg.epoch, version: applied, value: s.value };
        return done(k0, 'DUPLICATE', frameOf(fam, self, peerEndpoint(cfg.succ, fam), payload(resend, senderTrailer)));
      }
      if (applied !== undefined) {
        const answer = applied <= k0.cleanVersion ? reply(m.op, CraqStatus.OK, applied, CraqFlag.FROM_TAIL) : reply(m.op, CraqStatus.RETRY, 0n, 0);
        return done(k0, 'DUPLICATE', frameOf(fam, receiver, sender, payload(answer, undefined)));
      }
      if (k0.hold) return done(k0, 'RETRY', frameOf(fam, receiver, sender, payload(reply(m.op, CraqStatus.RETRY, 0n, 0), undefined)));
      if (!netchain && k0.lastVersion - k0.cleanVersion >= maxDirty) {
        return done({ ...k0, dirtyFull: k0.dirtyFull + 1n }, 'RETRY', frameOf(fam, receiver, sender, payload(reply(m.op, CraqStatus.RETRY, 0n, 0), undefined)));
      }
      const v = k0.lastVersion + 1n;
      let k = remember(withSlot({ ...k0, lastVersion: v }, v, m.value, tomb, m.reqId), v);
      if (tail) {
        k = { ...k, cleanVersion: max(k.cleanVersion, v), writes: k.writes + 1n };
        const commit: CraqCommit = { keyId: m.keyId, version: v, keyCheck: m.keyCheck, epoch: cfg.epoch, tombstone: tomb, value: m.value };
        return done(k, 'COMMIT', frameOf(fam, receiver, sender, payload(reply(m.op, CraqStatus.OK, v, CraqFlag.FROM_TAIL), undefined)), [commit]);
      }
      k = { ...k, cleanVersion: netchain ? max(k.cleanVersion, v) : k.cleanVersion, writes: k.writes + 1n };
      const prop = { ...m, op: CraqOp.PROPAGATE, flags: CraqFlag.CLIENT | (tomb ? CraqFlag.TOMBSTONE : 0), epoch: cfg.epoch, version: v };
      return done(k, 'WRITE', frameOf(fam, self, peerEndpoint(cfg.succ, fam), payload(prop, senderTrailer)));
    }
    case CraqOp.PROPAGATE: {
      const v = m.version;
      const tomb = (m.flags & CraqFlag.TOMBSTONE) !== 0;
      const writeOp = tomb ? CraqOp.DELETE : CraqOp.WRITE;
      if (netchain && v <= k0.cleanVersion && p.trailer) {
        // NetChain: applied here already (a re-sent retry) or superseded: the tail answers OK, a node holding v passes it on
        if (tail) return done(k0, 'DUPLICATE', frameOf(fam, self, clientOf(p.trailer), payload(reply(writeOp, CraqStatus.OK, v, CraqFlag.FROM_TAIL), undefined)));
        const s = slotOf(k0, v);
        if (!s || s.version !== v) return same('XDP_DROP', 'STALE');
        return done(k0, 'DUPLICATE', frameOf(fam, self, peerEndpoint(cfg.succ, fam), payload({ ...m, value: s.value }, p.trailer, p.trailerBytes)));
      }
      if (v <= k0.cleanVersion) return same('XDP_DROP', 'STALE');
      if (!netchain && v - k0.cleanVersion > maxDirty) return dropWith({ ...k0, dirtyFull: k0.dirtyFull + 1n }, 'DIRTY_FULL');
      let k = remember(withSlot(k0, v, m.value, tomb, m.reqId), v);
      k = { ...k, lastVersion: max(k.lastVersion, v), cleanVersion: netchain ? max(k.cleanVersion, v) : k.cleanVersion, writes: k.writes + 1n };
      if (!tail) return done(k, 'PROPAGATE', frameOf(fam, self, peerEndpoint(cfg.succ, fam), payload(m, p.trailer, p.trailerBytes)));
      k = { ...k, cleanVersion: max(k.cleanVersion, v) };
      const commit: CraqCommit = { keyId: m.keyId, version: v, keyCheck: m.keyCheck, epoch: cfg.epoch, tombstone: tomb, value: m.value };
      if (netchain) return done(k, 'COMMIT', frameOf(fam, self, clientOf(p.trailer!), payload(reply(writeOp, CraqStatus.OK, v, CraqFlag.FROM_TAIL), undefined)), [commit]);
      const ack = { ...m, op: CraqOp.ACK, value: new Uint8Array(0) };
      return done(k, 'COMMIT', frameOf(fam, self, peerEndpoint(cfg.pred, fam), payload(ack, p.trailer, p.trailerBytes)), [commit]);
    }
    case CraqOp.ACK: {
      const v = m.version;
      if (v > k0.lastVersion) return same('XDP_DROP', 'STALE');
      const k = { ...k0, cleanVersion: max(k0.cleanVersion, v) };
      if (head && p.trailer) {
        const op = (m.flags & CraqFlag.TOMBSTONE) !== 0 ? CraqOp.DELETE : CraqOp.WRITE;
        return done(k, 'WRITE_REPLY', frameOf(fam, self, clientOf(p.trailer), payload(reply(op, CraqStatus.OK, v, CraqFlag.FROM_TAIL), undefined)));
      }
      return done(k, 'ACK', frameOf(fam, self, peerEndpoint(cfg.pred, fam), payload(m, p.trailer, p.trailerBytes)));
    }
    case CraqOp.VERSION_QUERY: {
      if (!tail) return same('XDP_DROP', 'NOT_TAIL');
      const v = k0.cleanVersion;
      const s = slotOf(k0, v);
      const flags = CraqFlag.CLIENT | (s && s.version === v && s.tombstone ? CraqFlag.TOMBSTONE : 0);
      const vr = { ...m, op: CraqOp.VERSION_REPLY, flags, version: v };
      return done(k0, 'VQUERY', frameOf(fam, self, sender, payload(vr, p.trailer, p.trailerBytes)));
    }
    case CraqOp.VERSION_REPLY:
      if (!p.trailer) return same('XDP_DROP', 'BAD_HEADER');
      // the tail committed it: a version held dirty up to it is clean (repairs a lost ACK)
      return answerRead(m.version <= k0.lastVersion ? { ...k0, cleanVersion: max(k0.cleanVersion, m.version) } : k0, m.version, CraqFlag.FROM_TAIL, self, clientOf(p.trailer), 'READ_VREPLY');
    default:
      return same('XDP_DROP', 'UNKNOWN_OP');
  }
}

/** The frame of a client request (for tests, the bench and the lab). */
export function craqClientFrame(family: 4 | 6, client: Endpoint, node: Endpoint, msg: craq.CraqMessage): Uint8Array {
  return frameOf(family, client, node, craq.encodeCraq(msg));
}
export type { Endpoint as CraqEndpoint };
export { l4Offset };
