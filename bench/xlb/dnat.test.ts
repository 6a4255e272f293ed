import { test } from 'vitest';
import assert from 'node:assert/strict';
import { dnatRules } from './dnat.js';

test('DNAT rules: kube-proxy style, even random split over the backends', () => {
  assert.equal(
    dnatRules('udp', 9),
    [
      '*nat',
      ':PREROUTING ACCEPT [0:0]',
      ':XLB-SVC - [0:0]',
      '-A PREROUTING -d 10.100.0.5/32 -p udp -m udp --dport 9 -j XLB-SVC',
      '-A XLB-SVC -p udp -m statistic --mode random --probability 0.50000 -j DNAT --to-destination 10.10.0.11:9',
      '-A XLB-SVC -p udp -j DNAT --to-destination 10.10.0.12:9',
      'COMMIT',
      '',
    ].join('\n'),
  );
  assert.match(dnatRules('tcp', 80), /-A PREROUTING -d 10\.100\.0\.5\/32 -p tcp -m tcp --dport 80 -j XLB-SVC/);
});
