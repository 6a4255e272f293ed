/**
 * Malformed input against the running daemon: a scripted peer (fixtures/scripted-peer.ts, the
 * codecs of @netaccel/protocol building bad messages) connects from the router's namespace and
 * sends one fault per connection. Each gets the NOTIFICATION RFC 4271 prescribes, or the RFC
 * 7606 outcome (treat-as-withdraw, attribute discard) with the session kept; the daemon keeps
 * running and its session with BIRD stays Established throughout.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { afterAll, beforeAll, test } from 'vitest';
import type { LabProcess } from '@netaccel/netlab';
import { waitFor } from '@netaccel/netlab';
import { announcerV1 } from '@netaccel/rpc';
import type { Bird } from './bird.js';
import { birdEstablished, startBird } from './bird.js';
import { ROUTER_AS, lbAddr, routerAddr, routerStarLab } from '@netaccel/labs';
import { ROOT, announcerClient, announcerConfig, startAnnouncer } from '@netaccel/app-bgp-announcer/testing';

const SCRIPTED = '10.1.1.100';
const lab = routerStarLab('bgp-malformed');
let bird: Bird;
let daemon: LabProcess;
let socket: string;
let birdSince = '';

async function lb1Since(): Promise<string> {
  const line = (await bird.birdc('show', 'protocols', 'lb1')).split('\n').find((l) => l.startsWith('lb1 '));
  return line ?? '';
}

beforeAll(async () => {
  await lab.up();
  await lab.exec('router', ['ip', 'addr', 'add', `${SCRIPTED}/24`, 'dev', 'eth1']);
  bird = await startBird(lab, { ipv6: false });
  const c = announcerConfig(lab, 'lb1', {
    peers: [
      { address: routerAddr('lb1'), remoteAs: ROUTER_AS, families: ['ipv4-unicast'] },
      { address: SCRIPTED, remoteAs: 65099, passive: true, families: ['ipv4-unicast', 'ipv6-unicast'] },
    ],
    announce: [{ prefix: '192.0.2.10/32' }],
  });
  socket = c.socket;
  daemon = await startAnnouncer(lab, 'lb1', c.file);
  await waitFor(async () => (JSON.stringify(await birdEstablished(bird)) === '["lb1"]' ? true : undefined), { timeoutMs: 20_000, intervalMs: 100, what: 'BIRD lb1 established' });
  birdSince = await lb1Since();
});

afterAll(() => lab.down());

async function play(scenario: string): Promise<{ notification: [number, number] | null; up: boolean }> {
  const r = await lab.exec('router', [process.execPath, '--import', 'tsx', join(ROOT, 'test/bgp/fixtures/scripted-peer.ts'), scenario, lbAddr('lb1'), SCRIPTED], { cwd: ROOT, timeoutMs: 30_000 });
  const line = r.stdout.trim().split('\n').pop()!;
  return JSON.parse(line) as { notification: [number, number] | null; up: boolean };
}

async function received(): Promise<string[]> {
  const c = announcerClient(socket);
  try {
    const r = await c.listRoutes(announcerV1.ListRoutesRequest.create({ peer: SCRIPTED, received: true }));
    return r.routes.map((x) => x.prefix).sort();
  } finally {
    c.close();
  }
}

const resets: [string, [number, number]][] = [
  ['bad-marker', [1, 1]],
  ['bad-length', [1, 2]],
  ['bad-version', [2, 1]],
  ['bad-hold-time', [2, 6]],
  ['bad-mp-reach', [3, 9]],
  ['attribute-list-overrun', [3, 1]],
];

for (const [scenario, code] of resets) {
  test(`malformed: ${scenario} gets NOTIFICATION ${code.join('/')} and the session is closed`, async () => {
    const r = await play(scenario);
    assert.deepEqual(r.notification, code);
    assert.equal(r.up, false);
  });
}

const softened: [string, string[], string][] = [
  ['as-path-malformed', ['203.0.113.2/32'], 'treat-as-withdraw (3/11)'],
  ['missing-origin', ['203.0.113.2/32'], 'treat-as-withdraw (3/3)'],
  ['bad-next-hop', ['203.0.113.2/32'], 'treat-as-withdraw (3/8)'],
  ['attribute-flags', ['203.0.113.2/32'], 'treat-as-withdraw (3/4 on ORIGIN)'],
  ['duplicate-attribute', ['203.0.113.1/32', '203.0.113.2/32'], 'attribute discard (3/1): the route stands'],
];

for (const [scenario, want, outcome] of softened) {
  test(`malformed: ${scenario} is ${outcome}; the session stays up`, async () => {
    const playing = play(scenario);
    // while the scripted session is up: only the routes the outcome leaves are in the Adj-RIB-In
    await waitFor(async () => (JSON.stringify(await received()) === JSON.stringify(want) ? true : undefined), { timeoutMs: 10_000, intervalMs: 50, what: `Adj-RIB-In ${want.join(', ')}` });
    const r = await playing;
    assert.equal(r.notification, null, 'no NOTIFICATION');
    assert.equal(r.up, true, 'the session stayed up');
  });
}

test('malformed: the daemon kept running and the BIRD session never flapped', async () => {
  assert.equal(daemon.exited, false);
  assert.equal(await lb1Since(), birdSince, 'BIRD lb1 established since the start');
  const c = announcerClient(socket);
  try {
    const { peers } = await c.listPeers(announcerV1.ListPeersRequest.create());
    const birdPeer = peers.find((p) => p.address === routerAddr('lb1'))!;
    assert.equal(birdPeer.state, announcerV1.PeerState.PEER_STATE_ESTABLISHED);
    const scripted = peers.find((p) => p.address === SCRIPTED)!;
    assert.match(scripted.lastError, /NOTIFICATION|closed/);
  } finally {
    c.close();
  }
});
