/**
 * BPF layer: sidecar.bpf.o against its TypeScript side — every shared struct's size and member
 * offsets (codec.ts SIDECAR_LAYOUTS) in the object's BTF, the maps' key and value sizes — and the
 * kernel's answer to BPF_PROG_TEST_RUN for these program types: refused for sk_skb, sk_msg and
 * sock_ops alike (their prog_ops have no test_run), which is why the fixtures are socket-level
 * (sidecar-*.ns.test.ts). The object loads, i.e. the verifier accepts all four programs.
 */
import { afterAll, beforeAll, describe, test } from 'vitest';
import assert from 'node:assert/strict';
import { BpfObject, Btf, checkStructLayout } from '@netaccel/bpf';
import { SIDECAR_BUILD_DEFAULTS, SIDECAR_LAYOUTS, SIDECAR_OBJECT, SIDECAR_REASON_MAX } from './index.js';
import type { StructLayout } from './index.js';
import { headerText } from './header-text.js';
import { sidecarObjectPath } from './sidecar-harness.js';

const L = SIDECAR_LAYOUTS;
const size = (x: StructLayout | number): number => (typeof x === 'number' ? x : x.size);
const D = SIDECAR_BUILD_DEFAULTS;

/** map -> [key, value, entries] */
const MAPS: Record<string, [StructLayout | number, StructLayout | number, number]> = {
  sock_hash: [L.sockKey, 8, D.SIDECAR_MAX_SOCKS],
  splice_hash: [L.sockKey, 8, D.SIDECAR_MAX_SOCKS],
  offload_rules: [L.sockKey, L.rule, D.SIDECAR_MAX_SOCKS],
  pairs: [L.sockKey, L.sockKey, D.SIDECAR_MAX_SOCKS],
  conns: [L.sockKey, L.conn, D.SIDECAR_MAX_SOCKS],
  policy: [L.pathKey, L.policyValue, 2 * D.SIDECAR_MAX_METHODS],
  sidecar_cfg: [4, L.config, 1],
  streams: [L.streamKey, L.stream, D.SIDECAR_MAX_STREAMS],
  method_stats: [4, L.methodStats, D.SIDECAR_MAX_METHODS],
  reason_stats: [4, L.counter, SIDECAR_REASON_MAX],
  takeback: [L.sockKey, 4, D.SIDECAR_MAX_SOCKS],
};

describe('sidecar.bpf.o', () => {
  let obj: BpfObject;

  beforeAll(() => {
    obj = BpfObject.openFile(sidecarObjectPath()).load();
  });
  afterAll(() => obj?.close());

  test('every struct of sidecar_kern_user.h has a codec layout, and each agrees with the BTF', () => {
    const inHeader = [...headerText('sidecar_kern_user.h').matchAll(/^struct (sidecar_\w+) \{/gm)].map((m) => m[1]).sort();
    assert.deepEqual(inHeader, Object.values(L).map((l) => l.name).sort());
    const btf = Btf.fromFile(sidecarObjectPath());
    for (const layout of Object.values(L)) assert.deepEqual(checkStructLayout(btf, layout), [], layout.name);
  });

  test('maps: key and value sizes are the codecs\', entries the build defaults', () => {
    assert.deepEqual(Object.keys(MAPS).sort(), SIDECAR_OBJECT.maps.filter((m) => m !== 'scratch').sort());
    for (const [name, [key, value, entries]] of Object.entries(MAPS)) {
      const m = obj.map(name);
      assert.deepEqual([m.keySize, m.valueSize, m.maxEntries], [size(key), size(value), entries], name);
    }
  });

  test('BPF_PROG_TEST_RUN is refused for sk_skb, sk_msg and sock_ops programs', () => {
    const p = SIDECAR_OBJECT.programs;
    for (const name of [p.parser, p.verdict, p.msg, p.sockops]) {
      assert.throws(() => obj.program(name).testRun({ data: Buffer.alloc(64) }), (e: unknown) => e instanceof Error && /\(ENOTSUPP\)/.test(e.message), name);
    }
  });
});
