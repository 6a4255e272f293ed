/**
 * Property tests over generated packets of every layer combination: round trips, exact
 * reconstruction, valid checksums, and typed errors (never anything else) for truncated,
 * mutated and random input.
 */
import { test } from 'vitest';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { isNetaccelError } from '@netaccel/errors';
import { formatIPv4, formatIPv6 } from '../ip/address.js';
import { formatMac } from './mac.js';
import { buildPacket } from './build.js';
import type { Layer, Packet } from './model.js';
import type { ParseOptions } from './parse.js';
import { inspectPacket, parsePacket, verifyChecksums } from './parse.js';
import { tcpOptions } from './tcp.js';
import { concatBytes, encodeTlvOptions, padZeros } from './wire.js';

const PARSE_ERRORS = new Set([
  'NA_ERR_PACKET_TRUNCATED',
  'NA_ERR_PACKET_BAD_IHL',
  'NA_ERR_PACKET_BAD_LENGTH',
  'NA_ERR_PACKET_BAD_CHECKSUM',
  'NA_ERR_PACKET_BAD_VERSION',
  'NA_ERR_PACKET_BAD_OPTION',
  'NA_ERR_PACKET_EXT_CHAIN_TOO_LONG',
  'NA_ERR_PACKET_TOO_MANY_VLANS',
]);

// --- generators -------------------------------------------------------------------------------

const u = (bits: number): fc.Arbitrary<number> => fc.integer({ min: 0, max: 2 ** bits - 1 });
const bytes = (min: number, max: number): fc.Arbitrary<Uint8Array> => fc.uint8Array({ minLength: min, maxLength: max });
const mac = bytes(6, 6).map((b) => formatMac(b));
const ip4 = bytes(4, 4).map((b) => formatIPv4(b));
const ip6 = fc.oneof(bytes(16, 16), fc.tuple(bytes(2, 2), bytes(2, 2)).map(([a, b]) => Uint8Array.from([0x20, 0x01, 0x0d, 0xb8, ...a, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, ...b]))).map((b) => formatIPv6(b));
const port = u(16).filter((p) => p !== 6080);

const ipv4Options = fc
  .array(fc.oneof(fc.constant({ type: 1 }), fc.record({ type: fc.integer({ min: 2, max: 255 }), data: bytes(0, 6) })), { maxLength: 4 })
  .map((o) => padZeros(encodeTlvOptions(o), 4));
const ipv6Options = fc.oneof(
  bytes(4, 4).map((d) => Uint8Array.from([0xc2, 4, ...d])),
  bytes(12, 12).map((d) => Uint8Array.from([0x1e, 12, ...d])),
  fc.constant(Uint8Array.of(1, 4, 0, 0, 0, 0)),
);
const tcpOpts = fc
  .record(
    {
      mss: u(16),
      wscale: u(4),
      sackPermitted: fc.boolean(),
      timestamp: fc.tuple(u(32), u(32)),
      sack: fc.array(fc.tuple(u(32), u(32)), { minLength: 1, maxLength: 2 }),
    },
    { requiredKeys: [] },
  )
  .map((v) => tcpOptions(v));

const eth = fc.record({ type: fc.constant('eth' as const), dst: mac, src: mac });
const vlans = fc.array(
  fc.record({ type: fc.constant('vlan' as const), vid: u(12), pcp: u(3), dei: fc.boolean(), tpid: fc.constantFrom(0x8100, 0x88a8) }),
  { maxLength: 2 },
);

const tcpL = fc.record({
  type: fc.constant('tcp' as const),
  sport: u(16),
  dport: u(16),
  seq: u(32),
  ack: u(32),
  reserved: u(3),
  flags: u(9),
  window: u(16),
  urgent: u(16),
  options: tcpOpts,
});
const udpL = fc.record({ type: fc.constant('udp' as const), sport: port, dport: port });
const icmpL = (type: 'icmp' | 'icmpv6'): fc.Arbitrary<Layer> =>
  fc.record({ type: fc.constant(type), icmpType: u(8), code: u(8), rest: u(32) });
