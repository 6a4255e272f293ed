/**
 * The thesis' setup: announcers → GoBGP route reflector (dynamic neighbors, add-path) → BIRD on
 * the router. With add-path the router learns every announcer's path through the one iBGP
 * session and installs an ECMP route with three next hops.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, test } from 'vitest';
import type { LabProcess } from '@netaccel/netlab';
import { waitFor } from '@netaccel/netlab';
import { announcerV1 } from '@netaccel/rpc';
import { RR_ADDR, birdRrConfig, startGobgp } from './gobgp.js';
import type { LbName } from '@netaccel/labs';
import { LBS, RR_AS, lbAddr, routerStarLab, waitNextHops } from '@netaccel/labs';
import { announcerClient, announcerConfig, startAnnouncer } from '@netaccel/app-bgp-announcer/testing';

const lab = routerStarLab('bgp-gobgp', { rr: true });
let rr: Awaited<ReturnType<typeof startGobgp>>;
const sockets = new Map<LbName, string>();
const procs = new Map<LbName, LabProcess>();
let birdc: (...args: string[]) => Promise<string>;

beforeAll(async () => {
  await lab.up();
  rr = await startGobgp(lab);
  const conf = join(lab.logDir, 'bird.conf');
  const ctl = join(lab.logDir, 'bird.ctl');
  writeFileSync(conf, birdRrConfig());
  await lab.spawn('router', ['bird', '-f', '-c', conf, '-s', ctl], { name: 'bird', ready: { file: ctl } });
  birdc = async (...args) => (await lab.exec('router', ['birdc', '-s', ctl, ...args])).stdout;
  await Promise.all(
    LBS.map(async (lb) => {
      const c = announcerConfig(lab, lb, {
        localAs: RR_AS,
        peers: [{ address: RR_ADDR, remoteAs: RR_AS, addPath: true, families: ['ipv4-unicast'] }],
        announce: [{ prefix: '192.0.2.10/32' }],
      });
      sockets.set(lb, c.socket);
      procs.set(lb, await startAnnouncer(lab, lb, c.file));
    }),
  );
});

afterAll(() => lab.down());

test('GoBGP RR: the announcers come up as dynamic neighbors, the router as a static one', async () => {
  await waitFor(
    async () => {
      const n = await rr.neighbors();
      const up = n.filter((x) => /established|6/i.test(x.state)).map((x) => x.address).sort();
      return JSON.stringify(up) === JSON.stringify(['10.1.1.2', '10.1.2.2', '10.1.3.2', '10.1.9.1']) ? true : undefined;
    },
    { timeoutMs: 25_000, intervalMs: 200, what: 'four established GoBGP neighbors' },
  );
  const c = announcerClient(sockets.get('lb1')!);
  try {
    const { peers } = await c.listPeers(announcerV1.ListPeersRequest.create());
    assert.equal(peers[0]!.state, announcerV1.PeerState.PEER_STATE_ESTABLISHED);
    assert.equal(peers[0]!.localAsn, RR_AS, 'iBGP');
  } finally {
    c.close();
  }
  for (const lb of LBS) {
    const est = procs.get(lb)!.output().split('\n').filter((l) => l.includes('"msg":"bgp session established"'));
    assert.ok(est.length > 0);
    assert.deepEqual((JSON.parse(est[est.length - 1]!) as { addPath: string[] }).addPath, ['ipv4-unicast'], 'add-path send negotiated with the reflector');
  }
});

test('GoBGP RR: with add-path the router gets all three paths as one ECMP route', async () => {
  await waitNextHops(lab, 'router', '192.0.2.10', LBS.map((lb) => lbAddr(lb)), { timeoutMs: 20_000 });
  const routes = await birdc('show', 'route', '192.0.2.10/32', 'all');
  assert.equal([...routes.matchAll(/\[reflector [^\]]* from 10\.1\.9\.2\]/g)].length, 3, `three paths through one session (add-path):\n${routes}`);
  assert.deepEqual([...routes.matchAll(/BGP\.next_hop: (\S+)/g)].map((m) => m[1]).sort(), LBS.map((lb) => lbAddr(lb)));
  assert.match(routes, /BGP\.local_pref:\s+100/);
});

test('GoBGP RR: a withdraw through the reflector removes only that next hop', async () => {
  const c = announcerClient(sockets.get('lb2')!);
  try {
    assert.equal((await c.withdraw(announcerV1.WithdrawRequest.create({ prefix: '192.0.2.10/32' }))).wasAnnounced, true);
  } finally {
    c.close();
  }
  await waitNextHops(lab, 'router', '192.0.2.10', [lbAddr('lb1'), lbAddr('lb3')]);
  const c2 = announcerClient(sockets.get('lb2')!);
  try {
    await c2.announce(announcerV1.AnnounceRequest.create({ route: announcerV1.Route.create({ prefix: '192.0.2.10/32' }) }));
  } finally {
    c2.close();
  }
  await waitNextHops(lab, 'router', '192.0.2.10', LBS.map((lb) => lbAddr(lb)));
});
