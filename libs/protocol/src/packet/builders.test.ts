import { test } from 'vitest';
import assert from 'node:assert/strict';
import { NA_ERR_PACKET_INVALID_SPEC } from '../errors.js';
import { buildPacket } from './build.js';
import { DEFAULT_DST_MAC, DEFAULT_SRC_MAC, ipipEncap, tcp, tcpSyn, udp } from './builders.js';
import { diffPackets } from './diff.js';
import type { EthernetLayer, Ipv4Layer, Ipv6Layer, Packet, TcpLayer } from './model.js';
import { findLayer, stripDerived, TCP_FLAGS, updateLayer } from './model.js';
import { parsePacket, verifyChecksums } from './parse.js';
import { tcpOptionValues } from './tcp.js';

test('tcpSyn: a SYN from 10.0.0.2:40000 to VIP 10.1.1.1:80 in VLAN 100', () => {
  const p = parsePacket(buildPacket(tcpSyn({ src: '10.0.0.2', sport: 40000, dst: '10.1.1.1', dport: 80, vlan: 100 })));
  assert.deepEqual(p.layers.map((l) => l.type), ['eth', 'vlan', 'ipv4', 'tcp']);
  const eth = p.layers[0] as EthernetLayer;
  assert.deepEqual([eth.src, eth.dst], [DEFAULT_SRC_MAC, DEFAULT_DST_MAC]);
  const ip = p.layers[2] as Ipv4Layer;
  assert.deepEqual([ip.src, ip.dst, ip.df, ip.ttl], ['10.0.0.2', '10.1.1.1', true, 64]);
  const t = p.layers[3] as TcpLayer;
  assert.deepEqual([t.sport, t.dport, t.flags, t.ack], [40000, 80, TCP_FLAGS.SYN, 0]);
  assert.deepEqual(tcpOptionValues(t.options!), { mss: 1460 });
  const v6 = parsePacket(buildPacket(tcpSyn({ src: '2001:db8::2', sport: 1, dst: '2001:db8::1', dport: 80, mss: 1400 })));
  assert.deepEqual(tcpOptionValues((v6.layers[2] as TcpLayer).options!), { mss: 1400 });
  assert.equal(parsePacket(buildPacket(tcpSyn({ src: '2001:db8::2', sport: 1, dst: '2001:db8::1', dport: 80 }))).layers.length, 3);
});

test('builders: QinQ tags, bare IP, text payloads, family checks', () => {
  const qinq = tcp({ src: '10.0.0.1', dst: '10.0.0.2', sport: 1, dport: 2, vlan: [10, 20] });
  const layers = parsePacket(buildPacket(qinq)).layers;
  assert.deepEqual(layers.map((l) => (l.type === 'vlan' ? `${(l.tpid ?? 0).toString(16)}/${l.vid}` : l.type)), ['eth', '88a8/10', '8100/20', 'ipv4', 'tcp']);
  const bare = buildPacket(udp({ src: '10.0.0.1', dst: '10.0.0.2', sport: 1, dport: 2, eth: false, payload: 'héllo' }));
  const p = parsePacket(bare, { first: 'ip' });
  assert.equal(new TextDecoder().decode(p.payload), 'héllo');
  assert.throws(() => udp({ src: '10.0.0.1', dst: '::1', sport: 1, dport: 2 }), { code: 'NA_ERR_PACKET_INVALID_SPEC', message: 'dst: expected an IPv4 address like src, got "::1"' });
  assert.throws(() => udp({ src: 'x', dst: '::1', sport: 1, dport: 2 }), (e) => NA_ERR_PACKET_INVALID_SPEC.is(e));
  assert.throws(() => udp({ src: '10.0.0.1', dst: '10.0.0.2', sport: 1, dport: 2, eth: false, vlan: 3 }), (e) => NA_ERR_PACKET_INVALID_SPEC.is(e));
});

