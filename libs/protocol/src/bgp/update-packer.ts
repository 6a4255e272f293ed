/**
 * `UpdatePacker`: the UPDATE messages of a large table, built as the routes are given, for a
 * speaker that holds its table compactly (one shared attribute set for many prefixes). It packs
 * exactly as `update()` does (same messages, same order, byte for byte: withdrawals first, IPv4
 * then IPv6, then announcements grouped by next hop and attributes in the order the groups first
 * appear, each group filled greedily up to the session's maximum length), but it never holds
 * more than one message's worth of NLRI per group as objects: a full message is encoded at once
 * and kept as its bytes. For 100,000 prefixes that is ~0.5 MB of messages instead of several
 * objects per prefix alive until the end.
 *
 *   const p = new UpdatePacker(ctx);
 *   const attrs = p.attributes('ipv4-unicast', '192.0.2.1', { origin: 'igp', asPath: [...] });
 *   for (const prefix of table) p.announce(attrs, prefix);
 *   p.withdraw('198.51.100.0/24');
 *   for (const buf of p.finish()) socket.write(buf);
 *
 * Unlike `update()`, a prefix given twice is not refused (it would be sent twice): the caller
 * keeps one change per prefix and path identifier.
 */
import { nlriPrefix } from './address.js';
import type { PathAttributes } from './attributes.js';
import { writeAttributes } from './attributes.js';
import { HEADER_LENGTH } from './constants.js';
import type { Family } from './constants.js';
import type { SessionContext } from './context.js';
import { DEFAULT_CONTEXT, addPathOn, maxMessageLength } from './context.js';
import { NA_ERR_BGP_INVALID_MESSAGE, NA_ERR_BGP_MESSAGE_TOO_LARGE } from './errors.js';
import { encodeMessage } from './message.js';
import { nextHopField } from './multiprotocol.js';
import type { Nlri, PreparedNlri } from './nlri.js';
import { nlriLength, prepareNlri } from './nlri.js';
import type { UpdateMessage } from './update.js';
import type { RouteAttributes } from './update-builder.js';
import { ByteWriter, attributeHeaderLength } from './wire.js';

const ROUTE_DEFAULTS: RouteAttributes = { origin: 'igp', asPath: [] };

/** Octets of an UPDATE without withdrawn routes, attributes or NLRI. */
const EMPTY_UPDATE = HEADER_LENGTH + 4;

/** One message being filled, and the encoded messages before it. */
class Batcher {
  private batch: Nlri[] = [];
  private octets = 0;
  readonly done: Buffer[] = [];

  constructor(
    private readonly max: number,
    /** Size of a message holding `n` octets of NLRI. */
    private readonly total: (n: number) => number,
    private readonly message: (batch: Nlri[]) => UpdateMessage,
    private readonly ctx: SessionContext,
  ) {}

  add(p: PreparedNlri): void {
    const size = nlriLength(p.length, p.pathId !== undefined);
    if (this.total(this.octets + size) > this.max) {
      if (this.batch.length === 0) throw NA_ERR_BGP_MESSAGE_TOO_LARGE(`UPDATE for ${p.prefix}`, this.total(size), this.max);
      this.flush();
    }
    this.batch.push(p.pathId === undefined ? { prefix: p.prefix } : { prefix: p.prefix, pathId: p.pathId });
    this.octets += size;
  }

  flush(): void {
    if (this.batch.length === 0) return;
    this.done.push(encodeMessage(this.message(this.batch), this.ctx));
    this.batch = [];
    this.octets = 0;
  }
}

/** Path attributes shared by announcements, checked and measured once (from `attributes()`). */
export interface PackedAttributes {
  readonly family: Family;
  /** @internal the group its announcements go to */
  readonly key: string;
}

interface Group extends PackedAttributes {
  readonly batcher: Batcher;
}

function invalid(path: string, what: string): Error {
  return NA_ERR_BGP_INVALID_MESSAGE(`${path}: ${what}`);
}

export class UpdatePacker {
  private readonly max: number;
  private readonly v4Withdrawn: Batcher;
  private readonly v6Withdrawn: Batcher;
  /** Groups by key, in the order their first announcement came (the order `update()` sends them). */
  private readonly groups = new Map<string, Group>();
  /** Every attribute set made, used or not. */
  private readonly sets = new Map<string, Group>();
  private finished = false;

