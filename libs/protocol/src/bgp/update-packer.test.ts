// UpdatePacker: the same UPDATEs as update() + encodeMessage, byte for byte, built as routes come.
import { test } from 'vitest';
import assert from 'node:assert/strict';
import type { NetaccelError } from '@netaccel/errors';
import { asSequence } from './as-path.js';
import { createContext } from './context.js';
import type { SessionContext } from './context.js';
import { NA_ERR_BGP_INVALID_MESSAGE } from './errors.js';
import { encodeMessage } from './message.js';
import { update } from './update-builder.js';
import type { Announcement, RouteAttributes, Withdrawal } from './update-builder.js';
import { UpdatePacker } from './update-packer.js';
import type { PackedAttributes } from './update-packer.js';
import { Rng } from '../random.js';

const BOTH = ['ipv4-unicast', 'ipv6-unicast'] as const;
const CTX = createContext({ asn4: true, families: [...BOTH] });
const EXT = createContext({ asn4: true, families: [...BOTH], extendedMessages: true });
const ADDPATH = createContext({ asn4: true, families: [...BOTH], addPath: { send: [...BOTH], receive: [...BOTH] } });

const ATTRS: (RouteAttributes | undefined)[] = [
  undefined,
  { origin: 'igp', asPath: asSequence(65001) },
  { origin: 'igp', asPath: asSequence(65001), med: 10, communities: [0xfde90001] },
  { origin: 'incomplete', asPath: [], med: 0, largeCommunities: [{ globalAdmin: 65001, localData1: 1, localData2: 2 }] },
];
const V4_HOPS = ['192.0.2.1', '192.0.2.2'];
const V6_HOPS = ['2001:db8::1', '2001:db8::2'];

/** A random table: unique prefixes of both families, some withdrawn, a few attribute sets. */
function table(n: number, random: () => number, addPath: boolean): { announce: Announcement[]; withdraw: Withdrawal[] } {
  const announce: Announcement[] = [];
  const withdraw: Withdrawal[] = [];
  for (let i = 0; i < n; i++) {
    const six = random() < 0.3;
    const len = six ? 32 + Math.floor(random() * 97) : 8 + Math.floor(random() * 25);
    const prefix = six ? `2001:db8:${(i + 1).toString(16)}::/${Math.max(len, 48)}` : `${10 + (i >> 16)}.${(i >> 8) & 0xff}.${i & 0xff}.0/${Math.max(len, 24)}`;
    const pathId = addPath ? 1 + Math.floor(random() * 3) : undefined;
    if (random() < 0.25) {
      withdraw.push(pathId === undefined ? prefix : { prefix, pathId });
      continue;
    }
    const attrs = ATTRS[Math.floor(random() * ATTRS.length)];
    const nextHop = (six ? V6_HOPS : V4_HOPS)[Math.floor(random() * 2)]!;
    announce.push({ prefix, nextHop, ...(attrs === undefined ? {} : { attrs }), ...(pathId === undefined ? {} : { pathId }) });
  }
  return { announce, withdraw };
}

/** The packer fed in an interleaving of the table's announcements and withdrawals. */
function packed(t: { announce: Announcement[]; withdraw: Withdrawal[] }, ctx: SessionContext, random: () => number): Buffer[] {
  const p = new UpdatePacker(ctx);
  const sets = new Map<string, PackedAttributes>();
  let a = 0;
  let w = 0;
  while (a < t.announce.length || w < t.withdraw.length) {
    if (w < t.withdraw.length && (a === t.announce.length || random() < 0.3)) {
      const x = t.withdraw[w++]!;
      if (typeof x === 'string') p.withdraw(x);
      else p.withdraw(x.prefix, x.pathId);
      continue;
    }
    const x = t.announce[a++]!;
    const family = x.prefix.includes(':') ? 'ipv6-unicast' : 'ipv4-unicast';
    const k = JSON.stringify([family, x.nextHop, x.attrs ?? null]);
    let set = sets.get(k);
    if (set === undefined) {
      // a new handle for an equal set now and then: it joins the same group
      set = p.attributes(family, x.nextHop, x.attrs);
      if (random() < 0.5) sets.set(k, set);
    }
    p.announce(set, x.prefix, x.pathId);
  }
  return p.finish();
}

test('the packer makes the bytes of update() + encodeMessage, for random tables and every session kind', () => {
  const rng = new Rng(7);
  const random = (): number => rng.next();
  for (const [name, ctx] of [
    ['4096-octet', CTX],
    ['extended messages', EXT],
    ['add-path', ADDPATH],
  ] as const) {
    for (const n of [0, 1, 37, 1200]) {
      const t = table(n, random, ctx === ADDPATH);
      const want = update(t, ctx).map((m) => encodeMessage(m, ctx));
      const got = packed(t, ctx, random);
      assert.equal(got.length, want.length, `${name}, ${n} routes: message count`);
      got.forEach((b, i) => assert.ok(b.equals(want[i]!), `${name}, ${n} routes: message ${i} differs`));
    }
  }
});

function refused(fn: () => unknown, match: RegExp): void {
  try {
    fn();
  } catch (err) {
    assert.ok(NA_ERR_BGP_INVALID_MESSAGE.is(err), String(err));
    assert.match((err as NetaccelError).message, match);
    return;
  }
  assert.fail(`expected an error matching ${match}`);
}

test('bad input is refused with the path of what is wrong, and nothing is half-added', () => {
  const v4only = createContext({ asn4: true, families: ['ipv4-unicast'] });
  const p = new UpdatePacker(v4only);
  const set = p.attributes('ipv4-unicast', '192.0.2.1', { origin: 'igp', asPath: asSequence(65001) });
  refused(() => p.attributes('ipv6-unicast', '2001:db8::1'), /ipv6-unicast is not a family of this session/);
  refused(() => p.attributes('ipv4-unicast', '192.0.2.1', { nextHop: '192.0.2.9' } as unknown as RouteAttributes), /attrs\.nextHop/);
  refused(() => p.announce(set, '10.0.0.1/8'), /announce\.prefix/);
  refused(() => p.announce(set, 'not a prefix'), /announce\.prefix/);
  refused(() => p.announce(set, '10.0.0.0/8', 1), /add-path is not negotiated/);
  refused(() => p.withdraw('2001:db8::/32'), /ipv6-unicast is not a family of this session/);
  refused(() => new UpdatePacker(v4only).announce(set, '10.0.0.0/8'), /attributes from this packer/);
  p.announce(set, '10.0.0.0/8');
  const out = p.finish();
  assert.equal(out.length, 1);
  assert.ok(out[0]!.equals(encodeMessage(update({ announce: [{ prefix: '10.0.0.0/8', nextHop: '192.0.2.1', attrs: { origin: 'igp', asPath: asSequence(65001) } }] }, v4only)[0]!, v4only)));
  refused(() => p.withdraw('10.0.0.0/8'), /finished/);
});