const gueL: fc.Arbitrary<Layer[]> = fc.oneof(
  fc.record({ type: fc.constant('gue' as const), version: fc.constant(0 as const), flags: u(16), fields: fc.integer({ min: 0, max: 3 }).chain((w) => bytes(4 * w, 4 * w)) }).map((g) => [g]),
  fc.constant<Layer[]>([{ type: 'gue', version: 1 }]),
);

const ipv6Ext: fc.Arbitrary<Layer> = fc.oneof(
  fc.record({ type: fc.constant('ipv6-dstopts' as const), options: ipv6Options }),
  fc.record({
    type: fc.constant('ipv6-route' as const),
    routingType: fc.constantFrom(0, 2, 4, 253),
    segmentsLeft: u(2),
    data: fc.integer({ min: 0, max: 2 }).chain((k) => bytes(4 + 16 * k, 4 + 16 * k)),
  }),
  fc.record({ type: fc.constant('ipv6-frag' as const), id: u(32), reserved: u(8), reserved2: u(2) }),
  fc.record({ type: fc.constant('ah' as const), spi: u(32), seq: u(32), icv: fc.constantFrom(4, 12).chain((n) => bytes(n, n)) }),
);

/** An IP header, its extension headers and what it carries, `depth` levels of encapsulation deep. */
function ipChain(depth: number): fc.Arbitrary<Layer[]> {
  const inner = depth > 0 ? [ipChain(depth - 1)] : [];
  const v4 = fc.record({ type: fc.constant('ipv4' as const), src: ip4, dst: ip4, tos: u(8), id: u(16), df: fc.boolean(), ttl: u(8), options: ipv4Options });
  const v6 = fc.record({ type: fc.constant('ipv6' as const), src: ip6, dst: ip6, trafficClass: u(8), flowLabel: u(20), hopLimit: u(8) });
  const upper = (fam: 'icmp' | 'icmpv6'): fc.Arbitrary<Layer[]> =>
    fc.oneof(
      tcpL.map((l) => [l]),
      udpL.map((l) => [l]),
      icmpL(fam).map((l) => [l]),
      ...inner,
      ...inner.map((i) => fc.tuple(udpL, gueL, i).map(([uh, g, rest]) => [{ ...uh, dport: 6080 }, ...g, ...rest])),
    );
  const hbh = fc.option(fc.record({ type: fc.constant('ipv6-hbh' as const), options: ipv6Options }), { nil: undefined });
  return fc.oneof(
    fc.tuple(v4, upper('icmp')).map(([ip, rest]): Layer[] => [ip, ...rest]),
    fc.tuple(v4, u(13).filter((n) => n > 0)).map(([ip, fo]): Layer[] => [{ ...ip, protocol: 17, fragOffset: fo }]),
    fc.tuple(v6, hbh, fc.array(ipv6Ext, { maxLength: 3 }), fc.oneof(upper('icmpv6'), fc.constant([]))).map(([ip, h, exts, rest]): Layer[] => [
      ip,
      ...(h === undefined ? [] : [h]),
      ...exts,
      ...rest,
    ]),
  );
}

const packetArb: fc.Arbitrary<Packet> = fc
  .tuple(eth, vlans, ipChain(2), bytes(0, 48))
  .map(([e, v, chain, payload]) => ({ layers: [e, ...v, ...chain], payload }));

// --- helpers ----------------------------------------------------------------------------------

function same(a: unknown, b: unknown): boolean {
  if (a instanceof Uint8Array && b instanceof Uint8Array) return a.length === b.length && a.every((x, i) => x === b[i]);
  return a === b;
}

