/**
 * TCP MD5 signatures (RFC 2385) against BIRD's `password`: the announcer sets TCP_MD5SIG on the
 * socket it dials before the SYN (lb1; BIRD only listens) and on its listening socket (lb3, passive); a
 * peer without the key (lb2) never gets a session.
 */
import assert from 'node:assert/strict';
import { afterAll, beforeAll, test } from 'vitest';
import { sleep, waitFor } from '@netaccel/netlab';
import { announcerV1 } from '@netaccel/rpc';
import type { Bird } from './bird.js';
import { birdEstablished, startBird } from './bird.js';
import { LBS, ROUTER_AS, lbAddr, routerAddr, routerStarLab, waitNextHops } from '@netaccel/labs';
import { announcerClient, announcerConfig, startAnnouncer } from '@netaccel/app-bgp-announcer/testing';

const lab = routerStarLab('bgp-md5');
let bird: Bird;
const sockets = new Map<string, string>();

beforeAll(async () => {
  await lab.up();
  bird = await startBird(lab, { ipv6: false, passwords: { lb1: 'k3y-one', lb2: 'k3y-two', lb3: 'k3y-three' }, passive: ['lb1'] });
  const peer = {
    lb1: { password: 'k3y-one' },
    lb2: {}, // no key: the router drops its segments
    lb3: { password: 'k3y-three', passive: true },
  } as const;
  await Promise.all(
    LBS.map(async (lb) => {
      const c = announcerConfig(lab, lb, {
        peers: [{ address: routerAddr(lb), remoteAs: ROUTER_AS, families: ['ipv4-unicast'], ...peer[lb] }],
        announce: [{ prefix: '192.0.2.10/32' }],
      });
      sockets.set(lb, c.socket);
      await startAnnouncer(lab, lb, c.file);
    }),
  );
});

afterAll(() => lab.down());

test('MD5: sessions with the key come up, dialled (lb1) and accepted (lb3); the route has their next hops', async () => {
  await waitFor(async () => (JSON.stringify(await birdEstablished(bird)) === '["lb1","lb3"]' ? true : undefined), { timeoutMs: 20_000, intervalMs: 100, what: 'lb1 and lb3 established' });
  await waitNextHops(lab, 'router', '192.0.2.10', [lbAddr('lb1'), lbAddr('lb3')]);
  const c = announcerClient(sockets.get('lb3')!);
  try {
    const { peers } = await c.listPeers(announcerV1.ListPeersRequest.create());
    assert.equal(peers[0]!.state, announcerV1.PeerState.PEER_STATE_ESTABLISHED);
  } finally {
    c.close();
  }
});

test('MD5: without the key (lb2) there is no session', async () => {
  await sleep(3000);
  assert.deepEqual(await birdEstablished(bird), ['lb1', 'lb3']);
  const c = announcerClient(sockets.get('lb2')!);
  try {
    const { peers } = await c.listPeers(announcerV1.ListPeersRequest.create());
    assert.notEqual(peers[0]!.state, announcerV1.PeerState.PEER_STATE_ESTABLISHED);
  } finally {
    c.close();
  }
});
