/**
 * BPF layer: the backends' TC decapsulator (xlb_decap.bpf.o) through BPF_PROG_TEST_RUN with
 * __sk_buff data: IPIP and GUE tunnels to a local address become the inner packet (every
 * family combination, GUE version 0 with and without extension fields, version 1, behind VLAN
 * tags); anything else passes untouched; broken tunnels to us are dropped with their reason counted.
 */
import { afterAll, beforeAll, describe, test } from 'vitest';
import assert from 'node:assert/strict';
import { assertPacketsEqual, buildPacket, gueEncap, ipipEncap, tcpSyn, udp, updateLayer } from '@netaccel/protocol';
import type { Packet } from '@netaccel/protocol';
import { XLB_DECAP_STAT } from './constants.js';
import { encodeDecapKey, encodeU32 } from './codec.js';
import { XLB_DROP } from './drop-reasons.js';
import type { XlbDropName } from './drop-reasons.js';
import { XlbObject } from './xlb-harness.js';

const TC_ACT = { OK: 0, SHOT: 2 } as const;
const LOCAL = { v4: '10.2.0.20', v6: '2001:db8:2::20' };
const OUTER_SRC = { v4: '172.16.1.2', v6: '100::1:2' };
const ETH = { eth: { src: '02:00:00:00:00:fd', dst: '02:00:00:00:20:20' } };

const inner4 = tcpSyn({ src: '192.0.2.10', dst: '10.0.0.2', sport: 40000, dport: 80, ...ETH });
const inner6 = tcpSyn({ src: '2001:db8:c::10', dst: '2001:db8::2', sport: 40000, dport: 80, ...ETH });

function bytes(p: Packet): Buffer {
  return Buffer.from(buildPacket(p));
}

/** `p` with VLAN tags after its Ethernet header, outermost first (802.1ad for the outer of two). */
function tagged(p: Packet, vids: number[]): Packet {
  const tags = vids.map((vid, i) => (i === 0 && vids.length > 1 ? { type: 'vlan' as const, vid, tpid: 0x88a8 } : { type: 'vlan' as const, vid }));
  return { ...p, layers: [p.layers[0]!, ...tags, ...p.layers.slice(1)] };
}

function outer(family: 4 | 6): { src: string; dst: string } {
  return family === 4 ? { src: OUTER_SRC.v4, dst: LOCAL.v4 } : { src: OUTER_SRC.v6, dst: LOCAL.v6 };
}

interface Case {
  name: string;
  input: Packet | Buffer;
  /** The frame the stack must get; undefined: the input, untouched. */
  output?: Packet;
  retval: number;
  stat?: keyof typeof XLB_DECAP_STAT;
  reason?: XlbDropName;
}

