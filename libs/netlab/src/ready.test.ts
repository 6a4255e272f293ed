import { test } from 'vitest';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NA_ERR_NETLAB_OPTIONS_INVALID } from './errors.js';
import { describeReady, parseSocketTable, probeFor, socketMatches, validateReady } from './ready.js';

const TCP = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0202000A:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0 100 0 0 10 0
   1: 0100007F:0016 0100007F:D431 01 00000000:00000000 00:00000000 00000000     0        0 2 1 0 20 4 30 10 -1
   2: 00000000:00B3 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 3 1 0 100 0 0 10 0
`;
const TCP6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000000000000:0050 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4 1 0 100 0 0 10 0
   1: 0000FDFD000000000000000002000000:1F91 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 5 1 0 100 0 0 10 0
`;

test('socket tables parse into address, port and state', () => {
  assert.deepEqual(parseSocketTable(TCP), [
    { addr: '10.0.2.2', port: 8080, state: '0A' },
    { addr: '127.0.0.1', port: 22, state: '01' },
    { addr: '0.0.0.0', port: 179, state: '0A' },
  ]);
  assert.deepEqual(parseSocketTable(TCP6).map((s) => `${s.addr}:${s.port}`), [':::80', 'fdfd::2:8081']);
});

test('socketMatches: exact or wildcard address, listening state for TCP', () => {
  const socks = [...parseSocketTable(TCP), ...parseSocketTable(TCP6)];
  assert.ok(socketMatches(socks, 'tcp', '10.0.2.2', 8080, 4));
  assert.ok(!socketMatches(socks, 'tcp', '10.0.2.3', 8080, 4));
  assert.ok(socketMatches(socks, 'tcp', '10.9.9.9', 179, 4), '0.0.0.0 serves every address');
  assert.ok(socketMatches(socks, 'tcp', '10.9.9.9', 80, 4), ':: serves IPv4 too');
  assert.ok(socketMatches(socks, 'tcp', 'fdfd::2', 8081, 6));
  assert.ok(!socketMatches(socks, 'tcp', '127.0.0.1', 22, 4), 'an established socket is not a listener');
  assert.ok(socketMatches(socks, 'udp', '127.0.0.1', 22, 4), 'udp: any bound socket');
});

test('validateReady names the bad field', () => {
  const bad = (check: unknown, re: RegExp): void =>
    assert.throws(() => validateReady(check, 'options.ready'), (e: unknown) => NA_ERR_NETLAB_OPTIONS_INVALID.is(e) && re.test(e.message));
  bad({ tcp: '10.0.0.1' }, /^options\.ready\.tcp: expected addr:port/);
  bad({ log: 'ready' }, /^options\.ready\.log: expected a RegExp/);
  bad({ file: 'relative' }, /^options\.ready\.file: expected an absolute path/);
  bad({ tcp: '10.0.0.1:80', log: /x/ }, /^options\.ready: expected exactly one/);
  bad({ http: 'x' }, /^options\.ready\.http: unknown field/);
  validateReady({ tcp: '[fd00::1]:80' }, 'options.ready');
  validateReady(() => true, 'options.ready');
  assert.equal(describeReady({ tcp: '10.0.0.1:80' }), 'tcp 10.0.0.1:80 listening');
  assert.equal(describeReady({ log: /up/i }), 'log matches /up/i');
});

test('log and file probes', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'netlab-ready-'));
  try {
    const log = join(dir, 'p.log');
    writeFileSync(log, '=== header mentioning listening\n');
    const start = 32;
    const probe = probeFor({ log: /listening on \d+/g }, { pid: 1, netnsId: undefined, logPath: log, logStart: start }, null);
    assert.equal(await probe(), false, 'the header before logStart does not count');
    appendFileSync(log, 'starting\nlisten');
    assert.equal(await probe(), false);
    appendFileSync(log, 'ing on 8080\n');
    assert.equal(await probe(), true, 'a match across two reads counts');
    assert.equal(await probe(), true, 'a /g regex does not flip on lastIndex');
    const file = join(dir, 'ready');
    const fileProbe = probeFor({ file }, { pid: 1, netnsId: undefined, logPath: log, logStart: 0 }, null);
    assert.equal(await fileProbe(), false);
    writeFileSync(file, '');
    assert.equal(await fileProbe(), true);
    let calls = 0;
    const fnProbe = probeFor(async (p: string) => p === 'proc' && ++calls > 1, { pid: 1, netnsId: undefined, logPath: log, logStart: 0 }, 'proc');
    assert.deepEqual([await fnProbe(), await fnProbe()], [false, true]);
    const tcpProbe = probeFor({ tcp: '10.0.0.1:80' }, { pid: process.pid, netnsId: undefined, logPath: log, logStart: 0 }, null);
    assert.equal(await tcpProbe(), false, 'without a namespace to match, a socket check never passes');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
