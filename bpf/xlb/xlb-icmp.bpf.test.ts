/**
 * BPF layer: the ICMP errors xlb sends and translates (pckt_icmp.h, xlb_nat_icmp.h).
 *   - too big for encap_mtu: IPv6 and IPv4 with DF are answered with an ICMP fragmentation
 *     needed / ICMPv6 packet too big from the VIP (exact bytes: quote length, MTU, checksums);
 *     IPv4 without DF and ICMP errors are dropped as TOO_BIG;
 *   - NAT: an error from the backend's side about a translated flow reaches the client with the
 *     outer and the quoted headers translated back; one from the client about a reply reaches
 *     the backend translated forward; errors of no flow are left alone.
 * Expected packets are built from scratch with @netaccel/protocol.
 */
import { afterAll, beforeAll, describe, test } from 'vitest';
import assert from 'node:assert/strict';
import { assertPacketsEqual, buildPacket, icmpFragNeeded, icmpv6PacketTooBig, ipFamily, tcp, tcpSyn, TCP_FLAGS, udp, updateLayer, verifyChecksums } from '@netaccel/protocol';
import type { Packet } from '@netaccel/protocol';
import type { FlowKey } from './codec.js';
import { XLB_DROP } from './drop-reasons.js';
import type { XlbDropName } from './drop-reasons.js';
import { natPortCandidates } from './flow-hash.js';
import { CLIENT, MAC, NAT_SOURCE, clientFlow, worldBackend, worldEntries, worldVip, xlbWorld } from './test-world.js';
import type { TestVip } from './test-world.js';
import { XlbObject, pinThreadToCpu } from './xlb-harness.js';
import type { RunResult } from './xlb-harness.js';

const world = xlbWorld();
const FROM_ROUTER = { eth: { src: MAC.router, dst: MAC.lb } };
const BACK_TO_ROUTER = { eth: { src: MAC.lb, dst: MAC.router } };

const bytes = (p: Packet): Buffer => Buffer.from(buildPacket(p));
const family = (v: TestVip): 4 | 6 => (ipFamily(v.key.address) === 6 ? 6 : 4);

/** A TCP segment of `f` (client -> VIP) with `payload` bytes, tagged when `vlan`. */
function segment(f: FlowKey, payload: number, vlan?: number | number[]): Packet {
  const spec = { src: f.src, dst: f.dst, sport: f.sport, dport: f.dport, flags: TCP_FLAGS.ACK | TCP_FLAGS.PSH, payload: 'p'.repeat(payload), ...FROM_ROUTER };
  return tcp(vlan === undefined ? spec : { ...spec, vlan });
}

function withObject(name: string, globals: Record<string, number>, body: (x: XlbObject) => void): void {
  test(name, (t) => {
    const x = XlbObject.load('balancer', globals);
    t.onTestFinished(() => x.close());
    x.install(worldEntries(world, x.maglevSize));
    body(x);
  });
}

function count(x: XlbObject, reason: XlbDropName): bigint {
  return x.drops().get(XLB_DROP[reason])!.packets;
}

/** Runs `p`; expects `want` (checksums verified) and `reason` counted once. */
function expectTx(x: XlbObject, p: Packet | Buffer, want: Packet, what: string, reason?: XlbDropName): RunResult {
  const before = reason === undefined ? 0n : count(x, reason);
  const r = x.run(Buffer.isBuffer(p) ? p : bytes(p));
  assert.equal(r.verdict, 'TX', what);
  assertPacketsEqual(r.data, bytes(want), { checksums: false, message: what });
  const report = verifyChecksums(r.data);
  assert.ok(report.ok, `${what}: checksums ${JSON.stringify(report.checks.filter((c) => c.status === 'bad'))}`);
  if (reason !== undefined) assert.equal(count(x, reason), before + 1n, `${what}: ${reason} counted`);
  return r;
}

function expectUnchanged(x: XlbObject, p: Buffer, verdict: 'DROP' | 'PASS', what: string, reason?: XlbDropName): void {
  const before = reason === undefined ? 0n : count(x, reason);
  const r = x.run(p);
  assert.equal(r.verdict, verdict, what);
  assert.deepEqual(r.data, p, what);
  if (reason !== undefined) assert.equal(count(x, reason), before + 1n, `${what}: ${reason} counted`);
}

