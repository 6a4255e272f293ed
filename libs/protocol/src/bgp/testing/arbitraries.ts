/**
 * fast-check arbitraries of valid BGP messages for a session context, shared by the round-trip
 * tests, the unit fuzz test and `scripts/fuzz-bgp.ts`. Every message generated encodes under its
 * context and decodes back to a deep-equal value: AS numbers fit the session's AS size, path
 * identifiers appear exactly when add-path is on, internal-only attributes only on iBGP, unknown
 * attributes and capabilities use codes the codec does not recognise, lists are canonical.
 * Test support only: not exported by the package.
 */
import fc from 'fast-check';
import { formatIPv4, formatIPv6, formatPrefix } from '../address.js';
import type { AsPath, AsPathSegment, AsPathSegmentType } from '../as-path.js';
import type { LargeCommunity, PathAttributes, UnknownAttribute } from '../attributes.js';
import { ATTRIBUTE_SPECS } from '../attributes.js';
import type { Capability } from '../capabilities.js';
import { CapabilityCode, maxPrefixBits } from '../constants.js';
import type { Family } from '../constants.js';
import type { SessionContext } from '../context.js';
import { addPathOn, createContext } from '../context.js';
import type { BgpMessage } from '../message.js';
import type { MpReach, MpUnreach } from '../multiprotocol.js';
import type { Nlri } from '../nlri.js';
import type { NotificationMessage } from '../notification.js';
import type { OpenMessage } from '../open.js';
import type { RouteRefreshMessage } from '../route-refresh.js';
import type { UpdateMessage } from '../update.js';

const u32 = fc.nat({ max: 0xffffffff });
const u16 = fc.nat({ max: 0xffff });
const u8 = fc.nat({ max: 0xff });
/** fc.record with plain objects (deepStrictEqual compares prototypes). */
function rec<T>(parts: { [K in keyof T]: fc.Arbitrary<T[K]> }, requiredKeys?: (keyof T)[]): fc.Arbitrary<T> {
  const opts = requiredKeys === undefined ? { noNullPrototype: true } : { noNullPrototype: true, requiredKeys };
  return fc.record(parts, opts as { noNullPrototype: true }) as unknown as fc.Arbitrary<T>;
}
const bytes = (max: number, min = 0): fc.Arbitrary<Buffer> => fc.uint8Array({ minLength: min, maxLength: max }).map((a) => Buffer.from(a));

/** Contexts covering 2- and 4-octet AS, add-path per family, iBGP / eBGP, extended messages. */
export const contextArb: fc.Arbitrary<SessionContext> = fc
  .record({ asn4: fc.boolean(), ibgp: fc.boolean(), ext: fc.boolean(), ap4: fc.boolean(), ap6: fc.boolean() })
  .map(({ asn4, ibgp, ext, ap4, ap6 }) => {
    const ap: Family[] = [...(ap4 ? ['ipv4-unicast' as const] : []), ...(ap6 ? ['ipv6-unicast' as const] : [])];
    return createContext({ asn4, ibgp, extendedMessages: ext, routeRefresh: true, families: ['ipv4-unicast', 'ipv6-unicast'], addPath: { send: ap, receive: ap } });
  });

/** Every combination of the context switches, for deterministic loops. */
export function allContexts(): SessionContext[] {
  const out: SessionContext[] = [];
  for (let i = 0; i < 32; i++) {
    const ap: Family[] = [...(i & 8 ? ['ipv4-unicast' as const] : []), ...(i & 16 ? ['ipv6-unicast' as const] : [])];
    out.push(createContext({ asn4: (i & 1) !== 0, ibgp: (i & 2) !== 0, extendedMessages: (i & 4) !== 0, routeRefresh: true, families: ['ipv4-unicast', 'ipv6-unicast'], addPath: { send: ap, receive: ap } }));
  }
  return out;
}

export function prefixArb(family: Family): fc.Arbitrary<string> {
  const size = family === 'ipv4-unicast' ? 4 : 16;
  return fc.tuple(fc.integer({ min: 0, max: maxPrefixBits(family) }), bytes(size, size)).map(([len, b]) => formatPrefix(family, b, 0, len));
}

export function nlriArb(family: Family, addPath: boolean): fc.Arbitrary<Nlri> {
  return addPath ? rec({ prefix: prefixArb(family), pathId: u32 }) : rec({ prefix: prefixArb(family) });
}

const nlriList = (family: Family, addPath: boolean, max = 6): fc.Arbitrary<Nlri[]> => fc.array(nlriArb(family, addPath), { maxLength: max });

