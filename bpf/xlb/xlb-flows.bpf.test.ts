/**
 * BPF layer: what the connection table and the Maglev tables do across packets of a flow —
 * backend choice as flow-hash.ts predicts it, flows that keep their backend when the active
 * table flips, draining, TCP state (FIN/RST, port reuse), UDP expiry, removed backends, ICMP
 * errors that follow their flow. Each test loads its own object so that state never leaks.
 */
import { afterAll, beforeAll, describe, test } from 'vitest';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { buildPacket, icmpFragNeeded, tcp, tcpSyn, TCP_FLAGS, udp, updateLayer } from '@netaccel/protocol';
import { XLB_BACKEND_F } from './constants.js';
import { XLB_LAYOUTS, decodeCtValue, encodeBackend } from './codec.js';
import type { FlowKey } from './codec.js';
import { XLB_DROP } from './drop-reasons.js';
import { expect } from './fixtures.js';
import { flowHash, maglevPosition } from './flow-hash.js';
import { MAC, TEST_TABLE_SIZE, clientFlow, vipEntries, worldBackend, worldEntries, worldVip, xlbWorld } from './test-world.js';
import type { TestVip } from './test-world.js';
import { XlbObject, pinThreadToCpu } from './xlb-harness.js';

const world = xlbWorld();
const FROM_ROUTER = { eth: { src: MAC.router, dst: MAC.lb } };

function loadWorld(globals: Record<string, number> = {}): XlbObject {
  const xlb = XlbObject.load('balancer', globals);
  xlb.install(worldEntries(world, xlb.maglevSize));
  return xlb;
}

/** A TCP segment of a client flow. */
function segment(f: FlowKey, flags: number): Buffer {
  return Buffer.from(buildPacket(tcp({ src: f.src, dst: f.dst, sport: f.sport, dport: f.dport, flags, ...FROM_ROUTER })));
}

function synOf(f: FlowKey): Buffer {
  return Buffer.from(buildPacket(tcpSyn({ src: f.src, dst: f.dst, sport: f.sport, dport: f.dport, ...FROM_ROUTER })));
}

/** The backend an L2 DSR frame was sent to (MAC.backend(i)), or the verdict when not sent. */
function sentTo(xlb: XlbObject, packet: Buffer): number | string {
  const r = xlb.run(packet);
  if (r.verdict !== 'TX') return r.verdict;
  const mac = r.data.subarray(0, 6);
  assert.deepEqual(mac.subarray(0, 5), Buffer.from('0200000010', 'hex'), `a backend MAC, got ${mac.toString('hex')}`);
  return mac[5]!;
}

/** Installs `table` in the spare slot of `v` and flips the VIP to it. */
function flip(xlb: XlbObject, v: TestVip, table: number[], slot: 0 | 1 = 1): void {
  xlb.install(vipEntries(v, xlb.maglevSize, slot, table));
}

function setBackendFlags(xlb: XlbObject, index: number, flags: number): void {
  xlb.install([{ map: 'backends', key: Buffer.from(Uint32Array.of(index).buffer), value: encodeBackend({ ...worldBackend(world, index), flags }) }]);
}

/** Client flows to `v` (source ports from `from`) whose new-flow pick is backend `want`. */
function flowsTo(v: TestVip, want: number, count: number, from = 20000): FlowKey[] {
  const out: FlowKey[] = [];
  for (let sport = from; out.length < count && sport < from + 10000; sport++) {
    const f = clientFlow(v, sport, 4);
    if (v.table[maglevPosition(f, TEST_TABLE_SIZE)] === want) out.push(f);
  }
  return out;
}

const allOf = (backend: number): number[] => Array.from({ length: TEST_TABLE_SIZE }, () => backend);

