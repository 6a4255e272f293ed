/**
 * The interop checks every upstream router gets (BIRD, FRR): three announcers (real daemon
 * processes) peer over IPv4 and IPv6; the router's kernel FIB gets one ECMP route with three
 * next hops per prefix; withdraw removes a next hop; 10,000 prefixes from a configuration
 * reload (SIGHUP) are accepted.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, test } from 'vitest';
import type { Lab, LabProcess } from '@netaccel/netlab';
import { waitFor } from '@netaccel/netlab';
import { announcerV1 } from '@netaccel/rpc';
import type { LbName } from '@netaccel/labs';
import { LBS, ROUTER_AS, countRoutes, lbAddr, prefixes, routerAddr, routerStarLab, waitNextHops } from '@netaccel/labs';
import { announcerClient, announcerConfig, startAnnouncer } from '@netaccel/app-bgp-announcer/testing';

export interface RouterDriver {
  /** Established sessions (of 6: three announcers, IPv4 and IPv6). */
  established(): Promise<number>;
  /** Communities of the router's route to `prefix` from `lb`, as "ASN:VALUE". */
  communities(prefix: string): Promise<string[]>;
  /** Routes of the router's best paths from one announcer's IPv4 session. */
  acceptedFrom(lb: LbName): Promise<number>;
  /** The `proto` of the routes the router installs in its FIB. */
  readonly fibProto: string;
}

