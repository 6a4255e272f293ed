/**
 * Unit: why a daemon's socket did not answer, told apart (issue 13, item 2): no such file, a
 * directory, nobody listening, another daemon's socket; `systemctl` only for the default socket.
 * Real Unix sockets and real gRPC servers under a temporary directory.
 */
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { linkSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NA_ERR_RPC_UNAVAILABLE, AnnouncerService, announcerV1, createRpcServer, rpcService } from '@netaccel/rpc';
import { runCliCaptured } from './capture.js';
import { groups } from './commands/index.js';
import { explainUnavailable } from './daemons.js';

function tempDir(t: { onTestFinished: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'cli-sock-'));
  t.onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const lbServices = (...argv: string[]) => runCliCaptured(['lb', 'services', '--timeout', '2000', ...argv], groups, {});

test('a --socket path that does not exist: "no such socket", no systemctl', async (t) => {
  const dir = tempDir(t);
  const nope = join(dir, 'nope.sock');
  const r = await lbServices('--socket', nope);
  assert.equal(r.code, 1);
  assert.equal(r.err, `netaccel lb services: no such socket: ${nope} (given by --socket); check the path (lb-controller's default socket is /run/netaccel/lb-controller.sock) [NA_ERR_CLI_SOCKET_MISSING]\n`);
  const e = await runCliCaptured(['lb', 'services', '--timeout', '2000'], groups, { NETACCEL_LB_CONTROLLER_SOCKET: nope });
  assert.equal(e.err, `netaccel lb services: no such socket: ${nope} (from NETACCEL_LB_CONTROLLER_SOCKET); check the path (lb-controller's default socket is /run/netaccel/lb-controller.sock) [NA_ERR_CLI_SOCKET_MISSING]\n`);
});

test('a directory given as the socket: "is a directory, not a socket"', async (t) => {
  const dir = tempDir(t);
  const r = await lbServices('--socket', dir);
  assert.equal(r.code, 1);
  assert.equal(r.err, `netaccel lb services: ${dir} is a directory, not a socket (given by --socket); point it at lb-controller's socket (by default /run/netaccel/lb-controller.sock) [NA_ERR_CLI_NOT_A_SOCKET]\n`);
});

test('a socket nobody listens on: "nobody is listening", no systemctl for a given path', async (t) => {
  const dir = tempDir(t);
  // A socket file left behind: a second name of a server's socket, which stays after the server closes.
  const live = join(dir, 'live.sock');
  const stale = join(dir, 'stale.sock');
  const server = await createRpcServer({ address: live, services: [] });
  linkSync(live, stale);
  await server.shutdown({ timeoutMs: 1000 });
  const r = await lbServices('--socket', stale);
  assert.equal(r.code, 1);
  assert.equal(r.err, `netaccel lb services: nobody is listening on ${stale} (given by --socket): the daemon that made it has exited; start it again, or check the path (lb-controller's default socket is /run/netaccel/lb-controller.sock) [NA_ERR_CLI_NOT_LISTENING]\n`);
});

test('the default socket: absent or not listened on means the daemon is not running, with how to start it', (t) => {
  const dir = tempDir(t);
  const cause = NA_ERR_RPC_UNAVAILABLE('Balancer.ListServices', join(dir, 'lb-controller.sock'), 'connect ENOENT');
  const e = explainUnavailable(cause, 'lb-controller', join(dir, 'lb-controller.sock')) as Error & { code: string };
  assert.equal(e.code, 'NA_ERR_CLI_DAEMON_DOWN');
  assert.equal(e.message, `lb-controller is not running: its socket ${dir}/lb-controller.sock does not exist. Start it with: systemctl start lb-controller  (or run: netaccel-lb-controller --config /etc/netaccel/lb-controller.yaml)`);
  mkdirSync(join(dir, 'sub'));
  const d = explainUnavailable(cause, 'lb-controller', join(dir, 'sub')) as Error & { code: string };
  assert.equal(d.message, `${dir}/sub is a directory, not a socket (lb-controller's default socket); lb-controller makes it when it starts: remove it and start lb-controller`);
});

test('another daemon\'s socket: "serves bgp-announcer, not lb-controller"', async (t) => {
  const dir = tempDir(t);
  const socket = join(dir, 'bgp-announcer.sock');
  const server = await createRpcServer({
    address: socket,
    services: [
      rpcService(AnnouncerService, {
        announce: () => announcerV1.AnnounceResponse.create(),
        withdraw: () => announcerV1.WithdrawResponse.create(),
        listPeers: () => announcerV1.ListPeersResponse.create(),
        listRoutes: () => announcerV1.ListRoutesResponse.create(),
        watchPeers: async function* () {},
      }),
    ],
  });
  t.onTestFinished(async () => {
    await server.shutdown({ timeoutMs: 1000 });
  });
  const r = await lbServices('--socket', socket);
  assert.equal(r.code, 1);
  assert.equal(r.err, `netaccel lb services: ${socket} serves bgp-announcer, not lb-controller (given by --socket); give --socket lb-controller's socket (default /run/netaccel/lb-controller.sock) [NA_ERR_CLI_WRONG_DAEMON]\n`);
  const j = await lbServices('--socket', socket, '--json');
  assert.equal((JSON.parse(j.err) as { error: { code: string } }).error.code, 'NA_ERR_CLI_WRONG_DAEMON');
});

test('a Paxos replica has no default daemon to start: the hint says where its status is served', (t) => {
  const dir = tempDir(t);
  const socket = join(dir, 'paxos-replica.sock');
  const cause = NA_ERR_RPC_UNAVAILABLE('Paxos.GetStatus', socket, 'connect ENOENT');
  const e = explainUnavailable(cause, 'paxos-replica', socket) as Error & { code: string };
  assert.equal(e.code, 'NA_ERR_CLI_DAEMON_DOWN');
  assert.match(e.message, /give --socket: a Paxos replica serves its status on the socket of craq-scheduler \(membership\.via: paxos\)/);
  assert.doesNotMatch(e.message, /systemctl/);
});