describe('xlb.bpf.o: ICMP too big for encap_mtu', () => {
  let unpin: () => void = () => {};
  beforeAll(() => {
    unpin = pinThreadToCpu(0);
  });
  afterAll(() => unpin());

  // encap_mtu 1400: IPIP over IPv4 leaves 1380, GUE over IPv4 1368, IPIP over IPv6 (4in6) 1360.
  withObject('encap_mtu = 1400: a segment with DF over it gets ICMP fragmentation needed with the MTU left after the encapsulation', { encap_mtu: 1400 }, (x) => {
    for (const [name, mtu] of [['ipip-v4', 1380], ['gue-v4', 1368], ['ipip-4in6', 1360]] as const) {
      const v = worldVip(world, name);
      const f = clientFlow(v, 48001, 4);
      const fits = segment(f, mtu - 40);
      assert.equal(x.run(bytes(fits)).verdict, 'TX', `${name}: ${mtu} bytes fit`);
      const big = segment(f, mtu - 40 + 1);
      // RFC 1812: the ICMP datagram within 576 bytes, so 548 bytes of the 1381 are quoted
      const want = icmpFragNeeded(big, { from: v.key.address, mtu, ...BACK_TO_ROUTER, quoteBytes: 548 });
      expectTx(x, big, want, `${name}: one byte over`, 'ICMP_TOO_BIG');
    }
  });

  withObject('IPv6 (6in6, 6in4 GUE): packet too big quoting 1232 bytes, always (IPv6 has no DF)', { encap_mtu: 1400 }, (x) => {
    for (const [name, mtu] of [['ipip-v6', 1360], ['gue-6in4', 1368]] as const) {
      const v = worldVip(world, name);
      const f = clientFlow(v, 48002, 6);
      const big = segment(f, 1400);
      const want = icmpv6PacketTooBig(big, { from: v.key.address, mtu, ...BACK_TO_ROUTER });
      const r = expectTx(x, big, want, name, 'ICMP_TOO_BIG');
      assert.equal(r.data.length, 14 + 1280, `${name}: the error is 1280 bytes of IPv6`);
    }
  });

  withObject('a short packet is quoted whole (odd length, VLAN tags kept); the connection entry stays', { encap_mtu: 100 }, (x) => {
    const v = worldVip(world, 'ipip-v4');
    const f = clientFlow(v, 48003, 4);
    const syn = tcpSyn({ src: f.src, dst: f.dst, sport: f.sport, dport: f.dport, ...FROM_ROUTER, vlan: [100, 200] });
    assert.equal(x.run(bytes(syn)).verdict, 'TX', 'the SYN (64 bytes) fits in 100 - 20');
    const newFlows = x.stats('vip_stats', v.meta.vipIndex).newFlows;
    const big = segment(f, 41, [100, 200]); // 81 bytes of IP: odd
    const want = icmpFragNeeded(big, { from: v.key.address, mtu: 80, quoteBytes: 81 });
    const r = expectTx(x, big, want, 'tagged, odd', 'ICMP_TOO_BIG');
    assert.equal(r.data.length, 14 + 8 + 20 + 8 + 81);
    assert.equal(x.stats('vip_stats', v.meta.vipIndex).newFlows, newFlows, 'a hit: the flow keeps its entry');
    assert.equal(x.run(bytes(segment(f, 20, [100, 200]))).verdict, 'TX', 'a smaller segment of the flow goes through');
  });

  withObject('IPv4 without DF and ICMP errors over encap_mtu are dropped, counted TOO_BIG; L2 DSR has no limit', { encap_mtu: 200 }, (x) => {
    const v = worldVip(world, 'gue-v4');
    const f = clientFlow(v, 48004, 4);
    const noDf = updateLayer(segment(f, 300), 'ipv4', { df: false });
    expectUnchanged(x, bytes(noDf), 'DROP', 'no DF', 'TOO_BIG');
    // an ICMP error of the flow (it has an entry after this SYN), quoting 300 bytes
    assert.equal(x.run(bytes(tcpSyn({ src: f.src, dst: f.dst, sport: f.sport, dport: f.dport, ...FROM_ROUTER }))).verdict, 'TX');
    const reply = tcp({ src: f.dst, dst: f.src, sport: f.dport, dport: f.sport, payload: 'r'.repeat(400), eth: { src: MAC.lb, dst: MAC.router } });
    const error = icmpFragNeeded(reply, { from: '198.51.100.1', mtu: 1200, ...FROM_ROUTER, quoteBytes: 300 });
    expectUnchanged(x, bytes(error), 'DROP', 'an ICMP error gets no ICMP error', 'TOO_BIG');
    assert.equal(count(x, 'ICMP_TOO_BIG'), 0n);
    const l2 = worldVip(world, 'l2-v4');
    assert.equal(x.run(bytes(segment(clientFlow(l2, 48005, 4), 1000))).verdict, 'TX', 'L2 DSR does not encapsulate');
  });

  withObject('encap_mtu = 100 leaves IPIP over IPv6 less than 68 bytes: no error can report it, dropped as TOO_BIG', { encap_mtu: 100 }, (x) => {
    const f = clientFlow(worldVip(world, 'ipip-v6'), 48007, 6);
    expectUnchanged(x, bytes(segment(f, 100)), 'DROP', '100 - 40 < 68', 'TOO_BIG');
    assert.equal(count(x, 'ICMP_TOO_BIG'), 0n);
  });

  withObject('encap_mtu = 0 (default): no limit, no error', {}, (x) => {
    const f = clientFlow(worldVip(world, 'ipip-v6'), 48006, 6);
    const r = x.run(bytes(segment(f, 1400)));
    assert.equal(r.verdict, 'TX');
    assert.equal(r.data.length, 14 + 40 + 40 + 20 + 1400);
  });
});

