/** Unit: the command line's usage errors and help, with their exact texts (issue 13, item 3). */
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { arityOf, editDistance, nearest, parseCommandArgs } from './args.js';
import { runCliCaptured } from './capture.js';
import { groups } from './commands/index.js';

const run = (...argv: string[]) => runCliCaptured(argv, groups, {});

test('a mistyped option, command or group: NA_ERR_CLI_USAGE, the nearest name and where help is', async () => {
  const cases: [string[], string][] = [
    [['lb', 'services', '--sockt', '/tmp/x.sock'], 'netaccel lb services: unknown option --sockt (did you mean --socket?) [NA_ERR_CLI_USAGE]\nsee: netaccel lb services --help\n'],
    [['lb', 'services', '--sockt=/tmp/x.sock'], 'netaccel lb services: unknown option --sockt (did you mean --socket?) [NA_ERR_CLI_USAGE]\nsee: netaccel lb services --help\n'],
    [['lb', 'drain', '10.0.0.1', '--cancle'], 'netaccel lb drain: unknown option --cancle (did you mean --cancel?) [NA_ERR_CLI_USAGE]\nsee: netaccel lb drain --help\n'],
    [['lb', 'services', '--frobnicate'], 'netaccel lb services: unknown option --frobnicate [NA_ERR_CLI_USAGE]\nsee: netaccel lb services --help\n'],
    [['lb', 'services', '-x'], 'netaccel lb services: unknown option -x [NA_ERR_CLI_USAGE]\nsee: netaccel lb services --help\n'],
    [['lb', 'servics'], 'netaccel lb: unknown command "servics" (did you mean services?) [NA_ERR_CLI_USAGE]\nsee: netaccel lb --help\n'],
    [['bgp', 'peer'], 'netaccel bgp: unknown command "peer" (did you mean peers?) [NA_ERR_CLI_USAGE]\nsee: netaccel bgp --help\n'],
    [['lbb', 'services'], 'netaccel: unknown group "lbb" (did you mean lb?) [NA_ERR_CLI_USAGE]\nsee: netaccel --help\n'],
    [['lab', 'statsu'], 'netaccel lab: unknown command "statsu" (did you mean status?) [NA_ERR_CLI_USAGE]\nsee: netaccel lab --help\n'],
    [['--sokcet', 'x'], 'netaccel: expected a group before options, got --sokcet [NA_ERR_CLI_USAGE]\nsee: netaccel --help\n'],
  ];
  for (const [argv, err] of cases) {
    const r = await run(...argv);
    assert.equal(r.err, err, argv.join(' '));
    assert.equal(r.code, 2, argv.join(' '));
    assert.equal(r.out, '');
  }
});

