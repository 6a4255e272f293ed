/**
 * BPF layer: every fixture of fixtures.ts through BPF_PROG_TEST_RUN on xlb.bpf.o with the test
 * world installed: verdict, output bytes (and their checksums), then the drop-reason and
 * per-VIP / per-backend counters the run must have left.
 */
import { afterAll, beforeAll, describe, test } from 'vitest';
import assert from 'node:assert/strict';
import { assertPacketsEqual, verifyChecksums } from '@netaccel/protocol';
import { XLB_DROP } from './drop-reasons.js';
import { xlbFixtures } from './fixtures.js';
import type { XlbFixture } from './fixtures.js';
import { xlbWorld, worldEntries } from './test-world.js';
import { XlbObject, pinThreadToCpu } from './xlb-harness.js';

const world = xlbWorld();
const fixtures = xlbFixtures(world);

describe('xlb.bpf.o: fixtures', () => {
  let xlb: XlbObject;
  let unpin: () => void = () => {};
  const ran: XlbFixture[] = [];

  beforeAll(() => {
    unpin = pinThreadToCpu(0);
    xlb = XlbObject.load('balancer');
    xlb.install(worldEntries(world, xlb.maglevSize));
  });

  afterAll(() => {
    xlb?.close();
    unpin();
  });

  test('the object loads with the build-time sizes the fixtures assume', () => {
    assert.equal(xlb.prog.typeName, 'xdp');
    assert.ok(xlb.maglevSize >= 13, `maglev slot of ${xlb.maglevSize} entries`);
    assert.equal(xlb.map('conntrack').info().typeName, 'lru_hash');
  });

  for (const f of fixtures) {
    test(f.description, () => {
      const r = xlb.run(f.input);
      ran.push(f);
      assert.equal(r.verdict, f.expectedVerdict, f.description);
      assertPacketsEqual(r.data, f.expectedOutput, { checksums: false, udp6ZeroChecksum: true });
      if (f.checkChecksums) {
        const report = verifyChecksums(r.data);
        assert.ok(report.ok, `checksums: ${JSON.stringify(report.checks.filter((c) => c.status === 'bad'))}`);
        assert.ok(report.checks.some((c) => c.status === 'ok'), 'the output has checksums to verify');
      }
    });
  }

  test('drop_stats counts exactly the fixtures with a reason, by reason', () => {
    assert.equal(ran.length, fixtures.length, 'every fixture ran');
    const expected = new Map<number, { packets: bigint; bytes: bigint }>();
    for (const f of fixtures) {
      if (f.expectedReason === undefined) continue;
      const v = XLB_DROP[f.expectedReason];
      const c = expected.get(v) ?? { packets: 0n, bytes: 0n };
      c.packets += 1n;
      c.bytes += BigInt(f.input.length);
      expected.set(v, c);
    }
    for (const [reason, counter] of xlb.drops()) {
      assert.deepEqual(counter, expected.get(reason) ?? { packets: 0n, bytes: 0n }, `reason ${reason}`);
    }
  });

  test('vip_stats and backend_stats count every forwarded packet and new flow', () => {
    const tx = fixtures.filter((f) => f.expectedVerdict === 'TX');
    let packets = 0n;
    let bytes = 0n;
    for (const v of world.vips) {
      const s = xlb.stats('vip_stats', v.meta.vipIndex);
      packets += s.packets;
      bytes += s.bytes;
      assert.ok(s.newFlows <= s.packets, `${v.name}: new flows ${s.newFlows} <= packets ${s.packets}`);
      assert.equal(s.replyPackets, 0n, `${v.name}: no NAT replies yet`);
    }
    assert.equal(packets, BigInt(tx.length));
    assert.equal(bytes, tx.reduce((a, f) => a + BigInt(f.input.length), 0n));
    let bePackets = 0n;
    for (const b of world.backends) bePackets += xlb.stats('backend_stats', b.index).packets;
    assert.equal(bePackets, BigInt(tx.length));
    // ICMP errors belong to flows but create none.
    let newFlows = 0n;
    for (const v of world.vips) newFlows += xlb.stats('vip_stats', v.meta.vipIndex).newFlows;
    assert.equal(newFlows, BigInt(fixtures.filter((f) => f.createsFlow).length));
    assert.ok(fixtures.some((f) => f.expectedVerdict === 'TX' && !f.createsFlow), 'some forwarded fixtures are ICMP errors');
  });

  test('a fixture run again gives the same output (it hits its own connection entry)', () => {
    for (const f of fixtures.filter((x) => x.expectedVerdict === 'TX')) {
      const r = xlb.run(f.input);
      assert.equal(r.verdict, 'TX', f.description);
      assertPacketsEqual(r.data, f.expectedOutput, { checksums: false, udp6ZeroChecksum: true, message: f.description });
    }
  });
});
