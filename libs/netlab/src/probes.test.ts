import { test } from 'vitest';
import assert from 'node:assert/strict';
import { NA_ERR_NETLAB_EXEC_FAILED } from './errors.js';
import { countersArgv, parseCounters, parsePing, pingArgv } from './probes.js';

test('counters parse from grep -H output', () => {
  const c = parseCounters('rx_packets:12\ntx_packets:7\nrx_bytes:1000\nnot a counter\n');
  assert.equal(c.rx_packets, 12);
  assert.equal(c.tx_packets, 7);
  assert.equal(c.rx_bytes, 1000);
  assert.equal(Object.keys(c).length, 3);
  assert.deepEqual(countersArgv('eth0').slice(-2), ['sh', 'eth0'], 'the interface is an argument, not spliced into the script');
});

test('ping results parse from the pinger line', () => {
  assert.deepEqual(parsePing('{"sent": 3, "received": 2, "rtt_ms": [0.2, 0.3]}\n', 'client'), { ok: true, sent: 3, received: 2, rttMs: [0.2, 0.3] });
  assert.equal(parsePing('{"sent": 1, "received": 0, "rtt_ms": []}', 'client').ok, false);
  assert.throws(() => parsePing('Traceback ...', 'client'), (e: unknown) => NA_ERR_NETLAB_EXEC_FAILED.is(e));
  assert.deepEqual(pingArgv('fd00::1', { count: 3, timeoutMs: 500, intervalMs: 50 }).slice(3), ['fd00::1', '3', '0.5', '0.05']);
});