test('ipipEncap: 4in4, 6in6, 4in6 and 6in4 keep the inner datagram byte for byte', () => {
  const in4 = tcpSyn({ src: '192.0.2.10', sport: 40000, dst: '10.1.1.1', dport: 80, vlan: 7 });
  const in6 = udp({ src: '2001:db8:c::10', sport: 5353, dst: '2001:db8:f::1', dport: 53, payload: 'q' });
  const cases: [Packet, string, string, number, string][] = [
    [in4, '10.0.0.1', '10.2.2.2', 4, 'ipv4'],
    [in6, '2001:db8::1', '2001:db8::2', 41, 'ipv6'],
    [in4, '2001:db8::1', '2001:db8::2', 4, 'ipv6'],
    [in6, '10.0.0.1', '10.2.2.2', 41, 'ipv4'],
  ];
  for (const [inner, src, dst, proto, outerType] of cases) {
    const innerBytes = buildPacket(inner);
    const l2 = innerBytes.length - (inner.layers[1]?.type === 'vlan' ? 18 : 14);
    const bytes = buildPacket(ipipEncap(parsePacket(innerBytes), src, dst));
    const p = parsePacket(bytes);
    const outer = findLayer(p, outerType as 'ipv4' | 'ipv6')!;
    assert.equal(outer.type === 'ipv4' ? outer.protocol : (outer as Ipv6Layer).nextHeader, proto, `${outerType} carrying ${proto}`);
    assert.deepEqual(bytes.subarray(bytes.length - l2), innerBytes.subarray(innerBytes.length - l2));
    assert.ok(verifyChecksums(bytes).ok);
  }
});

test('ipipEncap copies the inner TOS unless told otherwise', () => {
  const inner = updateLayer(udp({ src: '10.0.0.1', dst: '10.0.0.2', sport: 1, dport: 2 }), 'ipv4', { tos: 0xb8 });
  assert.equal((ipipEncap(inner, '10.9.0.1', '10.9.0.2').layers[1] as Ipv4Layer).tos, 0xb8);
  assert.equal((ipipEncap(inner, '10.9.0.1', '10.9.0.2', { tos: 0 }).layers[1] as Ipv4Layer).tos, 0);
  assert.equal((ipipEncap(inner, '2001:db8::1', '2001:db8::2').layers[1] as Ipv6Layer).trafficClass, 0xb8);
  assert.throws(() => ipipEncap({ layers: [{ type: 'udp', sport: 1, dport: 2 }] }, '10.0.0.1', '10.0.0.2'), (e) => NA_ERR_PACKET_INVALID_SPEC.is(e));
});

test('an L2 DSR expectation: only the destination MAC changes', () => {
  const input = buildPacket(tcpSyn({ src: '10.0.0.2', sport: 40000, dst: '10.1.1.1', dport: 80 }));
  const expected = updateLayer(parsePacket(input), 'eth', { dst: '02:00:00:00:00:99' });
  const d = diffPackets(buildPacket(expected), input);
  assert.deepEqual(d.differences.map((x) => x.where), ['layers[0] eth.dst']);
});

test('stripDerived drops computed fields so edits are re-derived', () => {
  const parsed = parsePacket(buildPacket(udp({ src: '10.0.0.1', dst: '10.0.0.2', sport: 1, dport: 2 })));
  const stripped = stripDerived(parsed);
  assert.equal((stripped.layers[1] as Ipv4Layer).checksum, undefined);
  assert.equal((stripped.layers[1] as Ipv4Layer).ttl, 64);
  const edited = { ...stripped, layers: stripped.layers.map((l) => (l.type === 'ipv4' ? { ...l, ttl: 1 } : l)) };
  assert.ok(verifyChecksums(buildPacket(edited)).ok);
  assert.throws(() => updateLayer(parsed, 'tcp', {}), RangeError);
  assert.equal(findLayer(parsed, 'ipv4', 1), undefined);
});
