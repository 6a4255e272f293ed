import { test } from 'vitest';
import assert from 'node:assert/strict';
import { XLB_BUILD_DEFAULTS } from '@netaccel/bpf-programs/xlb';
import { XLB_BENCH_VIP as VIP } from '@netaccel/labs';
import { FLOOD_PORT, HTTP_PORT, TABLE_SIZE, XDP_MODES, benchVips, vipIndex } from './xlb-setup.js';

test('one TCP (HTTP) and one UDP (flood) VIP per mode, on the mode\'s address, indexes distinct', () => {
  const vips = benchVips();
  assert.equal(vips.length, XDP_MODES.length * 2);
  assert.equal(new Set(vips.map((v) => v.meta.vipIndex)).size, vips.length);
  for (const mode of XDP_MODES) {
    for (const [protocol, port] of [['tcp', HTTP_PORT], ['udp', FLOOD_PORT]] as const) {
      const v = vips.find((x) => x.meta.mode === mode && x.key.protocol === protocol);
      assert.ok(v, `${mode}/${protocol}`);
      assert.deepEqual(v.key, { address: VIP[mode], port, protocol });
      assert.equal(v.meta.vipIndex, vipIndex(mode, protocol));
      assert.ok(v.meta.vipIndex < XLB_BUILD_DEFAULTS.XLB_MAX_VIPS);
    }
  }
});

test('tables: a prime size, both backends in turn', () => {
  const isPrime = (n: number) => n > 1 && Array.from({ length: Math.floor(Math.sqrt(n)) - 1 }, (_, i) => i + 2).every((d) => n % d !== 0);
  assert.ok(isPrime(TABLE_SIZE) && TABLE_SIZE <= XLB_BUILD_DEFAULTS.XLB_MAGLEV_SIZE);
  for (const v of benchVips()) {
    assert.equal(v.table.length, TABLE_SIZE);
    assert.equal(v.meta.tableSize, TABLE_SIZE);
    assert.deepEqual(v.table.slice(0, 4), [0, 1, 0, 1]);
  }
});
