import { test } from 'vitest';
import assert from 'node:assert/strict';
import * as z from 'zod';
import { defineConfig } from './define.js';
import { NA_ERR_CONFIG_INVALID } from './errors.js';
import {
  LOG_LEVELS,
  byteSize,
  cidr,
  duration,
  filePath,
  holdTime,
  ipAddress,
  ipv4,
  ipv6,
  listenAddress,
  logLevel,
  port,
  unixSocketPath,
} from './fields.js';
import { parseConfig } from './load.js';

/** Parses `{ f: value }` (written as a YAML flow mapping) with a schema whose field f is `field`. */
function parseField(field: z.ZodType, value: unknown): { ok: true; value: unknown } | { ok: false; lines: string[] } {
  const def = defineConfig({ app: 'field-test', schema: z.strictObject({ f: field }) });
  try {
    const config = parseConfig(def, { yaml: JSON.stringify({ f: value }), env: {} }) as { f: unknown };
    return { ok: true, value: config.f };
  } catch (err) {
    assert.ok(NA_ERR_CONFIG_INVALID.is(err), `unexpected error ${String(err)}`);
    return { ok: false, lines: err.message.split('\n').map((l) => l.replace(/ \(at .*\)$/, '')) };
  }
}

function accepts(field: z.ZodType, value: unknown, expected: unknown = value): void {
  const r = parseField(field, value);
  assert.ok(r.ok, `${JSON.stringify(value)} refused: ${r.ok ? '' : r.lines.join('; ')}`);
  assert.deepEqual(r.value, expected);
}

function refuses(field: z.ZodType, value: unknown, line: string): void {
  const r = parseField(field, value);
  assert.ok(!r.ok, `${JSON.stringify(value)} accepted`);
  assert.deepEqual(r.lines, [line]);
}

test('holdTime: 0 or 3..65535 seconds, with the exact message', () => {
  for (const v of [0, 3, 90, 65535]) accepts(holdTime(), v);
  refuses(holdTime(), 1, 'f: expected 0 or 3..65535, got 1');
  refuses(holdTime(), 2, 'f: expected 0 or 3..65535, got 2');
  refuses(holdTime(), 65536, 'f: expected 0 or 3..65535, got 65536');
  refuses(holdTime(), 4.5, 'f: expected 0 or 3..65535, got 4.5');
  refuses(holdTime(), '90s', 'f: expected 0 or 3..65535, got "90s"');
});

test('port: 1..65535, or 0..65535 with allowZero', () => {
  for (const v of [1, 179, 65535]) accepts(port(), v);
  refuses(port(), 0, 'f: expected a port 1..65535, got 0');
  refuses(port(), 70000, 'f: expected a port 1..65535, got 70000');
  refuses(port(), '179', 'f: expected a port 1..65535, got "179"');
  accepts(port({ allowZero: true }), 0);
  refuses(port({ allowZero: true }), -1, 'f: expected a port 0..65535, got -1');
});

test('IP address fields', () => {
  accepts(ipv4(), '192.0.2.1');
  refuses(ipv4(), '2001:db8::1', 'f: expected an IPv4 address, got "2001:db8::1"');
  refuses(ipv4(), 3221225985, 'f: expected an IPv4 address, got 3221225985');
  accepts(ipv6(), '2001:db8::1');
  refuses(ipv6(), '192.0.2.1', 'f: expected an IPv6 address, got "192.0.2.1"');
  accepts(ipAddress(), '192.0.2.1');
  accepts(ipAddress(), '::1');
  refuses(ipAddress(), 'router1', 'f: expected an IPv4 or IPv6 address, got "router1"');
  accepts(ipv6(), '::ffff:192.0.2.1');
  // zones are refused: no daemon field can use one (see @netaccel/protocol's parseScopedIp)
  refuses(ipv6(), 'fe80::1%eth0', 'f: expected an IPv6 address, got "fe80::1%eth0"');
  refuses(ipAddress(), 'fe80::1%eth0', 'f: expected an IPv4 or IPv6 address, got "fe80::1%eth0"');
  refuses(ipv4(), '010.0.0.1', 'f: expected an IPv4 address, got "010.0.0.1"');
});

