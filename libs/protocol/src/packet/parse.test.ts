import { test } from 'vitest';
import assert from 'node:assert/strict';
import { NA_ERR_PACKET_INVALID_OPTIONS, NA_ERR_PACKET_TRUNCATED } from '../errors.js';
import { buildPacket } from './build.js';
import { gueEncap, tcpSyn, udp } from './builders.js';
import type { Ipv4Layer } from './model.js';
import type { ParseOptions } from './parse.js';
import { inspectPacket, PARSE_DEFAULTS, parsePacket, resolveParseOptions, verifyChecksums } from './parse.js';

const syn = (): Uint8Array => buildPacket(tcpSyn({ src: '10.0.0.2', sport: 40000, dst: '10.1.1.1', dport: 80, vlan: 100 }));

test('parse options: defaults are frozen; bad values and unknown keys name the option', () => {
  assert.ok(Object.isFrozen(PARSE_DEFAULTS));
  assert.equal(resolveParseOptions(undefined), PARSE_DEFAULTS);
  const r = resolveParseOptions({ maxVlans: 4, guePorts: [1, 2] });
  assert.ok(Object.isFrozen(r) && Object.isFrozen(r.guePorts));
  assert.deepEqual({ ...r, guePorts: [...r.guePorts] }, { ...PARSE_DEFAULTS, maxVlans: 4, guePorts: [1, 2] });
  const bad: [unknown, string][] = [
    [{ maxVlans: -1 }, 'options.maxVlans: expected an integer 0..64, got -1'],
    [{ mode: 'loose' }, 'options.mode: expected "strict" or "lenient", got "loose"'],
    [{ first: 'ppp' }, 'options.first: expected "eth", "ipv4", "ipv6" or "ip", got "ppp"'],
    [{ guePorts: [70000] }, 'options.guePorts[0]: expected an integer 0..65535, got 70000'],
    [{ checksum: false }, 'options.checksum: unknown option'],
    [{ checksums: 'no' }, 'options.checksums: expected true or false, got "no"'],
  ];
  for (const [opts, message] of bad) {
    assert.throws(() => parsePacket(syn(), opts as ParseOptions), (e) => NA_ERR_PACKET_INVALID_OPTIONS.is(e) && e.message === message);
  }
});

test('parsed bytes are plain Uint8Array copies, also for Buffer input', () => {
  const input = Buffer.from(buildPacket(udp({ src: '10.0.0.1', dst: '10.0.0.2', sport: 1, dport: 2, payload: 'abc' })));
  const p = parsePacket(input);
  assert.equal(Object.getPrototypeOf(p.payload), Uint8Array.prototype);
  input[input.length - 1] = 0;
  assert.equal(new TextDecoder().decode(p.payload), 'abc');
  assert.deepEqual(buildPacket(p), new Uint8Array(Buffer.from(buildPacket(p))));
});

test('inspectPacket reports spans, payload offset, checksums and every problem', () => {
  const bytes = syn();
  const a = inspectPacket(bytes);
  assert.deepEqual(
    a.spans.map((s) => [s.type, s.offset, s.length]),
    [['eth', 0, 14], ['vlan', 14, 4], ['ipv4', 18, 20], ['tcp', 38, 24]],
  );
  assert.equal(a.payloadOffset, bytes.length);
  assert.equal(a.trailerOffset, bytes.length);
  assert.deepEqual(a.issues, []);
  const broken = bytes.slice();
  broken[29] = broken[29]! ^ 1; // IPv4 header checksum byte
  broken[bytes.length - 1] = broken[bytes.length - 1]! ^ 1; // TCP option byte
  const b = inspectPacket(broken);
  assert.deepEqual(b.issues.map((e) => [e.code, e.details.layer]), [['NA_ERR_PACKET_BAD_CHECKSUM', 'ipv4'], ['NA_ERR_PACKET_BAD_CHECKSUM', 'tcp']]);
  assert.equal(inspectPacket(broken, { mode: undefined }).issues.length, 2, 'inspectPacket stays lenient');
  assert.throws(() => inspectPacket(broken, { mode: 'strict' }));
});

test('verifyChecksums covers every level of an encapsulated packet', () => {
  const bytes = buildPacket(gueEncap(tcpSyn({ src: '2001:db8::5', sport: 1, dst: '2001:db8::6', dport: 2 }), { src: '10.0.0.1', dst: '10.0.0.2', sport: 3 }));
  const r = verifyChecksums(bytes);
  assert.ok(r.ok);
  assert.deepEqual(r.checks.map((c) => [c.layer, c.layerIndex, c.status]), [['ipv4', 1, 'ok'], ['udp', 2, 'ok'], ['tcp', 5, 'ok']]);
  const bad = bytes.slice();
  bad[bad.length - 5] = bad[bad.length - 5]! ^ 0x40;
  const r2 = verifyChecksums(bad);
  assert.equal(r2.ok, false);
  assert.deepEqual(r2.checks.filter((c) => c.status === 'bad').map((c) => c.layer), ['udp', 'tcp']);
});

test('first: "ipv4" / "ipv6" / "ip" start at the IP header', () => {
  const bare = buildPacket(udp({ src: '10.0.0.1', dst: '10.0.0.2', sport: 1, dport: 2, eth: false, payload: 'x'.repeat(20) }));
  assert.equal((parsePacket(bare, { first: 'ipv4' }).layers[0] as Ipv4Layer).src, '10.0.0.1');
  assert.equal(parsePacket(bare, { first: 'ip' }).layers.length, 2);
  assert.throws(() => parsePacket(bare, { first: 'ipv6' }), { code: 'NA_ERR_PACKET_BAD_VERSION' });
  assert.throws(() => parsePacket(new Uint8Array(0), { first: 'ip' }), (e) => NA_ERR_PACKET_TRUNCATED.is(e) && e.details.layer === 'ip');
  assert.deepEqual(parsePacket(new Uint8Array(0), { first: 'ip', mode: 'lenient' }), { layers: [], payload: new Uint8Array(0) });
});

test('strict mode reports the first problem; lenient mode keeps decoding after a bad checksum', () => {
  const bytes = syn();
  bytes[29] = bytes[29]! ^ 1;
  assert.throws(() => parsePacket(bytes), { code: 'NA_ERR_PACKET_BAD_CHECKSUM' });
  assert.equal(parsePacket(bytes, { mode: 'lenient' }).layers.length, 4);
  assert.equal(parsePacket(bytes, { checksums: false }).layers.length, 4);
});