export function routerSuite(name: string, start: (lab: Lab) => Promise<RouterDriver>): void {
  const lab = routerStarLab(`bgp-${name.toLowerCase()}`);
  let router: RouterDriver;
  const procs = new Map<LbName, LabProcess>();
  const files = new Map<LbName, ReturnType<typeof announcerConfig>>();
  const call = async <T>(lb: LbName, fn: (c: ReturnType<typeof announcerClient>) => Promise<T>): Promise<T> => {
    const c = announcerClient(files.get(lb)!.socket);
    try {
      return await fn(c);
    } finally {
      c.close();
    }
  };

  beforeAll(async () => {
    await lab.up();
    router = await start(lab);
    await Promise.all(
      LBS.map(async (lb) => {
        const c = announcerConfig(lab, lb, {
          peers: [
            { address: routerAddr(lb), remoteAs: ROUTER_AS, families: ['ipv4-unicast'] },
            { address: routerAddr(lb, 6), remoteAs: ROUTER_AS, families: ['ipv6-unicast'] },
          ],
          announce: [{ prefix: '192.0.2.10/32' }],
        });
        files.set(lb, c);
        procs.set(lb, await startAnnouncer(lab, lb, c.file));
      }),
    );
  });

  afterAll(() => lab.down());

  test(`${name}: every session reaches Established (IPv4 and IPv6)`, async () => {
    await waitFor(async () => ((await router.established()) === 6 ? true : undefined), { timeoutMs: 20_000, intervalMs: 100, what: `all ${name} sessions established` });
    const { peers } = await call('lb1', (c) => c.listPeers(announcerV1.ListPeersRequest.create()));
    assert.equal(peers.length, 2);
    for (const p of peers) {
      assert.equal(p.state, announcerV1.PeerState.PEER_STATE_ESTABLISHED);
      assert.equal(p.holdTimeSeconds, 3);
      assert.equal(p.asn, ROUTER_AS);
    }
  });

  test(`${name}: a static /32 and an API /24 become one ECMP route with three next hops`, async () => {
    await waitNextHops(lab, 'router', '192.0.2.10', LBS.map((lb) => lbAddr(lb)));
    for (const lb of LBS) {
      const r = await call(lb, (c) => c.announce(announcerV1.AnnounceRequest.create({ route: announcerV1.Route.create({ prefix: '198.51.100.0/24', communities: [{ asn: 65001, value: 7 }] }) })));
      assert.equal(r.peers, 1, 'sent to the IPv4 session');
    }
    await waitNextHops(lab, 'router', '198.51.100.0/24', LBS.map((lb) => lbAddr(lb)));
    assert.deepEqual(await router.communities('198.51.100.0/24'), ['65001:7']);
    const out = await call('lb1', (c) => c.listRoutes(announcerV1.ListRoutesRequest.create({ peer: routerAddr('lb1') })));
    assert.deepEqual(out.routes.map((r) => r.prefix).sort(), ['192.0.2.10/32', '198.51.100.0/24']);
    assert.equal(out.routes[0]!.nextHop, lbAddr('lb1'), 'next hop: the node itself');
  });

  test(`${name}: an IPv6 prefix over MP-BGP gets three IPv6 next hops`, async () => {
    for (const lb of LBS) await call(lb, (c) => c.announce(announcerV1.AnnounceRequest.create({ route: announcerV1.Route.create({ prefix: '2001:db8:10::/64' }) })));
    await waitNextHops(lab, 'router', '2001:db8:10::/64', LBS.map((lb) => lbAddr(lb, 6)), { family: 6 });
  });

  test(`${name}: a withdraw removes that next hop; withdrawing everywhere removes the route`, async () => {
    const r = await call('lb1', (c) => c.withdraw(announcerV1.WithdrawRequest.create({ prefix: '198.51.100.0/24' })));
    assert.deepEqual([r.wasAnnounced, r.peers], [true, 1]);
    await waitNextHops(lab, 'router', '198.51.100.0/24', [lbAddr('lb2'), lbAddr('lb3')]);
    const again = await call('lb1', (c) => c.withdraw(announcerV1.WithdrawRequest.create({ prefix: '198.51.100.0/24' })));
    assert.equal(again.wasAnnounced, false);
    for (const lb of ['lb2', 'lb3'] as const) {
      await call(lb, async (c) => {
        await c.withdraw(announcerV1.WithdrawRequest.create({ prefix: '198.51.100.0/24' }));
        await c.withdraw(announcerV1.WithdrawRequest.create({ prefix: '2001:db8:10::/64' }));
      });
    }
    await waitNextHops(lab, 'router', '198.51.100.0/24', []);
    await waitNextHops(lab, 'router', '2001:db8:10::/64', [lbAddr('lb1', 6)], { family: 6 });
  });

  test(`${name}: /metrics and /readyz of a running announcer`, async () => {
    const get = async (path: string): Promise<string> =>
      (await lab.exec('lb1', ['python3', '-c', `import urllib.request,sys;r=urllib.request.urlopen('http://127.0.0.1:9179${path}');print(r.status);sys.stdout.write(r.read().decode())`])).stdout;
    const metrics = await get('/metrics');
    assert.match(metrics, new RegExp(`netaccel_bgp_session_established\\{peer="${routerAddr('lb1')}"\\} 1`));
    assert.match(metrics, new RegExp(`netaccel_bgp_messages_total\\{peer="${routerAddr('lb1')}",direction="out",type="update"\\} [1-9]`));
    assert.match(metrics, /netaccel_bgp_session_flaps_total|netaccel_bgp_prefixes_sent/);
    assert.match(await get('/readyz'), /^200\n.*"status":"ready"/s);
  });

  test(`${name}: a bad configuration on SIGHUP is refused and nothing changes`, async () => {
    const c = files.get('lb2')!;
    const good = JSON.stringify(c.config);
    const bad = structuredClone(c.config) as { bgp: { holdTime: number } };
    bad.bgp.holdTime = 1;
    writeFileSync(c.file, JSON.stringify(bad));
    const proc = procs.get('lb2')!;
    proc.kill('SIGHUP');
    await waitFor(() => (proc.output().includes('"msg":"configuration reload refused; the running configuration stays"') ? true : undefined), { timeoutMs: 10_000, intervalMs: 50, what: 'the refusal in the log' });
    assert.match(proc.output(), /bgp.holdTime: expected 0 or 3..65535, got 1/);
    assert.equal(proc.exited, false);
    assert.equal(await router.established(), 6);
    await waitNextHops(lab, 'router', '192.0.2.10', LBS.map((lb) => lbAddr(lb)));
    writeFileSync(c.file, good);
  });

  test(`${name}: 10,000 prefixes from a configuration reload (SIGHUP) are accepted`, async () => {
    const lb = 'lb1';
    const c = files.get(lb)!;
    const cfg = structuredClone(c.config) as { bgp: { announce: { prefix: string }[] } };
    cfg.bgp.announce = [{ prefix: '192.0.2.10/32' }, ...prefixes(10_000).map((prefix) => ({ prefix }))];
    writeFileSync(c.file, JSON.stringify(cfg));
    const before = await countRoutes(lab, 'router', router.fibProto);
    const t0 = performance.now();
    procs.get(lb)!.kill('SIGHUP');
    await waitFor(async () => ((await countRoutes(lab, 'router', router.fibProto)) >= before + 10_000 ? true : undefined), {
      timeoutMs: 40_000,
      intervalMs: 250,
      what: `10,000 more ${name} routes in the FIB`,
    });
    const ms = performance.now() - t0;
    assert.equal(await router.acceptedFrom(lb), 10_001);
    console.log(`# ${name}: 10,000 prefixes reached the router's FIB in ${ms.toFixed(0)} ms`);
    assert.equal(await router.established(), 6, 'every session stayed up');
  });
}
