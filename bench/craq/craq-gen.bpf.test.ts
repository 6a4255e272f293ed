import { test } from 'vitest';
import assert from 'node:assert/strict';
import { BpfObject, XDP_ACTION } from '@netaccel/bpf';
import { craq } from '@netaccel/protocol';
import { craqClientFrame, encodeU32 } from '@netaccel/bpf-programs/craq';
import { GEN_MAX, encodeGenConfig } from './gen-config.js';
import { buildCraqTools } from './tools.js';

// craq_gen (craq-bench-progs.bpf.c) through BPF_PROG_TEST_RUN: the frames it sends in turn, the
// WRITEs' key ids over `wkeys` keys and their request ids (a head executes a request id once)
const KEY = craq.craqKey('/registry/leases/kube-node-lease/bench');
const CLIENT = { mac: '02:79:00:00:00:64', ip: '10.79.0.100', port: 40000 };
const HEAD = { mac: '02:79:00:00:00:01', ip: '10.79.0.1', port: craq.CRAQ_DEFAULT_PORT };
const OP = 45;
const REQ_ID = 50;
const KEY_ID = 58;

function frame(msg: craq.CraqMessage): Buffer {
  const f = Buffer.from(craqClientFrame(4, CLIENT, HEAD, { ...msg, keyId: KEY.keyId, keyCheck: KEY.keyCheck }));
  f.writeUInt16BE(0, 40); // UDP checksum none: craq_gen rewrites WRITEs
  return f;
}

function withGen<T>(f: (run: () => Buffer, configure: (c: Parameters<typeof encodeGenConfig>[0]) => void) => T): T {
  const obj = BpfObject.openFile(buildCraqTools().progs);
  try {
    obj.load();
    const prog = obj.program('craq_gen');
    const configure = (c: Parameters<typeof encodeGenConfig>[0]): void => obj.map('gen_config').update(encodeU32(0), encodeGenConfig(c));
    const run = (): Buffer => {
      const r = prog.testRun({ data: Buffer.alloc(GEN_MAX), repeat: 1 });
      assert.equal(r.retval, XDP_ACTION.TX);
      return r.data;
    };
    return f(run, configure);
  } finally {
    obj.close();
  }
}

test('craq_gen sends its frames in turn; each WRITE gets the next of wkeys keys and a new request id', () => {
  const write = frame(craq.craqWriteRequest({ key: 'bench', reqId: 2n, value: new Uint8Array(16).fill(0x77) }));
  const read = frame(craq.craqReadRequest({ key: 'bench', reqId: 1n }));
  assert.equal(write[OP], craq.CraqOp.WRITE);
  withGen((run, configure) => {
    configure({ frames: [write, read, read], wkeys: 4, reqBase: 1_000_000n });
    const keys: bigint[] = [];
    const ids = new Set<bigint>();
    for (let i = 0; i < 24; i++) {
      const out = run();
      if (i % 3 === 0) {
        assert.equal(out.length, write.length);
        assert.deepEqual(out.subarray(0, REQ_ID), write.subarray(0, REQ_ID), 'headers up to the request id unchanged');
        keys.push(out.readBigUInt64BE(KEY_ID) - KEY.keyId);
        const id = out.readBigUInt64BE(REQ_ID);
        assert.ok(id > 1_000_000n && id <= 1_000_000n + 24n, `request id ${id} from the run's base`);
        ids.add(id);
        assert.deepEqual(out.subarray(KEY_ID + 8), write.subarray(KEY_ID + 8), 'key check, value unchanged');
      } else {
        assert.deepEqual(out, read, 'READs go out as they are');
      }
    }
    assert.deepEqual(keys, [0n, 1n, 2n, 3n, 0n, 1n, 2n, 3n], 'writes cycle over the 4 keys in turn');
    assert.equal(ids.size, 8, 'every write has its own request id');
  });
});

test('craq_gen with request base 0 sends WRITEs with request id 0 (not recorded by the nodes), one key without wkeys', () => {
  const write = frame(craq.craqWriteRequest({ key: 'bench', reqId: 2n, value: new Uint8Array(16).fill(0x77) }));
  withGen((run, configure) => {
    configure({ frames: [write], wkeys: 1, reqBase: 0n });
    for (let i = 0; i < 4; i++) {
      const out = run();
      assert.equal(out.readBigUInt64BE(REQ_ID), 0n);
      assert.equal(out.readBigUInt64BE(KEY_ID), KEY.keyId);
    }
  });
  assert.throws(() => encodeGenConfig({ frames: [] }), /1\.\.4 frames/);
  assert.throws(() => encodeGenConfig({ frames: [new Uint8Array(GEN_MAX + 1)] }), /129 bytes/);
});