export const ipv4Arb: fc.Arbitrary<string> = bytes(4, 4).map((b) => formatIPv4(b));
/** IPv4 addresses usable as next hops: 1.0.0.0 .. 223.255.255.255. */
export const nextHopV4Arb: fc.Arbitrary<string> = fc.tuple(fc.integer({ min: 1, max: 223 }), bytes(3, 3)).map(([a, b]) => formatIPv4(Buffer.concat([Uint8Array.of(a), b])));
export const ipv6Arb: fc.Arbitrary<string> = bytes(16, 16).map((b) => formatIPv6(b));
/** Global IPv6 next hops: not :: and not multicast. */
export const nextHopV6Arb: fc.Arbitrary<string> = fc.tuple(fc.integer({ min: 0x01, max: 0xfe }), bytes(15, 15)).map(([a, b]) => formatIPv6(Buffer.concat([Uint8Array.of(a), b])));

function asnArb(fourOctets: boolean): fc.Arbitrary<number> {
  return fourOctets ? fc.oneof(fc.integer({ min: 1, max: 0xffff }), fc.integer({ min: 1, max: 0xffffffff })) : fc.integer({ min: 1, max: 0xffff });
}

export function asPathArb(fourOctets: boolean, confed: boolean, maxSegments = 4): fc.Arbitrary<AsPath> {
  const types: AsPathSegmentType[] = confed ? ['sequence', 'set', 'confed-sequence', 'confed-set'] : ['sequence', 'set'];
  const seg: fc.Arbitrary<AsPathSegment> = rec({ type: fc.constantFrom(...types), asns: fc.array(asnArb(fourOctets), { minLength: 1, maxLength: 10 }) });
  return fc.array(seg, { maxLength: maxSegments });
}

const KNOWN_ATTRIBUTES = new Set(ATTRIBUTE_SPECS.keys());
const unknownAttributeArb: fc.Arbitrary<UnknownAttribute> = rec({
  typeCode: u8.filter((t) => !KNOWN_ATTRIBUTES.has(t)),
  partial: fc.boolean(),
  value: fc.oneof(bytes(12), bytes(300, 256)),
});

const largeCommunityArb: fc.Arbitrary<LargeCommunity> = rec({ globalAdmin: u32, localData1: u32, localData2: u32 });

/** Path attributes valid on `ctx`; `announce` adds ORIGIN and AS_PATH, `nextHop` adds NEXT_HOP. */
export function attributesArb(ctx: SessionContext, need: { announce: boolean; nextHop: boolean }): fc.Arbitrary<PathAttributes> {
  const ib = ctx.ibgp;
  const as4 = ctx.asn4;
  const never = fc.constant(undefined);
  const parts = {
    origin: fc.constantFrom('igp' as const, 'egp' as const, 'incomplete' as const),
    asPath: asPathArb(as4, ib),
    nextHop: nextHopV4Arb,
    med: u32,
    localPref: ib ? u32 : never,
    atomicAggregate: fc.constant(true as const),
    aggregator: rec({ asn: asnArb(as4), address: ipv4Arb }),
    communities: fc.array(u32, { minLength: 1, maxLength: 20 }),
    originatorId: ib ? ipv4Arb : never,
    clusterList: ib ? fc.array(ipv4Arb, { minLength: 1, maxLength: 5 }) : never,
    as4Path: as4 ? never : asPathArb(true, false, 3).filter((p) => p.length > 0),
    as4Aggregator: as4 ? never : rec({ asn: asnArb(true), address: ipv4Arb }),
    largeCommunities: fc.array(largeCommunityArb, { minLength: 1, maxLength: 8 }),
    unknown: fc.uniqueArray(unknownAttributeArb, { minLength: 1, maxLength: 3, selector: (u) => u.typeCode }).map((l) => l.sort((a, b) => a.typeCode - b.typeCode)),
  };
  const required: (keyof typeof parts)[] = [];
  if (need.announce) required.push('origin', 'asPath');
  if (need.nextHop) required.push('nextHop');
  return rec(parts, required).map((a) => {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(a)) if (v !== undefined) out[k] = v;
    return out as PathAttributes;
  });
}