/** The NAT flow of `sport` to `name` set up by its SYN; what the balancer sent the backend. */
function natFlow(x: XlbObject, name: string, sport: number, proto: 'tcp' | 'udp' = 'tcp') {
  const v = worldVip(world, name);
  const fam = family(v);
  const f = clientFlow(v, sport, fam);
  const spec = { src: f.src, dst: f.dst, sport, dport: f.dport, ...FROM_ROUTER };
  const first = proto === 'tcp' ? tcpSyn(spec) : udp({ ...spec, payload: 'query' });
  const r = x.run(bytes(first));
  assert.equal(r.verdict, 'TX', `${name}: the flow's first packet`);
  const bi = v.table[0]!;
  const be = worldBackend(world, bi);
  return { v, f, first, sent: r.data, bi, be, natPort: natPortCandidates(f)[0]!, natSrc: fam === 6 ? NAT_SOURCE.v6 : NAT_SOURCE.v4 };
}

/** `p` (an ICMP error) with another ICMP type and code. */
function retyped(p: Packet, icmpType: number, code: number): Packet {
  return { ...p, layers: p.layers.map((l) => (l.type === 'icmp' || l.type === 'icmpv6' ? { ...l, icmpType, code, rest: 0 } : l)) };
}

describe('xlb.bpf.o: ICMP errors of NAT flows', () => {
  let x: XlbObject;
  let unpin: () => void = () => {};
  beforeAll(() => {
    unpin = pinThreadToCpu(0);
    x = XlbObject.load('balancer');
    x.install(worldEntries(world, x.maglevSize));
  });
  afterAll(() => {
    x?.close();
    unpin();
  });

  test('from the backend: fragmentation needed about S:p -> B:b reaches the client as V -> C quoting C:c -> V:v', () => {
    const n = natFlow(x, 'nat-v4', 49001);
    const replies = x.stats('vip_stats', n.v.meta.vipIndex).replyPackets;
    for (const quoteBytes of [28, 60]) {
      // 28: header + ports and sequence number only; 60: the whole SYN, its TCP checksum included
      const error = icmpFragNeeded(n.sent, { from: n.be.address, mtu: 1400, eth: { src: MAC.backend(n.bi), dst: MAC.lb }, quoteBytes });
      const want = icmpFragNeeded(n.first, { from: n.v.key.address, to: CLIENT.v4, mtu: 1400, ...BACK_TO_ROUTER, quoteBytes });
      expectTx(x, error, want, `quote of ${quoteBytes} bytes`);
    }
    assert.equal(x.stats('vip_stats', n.v.meta.vipIndex).replyPackets, replies + 2n, 'counted as replies of the VIP');
  });

  test('from a router on the way: time exceeded about a UDP flow (its checksum quoted) is translated too', () => {
    const n = natFlow(x, 'nat-udp-v4', 49002, 'udp');
    const error = retyped(icmpFragNeeded(n.sent, { from: '10.1.0.254', mtu: 0, eth: { src: MAC.nexthop, dst: MAC.lb }, quoteBytes: 33 }), 11, 0);
    const want = retyped(icmpFragNeeded(n.first, { from: n.v.key.address, to: CLIENT.v4, mtu: 0, ...BACK_TO_ROUTER, quoteBytes: 33 }), 11, 0);
    expectTx(x, error, want, 'time exceeded');
  });

  test('IPv6: packet too big from the backend reaches the client with the quoted TCP checksum translated back', () => {
    const n = natFlow(x, 'nat-v6', 49003);
    const error = icmpv6PacketTooBig(n.sent, { from: n.be.address, mtu: 1280, eth: { src: MAC.backend(n.bi), dst: MAC.lb } });
    const want = icmpv6PacketTooBig(n.first, { from: n.v.key.address, to: CLIENT.v6, mtu: 1280, ...BACK_TO_ROUTER });
    expectTx(x, error, want, 'packet too big');
  });

  test('from the client: an error about a reply V:v -> C:c reaches the backend about B:b -> S:p', () => {
    for (const name of ['nat-v4', 'nat-v6']) {
      const n = natFlow(x, name, 49004);
      const packets = x.stats('backend_stats', n.bi).packets;
      const eth = { src: MAC.lb, dst: MAC.router };
      const reply = tcp({ src: n.f.dst, dst: n.f.src, sport: n.f.dport, dport: n.f.sport, flags: TCP_FLAGS.SYN | TCP_FLAGS.ACK, eth });
      const asSent = tcp({ src: n.be.address, dst: n.natSrc, sport: n.be.port || n.f.dport, dport: n.natPort, flags: TCP_FLAGS.SYN | TCP_FLAGS.ACK, eth });
      const toBackend = { eth: { src: MAC.lb, dst: MAC.backend(n.bi) } };
      const [error, want] =
        family(n.v) === 4
          ? [retyped(icmpFragNeeded(reply, { from: CLIENT.v4, mtu: 0, ...FROM_ROUTER, quoteBytes: 40 }), 3, 3), retyped(icmpFragNeeded(asSent, { from: n.natSrc, to: n.be.address, mtu: 0, ...toBackend, quoteBytes: 40 }), 3, 3)]
          : [icmpv6PacketTooBig(reply, { from: CLIENT.v6, mtu: 1280, ...FROM_ROUTER }), icmpv6PacketTooBig(asSent, { from: n.natSrc, to: n.be.address, mtu: 1280, ...toBackend })];
      expectTx(x, error, want, name);
      assert.equal(x.stats('backend_stats', n.bi).packets, packets + 1n, `${name}: counted for the backend`);
    }
  });

  test('errors of no NAT flow are left alone: to the NAT source uncounted, to a NAT VIP counted ICMP_NAT', () => {
    const v = worldVip(world, 'nat-v4');
    const be = worldBackend(world, v.table[0]!);
    const stray = tcp({ src: NAT_SOURCE.v4, dst: be.address, sport: 999, dport: 8080, eth: { src: MAC.lb, dst: MAC.backend(0) } });
    const drops = [...x.drops().values()].reduce((a, c) => a + c.packets, 0n);
    expectUnchanged(x, bytes(icmpFragNeeded(stray, { from: be.address, mtu: 1400, eth: { src: MAC.backend(0), dst: MAC.lb } })), 'PASS', 'to the NAT source');
    assert.equal([...x.drops().values()].reduce((a, c) => a + c.packets, 0n), drops, 'nothing counted');
    const f = clientFlow(v, 49005, 4);
    const reply = tcp({ src: f.dst, dst: f.src, sport: f.dport, dport: f.sport, eth: { src: MAC.lb, dst: MAC.router } });
    expectUnchanged(x, bytes(icmpFragNeeded(reply, { from: CLIENT.v4, mtu: 1400, ...FROM_ROUTER })), 'PASS', 'to the VIP', 'ICMP_NAT');
  });
});
