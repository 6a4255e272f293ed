/**
 * Test-failure helpers: a hexdump that marks bytes, and a packet diff that names the layer and
 * field of every difference (`layers[2] ipv4.ttl @22: expected 64, got 63`).
 */
import { AssertionError } from 'node:assert';
import { buildPacket } from './build.js';
import type { FieldSpan } from './codec.js';
import { ETH_FIELDS, VLAN_FIELDS } from './ethernet.js';
import { GUE_FIELDS } from './gue.js';
import { ICMP_FIELDS } from './icmp.js';
import { IPV4_FIELDS } from './ipv4.js';
import { AH_FIELDS, IPV6_FIELDS, IPV6_FRAGMENT_FIELDS, IPV6_OPTIONS_FIELDS, IPV6_ROUTING_FIELDS } from './ipv6.js';
import type { Layer, LayerType, Packet } from './model.js';
import type { LayerSpan, PacketAnalysis, ParseOptions } from './parse.js';
import { inspectPacket } from './parse.js';
import { formatTcpFlags, TCP_FIELDS } from './tcp.js';
import { UDP_FIELDS } from './udp.js';
import { toHex } from './wire.js';

const FIELDS: Readonly<Record<LayerType, readonly FieldSpan[]>> = {
  eth: ETH_FIELDS,
  vlan: VLAN_FIELDS,
  ipv4: IPV4_FIELDS,
  ipv6: IPV6_FIELDS,
  'ipv6-hbh': IPV6_OPTIONS_FIELDS,
  'ipv6-dstopts': IPV6_OPTIONS_FIELDS,
  'ipv6-route': IPV6_ROUTING_FIELDS,
  'ipv6-frag': IPV6_FRAGMENT_FIELDS,
  ah: AH_FIELDS,
  tcp: TCP_FIELDS,
  udp: UDP_FIELDS,
  icmp: ICMP_FIELDS,
  icmpv6: ICMP_FIELDS,
  gue: GUE_FIELDS,
};

/** Model field names that live in a shared wire field (`df` → `flags/fragOffset`). */
const WIRE_FIELD: Readonly<Record<string, string>> = {
  ihl: 'version/ihl',
  reservedFlag: 'flags/fragOffset',
  df: 'flags/fragOffset',
  mf: 'flags/fragOffset',
  fragOffset: 'flags/fragOffset',
  trafficClass: 'version/trafficClass/flowLabel',
  flowLabel: 'version/trafficClass/flowLabel',
  pcp: 'pcp/dei/vid',
  dei: 'pcp/dei/vid',
  vid: 'pcp/dei/vid',
  dataOffset: 'dataOffset/flags',
  flags: 'dataOffset/flags',
  version: 'version/control/hlen',
  control: 'version/control/hlen',
  hlen: 'version/control/hlen',
};

export interface HexdumpOptions {
  /** Bytes per line; default 16. */
  width?: number;
  /** Offsets to mark with `^^` on a line below. */
  mark?: ReadonlySet<number>;
}

/** Offset, hex and ASCII columns; marked bytes get `^^` underneath. */
export function hexdump(bytes: Uint8Array, opts: HexdumpOptions = {}): string {
  const width = opts.width ?? 16;
  const lines: string[] = [];
  for (let base = 0; base < bytes.length; base += width) {
    const row = bytes.subarray(base, base + width);
    const hex = [...row].map((b) => b.toString(16).padStart(2, '0')).join(' ');
    const ascii = [...row].map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('');
    lines.push(`${base.toString(16).padStart(4, '0')}  ${hex.padEnd(width * 3 - 1)}  |${ascii}|`);
    if (opts.mark !== undefined && [...row.keys()].some((i) => opts.mark!.has(base + i))) {
      lines.push(`      ${[...row.keys()].map((i) => (opts.mark!.has(base + i) ? '^^' : '  ')).join(' ')}`.trimEnd());
    }
  }
  return lines.join('\n');
}

/** The layer and field holding byte `offset`, from a parse's spans: `layers[2] ipv4.ttl`. */
export function describeOffset(analysis: PacketAnalysis, offset: number): string {
  if (offset >= analysis.trailerOffset) return 'trailer';
  if (offset >= analysis.payloadOffset) return 'payload';
  let span: LayerSpan | undefined;
  for (const s of analysis.spans) if (offset >= s.offset && offset < s.offset + s.length) span = s;
  if (span === undefined) return 'payload';
  const rel = offset - span.offset;
  const field = FIELDS[span.type].find((f) => rel >= f.offset && (f.length === -1 || rel < f.offset + f.length));
  return `layers[${span.index}] ${span.type}.${field?.name ?? '?'}`;
}

export interface PacketDifference {
  /** `layers[2] ipv4.ttl`, `layers`, `payload`, `trailer` or `bytes`. */
  where: string;
  /** Offset of the field in the expected bytes, when known. */
  offset?: number;
  expected: string;
  actual: string;
}

export interface PacketDiff {
  equal: boolean;
  differences: PacketDifference[];
  /** A readable report with both hexdumps, differing bytes marked; empty when equal. */
  text: string;
}

const HEX_FIELDS = new Set(['checksum', 'etherType', 'tpid', 'rest', 'spi', 'tos', 'trafficClass', 'flowLabel']);

function show(layer: Layer, key: string, v: unknown): string {
  if (v === undefined) return '(none)';
  if (v instanceof Uint8Array) {
    if (v.length === 0) return '(empty)';
    return v.length > 32 ? `${toHex(v.subarray(0, 32))}… (${v.length} bytes)` : toHex(v);
  }
  if (typeof v === 'number' && layer.type === 'tcp' && key === 'flags') {
    return `0x${v.toString(16).padStart(3, '0')} (${formatTcpFlags(v)})`;
  }
  if (typeof v === 'number' && HEX_FIELDS.has(key)) return `0x${v.toString(16)}`;
  return String(v);
}

