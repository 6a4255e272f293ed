import { test } from 'vitest';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { NA_ERR_CONFIG_INVALID, parseConfig } from '@netaccel/config';
import { INSTALLED_OBJECT_DIR, defaultObjectDir, loaderConfig } from './config.js';

test('defaults: pins under /sys/fs/bpf/netaccel, the socket under /run/netaccel, statistics on', () => {
  const c = parseConfig(loaderConfig, { yaml: '', file: 'inline', env: {} });
  assert.deepEqual([c.pinRoot, c.stateDir, c.rpc.socket, c.rpc.shutdownTimeout, c.stats.runTime, c.objectDir], [
    '/sys/fs/bpf/netaccel', '/var/lib/netaccel/loader', '/run/netaccel/ebpf-loader.sock', 5000, true, undefined,
  ]);
  const env = parseConfig(loaderConfig, { yaml: 'pinRoot: /sys/fs/bpf/x\n', file: 'inline', env: { NETACCEL_EBPF_LOADER_RPC__SOCKET_GROUP: 'netaccel' } });
  assert.deepEqual([env.pinRoot, env.rpc.socketGroup], ['/sys/fs/bpf/x', 'netaccel']);
});

test('the gRPC server is the lean one unless rpc.transport opts out', () => {
  assert.equal(parseConfig(loaderConfig, { yaml: '', file: 'inline', env: {} }).rpc.transport, 'http2');
  assert.equal(parseConfig(loaderConfig, { yaml: 'rpc:\n  transport: grpc-js\n', file: 'inline', env: {} }).rpc.transport, 'grpc-js');
  assert.throws(() => parseConfig(loaderConfig, { yaml: 'rpc:\n  transport: quic\n', file: 'f.yaml', env: {} }), (e: unknown) => NA_ERR_CONFIG_INVALID.is(e) && /^rpc\.transport: /m.test(e.message));
});

test('problems name the field', () => {
  assert.throws(() => parseConfig(loaderConfig, { yaml: 'pinRoot: relative/dir\nrpc:\n  sockett: /x\n', file: 'f.yaml', env: {} }),
    (e: unknown) => NA_ERR_CONFIG_INVALID.is(e) && /^pinRoot: expected an absolute file path/m.test(e.message) && /^rpc\.sockett: unknown field/m.test(e.message));
});

test('the object directory: the repository\'s bpf/build in a checkout, the installed one otherwise', () => {
  const root = mkdtempSync(join(tmpdir(), 'loader-config-'));
  try {
    const module = pathToFileURL(join(root, 'apps', 'ebpf-loader', 'src', 'config.ts')).href;
    assert.equal(defaultObjectDir(module), INSTALLED_OBJECT_DIR);
    writeFileSync(join(root, 'package.json'), JSON.stringify({ name: 'netaccel' }));
    assert.equal(defaultObjectDir(module), INSTALLED_OBJECT_DIR, 'no bpf/build yet');
    mkdirSync(join(root, 'bpf', 'build'), { recursive: true });
    assert.equal(defaultObjectDir(module), join(root, 'bpf', 'build'));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
