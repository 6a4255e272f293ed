/** The routing daemons' configurations, parsed by the daemons themselves (bird -p, gobgpd --dry-run). */
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { birdReflectorClientConfig, gobgpReflectorConfig } from './routers.js';

function parses(cmd: string, args: (file: string) => string[], text: string): { code: number | null; out: string } {
  const dir = mkdtempSync(join(tmpdir(), 'routers-'));
  try {
    const file = join(dir, 'conf');
    writeFileSync(file, text);
    const r = spawnSync(cmd, args(file), { encoding: 'utf8', timeout: 20_000, env: { ...process.env, PATH: `${process.env.PATH ?? ''}:/usr/sbin` } });
    return { code: r.status, out: `${r.stdout}${r.stderr}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('BIRD accepts the reflector client configuration, and rejects a broken one', () => {
  const conf = birdReflectorClientConfig({ as: 65000, local: '10.0.0.1', reflector: '10.0.0.2', holdTime: 6 });
  assert.match(conf, /merge paths on;/);
  assert.match(conf, /add paths rx;/);
  assert.match(conf, /hold time 6;/);
  const ok = parses('bird', (f) => ['-p', '-c', f], conf);
  assert.equal(ok.code, 0, ok.out);
  assert.notEqual(parses('bird', (f) => ['-p', '-c', f], conf.replace('merge paths on;', 'merge paths sometimes;')).code, 0);
});

test('gobgpd accepts the reflector configuration with one dynamic-neighbor block per prefix', () => {
  const conf = gobgpReflectorConfig({ as: 65000, routerId: '10.0.0.2', localAddress: '10.0.0.2', router: { address: '10.0.0.1', description: 'upstream' }, clientPrefixes: ['10.0.1.0/24', '10.0.2.0/24'], peerGroup: 'lbs' });
  assert.equal(conf.match(/\[\[dynamic-neighbors\]\]/g)?.length, 2);
  assert.match(conf, /peer-group = "lbs"/);
  assert.match(conf, /send-max = 8/);
  const ok = parses('gobgpd', (f) => ['--dry-run', '-t', 'toml', '-f', f], conf);
  assert.equal(ok.code, 0, ok.out);
  assert.notEqual(parses('gobgpd', (f) => ['--dry-run', '-t', 'toml', '-f', f], conf.replace('as = 65000', 'as = "x"')).code, 0);
});
