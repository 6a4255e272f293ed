import { test } from 'vitest';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { HealthClient, createRpcServer, healthV1 } from '@netaccel/rpc';
import { checkRegistry, undocumentedCodes } from '@netaccel/errors';
import { readFileSync } from 'node:fs';
import { runCliCaptured } from './capture.js';
import type { CommandGroup } from './command.js';
import { withDaemon } from './daemons.js';
import { cliErrors } from './errors.js';
import { renderTable, toJson } from './output.js';


// A group whose command asks a real gRPC server (the standard health service) for its status.
const demo: CommandGroup = {
  name: 'demo',
  summary: 'commands for the tests',
  commands: {
    health: {
      summary: 'ask the daemon for its health',
      options: { service: { type: 'string', default: '' } },
      async run(ctx) {
        const r = await withDaemon('ebpf-loader', HealthClient, ctx, (c) =>
          c.check(healthV1.HealthCheckRequest.create({ service: String(ctx.values.service) })),
        );
        const status = healthV1.healthCheckResponse_ServingStatusToJSON(r.status);
        ctx.out.table([{ header: 'status', value: (x: { status: string }) => x.status }], [{ status }]);
      },
    },
    fail: {
      summary: 'always fails with a usage error',
      async run() {
        const { NA_ERR_CLI_USAGE } = await import('./errors.js');
        throw NA_ERR_CLI_USAGE('bad thing');
      },
    },
  },
};

test('a command reaches a running daemon over its socket; --json prints JSON', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cli-'));
  const socket = join(dir, 'ebpf-loader.sock');
  const server = await createRpcServer({ address: socket, services: [] });
  try {
    const a = await runCliCaptured(['demo', 'health', '--socket', socket], [demo]);
    assert.equal(a.code, 0, a.err);
    assert.equal(a.out, 'STATUS\nSERVING\n');
    const b = await runCliCaptured(['demo', 'health', '--json'], [demo], { NETACCEL_EBPF_LOADER_SOCKET: socket });
    assert.equal(b.code, 0, b.err);
    assert.deepEqual(JSON.parse(b.out), [{ status: 'SERVING' }]);
  } finally {
    await server.shutdown({ timeoutMs: 1000 });
    rmSync(dir, { recursive: true, force: true });
  }
});

test('usage errors exit 2 and say what is wrong', async () => {
  const cases: [string[], RegExp][] = [
    [['nope'], /unknown group "nope"/],
    [['demo', 'nope'], /unknown command "nope"/],
    [['demo', 'health', '--bogus'], /unknown option --bogus/],
    [['demo', 'health', '--timeout', 'soon'], /--timeout: expected milliseconds > 0, got soon/],
    [['demo', 'fail'], /bad thing \[NA_ERR_CLI_USAGE\]/],
  ];
  for (const [argv, re] of cases) {
    const a = await runCliCaptured(argv, [demo]);
    assert.equal(a.code, 2, argv.join(' '));
    assert.match(a.err, re);
  }
  const h = await runCliCaptured(['--help'], [demo]);
  assert.equal(h.code, 0);
  assert.match(h.out, /demo\s+commands for the tests/);
  const g = await runCliCaptured(['demo', 'health', '-h'], [demo]);
  assert.equal(g.code, 0);
  assert.match(g.out, /^usage: netaccel demo health \[options\]\nask the daemon for its health\n\noptions:\n {2}--service <value> +a value\n/);
  assert.match(g.out, /\n {2}--socket <path> +the daemon's Unix socket \(default: NETACCEL_<DAEMON>_SOCKET, else \/run\/netaccel\/<daemon>\.sock\)\n/);
});

test('tables align, numbers right-aligned, empty cells shown as -', () => {
  const t = renderTable(
    [
      { header: 'name', value: (r: { n: string; c?: number }) => r.n },
      { header: 'count', value: (r: { n: string; c?: number }) => r.c, align: 'right' },
    ],
    [{ n: 'xdp_lb', c: 12345 }, { n: 'tc' }],
  );
  assert.equal(t, 'NAME    COUNT\nxdp_lb  12345\ntc          -');
  assert.equal(toJson({ a: 1n, b: Buffer.from([1, 255]) }), '{\n  "a": "1",\n  "b": "01ff"\n}');
});

test('error codes are documented', () => {
  assert.deepEqual(checkRegistry(cliErrors), []);
  assert.deepEqual(undocumentedCodes(cliErrors, readFileSync(new URL('../README.md', import.meta.url), 'utf8')), []);
});

/** The name of a group from /etc/group (the CLI names groups the same way). */
function groupName(gid: number): string {
  const line = readFileSync('/etc/group', 'utf8').split('\n').find((l) => l.split(':')[2] === String(gid));
  return line?.split(':')[0] ?? String(gid);
}

test('a daemon whose socket refuses this user: the message says permission denied and names the group', async () => {
  // The built CLI (make test builds first) against a socket it may not use. As root (make test),
  // it runs as `nobody` against root's socket of mode 0600; as another user (the unit layer needs
  // no root), against this user's own socket of mode 0000, which refuses its owner as well.
  const asRoot = process.getuid?.() === 0;
  const dir = mkdtempSync(join(tmpdir(), 'cli-denied-'));
  chmodSync(dir, 0o755);
  const socket = join(dir, 'lb-controller.sock');
  const server = await createRpcServer({ address: socket, services: [] });
  try {
    chmodSync(socket, asRoot ? 0o600 : 0o000);
    const main = fileURLToPath(new URL('../dist/main.js', import.meta.url));
    const cli = [main, 'lb', 'services', '--socket', socket, '--timeout', '2000'];
    const opts = { encoding: 'utf8', cwd: fileURLToPath(new URL('../../..', import.meta.url)), timeout: 60_000 } as const;
    const r = asRoot
      ? spawnSync('setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', process.execPath, ...cli], opts)
      : spawnSync(process.execPath, cli, opts);
    assert.equal(r.status, 1, r.stderr);
    const owner = asRoot ? 'root' : userInfo().username;
    const group = asRoot ? 'root' : groupName(process.getgid!());
    const mode = asRoot ? '0600' : '0000';
    assert.match(r.stderr, new RegExp(
      `lb-controller refused this user: permission denied on .*lb-controller\\.sock \\(owner ${owner}, group ${group}, mode ${mode}\\)\\. ` +
        `Run as root or as a member of group ${group} \\[NA_ERR_CLI_DAEMON_DENIED\\]`,
    ));
  } finally {
    await server.shutdown({ timeoutMs: 1000 });
    rmSync(dir, { recursive: true, force: true });
  }
});
