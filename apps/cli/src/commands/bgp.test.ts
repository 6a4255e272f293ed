import { test } from 'vitest';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AnnouncerService, announcerV1, createRpcServer, rpcService } from '@netaccel/rpc';
import { runCliCaptured } from '../capture.js';
import { bgp } from './bgp.js';


test('netaccel bgp peers | routes | announce | withdraw against an Announcer service', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cli-bgp-'));
  const socket = join(dir, 'bgp-announcer.sock');
  const announced: announcerV1.Route[] = [];
  const server = await createRpcServer({
    address: socket,
    services: [
      rpcService(AnnouncerService, {
        announce: (req) => {
          announced.push(req.route!);
          return announcerV1.AnnounceResponse.create({ peers: 2 });
        },
        withdraw: (req) => announcerV1.WithdrawResponse.create({ wasAnnounced: req.prefix === '192.0.2.10/32', peers: 2 }),
        listPeers: () =>
          announcerV1.ListPeersResponse.create({
            peers: [announcerV1.Peer.create({ address: '10.1.1.1', asn: 65000, state: announcerV1.PeerState.PEER_STATE_ESTABLISHED, uptimeSeconds: 75, holdTimeSeconds: 3, bfdState: announcerV1.BfdState.BFD_STATE_UP, prefixesSent: 2 })],
          }),
        listRoutes: (req) => announcerV1.ListRoutesResponse.create({ routes: req.peer === '' ? [announcerV1.Route.create({ prefix: '192.0.2.10/32', communities: [{ asn: 65001, value: 7 }] })] : [] }),
        watchPeers: async function* () {},
      }),
    ],
  });
  try {
    const run = (...argv: string[]) => runCliCaptured([...argv, '--socket', socket], [bgp]);
    const p = await run('bgp', 'peers');
    assert.equal(p.code, 0, p.err);
    assert.match(p.out, /^PEER\s+AS\s+STATE\s+UP\s+HOLD\s+BFD\s+SENT\s+RCVD\s+LAST ERROR\n10\.1\.1\.1\s+65000\s+established\s+1m15s\s+3\s+up\s+2\s+0\s+-\n$/);
    const pj = await run('bgp', 'peers', '--json');
    assert.equal((JSON.parse(pj.out) as { peers: { state: string }[] }).peers[0]!.state, 'established');
    const r = await run('bgp', 'routes');
    assert.match(r.out, /192\.0\.2\.10\/32\s+self\s+-\s+-\s+65001:7/);
    const a = await run('bgp', 'announce', '198.51.100.0/24', '--med', '5', '--community', '65001:1,65001:2', '--large-community', '1:2:3');
    assert.equal(a.out, 'announced 198.51.100.0/24 to 2 established peer(s)\n');
    assert.deepEqual(
      announced.map((x) => [x.prefix, x.med, x.communities.length, x.largeCommunities[0]?.localData2]),
      [['198.51.100.0/24', 5, 2, 3]],
    );
    assert.equal((await run('bgp', 'withdraw', '192.0.2.10/32')).out, 'withdrew 192.0.2.10/32 from 2 established peer(s)\n');
    assert.equal((await run('bgp', 'withdraw', '203.0.113.0/24')).out, '203.0.113.0/24 was not announced\n');
    const bad = await run('bgp', 'announce', '198.51.100.0/24', '--community', 'nope');
    assert.equal(bad.code, 2);
    assert.match(bad.err, /--community: expected ASN:VALUE/);
  } finally {
    await server.shutdown({ timeoutMs: 100 });
    rmSync(dir, { recursive: true, force: true });
  }
});
