import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { parseConfig } from '@netaccel/config';
import type { AnnouncerService, RpcClient } from '@netaccel/rpc';
import { AnnouncerClient, announcerV1, createRpcClient } from '@netaccel/rpc';
import { createLogCapture, createLogger } from '@netaccel/telemetry';
import { bgpAnnouncerConfig } from './config.js';
import { Daemon } from './daemon.js';

const dir = mkdtempSync(join(tmpdir(), 'bgpd-test-'));
const socket = join(dir, 'announcer.sock');

function config() {
  return parseConfig(bgpAnnouncerConfig, {
    env: {},
    yaml: `
bgp:
  localAs: 65001
  routerId: 192.0.2.1
  listen: ['127.0.0.1:0']
  peers:
    - { address: 127.0.0.2, remoteAs: 65000, port: 1, passive: true, description: test peer, families: [ipv4-unicast] }
  announce:
    - { prefix: 192.0.2.10/32, communities: ['65001:1'] }
telemetry: { listen: '127.0.0.1:0' }
grpc: { socket: ${socket} }
`,
  });
}

describe('daemon: telemetry, the Announcer service and reconfiguration (loopback only)', () => {
  const capture = createLogCapture();
  let daemon: Daemon;
  let client: RpcClient<typeof AnnouncerService>;

  beforeAll(async () => {
    daemon = await Daemon.start(config(), { log: createLogger({ name: 'test', level: 'debug', destination: capture.stream }) });
    client = createRpcClient(AnnouncerClient, { address: socket });
  });

  afterAll(async () => {
    client.close();
    await daemon.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('/healthz, /readyz (config loaded, gRPC serving), /metrics, /v1/status', async () => {
    const app = daemon.telemetryServer!.app;
    assert.equal((await app.inject({ url: '/healthz' })).statusCode, 200);
    const ready = await app.inject({ url: '/readyz' });
    assert.equal(ready.statusCode, 200, ready.body);
    assert.deepEqual((JSON.parse(ready.body) as { checks: { name: string }[] }).checks.map((c) => c.name).sort(), ['config', 'grpc']);
    const metrics = (await app.inject({ url: '/metrics' })).body;
    assert.match(metrics, /netaccel_bgp_session_state\{peer="127.0.0.2"\} 3/, 'Active (passive peer)');
    assert.match(metrics, /netaccel_bgp_routes_announced 1/);
    assert.match(metrics, /# TYPE netaccel_bgp_messages_total counter/);
    const status = JSON.parse((await app.inject({ url: '/v1/status' })).body) as { localAs: number; routes: number; peers: { address: string; state: string }[] };
    assert.equal(status.localAs, 65001);
    assert.equal(status.routes, 1);
    assert.deepEqual(status.peers.map((p) => [p.address, p.state]), [['127.0.0.2', 'active']]);
  });

  test('Announce, ListRoutes, Withdraw, ListPeers over gRPC', async () => {
    const r = await client.announce(announcerV1.AnnounceRequest.create({ route: announcerV1.Route.create({ prefix: '198.51.100.0/24', med: 10, largeCommunities: [{ globalAdmin: 65001, localData1: 1, localData2: 2 }] }) }));
    assert.equal(r.peers, 0, 'no established peer yet');
    const { routes } = await client.listRoutes(announcerV1.ListRoutesRequest.create());
    assert.deepEqual(routes.map((x) => [x.prefix, x.med, x.communities.length, x.largeCommunities.length]).sort(), [
      ['192.0.2.10/32', undefined, 1, 0],
      ['198.51.100.0/24', 10, 0, 1],
    ]);
    assert.deepEqual(await client.withdraw(announcerV1.WithdrawRequest.create({ prefix: '198.51.100.0/24' })), { wasAnnounced: true, peers: 0 });
    const api = capture.records().filter((r) => r.component === 'api').map((r) => [r.msg, r.prefix, r.peers]);
    assert.deepEqual(api, [['route announced', '198.51.100.0/24', 0], ['route withdrawn', '198.51.100.0/24', 0]], 'each change through the API is logged once');
    await assert.rejects(client.announce(announcerV1.AnnounceRequest.create({ route: announcerV1.Route.create({ prefix: '198.51.100.1/24' }) })), { code: 'NA_ERR_BGPD_INVALID_ROUTE' });
    await assert.rejects(client.announce(announcerV1.AnnounceRequest.create({ route: announcerV1.Route.create({ prefix: '2001:db8::/64' }) })), { code: 'NA_ERR_BGPD_NO_PEER_FOR_FAMILY' });
    await assert.rejects(client.listRoutes(announcerV1.ListRoutesRequest.create({ peer: '10.9.9.9' })), { code: 'NA_ERR_BGPD_PEER_NOT_FOUND' });
    const { peers } = await client.listPeers(announcerV1.ListPeersRequest.create());
    assert.equal(peers.length, 1);
    assert.equal(peers[0]!.state, announcerV1.PeerState.PEER_STATE_ACTIVE);
    assert.equal(peers[0]!.description, 'test peer');
  });

  test('WatchPeers: the initial state, then changes as they happen', async () => {
    const ac = new AbortController();
    const events: announcerV1.PeerEvent[] = [];
    const watching = (async () => {
      try {
        for await (const e of client.watchPeers(announcerV1.WatchPeersRequest.create({ initial: true }), { signal: ac.signal })) {
          events.push(e);
          if (events.length === 1) daemon.reconfigure(withPeer());
          if (events.some((x) => x.peer?.address === '127.0.0.3' && x.peer.state === announcerV1.PeerState.PEER_STATE_ACTIVE)) break;
        }
      } catch {
        // cancelled
      }
    })();
    await watching;
    ac.abort();
    assert.equal(events[0]!.reason, 'initial');
    assert.equal(events[0]!.previousState, announcerV1.PeerState.PEER_STATE_UNSPECIFIED);
    const added = events.find((e) => e.peer?.address === '127.0.0.3')!;
    assert.equal(added.previousState, announcerV1.PeerState.PEER_STATE_IDLE);
  });

  test('reconfigure: peers removed and routes replaced; unchanged peers keep their FSM', async () => {
    const before = daemon.speaker.peers.get('127.0.0.2')!.peer;
    daemon.reconfigure(withRoutes());
    assert.equal(daemon.speaker.peers.size, 1);
    assert.equal(daemon.speaker.peers.get('127.0.0.2')!.peer, before, 'the unchanged peer was not restarted');
    assert.deepEqual(daemon.speaker.routes().map((r) => r.prefix), ['203.0.113.0/24']);
    const metrics = (await daemon.telemetryServer!.app.inject({ url: '/metrics' })).body;
    assert.match(metrics, /netaccel_config_reloads_total\{result="ok"\} 2/);
  });
});

function withPeer() {
  const c = config();
  return { ...c, bgp: { ...c.bgp, peers: [...c.bgp.peers, { ...c.bgp.peers[0]!, address: '127.0.0.3', description: 'added' }] } };
}

function withRoutes() {
  const c = config();
  return { ...c, bgp: { ...c.bgp, announce: [{ prefix: '203.0.113.0/24', communities: [], largeCommunities: [] }] } };
}
