/**
 * BPF layer: LoaderNode's install over a real craq.bpf.o (InProcessDataPlane, not attached) keeps
 * the at-most-once records of the key's request ring (craq_key.reqs): the node's own up to the
 * installed version, plus the ones the install carries (a repair's copy); a read-modify-write of
 * the entry (setWritable) keeps them; latest() reports them for the next repair.
 */
import assert from 'node:assert/strict';
import { test } from 'vitest';
import { CRAQ_DESCRIPTOR, decodeKeyEntry, encodeKeyEntry, encodeKeyId, placedKey, withRequests } from '@netaccel/bpf-programs/craq';
import type { CraqMapName } from '@netaccel/bpf-programs/craq';
import { CRAQ_OBJECT_PATH } from '@netaccel/bpf-programs/craq/testing';
import { InProcessDataPlane } from '@netaccel/dataplane';
import { craq } from '@netaccel/protocol';
import { createLogger } from '@netaccel/telemetry';
import { LoaderNode } from './loader-node.js';

const log = createLogger({ name: 'test', level: 'silent', destination: { write: () => true } });
const K = craq.craqKey('/cqr/loader-node');
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

test('install keeps the entry\'s own request records up to the version and adds the copied ones; setWritable and latest keep them', async (t) => {
  const dp: InProcessDataPlane<CraqMapName> = InProcessDataPlane.open(CRAQ_DESCRIPTOR, CRAQ_OBJECT_PATH);
  t.onTestFinished(() => dp.close());
  const node = LoaderNode.overMaps({ name: 'n1', endpoint: { address: '192.0.2.1', port: craq.CRAQ_DEFAULT_PORT }, loaderSocket: '', iface: 'eth0', objectPath: CRAQ_OBJECT_PATH, xdpMode: 'native', peers: new Map(), log }, dp);
  const ring = async (): Promise<unknown> => {
    const raw = await dp.lookup('craq_keys', encodeKeyId(K.keyId));
    return raw === undefined ? undefined : decodeKeyEntry(raw).requests;
  };

  await node.install({ keyId: K.keyId, keyCheck: K.keyCheck, version: 3n, value: enc('v3'), requests: [{ reqId: 11n, version: 2n }, { reqId: 12n, version: 3n }, { reqId: 0n, version: 1n }, { reqId: 19n, version: 4n }] }, true);
  assert.deepEqual(await ring(), [{ reqId: 11n, version: 2n }, { reqId: 12n, version: 3n }], 'copied records up to the version; request id 0 not recorded');

  // the node's data plane records writes 4 and 5 itself (as the program does on WRITE/PROPAGATE)
  const e = decodeKeyEntry((await dp.lookup('craq_keys', encodeKeyId(K.keyId)))!);
  await dp.update('craq_keys', encodeKeyId(K.keyId), encodeKeyEntry(withRequests({ ...e, lastVersion: 5n }, [{ reqId: 13n, version: 4n }, { reqId: 14n, version: 5n }])));

  // a repair installs version 4 clean (5 was lost): own records up to 4 kept, 5's dropped (its number will be reused), the copy added
  await node.install({ keyId: K.keyId, keyCheck: K.keyCheck, version: 4n, value: enc('v4'), requests: [{ reqId: 21n, version: 1n }] }, false);
  assert.deepEqual(await ring(), [{ reqId: 21n, version: 1n }, { reqId: 11n, version: 2n }, { reqId: 12n, version: 3n }, { reqId: 13n, version: 4n }]);
  await node.setWritable(K.keyId, true);
  assert.deepEqual(await ring(), [{ reqId: 21n, version: 1n }, { reqId: 11n, version: 2n }, { reqId: 12n, version: 3n }, { reqId: 13n, version: 4n }], 'setWritable keeps the ring');
  assert.deepEqual((await node.latest(K.keyId))?.requests, [{ reqId: 21n, version: 1n }, { reqId: 11n, version: 2n }, { reqId: 12n, version: 3n }, { reqId: 13n, version: 4n }], 'latest reports them for the next repair');

  // another key under the same id (another key_check): nothing of the former one is kept
  await node.install({ keyId: K.keyId, keyCheck: (K.keyCheck ^ 1) >>> 0, version: 1n, value: enc('other') }, true);
  assert.equal(await ring(), undefined);
  assert.deepEqual(decodeKeyEntry((await dp.lookup('craq_keys', encodeKeyId(K.keyId)))!), placedKey((K.keyCheck ^ 1) >>> 0, 1n, enc('other')));
});
