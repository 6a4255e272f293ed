/**
 * BFD (RFC 5880 / 5881) against BIRD's `protocol bfd` and FRR's bfdd: the sessions come up on
 * both sides. A node failure (the announcer killed with -9 while its node's kernel is silenced by
 * nftables, so no FIN reaches the router) takes its next hop out of the router's FIB within 1 s:
 * 100 ms x 3 detection, where the BGP hold time (3 s) could not. A plain kill -9 is seen even
 * sooner, because the kernel closes the TCP connection.
 */
import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, test } from 'vitest';
import type { Lab, LabProcess } from '@netaccel/netlab';
import { waitFor } from '@netaccel/netlab';
import { announcerV1 } from '@netaccel/rpc';
import { birdEstablished, startBird } from './bird.js';
import { frrEstablished, startFrr } from './frr.js';
import type { LbName } from '@netaccel/labs';
import { LBS, ROUTER_AS, fibNextHops, lbAddr, nodeFailure, routerAddr, routerStarLab, timeUntilGone, waitNextHops } from '@netaccel/labs';
import { announcerClient, announcerConfig, startAnnouncer } from '@netaccel/app-bgp-announcer/testing';

const BFD = { intervalMs: 100, multiplier: 3 };

interface Router {
  established(): Promise<number>;
  bfdUp(): Promise<number>;
}

function bfdSuite(name: string, start: (lab: Lab) => Promise<Router>): void {
  describe(`BFD with ${name}`, () => {
    const lab = routerStarLab(`bfd-${name.toLowerCase()}`);
    let router: Router;
    const procs = new Map<LbName, LabProcess>();
    const sockets = new Map<LbName, string>();

    beforeAll(async () => {
      await lab.up();
      router = await start(lab);
      await Promise.all(
        LBS.map(async (lb) => {
          const bfd = { minTx: `${BFD.intervalMs}ms`, minRx: `${BFD.intervalMs}ms`, multiplier: BFD.multiplier };
          const c = announcerConfig(lab, lb, {
            peers: [
              { address: routerAddr(lb), remoteAs: ROUTER_AS, families: ['ipv4-unicast'], bfd },
              { address: routerAddr(lb, 6), remoteAs: ROUTER_AS, families: ['ipv6-unicast'], bfd },
            ],
            announce: [{ prefix: '192.0.2.10/32' }],
          });
          sockets.set(lb, c.socket);
          procs.set(lb, await startAnnouncer(lab, lb, c.file));
        }),
      );
    });

    afterAll(() => lab.down());

    test(`${name}: BGP established and BFD up on both sides`, async () => {
      await waitFor(async () => ((await router.established()) === 6 ? true : undefined), { timeoutMs: 20_000, intervalMs: 100, what: 'BGP sessions established' });
      await waitFor(async () => ((await router.bfdUp()) === 6 ? true : undefined), { timeoutMs: 20_000, intervalMs: 100, what: `six BFD sessions up on ${name}` });
      const c = announcerClient(sockets.get('lb1')!);
      try {
        await waitFor(
          async () => {
            const { peers } = await c.listPeers(announcerV1.ListPeersRequest.create());
            return peers.every((p) => p.bfdState === announcerV1.BfdState.BFD_STATE_UP) ? true : undefined;
          },
          { timeoutMs: 10_000, intervalMs: 100, what: 'BFD up on the announcer' },
        );
      } finally {
        c.close();
      }
      await waitNextHops(lab, 'router', '192.0.2.10', LBS.map((lb) => lbAddr(lb)));
    });

    test(`${name}: a node failure (kill -9, its kernel silenced: no FIN) removes its next hop within 1 s`, async () => {
      const t0 = await nodeFailure(lab, 'lb2', procs.get('lb2')!);
      const ms = await timeUntilGone(lab, '192.0.2.10', lbAddr('lb2'), t0);
      console.log(`# ${name}: node failure: next hop gone ${ms.toFixed(0)} ms after kill -9 (BFD ${BFD.intervalMs} ms x ${BFD.multiplier}; hold time 3 s)`);
      assert.ok(ms < 1000, `took ${ms.toFixed(0)} ms`);
      assert.deepEqual(await fibNextHops(lab, 'router', '192.0.2.10'), [lbAddr('lb1'), lbAddr('lb3')]);
    });

    test(`${name}: kill -9 of an announcer process removes its next hop within 1 s`, async () => {
      const t0 = performance.now();
      procs.get('lb3')!.kill('SIGKILL');
      const ms = await timeUntilGone(lab, '192.0.2.10', lbAddr('lb3'), t0);
      console.log(`# ${name}: process kill: next hop gone ${ms.toFixed(0)} ms after kill -9 (the kernel closed the TCP connection)`);
      assert.ok(ms < 1000, `took ${ms.toFixed(0)} ms`);
      assert.deepEqual(await fibNextHops(lab, 'router', '192.0.2.10'), [lbAddr('lb1')]);
    });
  });
}

bfdSuite('BIRD', async (lab) => {
  const bird = await startBird(lab, { bfd: BFD });
  return {
    established: async () => (await birdEstablished(bird)).length,
    bfdUp: async () => (await bird.birdc('show', 'bfd', 'sessions')).split('\n').filter((l) => /\bUp\b/.test(l)).length,
  };
});

bfdSuite('FRR', async (lab) => {
  const frr = await startFrr(lab, { bfd: BFD });
  return {
    established: () => frrEstablished(frr),
    bfdUp: async () => (await frr.json<{ status: string }[]>('show bfd peers json')).filter((p) => p.status === 'up').length,
  };
});