test('cidr: prefixes, family, and host bits named', () => {
  accepts(cidr(), '10.0.0.0/8');
  accepts(cidr(), '2001:db8::/32');
  refuses(cidr(), '10.0.0.0', 'f: expected an IPv4 or IPv6 prefix like 10.0.0.0/24, got "10.0.0.0"');
  refuses(cidr(), '10.0.0.5/24', 'f: expected a prefix without host bits (10.0.0.0/24), got "10.0.0.5/24"');
  refuses(cidr({ family: 6 }), '10.0.0.0/8', 'f: expected an IPv6 prefix like 2001:db8::/32, got "10.0.0.0/8"');
  accepts(cidr({ family: 4, allowHostBits: true }), '10.0.0.5/24');
});

test('duration: units to milliseconds, plain numbers are milliseconds, bounds named', () => {
  accepts(duration(), '90s', 90_000);
  accepts(duration(), '1m30s', 90_000);
  accepts(duration(), 500, 500);
  refuses(duration(), '90', 'f: expected a duration (like "90s", "1m30s", "500ms" or a number of milliseconds), got "90"');
  refuses(duration(), true, 'f: expected a duration (like "90s", "1m30s", "500ms" or a number of milliseconds), got true');
  const bounded = duration({ min: 1_000, max: 3_600_000 });
  accepts(bounded, '1h', 3_600_000);
  refuses(bounded, '500ms', 'f: expected a duration from 1s to 1h (like "90s", "1m30s", "500ms" or a number of milliseconds), got "500ms"');
});

test('byteSize: units to bytes, bounds named', () => {
  accepts(byteSize(), '64KiB', 65_536);
  accepts(byteSize(), 4096, 4096);
  refuses(byteSize(), '64 kilobytes', 'f: expected a byte size (like "64KiB", "1MB" or a number of bytes), got "64 kilobytes"');
  refuses(byteSize({ max: 2 ** 20 }), '2MiB', 'f: expected a byte size of at most 1MiB (like "64KiB", "1MB" or a number of bytes), got "2MiB"');
});

test('filePath and unixSocketPath', () => {
  accepts(filePath(), 'keys/tls.key');
  refuses(filePath(), '', 'f: expected a file path, got ""');
  refuses(filePath({ absolute: true }), 'keys/tls.key', 'f: expected an absolute file path, got "keys/tls.key"');
  accepts(filePath({ absolute: true }), '/etc/netaccel/tls.key');
  accepts(unixSocketPath(), '/run/netaccel/loader.sock');
  const tooLong = `/run/${'x'.repeat(103)}`; // 108 bytes
  refuses(unixSocketPath(), tooLong, `f: expected an absolute Unix socket path of at most 107 bytes, got ${JSON.stringify(tooLong).slice(0, 59)}…`);
  refuses(unixSocketPath(), 'loader.sock', 'f: expected an absolute Unix socket path of at most 107 bytes, got "loader.sock"');
});

test('logLevel: pino levels', () => {
  for (const level of LOG_LEVELS) accepts(logLevel(), level);
  refuses(logLevel(), 'verbose', 'f: expected a log level (fatal, error, warn, info, debug, trace, silent), got "verbose"');
});

test('listenAddress: host:port parsed to { host, port }', () => {
  accepts(listenAddress(), '0.0.0.0:9100', { host: '0.0.0.0', port: 9100 });
  accepts(listenAddress(), '[::1]:0', { host: '::1', port: 0 });
  refuses(listenAddress(), '::1:9100', 'f: expected host:port with a port 0..65535 (IPv6 in brackets, like [::1]:9100), got "::1:9100"');
  refuses(listenAddress(), 9100, 'f: expected host:port with a port 0..65535 (IPv6 in brackets, like [::1]:9100), got 9100');
});