function same(a: unknown, b: unknown): boolean {
  if (a instanceof Uint8Array && b instanceof Uint8Array) return a.length === b.length && a.every((x, i) => x === b[i]);
  return a === b;
}

function bytesOf(p: Uint8Array | Packet): Uint8Array {
  return p instanceof Uint8Array ? p : buildPacket(p);
}

function fieldOffset(span: LayerSpan | undefined, layer: Layer, key: string): number | undefined {
  if (span === undefined) return undefined;
  const name = WIRE_FIELD[key] ?? key;
  const f = FIELDS[layer.type].find((x) => x.name === name);
  return f === undefined ? undefined : span.offset + f.offset;
}

function layerDifferences(e: PacketAnalysis, a: PacketAnalysis): PacketDifference[] {
  const out: PacketDifference[] = [];
  const el = e.packet.layers;
  const al = a.packet.layers;
  for (let i = 0; i < Math.max(el.length, al.length); i++) {
    const x = el[i];
    const y = al[i];
    if (x === undefined || y === undefined || x.type !== y.type) {
      out.push({ where: `layers[${i}]`, expected: x?.type ?? '(none)', actual: y?.type ?? '(none)' });
      return out;
    }
    const keys = new Set([...Object.keys(x), ...Object.keys(y)]);
    for (const k of keys) {
      const ev = (x as unknown as Record<string, unknown>)[k];
      const av = (y as unknown as Record<string, unknown>)[k];
      if (same(ev, av)) continue;
      const offset = fieldOffset(e.spans[i], x, k);
      const where = `layers[${i}] ${x.type}.${k}`;
      out.push({ where, ...(offset === undefined ? {} : { offset }), expected: show(x, k, ev), actual: show(y, k, av) });
    }
  }
  for (const part of ['payload', 'trailer'] as const) {
    const ev = e.packet[part] ?? new Uint8Array(0);
    const av = a.packet[part] ?? new Uint8Array(0);
    if (same(ev, av)) continue;
    let k = 0;
    while (k < ev.length && k < av.length && ev[k] === av[k]) k++;
    const base = part === 'payload' ? e.payloadOffset : e.trailerOffset;
    const from = (b: Uint8Array): string => `${b.length} bytes, ${toHex(b.subarray(k, k + 16))}… at +${k}`;
    out.push({ where: part, offset: base + k, expected: from(ev), actual: from(av) });
  }
  return out;
}

/**
 * Compares two packets (bytes, or models that are built first) and names where they differ.
 * Both are parsed leniently with `opts`, so broken packets are compared too.
 */
export function diffPackets(actual: Uint8Array | Packet, expected: Uint8Array | Packet, opts: Omit<ParseOptions, 'mode'> = {}): PacketDiff {
  const ab = bytesOf(actual);
  const eb = bytesOf(expected);
  if (same(ab, eb)) return { equal: true, differences: [], text: '' };
  const e = inspectPacket(eb, { ...opts, mode: 'lenient' });
  const a = inspectPacket(ab, { ...opts, mode: 'lenient' });
  const differences = layerDifferences(e, a);
  if (eb.length !== ab.length) differences.push({ where: 'bytes', expected: `${eb.length} bytes`, actual: `${ab.length} bytes` });
  const mark = new Set<number>();
  for (let i = 0; i < Math.max(ab.length, eb.length); i++) if (ab[i] !== eb[i]) mark.add(i);
  const runs: string[] = [];
  for (const i of [...mark].sort((p, q) => p - q)) {
    const where = describeOffset(i < eb.length ? e : a, i);
    const last = runs[runs.length - 1];
    if (last !== undefined && last.endsWith(`(${where})`) && mark.has(i - 1)) {
      runs[runs.length - 1] = last.replace(/^(\d+)(?:\.\.\d+)? /, `$1..${i} `);
    } else {
      runs.push(`${i} (${where})`);
    }
  }
  const lines = [`packets differ (expected ${eb.length} bytes, got ${ab.length}):`];
  for (const d of differences) {
    const at = d.offset === undefined ? '' : ` @${d.offset}`;
    lines.push(`  ${d.where}${at}: expected ${d.expected}, got ${d.actual}`);
  }
  lines.push(`  differing bytes: ${runs.slice(0, 20).join(', ')}${runs.length > 20 ? ', …' : ''}`);
  for (const [name, an] of [['expected', e], ['actual', a]] as const) {
    for (const issue of an.issues) lines.push(`  ${name} has a problem: ${issue.code}: ${issue.message}`);
  }
  lines.push('expected:', hexdump(eb, { mark }), 'actual:', hexdump(ab, { mark }));
  return { equal: false, differences, text: lines.join('\n') };
}

/** Throws an AssertionError with the diffPackets report unless the packets are byte-identical. */
export function assertPacketsEqual(
  actual: Uint8Array | Packet,
  expected: Uint8Array | Packet,
  opts: Omit<ParseOptions, 'mode'> & { message?: string } = {},
): void {
  const { message, ...parse } = opts;
  const d = diffPackets(actual, expected, parse);
  if (d.equal) return;
  throw new AssertionError({
    message: message === undefined ? d.text : `${message}\n${d.text}`,
    actual: toHex(bytesOf(actual)),
    expected: toHex(bytesOf(expected)),
    operator: 'assertPacketsEqual',
  });
}