function cases(): Case[] {
  const out: Case[] = [];
  for (const [innerName, inner] of [['IPv4', inner4], ['IPv6', inner6]] as const) {
    for (const fam of [4, 6] as const) {
      const o = outer(fam);
      out.push({ name: `IPIP: ${innerName} in IPv${fam}`, input: ipipEncap(inner, o.src, o.dst), output: inner, retval: TC_ACT.OK, stat: 'ipip' });
      out.push({
        name: `GUE v0: ${innerName} in IPv${fam}`,
        input: gueEncap(inner, { ...o, sport: 49153, udpChecksum: fam === 6 }),
        output: inner,
        retval: TC_ACT.OK,
        stat: 'gue',
      });
    }
  }
  out.push({ name: 'GUE v1 (direct IP): IPv4 in IPv4', input: gueEncap(inner4, { ...outer(4), sport: 49154, version: 1, udpChecksum: false }), output: inner4, retval: TC_ACT.OK, stat: 'gue' });
  out.push({ name: 'GUE v1 (direct IP): IPv6 in IPv6', input: gueEncap(inner6, { ...outer(6), sport: 49155, version: 1 }), output: inner6, retval: TC_ACT.OK, stat: 'gue' });
  {
    const g = gueEncap(inner4, { ...outer(4), sport: 49156, udpChecksum: false });
    const withFields = { ...g, layers: g.layers.map((l) => (l.type === 'gue' ? { ...l, fields: Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]) } : l)) };
    out.push({ name: 'GUE v0 with 2 words of extension fields', input: withFields, output: inner4, retval: TC_ACT.OK, stat: 'gue' });
  }
  {
    // Tags in the frame are popped, the tunnel opened, the tags pushed back: the outermost
    // into skb metadata (which BPF_PROG_TEST_RUN's output does not show; xlb-decap-vlan.ns.test.ts
    // shows the stack delivering to the right VLAN device), the others into the frame.
    const g = gueEncap(inner4, { ...outer(4), sport: 49157, udpChecksum: false });
    out.push({ name: 'GUE behind an 802.1Q tag in the frame is opened; the tag goes to skb metadata', input: tagged(g, [10]), output: inner4, retval: TC_ACT.OK, stat: 'gue' });
    const i = ipipEncap(inner4, OUTER_SRC.v4, LOCAL.v4);
    out.push({ name: 'IPIP behind 802.1ad + 802.1Q tags is opened; the inner tag stays in the frame', input: tagged(i, [100, 200]), output: tagged(inner4, [200]), retval: TC_ACT.OK, stat: 'ipip' });
    const x = ipipEncap(inner6, OUTER_SRC.v6, LOCAL.v6);
    out.push({ name: 'IPv6 in IPv6 behind QinQ tags', input: tagged(x, [100, 200]), output: tagged(inner6, [200]), retval: TC_ACT.OK, stat: 'ipip' });
    const y = gueEncap(inner6, { ...outer(4), sport: 49159, udpChecksum: false });
    out.push({ name: 'IPv6 in IPv4 GUE behind QinQ tags: the frame\'s last EtherType becomes IPv6', input: tagged(y, [100, 201]), output: tagged(inner6, [201]), retval: TC_ACT.OK, stat: 'gue' });
    out.push({ name: 'a tunnel behind 3 tags (over NETACCEL_MAX_VLAN_DEPTH) passes untouched', input: tagged(i, [1, 2, 3]), retval: TC_ACT.OK });
    out.push({ name: 'a tagged tunnel to an address that is not local passes untouched', input: tagged(ipipEncap(inner4, OUTER_SRC.v4, '10.2.0.99'), [10]), retval: TC_ACT.OK });
  }
  out.push({ name: 'IPIP to an address that is not local passes untouched', input: ipipEncap(inner4, OUTER_SRC.v4, '10.2.0.99'), retval: TC_ACT.OK });
  out.push({ name: 'UDP to a local address on another port passes untouched', input: udp({ src: OUTER_SRC.v4, dst: LOCAL.v4, sport: 5000, dport: 6081, payload: 'x', ...ETH }), retval: TC_ACT.OK });
  out.push({ name: 'plain TCP to a local address passes untouched', input: tcpSyn({ src: '192.0.2.10', dst: LOCAL.v4, sport: 1, dport: 22, ...ETH }), retval: TC_ACT.OK });
  out.push({ name: 'an outer fragment passes untouched', input: updateLayer(ipipEncap(inner4, OUTER_SRC.v4, LOCAL.v4), 'ipv4', { mf: true }, 0), retval: TC_ACT.OK });
  {
    const g = gueEncap(inner4, { ...outer(4), sport: 49158, udpChecksum: false });
    const control = { ...g, layers: g.layers.map((l) => (l.type === 'gue' ? { ...l, control: true, proto: 0 } : l)) };
    out.push({ name: 'a GUE control message is dropped', input: control, retval: TC_ACT.SHOT, reason: 'DECAP_BAD_GUE' });
    const unknown = { ...g, layers: g.layers.map((l) => (l.type === 'gue' ? { ...l, proto: 47 } : l)) };
    out.push({ name: 'GUE carrying an unknown protocol is dropped', input: unknown, retval: TC_ACT.SHOT, reason: 'DECAP_BAD_GUE' });
  }
  {
    const b = bytes(ipipEncap(inner4, OUTER_SRC.v4, LOCAL.v4));
    b[34] = 0x65; // the inner header claims version 6 under protocol 4
    out.push({ name: 'IPIP whose inner header is not the announced version is dropped', input: b, retval: TC_ACT.SHOT, reason: 'DECAP_BAD_INNER' });
  }
  return out;
}

describe('xlb_decap.bpf.o', () => {
  let decap: XlbObject;
  const all = cases();

  beforeAll(() => {
    decap = XlbObject.load('decap');
    for (const a of [LOCAL.v4, LOCAL.v6]) decap.map('decap_addrs').update(encodeDecapKey(a), encodeU32(0));
  });
  afterAll(() => decap?.close());

  test('the program is a TC classifier', () => {
    assert.equal(decap.prog.typeName, 'sched_cls');
  });

  for (const c of all) {
    test(c.name, () => {
      const input = Buffer.isBuffer(c.input) ? c.input : bytes(c.input);
      const r = decap.run(input);
      assert.equal(r.retval, c.retval, `retval of ${c.name}`);
      if (c.retval === TC_ACT.OK) assertPacketsEqual(r.data, c.output === undefined ? input : bytes(c.output), { udp6ZeroChecksum: true });
    });
  }

  test('decap_stats and drop_stats count what was decapsulated and dropped', () => {
    for (const [stat, key] of Object.entries(XLB_DECAP_STAT)) {
      const want = all.filter((c) => c.stat === stat);
      const got = decap.counter('decap_stats', key);
      assert.equal(got.packets, BigInt(want.length), `${stat} packets`);
    }
    for (const [reason, value] of Object.entries(XLB_DROP)) {
      const want = all.filter((c) => c.reason === reason).length;
      assert.equal(decap.counter('drop_stats', value).packets, BigInt(want), reason);
    }
  });
});
