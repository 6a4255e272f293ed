/**
 * BPF layer: configuration the data plane refuses (drop reasons BAD_CONFIG, NO_NAT_SOURCE,
 * FAMILY, NO_NEXTHOP, TOO_BIG) and the load-time globals (features, gue_port, encap source
 * prefix, encap_mtu) and the local-MAC fallback.
 */
import { afterAll, beforeAll, describe, test } from 'vitest';
import assert from 'node:assert/strict';
import { assertPacketsEqual, buildPacket, gueEncap, icmpFragNeeded, ipipEncap, tcp, tcpSyn, TCP_FLAGS, updateLayer } from '@netaccel/protocol';
import type { Packet } from '@netaccel/protocol';
import { XLB_FEAT } from './constants.js';
import { encodeConfig, encodeNexthop, encodeVipKey, encodeVipMeta } from './codec.js';
import { XLB_DROP } from './drop-reasons.js';
import type { XlbDropName } from './drop-reasons.js';
import { encapSource, flowHash, gueSourcePort } from './flow-hash.js';
import { MAC, NAT_SOURCE, clientFlow, vipEntries, worldBackend, worldEntries, worldVip, xlbWorld } from './test-world.js';
import type { TestVip } from './test-world.js';
import { XlbObject, pinThreadToCpu } from './xlb-harness.js';

const world = xlbWorld();
const FROM_ROUTER = { eth: { src: MAC.router, dst: MAC.lb } };

function loadWorld(globals: Record<string, number> = {}): XlbObject {
  const xlb = XlbObject.load('balancer', globals);
  xlb.install(worldEntries(world, xlb.maglevSize));
  return xlb;
}

function synPacket(v: TestVip, sport: number, payload?: string): Packet {
  const f = clientFlow(v, sport, v.key.address.includes(':') ? 6 : 4);
  return tcpSyn({ src: f.src, dst: f.dst, sport, dport: f.dport, ...FROM_ROUTER, ...(payload ? { payload } : {}) });
}

function bytes(p: Packet): Buffer {
  return Buffer.from(buildPacket(p));
}

/** Runs `p`, expects it dropped unchanged with `reason` counted once. */
function expectDrop(x: XlbObject, p: Buffer, reason: XlbDropName): void {
  const before = x.drops().get(XLB_DROP[reason])!.packets;
  const r = x.run(p);
  assert.equal(r.verdict, 'DROP', reason);
  assert.deepEqual(r.data, p);
  assert.equal(x.drops().get(XLB_DROP[reason])!.packets, before + 1n, `${reason} counted`);
}

/** A VIP of the test world with another key, index, mode or table. */
function variant(name: string, patch: { address: string; vipIndex: number; mode?: TestVip['meta']['mode']; table?: number[] }): TestVip {
  const v = worldVip(world, name);
  return {
    ...v,
    name: `${name}-variant`,
    key: { ...v.key, address: patch.address },
    meta: { ...v.meta, vipIndex: patch.vipIndex, mode: patch.mode ?? v.meta.mode },
    table: patch.table ?? v.table,
  };
}