test('an option without its value, a switch given a value, a missing argument, an extra argument', async () => {
  const cases: [string[], string][] = [
    [['lb', 'services', '--socket'], 'netaccel lb services: --socket needs a value: --socket <path> [NA_ERR_CLI_USAGE]\nsee: netaccel lb services --help\n'],
    [['lb', 'services', '--socket', '--timeout', '100'], 'netaccel lb services: --socket needs a value: --socket <path> [NA_ERR_CLI_USAGE]\nsee: netaccel lb services --help\n'],
    [['lb', 'services', '--json=yes'], 'netaccel lb services: --json takes no value (it is a switch), got --json=yes [NA_ERR_CLI_USAGE]\nsee: netaccel lb services --help\n'],
    [['lb', 'services', 'extra'], 'netaccel lb services: unexpected argument "extra": lb services takes no arguments [NA_ERR_CLI_USAGE]\nsee: netaccel lb services --help\n'],
    [['lb', 'backends', 'a', 'b'], 'netaccel lb backends: unexpected argument "b": lb backends takes [service-id] [NA_ERR_CLI_USAGE]\nsee: netaccel lb backends --help\n'],
    [['lb', 'drain'], 'netaccel lb drain: missing argument <backend-address> (usage: netaccel lb drain <backend-address>) [NA_ERR_CLI_USAGE]\nsee: netaccel lb drain --help\n'],
    [['bpf', 'attach', 'o/p'], 'netaccel bpf attach: missing arguments <mode> <target> (usage: netaccel bpf attach <program-id> <mode> <target>) [NA_ERR_CLI_USAGE]\nsee: netaccel bpf attach --help\n'],
    [['lb', 'drain', 'nope'], 'netaccel lb drain: <backend-address>: expected an IPv4 or IPv6 address, got "nope" [NA_ERR_CLI_USAGE]\n'],
  ];
  for (const [argv, err] of cases) {
    const r = await run(...argv);
    assert.equal(r.err, err, argv.join(' '));
    assert.equal(r.code, 2, argv.join(' '));
  }
  // With --json the same error is the JSON envelope on stderr.
  const j = await run('lb', 'services', 'extra', '--json');
  assert.equal(j.code, 2);
  assert.deepEqual(JSON.parse(j.err), { error: { code: 'NA_ERR_CLI_USAGE', message: 'unexpected argument "extra": lb services takes no arguments' } });
  const g = await run('lbb', '--json');
  assert.deepEqual(JSON.parse(g.err), { error: { code: 'NA_ERR_CLI_USAGE', message: 'unknown group "lbb" (did you mean lb?)' } });
});

test('a command\'s help names each option with its meaning, format and default', async () => {
  const r = await run('lb', 'drain', '--help');
  assert.equal(r.code, 0);
  assert.equal(r.out, [
    'usage: netaccel lb drain <backend-address> [options]',
    'drain a backend (no new flows; established ones stay), or --cancel',
    '',
    'options:',
    '  --service <service-id>  only in this service, <vip>:<port>/<protocol> as `lb services` lists it (default: every service the backend is in)',
    '  --cancel                undrain: the backend takes new flows again',
    '',
    'global options:',
    '  --json                  print JSON for scripts; errors as {"error":{"code","message"}} on stderr',
    '  --socket <path>         lb-controller\'s Unix socket (default: NETACCEL_LB_CONTROLLER_SOCKET, else /run/netaccel/lb-controller.sock)',
    '  --timeout <ms>          deadline of each call to the daemon, in milliseconds (default: 5000)',
    '  -h, --help              this help',
    '',
  ].join('\n'));
  const b = await run('bgp', 'announce', '-h');
  assert.match(b.out, /\n {2}--community <asn:value> +a community, ASN:VALUE; several joined by commas \(repeatable\)\n/);
  const l = await run('lab', 'run', '--help');
  assert.match(l.out, /\n {2}--mode <l2dsr\|nat> +how the balancers forward: L2 DSR, or NAT from a pool of 4 addresses each \(default: l2dsr\)\n/);
  const v = await run('--version');
  assert.equal(v.code, 0);
  assert.match(v.out, /^netaccel \d+\.\d+\.\d+\n$/);
});

test('the parser: --name=value, repeated options, -- ends options, negative numbers are values, defaults', () => {
  const options = { n: { type: 'string' }, tag: { type: 'string', multiple: true }, on: { type: 'boolean', default: false }, mode: { type: 'string', default: 'a' } } as const;
  assert.deepEqual(parseCommandArgs(['x', '--n=5', '--tag', 'a', '--tag=b', '-1', '--', '--on'], options), {
    values: { n: '5', tag: ['a', 'b'], on: false, mode: 'a' },
    positionals: ['x', '-1', '--on'],
  });
  assert.deepEqual(arityOf('<a> [b] …'), { required: ['<a>'], optional: ['[b]'], rest: true });
  assert.equal(editDistance('sockt', 'socket'), 1);
  assert.equal(editDistance('jsno', 'json'), 1);
  assert.equal(nearest('sock', ['socket', 'json']), 'socket');
  assert.equal(nearest('zzz', ['socket', 'json']), undefined);
});
