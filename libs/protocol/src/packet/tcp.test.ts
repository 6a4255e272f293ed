import { test } from 'vitest';
import assert from 'node:assert/strict';
import { NA_ERR_PACKET_BAD_CHECKSUM, NA_ERR_PACKET_BAD_LENGTH, NA_ERR_PACKET_BAD_OPTION, NA_ERR_PACKET_INVALID_SPEC, NA_ERR_PACKET_TRUNCATED } from '../errors.js';
import { buildPacket } from './build.js';
import { tcp, tcpSyn } from './builders.js';
import type { TcpLayer } from './model.js';
import { TCP_FLAGS, updateLayer } from './model.js';
import { parsePacket } from './parse.js';
import { formatTcpFlags, tcpOptions, tcpOptionValues } from './tcp.js';
import { fromHex, toHex } from './wire.js';

test('tcpOptions lays options out as Linux does', () => {
  assert.equal(toHex(tcpOptions({ mss: 1460 })), '020405b4');
  assert.equal(toHex(tcpOptions({ mss: 1460, sackPermitted: true, timestamp: [0x55a108, 0], wscale: 7 })), '020405b40402080a0055a1080000000001030307');
  assert.equal(toHex(tcpOptions({ timestamp: [1, 2] })), '0101080a0000000100000002');
  assert.equal(toHex(tcpOptions({ mss: 536, sackPermitted: true })), '0204021801010402');
  assert.equal(toHex(tcpOptions({ wscale: 14 })), '0103030e');
  assert.equal(toHex(tcpOptions({ sack: [[1, 2]] })), '0101050a0000000100000002');
  assert.equal(toHex(tcpOptions({})), '');
});

test('tcpOptionValues reads options back and rejects malformed areas', () => {
  const values = { mss: 1400, sackPermitted: true, timestamp: [7, 9] as const, wscale: 3, sack: [[10, 20], [30, 40]] as const };
  assert.deepEqual(tcpOptionValues(tcpOptions(values)), { ...values, timestamp: [7, 9], sack: [[10, 20], [30, 40]] });
  assert.deepEqual(tcpOptionValues(fromHex('00020405')), {}, 'nothing after end-of-list is read');
  assert.throws(() => tcpOptionValues(fromHex('0205')), (e) => NA_ERR_PACKET_BAD_OPTION.is(e));
  assert.throws(() => tcpOptionValues(fromHex('0201')), (e) => NA_ERR_PACKET_BAD_OPTION.is(e));
});

test('formatTcpFlags names the bits', () => {
  assert.equal(formatTcpFlags(TCP_FLAGS.SYN | TCP_FLAGS.ACK), 'SYN|ACK');
  assert.equal(formatTcpFlags(0x1ff), 'FIN|SYN|RST|PSH|ACK|URG|ECE|CWR|NS');
  assert.equal(formatTcpFlags(0), '-');
});

test('all header bits round-trip: NS, reserved bits, urgent pointer', () => {
  const spec = tcp({ src: '10.0.0.1', dst: '10.0.0.2', sport: 1, dport: 2, flags: 0x1ff, seq: 0xffffffff, ack: 0x80000000, window: 0 });
  const withBits = updateLayer(spec, 'tcp', { reserved: 5, urgent: 0xabcd });
  const t = parsePacket(buildPacket(withBits)).layers[2] as TcpLayer;
  assert.deepEqual([t.flags, t.reserved, t.urgent, t.seq, t.ack, t.window], [0x1ff, 5, 0xabcd, 0xffffffff, 0x80000000, 0]);
});

test('a data offset below 5 is NA_ERR_PACKET_BAD_LENGTH; beyond the segment it is a truncated header', () => {
  const syn = tcpSyn({ src: '10.0.0.2', dst: '10.1.1.1', sport: 40000, dport: 80 });
  const low = buildPacket(updateLayer(syn, 'tcp', { dataOffset: 4 }));
  assert.throws(() => parsePacket(low), (e) => NA_ERR_PACKET_BAD_LENGTH.is(e) && e.message === 'tcp.dataOffset at offset 46: 4 words is below 5');
  const high = buildPacket(updateLayer(syn, 'tcp', { dataOffset: 15 }));
  assert.throws(() => parsePacket(high), (e) => NA_ERR_PACKET_TRUNCATED.is(e) && e.details.layer === 'tcp' && e.details.needed === 60 && e.details.available === 24);
});

test('a bad TCP checksum is NA_ERR_PACKET_BAD_CHECKSUM with the computed value', () => {
  const good = buildPacket(tcp({ src: '10.0.0.1', dst: '10.0.0.2', sport: 1, dport: 2, payload: 'data' }));
  const computed = (parsePacket(good).layers[2] as TcpLayer).checksum!;
  const bad = good.slice();
  bad[good.length - 1] = bad[good.length - 1]! ^ 1;
  assert.throws(() => parsePacket(bad), (e) => NA_ERR_PACKET_BAD_CHECKSUM.is(e) && e.details.layer === 'tcp' && e.details.stored === computed && e.details.offset === 50);
});

test('TCP needs an IP layer for its checksum, or an explicit one', () => {
  assert.throws(() => buildPacket({ layers: [{ type: 'tcp', sport: 1, dport: 2 }] }), { message: 'layers[0].checksum: no IP layer before it to compute it from; give it' });
  assert.equal(buildPacket({ layers: [{ type: 'tcp', sport: 1, dport: 2, checksum: 0x1234 }] }).length, 20);
  assert.throws(() => buildPacket({ layers: [{ type: 'tcp', sport: 1, dport: 2, checksum: 0, options: new Uint8Array(44) }] }), (e) => NA_ERR_PACKET_INVALID_SPEC.is(e));
  assert.throws(() => buildPacket({ layers: [{ type: 'tcp', sport: 70000, dport: 2, checksum: 0 }] }), { message: 'layers[0].sport: expected an integer 0..65535, got 70000' });
});