describe('xlb.bpf.o: connection table and Maglev tables', () => {
  let unpin: () => void = () => {};
  let xlb: XlbObject | undefined;

  beforeAll(() => {
    unpin = pinThreadToCpu(0);
  });
  afterAll(() => unpin());

  const withObject = (name: string, globals: Record<string, number>, fn: (x: XlbObject) => Promise<void> | void) =>
    test(name, async () => {
      xlb = loadWorld(globals);
      try {
        await fn(xlb);
      } finally {
        xlb.close();
        xlb = undefined;
      }
    });

  withObject('new flows land where flow-hash.ts predicts (IPv4 and IPv6, 13-entry table of 4 backends)', {}, (x) => {
    const spread4 = { ...worldVip(world, 'multi-v4'), table: Array.from({ length: TEST_TABLE_SIZE }, (_, i) => i % 4) };
    flip(x, spread4, spread4.table, 0);
    const seen = new Set<number>();
    for (let sport = 30000; sport < 30200; sport++) {
      const f = clientFlow(spread4, sport, 4);
      const want = spread4.table[maglevPosition(f, TEST_TABLE_SIZE)]!;
      seen.add(want);
      assert.equal(sentTo(x, synOf(f)), want, `sport ${sport}`);
    }
    assert.equal(seen.size, 4, 'the flows spread over all 4 backends');
    const l2v6 = worldVip(world, 'l2-v6');
    const spread6 = { ...l2v6, table: Array.from({ length: TEST_TABLE_SIZE }, (_, i) => (i * 5) % 4) };
    flip(x, spread6, spread6.table, 0);
    for (let sport = 30000; sport < 30100; sport++) {
      const f = clientFlow(spread6, sport, 6);
      assert.equal(sentTo(x, synOf(f)), spread6.table[maglevPosition(f, TEST_TABLE_SIZE)], `IPv6 sport ${sport}`);
    }
  });

  withObject('an established flow keeps its backend when the active table flips; new flows use the new table', {}, (x) => {
    const v = worldVip(world, 'multi-v4');
    const [a] = flowsTo(v, 0, 1);
    assert.ok(a);
    assert.equal(sentTo(x, synOf(a)), 0);
    assert.equal(sentTo(x, segment(a, TCP_FLAGS.ACK)), 0);
    flip(x, v, allOf(1));
    assert.equal(sentTo(x, segment(a, TCP_FLAGS.ACK | TCP_FLAGS.PSH)), 0, 'the flow stays after the flip');
    const [b] = flowsTo(v, 0, 1, 25000);
    assert.ok(b);
    assert.equal(sentTo(x, synOf(b)), 1, 'a new flow follows the new table');
    const raw = x.ctLookup(a);
    assert.ok(raw, 'the flow has an entry');
    const ct = decodeCtValue(raw);
    assert.equal(ct.backendIndex, 0);
    assert.equal(ct.state, 'tcp-established');
    assert.equal(x.stats('vip_stats', v.meta.vipIndex).newFlows, 2n);
    // Flip back to slot 0 (the old table): both flows keep the backends of their entries.
    flip(x, v, v.table as number[], 0);
    assert.equal(sentTo(x, synOf(b)), 1, 'a SYN retransmission keeps its entry');
    assert.equal(sentTo(x, segment(a, TCP_FLAGS.ACK)), 0);
  });

  withObject('an ICMP error quoting an established flow follows the flow, not the new table', {}, (x) => {
    const v = worldVip(world, 'multi-v4');
    const [a] = flowsTo(v, 1, 1);
    assert.ok(a);
    assert.equal(sentTo(x, synOf(a)), 1);
    flip(x, v, allOf(0));
    const quoted = tcp({ src: a.dst, dst: a.src, sport: a.dport, dport: a.sport, flags: TCP_FLAGS.ACK });
    const err = Buffer.from(buildPacket(icmpFragNeeded(quoted, { from: '198.51.100.1', mtu: 1400, ...FROM_ROUTER })));
    assert.equal(sentTo(x, err), 1);
    const [fresh] = flowsTo(v, 1, 1, 26000);
    const quotedFresh = tcp({ src: fresh!.dst, dst: fresh!.src, sport: fresh!.dport, dport: fresh!.sport, flags: TCP_FLAGS.ACK });
    const err2 = Buffer.from(buildPacket(icmpFragNeeded(quotedFresh, { from: '198.51.100.1', mtu: 1400, ...FROM_ROUTER })));
    assert.equal(sentTo(x, err2), 0, 'an error about an unknown flow goes where the table says');
    assert.equal(x.ctLookup(fresh!), undefined, 'ICMP errors create no entry');
  });

  withObject('a draining backend gets no new flows but keeps its existing ones', {}, (x) => {
    const v = worldVip(world, 'multi-v4');
    const old = flowsTo(v, 0, 3);
    for (const f of old) assert.equal(sentTo(x, synOf(f)), 0);
    setBackendFlags(x, 0, XLB_BACKEND_F.VALID | XLB_BACKEND_F.ON_LINK | XLB_BACKEND_F.DRAINING);
    for (const f of old) assert.equal(sentTo(x, segment(f, TCP_FLAGS.ACK)), 0, `existing flow ${f.sport} stays`);
    const fresh = flowsTo(v, 0, 20, 26000);
    assert.equal(fresh.length, 20);
    for (const f of fresh) assert.equal(sentTo(x, synOf(f)), 1, `new flow ${f.sport} avoids the draining backend`);
    for (const f of flowsTo(v, 1, 5, 27000)) assert.equal(sentTo(x, synOf(f)), 1);
    const [lost] = flowsTo(v, 0, 1, 28000);
    assert.equal(sentTo(x, segment(lost!, TCP_FLAGS.ACK)), 0, 'a mid-flow segment without entry keeps the table backend');
    const u = clientFlow(worldVip(world, 'src-hash-v4'), 5353, 4);
    const dgram = Buffer.from(buildPacket(udp({ src: u.src, dst: u.dst, sport: u.sport, dport: u.dport, ...FROM_ROUTER })));
    assert.equal(sentTo(x, dgram), 1, 'a new UDP flow avoids it too');
    const l2 = worldVip(world, 'l2-v4'); // its table is backend 0 only
    const before = x.drops().get(XLB_DROP.NO_BACKEND)!.packets;
    assert.equal(sentTo(x, synOf(clientFlow(l2, 29000, 4))), 'DROP', 'no backend left for new flows');
    assert.equal(x.drops().get(XLB_DROP.NO_BACKEND)!.packets, before + 1n);
    setBackendFlags(x, 0, XLB_BACKEND_F.VALID | XLB_BACKEND_F.ON_LINK);
    assert.equal(sentTo(x, synOf(clientFlow(l2, 29000, 4))), 0, 'undrained, it takes new flows again');
  });

  withObject('FIN and RST close a flow: a new SYN on its ports is a new flow', {}, (x) => {
    const v = worldVip(world, 'multi-v4');
    const [a, b] = flowsTo(v, 0, 2);
    assert.equal(sentTo(x, synOf(a!)), 0);
    assert.equal(sentTo(x, synOf(b!)), 0);
    flip(x, v, allOf(1));
    assert.equal(sentTo(x, segment(a!, TCP_FLAGS.FIN | TCP_FLAGS.ACK)), 0, 'the FIN goes to the flow backend');
    assert.equal(sentTo(x, segment(b!, TCP_FLAGS.RST)), 0, 'so does the RST');
    const state = (f: FlowKey) => decodeCtValue(x.ctLookup(f)!).state;
    assert.equal(state(a!), 'tcp-closing');
    assert.equal(state(b!), 'tcp-closing');
    assert.equal(sentTo(x, segment(a!, TCP_FLAGS.ACK)), 0, 'the last ACK too');
    assert.equal(sentTo(x, synOf(a!)), 1, 'a SYN reusing the ports is a new flow');
    assert.equal(state(a!), 'tcp-syn');
  });

  withObject('an expired UDP flow is a new flow (ct_udp_timeout_ms = 200)', { ct_udp_timeout_ms: 200 }, async (x) => {
    const v = worldVip(world, 'src-hash-v4');
    const u = clientFlow(v, 5000, 4);
    const dgram = Buffer.from(buildPacket(udp({ src: u.src, dst: u.dst, sport: u.sport, dport: u.dport, ...FROM_ROUTER })));
    const first = sentTo(x, dgram);
    assert.equal(typeof first, 'number');
    flip(x, v, allOf(first === 0 ? 1 : 0));
    assert.equal(sentTo(x, dgram), first, 'within the timeout the flow stays');
    await sleep(400);
    assert.equal(sentTo(x, dgram), first === 0 ? 1 : 0, 'after it, the flow is new');
  });

  withObject('a flow whose backend record is removed is re-balanced', {}, (x) => {
    const v = worldVip(world, 'multi-v4');
    const [a] = flowsTo(v, 0, 1);
    assert.equal(sentTo(x, synOf(a!)), 0);
    setBackendFlags(x, 0, 0);
    flip(x, v, allOf(1));
    assert.equal(sentTo(x, segment(a!, TCP_FLAGS.ACK)), 1);
  });

  // A SYN alone is inserted before it is looked up (xlb_ct_syn_insert); a retransmitted one finds
  // the flow's entry and keeps its backend, in every mode that takes that path.
  withObject('a retransmitted SYN keeps its backend after the table flips, and is no new flow', {}, (x) => {
    const v = worldVip(world, 'multi-v4');
    const [a] = flowsTo(v, 0, 1);
    assert.equal(sentTo(x, synOf(a!)), 0);
    const newFlows = x.stats('vip_stats', v.meta.vipIndex).newFlows;
    flip(x, v, allOf(1));
    assert.equal(sentTo(x, synOf(a!)), 0, 'the retransmitted SYN');
    assert.equal(x.stats('vip_stats', v.meta.vipIndex).newFlows, newFlows, 'no new flow');
    const ct = decodeCtValue(x.ctLookup(a!)!);
    assert.equal(ct.backendIndex, 0);
    const [b] = flowsTo(v, 0, 1, 25000);
    assert.equal(sentTo(x, synOf(b!)), 1, 'a new flow takes the new table');
  });

  // The hit path (xlb_ct_hit_fast: inline for L2 DSR and IPv4-in-IPv4, xlb_encap otherwise)
  // must forward a flow's later packets exactly as the scheduling path forwards its first.
  withObject('a connection-table hit is forwarded as the flow\'s first packet was (every encapsulation, family, VLAN tags)', {}, (x) => {
    const cases = [
      ['l2-v4', 'l2', undefined],
      ['l2-v6', 'l2', undefined],
      ['ipip-v4', 'ipip', undefined],
      ['ipip-v4', 'ipip', [100, 200]],
      ['ipip-v6', 'ipip', undefined],
      ['gue-v4', 'gue', undefined],
      ['gue-v4', 'gue', 7],
      ['gue-v6', 'gue', undefined],
      ['ipip-4in6', 'ipip', undefined],
      ['gue-6in4', 'gue', undefined],
    ] as const;
    for (const [i, [name, kind, vlan]] of cases.entries()) {
      const v = worldVip(world, name);
      const f = clientFlow(v, 47000 + i, v.key.address.includes(':') ? 6 : 4);
      const spec = { src: f.src, dst: f.dst, sport: f.sport, dport: f.dport, ...FROM_ROUTER, ...(vlan === undefined ? {} : { vlan }) };
      const first = tcpSyn(spec);
      const later = tcp({ ...spec, flags: TCP_FLAGS.ACK | TCP_FLAGS.PSH, payload: 'data' });
      const be = v.table[0]!;
      const want = (p: Parameters<typeof buildPacket>[0]) => Buffer.from(buildPacket(kind === 'l2' ? expect.l2(p, be) : expect.encap(world, p, f, be, kind)));
      const r1 = x.run(Buffer.from(buildPacket(first)));
      assert.equal(r1.verdict, 'TX', `${name} ${vlan ?? ''}: SYN`);
      assert.deepEqual(r1.data, want(first), `${name} ${vlan ?? ''}: SYN output`);
      const newFlows = x.stats('vip_stats', v.meta.vipIndex).newFlows;
      const r2 = x.run(Buffer.from(buildPacket(later)));
      assert.equal(r2.verdict, 'TX', `${name} ${vlan ?? ''}: hit`);
      assert.deepEqual(r2.data, want(later), `${name} ${vlan ?? ''}: hit output`);
      assert.equal(x.stats('vip_stats', v.meta.vipIndex).newFlows, newFlows, `${name} ${vlan ?? ''}: the later packet was a hit`);
      // the entry keeps the flow hash the encapsulation uses; an entry without one (0: written
      // by user space or an older build) is forwarded the same, the hash computed again
      const entry = Buffer.from(x.ctLookup(f)!);
      assert.equal(entry.readUInt32LE(XLB_LAYOUTS.ctValue.members.flow_hash), flowHash(f), `${name} ${vlan ?? ''}: flow_hash`);
      entry.writeUInt32LE(0, XLB_LAYOUTS.ctValue.members.flow_hash);
      x.ctUpdate(f, entry);
      const r3 = x.run(Buffer.from(buildPacket(later)));
      assert.equal(r3.verdict, 'TX', `${name} ${vlan ?? ''}: hit without a flow hash`);
      assert.deepEqual(r3.data, want(later), `${name} ${vlan ?? ''}: hit output without a flow hash`);
    }
  });

  withObject('encap_mtu applies to connection-table hits too: a later packet too big is TOO_BIG (IPv4 without DF) or answered (IPv6)', { encap_mtu: 140 }, (x) => {
    for (const name of ['ipip-v4', 'gue-v4', 'ipip-v6']) {
      const v = worldVip(world, name);
      const v6 = v.key.address.includes(':');
      const f = clientFlow(v, 47100, v6 ? 6 : 4);
      assert.equal(x.run(synOf(f)).verdict, 'TX', `${name}: the SYN fits`);
      const reason = v6 ? XLB_DROP.ICMP_TOO_BIG : XLB_DROP.TOO_BIG;
      const before = x.drops().get(reason)!.packets;
      const segment = tcp({ src: f.src, dst: f.dst, sport: f.sport, dport: f.dport, flags: TCP_FLAGS.ACK, payload: 'x'.repeat(100), ...FROM_ROUTER });
      const big = Buffer.from(buildPacket(v6 ? segment : updateLayer(segment, 'ipv4', { df: false })));
      const r = x.run(big);
      assert.equal(r.verdict, v6 ? 'TX' : 'DROP', `${name}: too big`);
      if (v6) assert.equal(r.data[14 + 40], 2, `${name}: an ICMPv6 packet too big`);
      assert.equal(x.drops().get(reason)!.packets, before + 1n, `${name}: counted as ${v6 ? 'ICMP_TOO_BIG' : 'TOO_BIG'}`);
    }
  });
});