describe('xlb.bpf.o: configuration', () => {
  let unpin: () => void = () => {};
  beforeAll(() => {
    unpin = pinThreadToCpu(0);
  });
  afterAll(() => unpin());

  const withObject = (name: string, globals: Record<string, number>, fn: (x: XlbObject) => void) =>
    test(name, () => {
      const x = loadWorld(globals);
      try {
        fn(x);
      } finally {
        x.close();
      }
    });

  withObject('unusable VIP meta is BAD_CONFIG: table size 0, index out of range, mode 0', {}, (x) => {
    const v = variant('l2-v4', { address: '10.0.0.30', vipIndex: 30 });
    x.install(vipEntries(v, x.maglevSize));
    assert.equal(x.run(bytes(synPacket(v, 46001))).verdict, 'TX', 'the VIP works as installed');
    const key = encodeVipKey(v.key);
    for (const meta of [
      encodeVipMeta({ ...v.meta, tableSize: 0 }),
      encodeVipMeta({ ...v.meta, tableSize: x.maglevSize + 1 }),
      encodeVipMeta({ ...v.meta, vipIndex: 1_000_000 }),
      (() => { const m = encodeVipMeta(v.meta); m[13] = 0; return m; })(),
    ]) {
      x.map('vips').update(key, meta);
      expectDrop(x, bytes(synPacket(v, 46002)), 'BAD_CONFIG');
    }
  });

  withObject('NAT without a NAT source address is NO_NAT_SOURCE; NAT to another family is FAMILY', {}, (x) => {
    x.map('xlb_config').update(Buffer.alloc(4), encodeConfig({ localMac: MAC.lb, natSourceV6: NAT_SOURCE.v6 }));
    expectDrop(x, bytes(synPacket(worldVip(world, 'nat-v4'), 46010)), 'NO_NAT_SOURCE');
    const crossed = variant('nat-v6', { address: '2001:db8::40', vipIndex: 31, table: Array(13).fill(0) });
    x.install(vipEntries(crossed, x.maglevSize));
    expectDrop(x, bytes(synPacket(crossed, 46011)), 'FAMILY');
  });

  withObject('a backend without a usable MAC is NO_NEXTHOP (invalid next hop; L2 DSR to a routed backend)', {}, (x) => {
    x.map('nexthops').update(Buffer.alloc(4), encodeNexthop({ mac: MAC.nexthop, flags: 0 }));
    expectDrop(x, bytes(synPacket(worldVip(world, 'ipip-v4'), 46020)), 'NO_NEXTHOP');
    const l2ToRouted = variant('l2-v4', { address: '10.0.0.31', vipIndex: 32, table: Array(13).fill(4) });
    x.install(vipEntries(l2ToRouted, x.maglevSize));
    expectDrop(x, bytes(synPacket(l2ToRouted, 46021)), 'NO_NEXTHOP');
  });

  withObject('encap_mtu = 100: an IPv4 packet without DF that would exceed it after encapsulation is TOO_BIG (with DF: xlb-icmp.bpf.test.ts)', { encap_mtu: 100 }, (x) => {
    const v = worldVip(world, 'ipip-v4');
    assert.equal(x.run(bytes(synPacket(v, 46030))).verdict, 'TX', '44 + 20 bytes fit');
    expectDrop(x, bytes(updateLayer(synPacket(v, 46031, 'x'.repeat(60)), 'ipv4', { df: false })), 'TOO_BIG');
  });

  withObject('features without IPv6, NAT and ICMP errors: those packets are not balanced', { features: XLB_FEAT.ENCAP }, (x) => {
    const v6 = bytes(synPacket(worldVip(world, 'l2-v6'), 46040));
    const r = x.run(v6);
    assert.equal(r.verdict, 'PASS');
    assert.deepEqual(r.data, v6);
    expectDrop(x, bytes(synPacket(worldVip(world, 'nat-v4'), 46041)), 'BAD_CONFIG');
    const f = clientFlow(worldVip(world, 'l2-v4'), 46042, 4);
    const quoted = tcp({ src: f.dst, dst: f.src, sport: f.dport, dport: f.sport, flags: TCP_FLAGS.ACK });
    const err = bytes(icmpFragNeeded(quoted, { from: '198.51.100.1', mtu: 1400, ...FROM_ROUTER }));
    assert.equal(x.run(err).verdict, 'PASS', 'ICMP errors are left to the stack');
    assert.equal(x.run(bytes(synPacket(worldVip(world, 'l2-v4'), 46043))).verdict, 'TX', 'L2 DSR still works');
  });

  withObject('gue_port and the encap source prefix are load-time globals', { gue_port: 7777, encap_src_v4: 0x0a640000, encap_src_v4_len: 24 }, (x) => {
    for (const [name, kind] of [['gue-v4', 'gue'], ['ipip-v4', 'ipip']] as const) {
      const v = worldVip(world, name);
      const p = synPacket(v, 46050);
      const f = clientFlow(v, 46050, 4);
      const h = flowHash(f);
      const inner = updateLayer(p, 'eth', { src: MAC.lb, dst: MAC.nexthop });
      const src = encapSource(h, 4, '10.100.0.0', 24);
      assert.ok(src.startsWith('10.100.0.'));
      const dst = worldBackend(world, v.table[0]!).address;
      const want = kind === 'gue'
        ? gueEncap(inner, { src, dst, sport: gueSourcePort(h), dport: 7777, udpChecksum: false })
        : ipipEncap(inner, src, dst);
      const r = x.run(bytes(p));
      assert.equal(r.verdict, 'TX');
      assertPacketsEqual(r.data, buildPacket(want), { guePorts: [7777], message: name });
    }
  });

  withObject('without a configured local MAC the received frame\'s destination MAC is the source', {}, (x) => {
    x.map('xlb_config').update(Buffer.alloc(4), encodeConfig({ natSourceV4: NAT_SOURCE.v4 }));
    const v = worldVip(world, 'l2-v4');
    const p = updateLayer(synPacket(v, 46060), 'eth', { dst: '02:00:00:00:0a:0a' });
    const r = x.run(bytes(p));
    assert.equal(r.verdict, 'TX');
    assertPacketsEqual(r.data, buildPacket(updateLayer(p, 'eth', { src: '02:00:00:00:0a:0a', dst: MAC.backend(v.table[0]!) })));
  });
});
