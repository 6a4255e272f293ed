/**
 * BPF layer: the TypeScript side of xlb against the compiled objects' BTF — every shared
 * struct's size and member offsets (codec.ts XLB_LAYOUTS), the maps' key and value sizes, and
 * the load-time globals with their defaults (constants.ts XLB_GLOBAL_DEFAULTS). Objects are
 * opened by libbpf (not loaded).
 */
import { afterAll, beforeAll, describe, test } from 'vitest';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BpfObject, Btf, CodecRegistry, checkStructLayout, codecName, mapBtfTypes } from '@netaccel/bpf';
import { parseIPv6 } from '@netaccel/protocol';
import { XLB_DECAP_STAT_MAX, XLB_GLOBAL_DEFAULTS } from './constants.js';
import { registerProgramCodecs } from '../codecs.js';
import { XLB_LAYOUTS, decodeVipMeta, encodeVipMeta } from './codec.js';
import type { StructLayout } from './codec.js';
import { XLB_DROP_MAX } from './drop-reasons.js';
import { headerText, structNames } from './header-text.js';
import { XLB_STRUCT_CODECS } from './struct-codecs.js';
import { BPF_DIR, objectPath } from './xlb-harness.js';

const L = XLB_LAYOUTS;

/**
 * map name -> [key, value, entries]: layouts or byte sizes, and the entries where the build
 * cannot change them (the others follow DEFINES; see the relation test below).
 */
type MapSpec = [StructLayout | number, StructLayout | number, number?];
const BALANCER_MAPS: Record<string, MapSpec> = {
  vips: [L.vipKey, L.vipMeta],
  maglev_tables: [4, 4],
  backends: [4, L.backend],
  nexthops: [4, L.nexthop],
  xlb_config: [4, L.config, 1],
  conntrack: [L.flowKey, L.ctValue],
  conntrack_v4: [L.flowKey4, L.ctValue],
  nat_rev: [L.flowKey, L.natValue],
  vip_stats: [4, L.stats],
  backend_stats: [4, L.stats],
  drop_stats: [4, L.counter, XLB_DROP_MAX],
};
const DECAP_MAPS: Record<string, MapSpec> = {
  decap_addrs: [L.decapKey, 4],
  decap_stats: [4, L.counter, XLB_DECAP_STAT_MAX],
  drop_stats: [4, L.counter, XLB_DROP_MAX],
};

const size = (x: StructLayout | number): number => (typeof x === 'number' ? x : x.size);

describe('xlb BTF and maps against the TypeScript codecs', () => {
  let balancer: BpfObject;
  let decap: BpfObject;

  beforeAll(() => {
    balancer = BpfObject.openFile(objectPath('balancer'));
    decap = BpfObject.openFile(objectPath('decap'));
  });
  afterAll(() => {
    balancer?.close();
    decap?.close();
  });

  test('every struct of xlb_kern_user.h has a codec layout', () => {
    const inHeader = structNames(headerText('xlb_kern_user.h'), 'xlb_');
    assert.deepEqual(inHeader, Object.values(L).map((l) => l.name).sort());
  });

  test('struct sizes and member offsets agree with the BTF of both objects', () => {
    const sources = [Btf.fromFile(objectPath('balancer')), Btf.fromFile(objectPath('decap')), balancer.btf()];
    for (const layout of Object.values(L)) {
      const where = sources.filter((btf) => btf.find(layout.name, 'struct'));
      assert.ok(where.length > 0, `struct ${layout.name} is in some object's BTF`);
      for (const btf of where) assert.deepEqual(checkStructLayout(btf, layout), [], `${layout.name} in ${btf.source}`);
    }
  });

  test('a CodecRegistry with xlb\'s codecs shows the maps typed: the registered codec for each struct, sizes checked against the BTF, round trips', () => {
    const registry = new CodecRegistry();
    registerProgramCodecs(registry);
    for (const name of Object.keys(XLB_STRUCT_CODECS)) assert.ok(registry.has(name), name);
    registerProgramCodecs(registry); // a second registration keeps the first: no error
    const btf = balancer.btf();
    const types = mapBtfTypes(btf, 'vips');
    const keyCodec = registry.codecFor(btf, types.key!);
    assert.equal(keyCodec, XLB_STRUCT_CODECS.xlb_vip_key, 'the registered codec, not the BTF fallback');
    const key = { address: '198.51.100.10', port: 443, protocol: 'tcp' };
    assert.deepEqual(keyCodec.decode(keyCodec.encode(key)), key);
    const meta = { vipIndex: 3, flags: 0, tableSize: 65537, activeSlot: 1, mode: 'l2-dsr' } as const;
    assert.deepEqual(registry.codecFor(btf, types.value!).decode(encodeVipMeta(meta)), decodeVipMeta(encodeVipMeta(meta)));
    assert.deepEqual(decodeVipMeta(encodeVipMeta(meta)), meta);
    for (const name of ['backends', 'nexthops', 'conntrack', 'conntrack_v4']) {
      const t = mapBtfTypes(btf, name);
      assert.ok(XLB_STRUCT_CODECS[codecName(btf, t.value!)], `${name}: its value struct has a registered codec`);
      registry.codecFor(btf, t.value!); // throws NA_ERR_BPF_BTF when the sizes differ
    }
    assert.ok(!registry.has('xlb_stats'), 'read-only per-CPU statistics stay with the BTF codec');
  });

  test('map key and value sizes and fixed entries match', () => {
    for (const [obj, maps] of [[balancer, BALANCER_MAPS], [decap, DECAP_MAPS]] as const) {
      for (const [name, [key, value, entries]] of Object.entries(maps)) {
        const m = obj.map(name);
        assert.equal(m.keySize, size(key), `${name} key`);
        assert.equal(m.valueSize, size(value), `${name} value`);
        if (entries !== undefined) assert.equal(m.maxEntries, entries, `${name} entries`);
      }
    }
  });

  test('two Maglev slots of a prime size per VIP; one stats row per VIP and backend', () => {
    const vips = balancer.map('vips').maxEntries;
    const slot = balancer.map('maglev_tables').maxEntries / (2 * vips);
    assert.ok(Number.isInteger(slot) && slot >= 2, `slot of ${slot} entries`);
    for (let d = 2; d * d <= slot; d++) assert.notEqual(slot % d, 0, `XLB_MAGLEV_SIZE ${slot} is prime`);
    assert.equal(balancer.map('vip_stats').maxEntries, vips);
    assert.equal(balancer.map('backend_stats').maxEntries, balancer.map('backends').maxEntries);
  });

  test('load-time globals exist with the documented defaults', () => {
    // A build with -DXLB_… may change the defaults; then only their presence is checked.
    const cflags = readFileSync(join(BPF_DIR, 'build/.cflags'), 'utf8');
    const defaults = !/-DXLB_/.test(cflags);
    for (const [name, want] of Object.entries(XLB_GLOBAL_DEFAULTS)) {
      if (!defaults) continue;
      const got = balancer.getGlobal(name);
      if (typeof want === 'string') {
        assert.deepEqual(Buffer.from(got as Buffer), Buffer.from(parseIPv6(want)), name);
      } else {
        assert.equal(Number(got), want, name);
      }
    }
    if (defaults) assert.equal(Number(decap.getGlobal('gue_port')), XLB_GLOBAL_DEFAULTS.gue_port);
    const rodata = balancer.btf().datasecVariables('.rodata').map((v) => v.name).sort();
    assert.deepEqual(rodata, Object.keys(XLB_GLOBAL_DEFAULTS).sort(), 'no undocumented globals');
  });
});
