import { test } from 'vitest';
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { MAX_UNIX_PATH_BYTES, parseAddress, withPort } from './address.js';
import { NA_ERR_RPC_BAD_ADDRESS } from './errors.js';

test('Unix socket addresses: unix:///abs, unix:/abs, unix:rel, /abs and ./rel', () => {
  for (const [input, path] of [
    ['unix:///run/netaccel/loader.sock', '/run/netaccel/loader.sock'],
    ['unix:/run/netaccel/loader.sock', '/run/netaccel/loader.sock'],
    ['/run/netaccel/loader.sock', '/run/netaccel/loader.sock'],
    ['/run/netaccel/../netaccel/loader.sock', '/run/netaccel/loader.sock'],
    ['unix:loader.sock', resolve('loader.sock')],
    ['./loader.sock', resolve('loader.sock')],
    ['  /run/x.sock ', '/run/x.sock'],
  ] as const) {
    const a = parseAddress(input);
    assert.equal(a.kind, 'unix', input);
    assert.ok(a.kind === 'unix');
    assert.equal(a.path, path, input);
    assert.equal(a.target, `unix://${path}`);
    assert.equal(a.display, path);
    assert.ok(Object.isFrozen(a));
  }
});

test('TCP addresses: host:port, IPv4, [IPv6]:port; port 0 only when allowed', () => {
  assert.deepEqual(parseAddress('loader.example.net:50051'), { kind: 'tcp', host: 'loader.example.net', port: 50051, target: 'loader.example.net:50051', display: 'loader.example.net:50051' });
  assert.deepEqual(parseAddress('127.0.0.1:1'), { kind: 'tcp', host: '127.0.0.1', port: 1, target: '127.0.0.1:1', display: '127.0.0.1:1' });
  const v6 = parseAddress('[2001:db8::1]:443');
  assert.ok(v6.kind === 'tcp');
  assert.equal(v6.host, '2001:db8::1');
  assert.equal(v6.target, '[2001:db8::1]:443');
  const any = parseAddress('[::]:0', { allowPortZero: true });
  assert.ok(any.kind === 'tcp');
  assert.equal(withPort(any, 40000).target, '[::]:40000');
});

test('bad addresses are NA_ERR_RPC_BAD_ADDRESS naming the field and the input', () => {
  const cases: [unknown, RegExp][] = [
    ['', /: expected unix:\/\/\/path/],
    ['loader.sock', /a socket path starts with \/ or \.\//],
    ['unix://run/x.sock', /unix:\/\/ must be followed by an absolute path/],
    ['unix:', /unix: without a path/],
    ['2001:db8::1:50051', /an IPv6 address needs brackets/],
    ['[2001:db8::zz]:1', /is not an IPv6 address/],
    ['host_name:80', /"host_name" is not a host name or IPv4 address/],
    ['localhost:http', /port "http" is not a number/],
    ['localhost:70000', /port 70000 is out of range 1\.\.65535/],
    ['localhost:0', /port 0 is out of range 1\.\.65535/],
    ['/run/netaccel/', /names a file, not a directory/],
    [`/${'x'.repeat(MAX_UNIX_PATH_BYTES)}`, /Unix sockets allow at most 107/],
    [42, /expected a string/],
  ];
  for (const [input, re] of cases) {
    assert.throws(
      () => parseAddress(input, { field: 'loader.address' }),
      (err: unknown) => {
        assert.ok(NA_ERR_RPC_BAD_ADDRESS.is(err), String(err));
        assert.ok(err.message.startsWith('loader.address: '), err.message);
        assert.ok(err.message.endsWith(`got ${JSON.stringify(input)}`), err.message);
        assert.match(err.message, re);
        return true;
      },
      String(input),
    );
  }
});