  constructor(private readonly ctx: SessionContext = DEFAULT_CONTEXT) {
    this.max = maxMessageLength(ctx, 'send');
    this.v4Withdrawn = new Batcher(this.max, (n) => EMPTY_UPDATE + n, (withdrawn) => ({ type: 'update', withdrawn, attributes: {}, nlri: [] }), ctx);
    this.v6Withdrawn = new Batcher(
      this.max,
      (n) => EMPTY_UPDATE + attributeHeaderLength(3 + n) + 3 + n,
      (withdrawn) => ({ type: 'update', withdrawn: [], attributes: {}, nlri: [], mpUnreach: { family: 'ipv6-unicast', withdrawn } }),
      ctx,
    );
  }

  /**
   * Checks and encodes a set of path attributes with its next hop (an IPv4 next hop for IPv4, a
   * global IPv6 one, and optionally a link-local one, for IPv6); announcements given the same
   * set (or an equal one) share UPDATEs.
   */
  attributes(family: Family, nextHop: string, attrs?: RouteAttributes, linkLocalNextHop?: string, path = 'attributes'): PackedAttributes {
    if (!this.ctx.families.includes(family)) throw invalid(path, `${family} is not a family of this session`);
    attrs ??= {};
    if (attrs === null || typeof attrs !== 'object') throw invalid(`${path}.attrs`, 'expected an object');
    if ('nextHop' in attrs) throw invalid(`${path}.attrs.nextHop`, 'give the next hop beside the attributes');
    const nh = nextHopField(family, nextHop, linkLocalNextHop, path);
    const v4 = family === 'ipv4-unicast';
    const attributes: PathAttributes = v4 ? { ...ROUTE_DEFAULTS, ...attrs, nextHop } : { ...ROUTE_DEFAULTS, ...attrs };
    const w = new ByteWriter(128);
    writeAttributes(w, attributes, this.ctx, `${path}.attrs`);
    const bytes = w.finish();
    const key = `${family}|${nh.toString('hex')}|${bytes.toString('latin1')}`;
    const known = this.sets.get(key);
    if (known !== undefined) return known;
    const attrLength = bytes.length;
    let batcher: Batcher;
    if (v4) {
      batcher = new Batcher(this.max, (n) => EMPTY_UPDATE + attrLength + n, (nlri) => ({ type: 'update', withdrawn: [], attributes, nlri }), this.ctx);
    } else {
      const mpFixed = 5 + nh.length;
      const ll = linkLocalNextHop === undefined ? {} : { linkLocalNextHop };
      batcher = new Batcher(
        this.max,
        (n) => EMPTY_UPDATE + attrLength + attributeHeaderLength(mpFixed + n) + mpFixed + n,
        (nlri) => ({ type: 'update', withdrawn: [], attributes, nlri: [], mpReach: { family, nextHop, ...ll, nlri } }),
        this.ctx,
      );
    }
    const g: Group = { family, key, batcher };
    this.sets.set(key, g);
    return g;
  }

  private prepare(prefix: string, pathId: number | undefined, family: Family | undefined, path: string): PreparedNlri {
    if (this.finished) throw invalid(path, 'the packer has finished');
    const parsed = nlriPrefix(prefix);
    if (typeof parsed === 'string') throw invalid(`${path}.prefix`, parsed);
    if (!this.ctx.families.includes(parsed.family)) throw invalid(`${path}.prefix`, `${parsed.family} is not a family of this session`);
    if (family !== undefined && parsed.family !== family) throw invalid(`${path}.prefix`, `${prefix} is not ${family}`);
    return prepareNlri(pathId === undefined ? { prefix } : { prefix, pathId }, parsed.family, addPathOn(this.ctx, parsed.family, 'send'), path);
  }

  /** Announces `prefix` (with `pathId` when add-path is negotiated for sending) with `set`. */
  announce(set: PackedAttributes, prefix: string, pathId?: number): void {
    const g = this.sets.get(set?.key);
    if (g === undefined || g !== set) throw invalid('announce', 'expected attributes from this packer');
    const p = this.prepare(prefix, pathId, g.family, 'announce');
    if (!this.groups.has(g.key)) this.groups.set(g.key, g);
    g.batcher.add(p);
  }

  /** Withdraws `prefix` (with `pathId` when add-path is negotiated for sending). */
  withdraw(prefix: string, pathId?: number): void {
    const p = this.prepare(prefix, pathId, undefined, 'withdraw');
    (p.family === 'ipv4-unicast' ? this.v4Withdrawn : this.v6Withdrawn).add(p);
  }

  /** The encoded UPDATE messages; the packer takes nothing more afterwards. */
  finish(): Buffer[] {
    this.finished = true;
    const all = [this.v4Withdrawn, this.v6Withdrawn, ...[...this.groups.values()].map((g) => g.batcher)];
    const out: Buffer[] = [];
    for (const b of all) {
      b.flush();
      out.push(...b.done);
    }
    this.groups.clear();
    this.sets.clear();
    return out;
  }
}