function mpReachArb(ctx: SessionContext): fc.Arbitrary<MpReach> {
  return fc.constantFrom<Family>('ipv4-unicast', 'ipv6-unicast').chain((family) => {
    const nlri = nlriList(family, addPathOn(ctx, family, 'send'));
    if (family === 'ipv4-unicast') return rec({ family: fc.constant(family), nextHop: nextHopV4Arb, nlri });
    return rec<MpReach>({ family: fc.constant(family), nextHop: nextHopV6Arb, linkLocalNextHop: ipv6Arb, nlri }, ['family', 'nextHop', 'nlri']);
  });
}

function mpUnreachArb(ctx: SessionContext): fc.Arbitrary<MpUnreach> {
  return fc.constantFrom<Family>('ipv4-unicast', 'ipv6-unicast').chain((family) => rec({ family: fc.constant(family), withdrawn: nlriList(family, addPathOn(ctx, family, 'send')) }));
}

export function updateArb(ctx: SessionContext): fc.Arbitrary<UpdateMessage> {
  const v4ap = addPathOn(ctx, 'ipv4-unicast', 'send');
  return fc
    .record(
      { withdrawn: nlriList('ipv4-unicast', v4ap), nlri: nlriList('ipv4-unicast', v4ap), mpReach: mpReachArb(ctx), mpUnreach: mpUnreachArb(ctx) },
      { requiredKeys: ['withdrawn', 'nlri'], noNullPrototype: true },
    )
    .chain((m) => {
      const announce = m.nlri.length > 0 || (m.mpReach !== undefined && m.mpReach.nlri.length > 0);
      return attributesArb(ctx, { announce, nextHop: m.nlri.length > 0 }).map((attributes) => {
        const msg: Record<string, unknown> = { type: 'update', withdrawn: m.withdrawn, attributes, nlri: m.nlri };
        if (m.mpReach !== undefined) msg.mpReach = m.mpReach;
        if (m.mpUnreach !== undefined) msg.mpUnreach = m.mpUnreach;
        return msg as unknown as UpdateMessage;
      });
    });
}

const KNOWN_CAPABILITIES = new Set<number>(Object.values(CapabilityCode));
const afiSafi = { afi: u16, safi: u8 };

export const capabilityArb: fc.Arbitrary<Capability> = fc.oneof(
  rec({ type: fc.constant('multiprotocol' as const), ...afiSafi }),
  fc.constant({ type: 'route-refresh' as const }),
  fc.constant({ type: 'enhanced-route-refresh' as const }),
  fc.constant({ type: 'extended-message' as const }),
  rec({ type: fc.constant('four-octet-as' as const), asn: fc.integer({ min: 1, max: 0xffffffff }) }),
  rec({
    type: fc.constant('add-path' as const),
    families: fc.array(
      rec({ ...afiSafi, send: fc.boolean(), receive: fc.boolean() }).map((f) => (f.send || f.receive ? f : { ...f, receive: true })),
      { maxLength: 4 },
    ),
  }),
  rec({
    type: fc.constant('graceful-restart' as const),
    restarting: fc.boolean(),
    notification: fc.boolean(),
    restartTime: fc.integer({ min: 0, max: 4095 }),
    families: fc.array(rec({ ...afiSafi, forwardingPreserved: fc.boolean() }), { maxLength: 4 }),
  }),
  rec({ type: fc.constant('unknown' as const), code: u8.filter((c) => !KNOWN_CAPABILITIES.has(c)), value: bytes(24) }),
);

export function openArb(maxCapabilities = 12): fc.Arbitrary<OpenMessage> {
  return rec({
    type: fc.constant('open' as const),
    myAs: fc.integer({ min: 1, max: 0xffff }),
    holdTime: fc.oneof(fc.constant(0), fc.integer({ min: 3, max: 0xffff })),
    routerId: nextHopV4Arb,
    capabilities: fc.array(capabilityArb, { maxLength: maxCapabilities }),
  });
}

export const notificationArb: fc.Arbitrary<NotificationMessage> = rec({ type: fc.constant('notification' as const), code: u8, subcode: u8, data: bytes(64) });

export const routeRefreshArb: fc.Arbitrary<RouteRefreshMessage> = rec({ type: fc.constant('route-refresh' as const), afi: u16, safi: u8, subtype: u8 });

/** Any message valid on `ctx`. */
export function messageArb(ctx: SessionContext): fc.Arbitrary<BgpMessage> {
  return fc.oneof(
    { arbitrary: updateArb(ctx), weight: 6 },
    { arbitrary: openArb(), weight: 2 },
    { arbitrary: notificationArb, weight: 1 },
    { arbitrary: routeRefreshArb, weight: 1 },
    { arbitrary: fc.constant({ type: 'keepalive' as const }), weight: 1 },
  );
}
