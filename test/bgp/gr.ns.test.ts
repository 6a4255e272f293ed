/**
 * Graceful restart (RFC 4724) with the announcer as restarting speaker and BIRD as receiving
 * speaker: the announcer is killed and started again within the restart time; the router keeps
 * its route in the FIB the whole time (sampled every 50 ms), and the restarted announcer's OPEN
 * carries the R bit and forwarding-preserved families, followed by End-of-RIB.
 */
import assert from 'node:assert/strict';
import { afterAll, beforeAll, test } from 'vitest';
import type { LabProcess } from '@netaccel/netlab';
import { sleep, waitFor } from '@netaccel/netlab';
import type { Bird } from './bird.js';
import { birdEstablished, startBird } from './bird.js';
import type { LbName } from '@netaccel/labs';
import { LBS, ROUTER_AS, fibNextHops, lbAddr, routerAddr, routerStarLab, waitNextHops } from '@netaccel/labs';
import { announcerConfig, startAnnouncer } from '@netaccel/app-bgp-announcer/testing';

const lab = routerStarLab('bgp-gr');
let bird: Bird;
const procs = new Map<LbName, LabProcess>();
const files = new Map<LbName, string>();

beforeAll(async () => {
  await lab.up();
  bird = await startBird(lab, { gracefulRestart: true, ipv6: false });
  await Promise.all(
    LBS.map(async (lb) => {
      const c = announcerConfig(lab, lb, {
        peers: [{ address: routerAddr(lb), remoteAs: ROUTER_AS, families: ['ipv4-unicast'] }],
        announce: [{ prefix: '192.0.2.10/32' }],
        gracefulRestart: { enabled: true, restartTime: 30 },
      });
      files.set(lb, c.file);
      procs.set(lb, await startAnnouncer(lab, lb, c.file));
    }),
  );
  await waitFor(async () => ((await birdEstablished(bird)).length === 3 ? true : undefined), { timeoutMs: 20_000, intervalMs: 100, what: 'BIRD sessions established' });
  await waitNextHops(lab, 'router', '192.0.2.10', LBS.map((lb) => lbAddr(lb)));
});

afterAll(() => lab.down());

test('graceful restart: the route stays in the router FIB while the announcer restarts', async () => {
  const status = await bird.birdc('show', 'protocols', 'all', 'lb1');
  const neighborCaps = status.slice(status.indexOf('Neighbor capabilities'));
  assert.match(neighborCaps, /Graceful restart\s+Restart time: 30\s+Restart recovery\s+AF supported: ipv4\s+AF preserved: ipv4/, status);
  const samples: { at: number; hops: string[] }[] = [];
  let sampling = true;
  const t0 = performance.now();
  const sampler = (async () => {
    while (sampling) {
      samples.push({ at: performance.now() - t0, hops: await fibNextHops(lab, 'router', '192.0.2.10') });
      await sleep(50);
    }
  })();
  procs.get('lb1')!.kill('SIGKILL');
  await waitFor(async () => (/Established/.test(await bird.birdc('show', 'protocols', 'lb1')) ? undefined : true), { timeoutMs: 5000, intervalMs: 20, what: 'BIRD notices the restart' });
  const during = await bird.birdc('show', 'protocols', 'all', 'lb1');
  assert.match(during, /Neighbor graceful restart active/, during);
  assert.match(during, /Routes:\s+1 imported/, 'the stale route is kept');
  const restarted = await startAnnouncer(lab, 'lb1', files.get('lb1')!, 'lb1-restarted');
  await waitFor(async () => ((await birdEstablished(bird)).length === 3 ? true : undefined), { timeoutMs: 20_000, intervalMs: 50, what: 'lb1 established again' });
  await sleep(1000); // End-of-RIB received, stale routes flushed
  sampling = false;
  await sampler;
  const missing = samples.filter((s) => !s.hops.includes(lbAddr('lb1')));
  console.log(`# graceful restart: ${samples.length} FIB samples over ${(samples[samples.length - 1]!.at / 1000).toFixed(1)} s, lb1 missing in ${missing.length}`);
  assert.ok(samples.length >= 20, `sampled ${samples.length} times`);
  assert.deepEqual(missing, [], 'the route to lb1 stayed in the FIB');
  assert.deepEqual(await fibNextHops(lab, 'router', '192.0.2.10'), LBS.map((lb) => lbAddr(lb)));
  const again = await bird.birdc('show', 'protocols', 'all', 'lb1');
  assert.match(again.slice(again.indexOf('Neighbor capabilities')), /Restart recovery/, 'the R bit after the restart');
  const est = restarted.output().split('\n').find((l) => l.includes('"msg":"bgp session established"'));
  assert.ok(est !== undefined, 'the restarted announcer logged its session');
  const after = await bird.birdc('show', 'protocols', 'all', 'lb1');
  assert.doesNotMatch(after, /stale/i);
});