/** Every field the spec gives has the same value in the parsed packet. */
function assertSubset(spec: Packet, parsed: Packet): void {
  assert.deepEqual(parsed.layers.map((l) => l.type), spec.layers.map((l) => l.type));
  spec.layers.forEach((l, i) => {
    for (const [k, v] of Object.entries(l)) {
      const got = (parsed.layers[i] as unknown as Record<string, unknown>)[k];
      assert.ok(same(got, v), `layers[${i}].${k}: spec ${String(v)}, parsed ${String(got)}`);
    }
  });
  assert.ok(same(parsed.payload, spec.payload ?? new Uint8Array(0)));
}

/** Strict parsing either succeeds or throws a typed parse error; lenient parsing never throws and loses nothing. */
function assertTotal(input: Uint8Array, opts: ParseOptions = {}): 'ok' | string {
  let outcome: 'ok' | string = 'ok';
  try {
    parsePacket(input, opts);
  } catch (err) {
    assert.ok(isNetaccelError(err) && PARSE_ERRORS.has(err.code), `unexpected ${String(err)}`);
    outcome = err.code;
  }
  const lenient = inspectPacket(input, opts);
  assert.deepEqual(buildPacket(lenient.packet), input);
  assert.equal(outcome === 'ok', lenient.issues.length === 0);
  return outcome;
}

// --- properties -------------------------------------------------------------------------------

test('parse(build(x)) has every field of x, rebuilds to the same bytes, and all checksums verify (property)', () => {
  fc.assert(
    fc.property(packetArb, (spec) => {
      const wire = buildPacket(spec);
      const parsed = parsePacket(wire);
      assertSubset(spec, parsed);
      assert.deepEqual(buildPacket(parsed), wire);
      assert.deepEqual(parsePacket(buildPacket(parsed)), parsed);
      assert.ok(verifyChecksums(wire).ok);
    }),
    { numRuns: 800 },
  );
});

test('bare IP packets round-trip with first: "ip" (property)', () => {
  fc.assert(
    fc.property(ipChain(1), bytes(0, 16), (chain, payload) => {
      const wire = buildPacket({ layers: chain, payload });
      const parsed = parsePacket(wire, { first: 'ip' });
      assertSubset({ layers: chain, payload }, parsed);
      assert.deepEqual(buildPacket(parsed), wire);
    }),
    { numRuns: 300 },
  );
});

test('every truncation of a valid packet is parsed or rejected with a typed error (property)', () => {
  fc.assert(
    fc.property(packetArb, (spec) => {
      const wire = buildPacket(spec);
      const outcomes = new Set<string>();
      for (let n = 0; n < wire.length; n++) outcomes.add(assertTotal(wire.subarray(0, n)));
      assert.equal(assertTotal(wire), 'ok');
      assert.ok(outcomes.has('NA_ERR_PACKET_TRUNCATED'), 'a cut inside the Ethernet header is always reported');
    }),
    { numRuns: 60 },
  );
});

test('mutated packets are parsed or rejected with a typed error, never anything else (property)', () => {
  const mutation = fc.array(fc.tuple(fc.nat(), u(8)), { minLength: 1, maxLength: 4 });
  fc.assert(
    fc.property(packetArb, mutation, fc.boolean(), (spec, edits, strictChecksums) => {
      const wire = buildPacket(spec);
      for (const [at, value] of edits) wire[at % wire.length] = value;
      assertTotal(wire, { checksums: strictChecksums });
    }),
    { numRuns: 600 },
  );
});

test('random bytes are parsed or rejected with a typed error for every start layer (property)', () => {
  const prefix = fc.constantFrom(new Uint8Array(0), Uint8Array.of(0x45), Uint8Array.of(0x60), Uint8Array.of(0x46, 0, 0, 0x40));
  fc.assert(
    fc.property(prefix, bytes(0, 120), fc.constantFrom('eth' as const, 'ipv4' as const, 'ipv6' as const, 'ip' as const), (p, rest, first) => {
      assertTotal(concatBytes([p, rest]), { first });
    }),
    { numRuns: 1000 },
  );
});
