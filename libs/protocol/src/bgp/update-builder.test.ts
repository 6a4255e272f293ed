// update(): packing prefixes into as few UPDATEs as the session allows, and splitting.
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { asSequence } from './as-path.js';
import { createContext } from './context.js';
import type { SessionContext } from './context.js';
import { decodeMessage, encodeMessage } from './message.js';
import type { Nlri } from './nlri.js';
import { update } from './update-builder.js';
import type { Announcement } from './update-builder.js';
import type { UpdateMessage } from './update.js';

const BOTH = ['ipv4-unicast', 'ipv6-unicast'] as const;
const CTX = createContext({ asn4: true, families: [...BOTH] });
const EXT = createContext({ asn4: true, families: [...BOTH], extendedMessages: true });
const ADDPATH = createContext({ asn4: true, families: [...BOTH], addPath: { send: [...BOTH], receive: [...BOTH] } });

const attrs = { asPath: asSequence(65001), med: 10, communities: [0xfde90001] };

function v4(i: number): string {
  return `10.${(i >> 8) & 0xff}.${i & 0xff}.0/24`;
}

function v6(i: number): string {
  return `2001:db8:${(i + 1).toString(16)}::/48`;
}

interface Seen {
  announced: string[];
  withdrawn: string[];
  sizes: number[];
}

/** Encodes every UPDATE, checks the size limit, decodes it back and collects its prefixes. */
function sendAll(msgs: UpdateMessage[], ctx: SessionContext, limit: number): Seen {
  const seen: Seen = { announced: [], withdrawn: [], sizes: [] };
  const key = (n: Nlri): string => `${n.prefix}${n.pathId === undefined ? '' : `#${n.pathId}`}`;
  for (const m of msgs) {
    const bytes = encodeMessage(m, ctx);
    assert.ok(bytes.length <= limit, `${bytes.length} > ${limit}`);
    seen.sizes.push(bytes.length);
    const d = decodeMessage(bytes, ctx);
    assert.ok(d !== null && d.message.type === 'update' && d.message.kind === 'ok');
    const u = d.message.update;
    const parts = [u.withdrawn.length > 0, u.nlri.length > 0, u.mpReach !== undefined, u.mpUnreach !== undefined].filter(Boolean);
    assert.equal(parts.length, 1, 'one kind of NLRI per UPDATE (RFC 7606 §5.1)');
    seen.announced.push(...u.nlri.map(key), ...(u.mpReach?.nlri ?? []).map(key));
    seen.withdrawn.push(...u.withdrawn.map(key), ...(u.mpUnreach?.withdrawn ?? []).map(key));
  }
  return seen;
}

function sameSet(got: string[], want: string[]): void {
  assert.equal(got.length, want.length, 'count');
  assert.equal(new Set(got).size, got.length, 'each exactly once');
  assert.deepEqual([...got].sort(), [...want].sort());
}

test('10,000 IPv4 prefixes: UPDATEs of at most 4096 octets, each prefix exactly once', () => {
  const prefixes = Array.from({ length: 10_000 }, (_, i) => v4(i));
  const msgs = update({ announce: prefixes.map((prefix) => ({ prefix, nextHop: '192.0.2.1', attrs })) }, CTX);
  const seen = sendAll(msgs, CTX, 4096);
  sameSet(seen.announced, prefixes);
  // 4 octets per /24: about 1,000 per message, and every message but the last is nearly full
  assert.equal(msgs.length, Math.ceil(10_000 / Math.floor((4096 - 23 - (seen.sizes[0]! - 23 - 4 * msgs[0]!.nlri.length)) / 4)));
  for (const s of seen.sizes.slice(0, -1)) assert.ok(s > 4096 - 4, `underfull message of ${s}`);
});

test('10,000 IPv4 prefixes with extended messages: one UPDATE of at most 65535 octets', () => {
  const prefixes = Array.from({ length: 10_000 }, (_, i) => v4(i));
  const msgs = update({ announce: prefixes.map((prefix) => ({ prefix, nextHop: '192.0.2.1', attrs })) }, EXT);
  assert.equal(msgs.length, 1);
  sameSet(sendAll(msgs, EXT, 65535).announced, prefixes);
});

