import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { ConfigStore, parseConfig } from '@netaccel/config';
import { DaemonHost } from '@netaccel/daemon';
import type { AnnouncerService, RpcClient } from '@netaccel/rpc';
import { AnnouncerClient, announcerV1, createRpcClient } from '@netaccel/rpc';
import { PROM_CLIENT_LINT_EXCEPTIONS, createLogCapture, createLogger, lintExposition, parseExposition } from '@netaccel/telemetry';
import { bgpAnnouncerConfig } from './config.js';
import { Announcer, VERSION } from './daemon.js';

const dir = mkdtempSync(join(tmpdir(), 'bgpd-test-'));
const socket = join(dir, 'announcer.sock');
const file = join(dir, 'bgp-announcer.yaml');

const YAML = `
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
`;

function config() {
  return parseConfig(bgpAnnouncerConfig, { env: {}, yaml: YAML });
}

describe('daemon: telemetry, the Announcer service and reconfiguration (loopback only)', () => {
  const capture = createLogCapture();
  let host: DaemonHost<typeof bgpAnnouncerConfig>;
  let daemon: Announcer;
  let client: RpcClient<typeof AnnouncerService>;

  beforeAll(async () => {
    writeFileSync(file, YAML);
    const store = await ConfigStore.open(bgpAnnouncerConfig, { file, env: {} });
    const log = createLogger({ name: 'test', level: 'debug', destination: capture.stream });
    host = new DaemonHost({ name: 'bgp-announcer', version: VERSION, store, log, env: {} });
    daemon = await host.start((h) => Announcer.start(h));
    client = createRpcClient(AnnouncerClient, { address: socket });
  });

  afterAll(async () => {
    client.close();
    await host.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('/healthz, /readyz (config loaded, gRPC serving), /metrics, /v1/status', async () => {
    const app = daemon.telemetryServer!.app;
    assert.equal((await app.inject({ url: '/healthz' })).statusCode, 200);
    const ready = await app.inject({ url: '/readyz' });
    assert.equal(ready.statusCode, 200, ready.body);
    assert.deepEqual((JSON.parse(ready.body) as { checks: { name: string }[] }).checks.map((c) => c.name).sort(), ['config', 'grpc']);
    const metrics = (await app.inject({ url: '/metrics' })).body;
    assert.match(metrics, /netaccel_bgp_session_state\{peer="127.0.0.2",state="active"\} 1/, 'Active (passive peer)');
    assert.match(metrics, /netaccel_bgp_session_state\{peer="127.0.0.2",state="established"\} 0/);
    assert.match(metrics, /netaccel_config_reloads_total\{result="ok"\} 0/, 'the outcomes are there before the first reload');
    assert.match(metrics, new RegExp(`netaccel_build_info\\{app="bgp-announcer",version="${VERSION.replaceAll('.', '\\.')}"`));
    // the exposition as Prometheus reads it, and promtool's lint rules
    assert.deepEqual(lintExposition(parseExposition(metrics), { except: PROM_CLIENT_LINT_EXCEPTIONS }), []);
    assert.match(metrics, /netaccel_bgp_routes_announced 1/);
    assert.match(metrics, /# TYPE netaccel_bgp_messages_total counter/);
    const status = JSON.parse((await app.inject({ url: '/v1/status' })).body) as { app: string; version: string; localAs: number; routes: number; peers: { address: string; state: string }[] };
    assert.equal(status.app, 'bgp-announcer');
    assert.equal(status.version, VERSION);
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

  test('reload (SIGHUP): peers removed and routes replaced; unchanged peers keep their FSM', async () => {
    const before = daemon.speaker.peers.get('127.0.0.2')!.peer;
    writeFileSync(file, YAML.replace("- { prefix: 192.0.2.10/32, communities: ['65001:1'] }", '- { prefix: 203.0.113.0/24 }'));
    const outcome = await host.reload();
    assert.deepEqual(outcome, { accepted: true, changed: ['bgp.announce[0].prefix', 'bgp.announce[0].communities[0]'] });
    assert.equal(daemon.speaker.peers.size, 1, 'the peer added by hand is gone: the file has one');
    assert.equal(daemon.speaker.peers.get('127.0.0.2')!.peer, before, 'the unchanged peer was not restarted');
    assert.deepEqual(daemon.speaker.routes().map((r) => r.prefix), ['203.0.113.0/24']);
    assert.equal(daemon.status(), '1 peers');
    const metrics = (await daemon.telemetryServer!.app.inject({ url: '/metrics' })).body;
    assert.match(metrics, /netaccel_config_reloads_total\{result="ok"\} 1/);
  });

  test('reload (SIGHUP): a configuration the speaker refuses is refused whole; the running one and the routes stay', async () => {
    const running = host.config;
    writeFileSync(file, YAML.replace("- { prefix: 192.0.2.10/32, communities: ['65001:1'] }", '- { prefix: 198.51.100.0/24, nextHop: "2001:db8::1" }'));
    const outcome = await host.reload();
    assert.equal(outcome.accepted, false);
    assert.equal((outcome.error as { code?: string }).code, 'NA_ERR_BGPD_INVALID_ROUTE', 'refused by the announcer, after the schema');
    assert.equal(host.config, running);
    assert.deepEqual(daemon.speaker.routes().map((r) => r.prefix), ['203.0.113.0/24']);
    const metrics = (await daemon.telemetryServer!.app.inject({ url: '/metrics' })).body;
    assert.match(metrics, /netaccel_config_reloads_total\{result="refused"\} 1/);
  });
});

function withPeer() {
  const c = config();
  return { ...c, bgp: { ...c.bgp, peers: [...c.bgp.peers, { ...c.bgp.peers[0]!, address: '127.0.0.3', description: 'added' }] } };
}
