import { test } from 'vitest';
import assert from 'node:assert/strict';
import { balancerAccount, chainAccount } from './rate-account.js';
import type { AccountRun } from './rate-account.js';

const machine = { user: 0.2, system: 1.1, softirq: 0.5, irq: 0, idle: 0.9, steal: 0.3 };

function run(packets: number, chainNs: number, balancerProgNs: number): AccountRun {
  return {
    cpus: 2,
    packets,
    seconds: 1.5,
    generatorCpuNs: packets * chainNs * 0.9,
    softirqdNs: packets * chainNs * 0.1,
    progNs: { generator: packets * 20, switch: packets * 60, balancer: packets * balancerProgNs, sinks: packets * 30 },
    machine,
  };
}

test('a chain\'s CPU per packet, split into its programs and the kernel around them', () => {
  const c = chainAccount(run(1_000_000, 1200, 150));
  assert.ok(Math.abs(c.chainNs - 1200) < 1e-9);
  assert.deepEqual([c.generatorProgNs, c.switchProgNs, c.balancerProgNs, c.sinksProgNs], [20, 60, 150, 30]);
  assert.ok(Math.abs(c.kernelNs - (1200 - 260)) < 1e-9, 'the kernel is what the programs do not account for');
  assert.ok(Math.abs(c.chainCpus - 1.2e-3 * 1e6 / 1e3 / 1.5) < 1e-9, 'chain CPU-s per wall second');
  const total = 3.0;
  assert.ok(Math.abs(c.machineBusy - (total - 0.9) / total) < 1e-9);
  assert.ok(Math.abs(c.machineSoftirq - 0.5 / total) < 1e-9);
  assert.ok(Math.abs(c.otherCpus - (((total - 0.9) / total) * 2 - c.chainCpus)) < 1e-9);
  assert.throws(() => chainAccount({ ...run(1, 1, 1), packets: 0 }), /0 packets/);
});

test('the balancer\'s part: the chain minus the rig measured with xdp-bounce', () => {
  const bounce = chainAccount(run(2_000_000, 1000, 40));
  const xlb = chainAccount(run(1_000_000, 1150, 110));
  const dnat = chainAccount(run(500_000, 3600, 25));
  const rx = balancerAccount(xlb, bounce);
  const rd = balancerAccount(dnat, bounce);
  assert.ok(Math.abs(rx.rigNs - 960) < 1e-9 && Math.abs(rd.rigNs - 960) < 1e-9);
  assert.ok(Math.abs(rx.balancerNs - 190) < 1e-9);
  assert.ok(Math.abs(rd.balancerNs - 2640) < 1e-9);
  assert.ok(Math.abs(rx.packetsPerBalancerCpuS - 1e9 / 190) < 1e-6);
  assert.ok(Math.abs(rx.balancerShare - 190 / 1150) < 1e-12);
  // the balancers differ ~14x; the chains only (960 + 2640) / (960 + 190) ~ 3.1x
  assert.ok(rd.balancerNs / rx.balancerNs > 13);
  assert.ok(Math.abs(dnat.chainNs / xlb.chainNs - (rx.rigNs + rd.balancerNs) / (rx.rigNs + rx.balancerNs)) < 1e-12);
  // a rig figure noisier than the balancer: never below the balancer's own program
  assert.equal(balancerAccount(chainAccount(run(1_000_000, 900, 110)), bounce).balancerNs, 110);
});