test('10,000 IPv6 prefixes through MP_REACH_NLRI, with add-path ids, 4096 and 65535', () => {
  const prefixes = Array.from({ length: 10_000 }, (_, i) => v6(i));
  const announce: Announcement[] = prefixes.map((prefix, i) => ({ prefix, pathId: i % 3, nextHop: '2001:db8::1', linkLocalNextHop: 'fe80::1', attrs }));
  const want = prefixes.map((p, i) => `${p}#${i % 3}`);
  const small = update({ announce }, ADDPATH);
  sameSet(sendAll(small, ADDPATH, 4096).announced, want);
  const extAddPath = createContext({ asn4: true, families: [...BOTH], extendedMessages: true, addPath: { send: [...BOTH], receive: [...BOTH] } });
  const big = update({ announce }, extAddPath);
  assert.ok(big.length < small.length / 10);
  sameSet(sendAll(big, extAddPath, 65535).announced, want);
});

test('10,000 withdrawals of each family are split the same way', () => {
  const w4 = Array.from({ length: 10_000 }, (_, i) => v4(i));
  const w6 = Array.from({ length: 10_000 }, (_, i) => v6(i));
  const msgs = update({ withdraw: [...w4, ...w6] }, CTX);
  sameSet(sendAll(msgs, CTX, 4096).withdrawn, [...w4, ...w6]);
});

test('announcements with different next hops or attributes go in different UPDATEs', () => {
  const msgs = update(
    {
      announce: [
        { prefix: '198.51.100.0/24', nextHop: '192.0.2.1' },
        { prefix: '203.0.113.0/24', nextHop: '192.0.2.2' },
        { prefix: '192.0.2.0/24', nextHop: '192.0.2.1', attrs: { med: 5 } },
        { prefix: '198.51.101.0/24', nextHop: '192.0.2.1' },
      ],
      withdraw: ['10.0.0.0/8', { prefix: '2001:db8::/32' }],
    },
    CTX,
  );
  assert.deepEqual(
    msgs.map((m) => [m.withdrawn.length, m.mpUnreach?.withdrawn.length ?? 0, m.nlri.map((n) => n.prefix).join(' '), m.attributes.nextHop ?? '', m.attributes.med ?? '']),
    [
      [1, 0, '', '', ''],
      [0, 1, '', '', ''],
      [0, 0, '198.51.100.0/24 198.51.101.0/24', '192.0.2.1', ''],
      [0, 0, '203.0.113.0/24', '192.0.2.2', ''],
      [0, 0, '192.0.2.0/24', '192.0.2.1', 5],
    ],
  );
  assert.deepEqual(msgs[2]!.attributes, { origin: 'igp', asPath: [], nextHop: '192.0.2.1' });
});

test('update() rejects what cannot be sent, with the path of the field', () => {
  const v4only = createContext({ asn4: true });
  const cases: [Parameters<typeof update>[0], SessionContext, RegExp][] = [
    [{ announce: [{ prefix: '2001:db8::/32', nextHop: '2001:db8::1' }] }, v4only, /^update\.announce\[0\]\.prefix: ipv6-unicast is not a family of this session$/],
    [{ announce: [{ prefix: '10.0.0.0/8', nextHop: '2001:db8::1' }] }, CTX, /^update\.announce\[0\]\.nextHop: expected a usable IPv4 next hop, got "2001:db8::1"$/],
    [{ announce: [{ prefix: '10.0.0.1/8', nextHop: '192.0.2.1' }] }, CTX, /^update\.announce\[0\]\.prefix: 10\.0\.0\.1\/8 has host bits set beyond \/8$/],
    [{ withdraw: ['10.0.0.0/8', '10.0.0.0/8'] }, CTX, /^update\.withdraw\[1\]\.prefix: 10\.0\.0\.0\/8 appears more than once$/],
    [{ announce: [{ prefix: '10.0.0.0/8', pathId: 1, nextHop: '192.0.2.1' }] }, CTX, /^update\.announce\[0\]\.pathId: add-path is not negotiated for sending ipv4-unicast$/],
    [{ announce: [{ prefix: '10.0.0.0/8', nextHop: '192.0.2.1', attrs: { localPref: 100 } }] }, CTX, /^update\.announce\[0\]\.attrs\.localPref: is not sent to an external peer$/],
    [{ announce: [{ prefix: '10.0.0.0/8', nextHop: '192.0.2.1', attrs: { nextHop: '192.0.2.2' } as never }] }, CTX, /attrs\.nextHop: give the next hop as announce\[\]\.nextHop/],
  ];
  for (const [input, ctx, re] of cases) {
    assert.throws(() => update(input, ctx), (err: Error & { code?: string }) => err.code === 'NA_ERR_BGP_INVALID_MESSAGE' && re.test(err.message), re.source);
  }
  const huge = { prefix: '10.0.0.0/8', nextHop: '192.0.2.1', attrs: { communities: Array.from({ length: 1100 }, (_, i) => i) } };
  assert.throws(() => update({ announce: [huge] }, CTX), { code: 'NA_ERR_BGP_MESSAGE_TOO_LARGE' });
});
