/**
 * Unit: the codecs of electrode_kern_user.h's structs (round trips, byte order: addresses and
 * ports network order, the rest host order), the layouts' sizes, and errors that name the field.
 */
import { describe, test } from 'vitest';
import assert from 'node:assert/strict';
import { paxos } from '@netaccel/protocol';
import {
  ELECTRODE_LAYOUTS,
  decodeCounter,
  decodeLogEntry,
  decodeQuorumSlot,
  decodeReplica,
  decodeState,
  decodeU64Sum,
  encodeLogEntry,
  encodeQuorumSlot,
  encodeReplica,
  encodeState,
} from './codec.js';
import type { ElectrodeState } from './codec.js';
import { ELECTRODE_MAX_BODY, ELECTRODE_OFF } from './constants.js';

const STATE: ElectrodeState = { view: 7, status: 'view-change', self: 2, leader: 1, n: 5, lastOp: 2n ** 40n + 3n, commit: 99n, offloads: ELECTRODE_OFF.QUORUM };

describe('codecs', () => {
  test('electrode_state round-trips; integers host order', () => {
    const b = encodeState(STATE);
    assert.equal(b.length, ELECTRODE_LAYOUTS.state.size);
    assert.equal(b.readUInt32LE(0), 7);
    assert.equal(b[4], 1, 'status view-change = 1');
    assert.deepEqual(decodeState(b), STATE);
  });

  test('electrode_state refuses out-of-range fields, naming them', () => {
    assert.throws(() => encodeState({ ...STATE, self: 31 }), /^RangeError: electrode_state\.self: expected an integer 0\.\.30, got 31/);
    assert.throws(() => encodeState({ ...STATE, n: 0 }), /electrode_state\.n/);
    assert.throws(() => encodeState({ ...STATE, offloads: 8 }), /electrode_state\.offloads/);
    assert.throws(() => encodeState({ ...STATE, lastOp: -1n }), /electrode_state\.lastOp/);
    assert.throws(() => encodeState({ ...STATE, status: 'odd' as never }), /electrode_state\.status/);
    const bad = encodeState(STATE);
    bad[4] = 9;
    assert.throws(() => decodeState(bad), /electrode_state\.status: expected 0\.\.2, got 9/);
  });

  test('electrode_replica: IPv4 and IPv6, port network order, invalid entries decode to undefined', () => {
    const v4 = { address: '10.0.0.9', port: 7470, mac: '02:00:00:00:00:09', ifindex: 12 };
    const b = encodeReplica(v4);
    assert.equal(b.length, ELECTRODE_LAYOUTS.replica.size);
    assert.equal(b.readUInt16BE(16), 7470);
    assert.deepEqual([...b.subarray(0, 4)], [10, 0, 0, 9]);
    assert.equal(b[18], 4);
    assert.deepEqual(decodeReplica(b), v4);
    const v6 = { address: 'fd00::9', port: 1, mac: '02:00:00:00:00:0a', ifindex: 0 };
    assert.deepEqual(decodeReplica(encodeReplica(v6)), v6);
    assert.equal(decodeReplica(Buffer.alloc(32)), undefined);
    assert.throws(() => encodeReplica({ ...v4, address: 'x' }, 'replicas[1]'), /replicas\[1\]\.address/);
    assert.throws(() => encodeReplica({ ...v4, port: 0 }, 'replicas[1]'), /replicas\[1\]\.port/);
    assert.throws(() => encodeReplica({ ...v4, mac: '02:00' }, 'replicas[1]'), /replicas\[1\]\.mac/);
  });

  test('electrode_log_entry: body up to ELECTRODE_MAX_BODY, a length beyond it is not trusted', () => {
    const body = paxos.encodeEntry([{ clientId: 1n, requestId: 2n, payload: Buffer.from('set x 1') }]);
    const e = { state: 2, view: 3, op: 44n, commit: 40n, body };
    const b = encodeLogEntry(e);
    assert.equal(b.length, ELECTRODE_LAYOUTS.logEntry.size);
    assert.deepEqual(decodeLogEntry(b), e);
    assert.throws(() => encodeLogEntry({ ...e, body: Buffer.alloc(ELECTRODE_MAX_BODY + 1) }), /electrode_log_entry\.body/);
    b.writeUInt32LE(ELECTRODE_MAX_BODY + 1, 24);
    assert.throws(() => decodeLogEntry(b), /electrode_log_entry\.len/);
    assert.throws(() => decodeLogEntry(Buffer.alloc(10)), /electrode_log_entry: expected 1400 bytes, got 10/);
  });

  test('paxos_hdr is the wire codec\'s header (offsets of @netaccel/protocol\'s PAXOS_HDR)', () => {
    const m = ELECTRODE_LAYOUTS.paxosHdr.members;
    const want = paxos.PAXOS_HDR as Record<string, number>;
    assert.deepEqual(
      Object.fromEntries(Object.entries(m).map(([k, v]) => [k, v])),
      Object.fromEntries(Object.entries(m).map(([k]) => [k, want[k === 'body_len' ? 'bodyLen' : k]])),
    );
    assert.equal(ELECTRODE_LAYOUTS.paxosHdr.size, paxos.PAXOS_HEADER_LEN);
  });

  test('electrode_quorum_slot and the per-CPU counters', () => {
    const q = { view: 2, op: 17n, acks: 0b10110, done: true };
    assert.deepEqual(decodeQuorumSlot(encodeQuorumSlot(q)), q);
    const c = Buffer.alloc(16);
    c.writeBigUInt64LE(3n, 0);
    c.writeBigUInt64LE(300n, 8);
    assert.deepEqual(decodeCounter([c, c]), { packets: 6n, bytes: 600n });
    const u = Buffer.alloc(8);
    u.writeBigUInt64LE(5n);
    assert.equal(decodeU64Sum([u, u, u]), 15n);
  });
});
