/**
 * Namespace layer: a chain of three NetCRAQ nodes (namespaces n1 → n2 → n3, the XDP program
 * attached in native mode to each eth0, one bridge) and a client namespace sending real UDP
 * reads, writes and deletes to the head, the middle and the tail. Checks values and versions,
 * NOT_HEAD, a dirty read answered through the tail's version, the commits in the tail's ring
 * buffer, IPv6 as well as IPv4, NetChain reads and writes answered by the tail (a retried write
 * answered with its version, committed once), and that an unknown key and a forged ACK are not
 * answered. The lab (prefix ncq) is torn down even when an assertion fails.
 */
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { withLab } from '@netaccel/netlab';
import type { Lab, LabSpec } from '@netaccel/netlab';
import { craq } from '@netaccel/protocol';
import { NO_PEER, placedKey } from './codec.js';
import type { CraqConfig, CraqPeer } from './codec.js';
import { CraqNodeObject } from './craq-harness.js';

const { CraqOp, CraqStatus, CraqFlag } = craq;
const PORT = craq.CRAQ_DEFAULT_PORT;
const NODES = ['n1', 'n2', 'n3'] as const;
const IP = { n1: '10.78.0.1', n2: '10.78.0.2', n3: '10.78.0.3', c: '10.78.0.100' } as const;
const IP6 = { n1: 'fd78::1', n2: 'fd78::2', n3: 'fd78::3', c: 'fd78::100' } as const;
const SELFTEST = join(dirname(fileURLToPath(import.meta.url)), '..', 'build', 'selftest', 'selftest.bpf.o');
const KEY = '/registry/leases/kube-node-lease/ncq-node';
const K = craq.craqKey(KEY);
const EPOCH = 3;

const spec: LabSpec = {
  name: 'chain',
  nodes: { sw: {}, n1: {}, n2: {}, n3: {}, c: {} },
  links: [
    { a: 'sw:p1', b: 'n1:eth0', bAddr: [`${IP.n1}/24`, `${IP6.n1}/64`] },
    { a: 'sw:p2', b: 'n2:eth0', bAddr: [`${IP.n2}/24`, `${IP6.n2}/64`] },
    { a: 'sw:p3', b: 'n3:eth0', bAddr: [`${IP.n3}/24`, `${IP6.n3}/64`] },
    { a: 'sw:p4', b: 'c:eth0', bAddr: [`${IP.c}/24`, `${IP6.c}/64`] },
  ],
  bridges: [{ node: 'sw', name: 'br0', ports: ['p1', 'p2', 'p3', 'p4'] }],
};

/** Sends each request from the client namespace and waits for the reply with its req_id. */
const CLIENT = `
const dgram = require('node:dgram');
const reqs = JSON.parse(process.argv[1]);
const s = dgram.createSocket(reqs[0].to.includes(':') ? 'udp6' : 'udp4');
const out = [];
let i = 0;
let timer;
function next() {
  if (i === reqs.length) { s.close(); console.log(JSON.stringify(out)); return; }
  const r = reqs[i];
  const id = Buffer.from(r.hex, 'hex').subarray(8, 16).toString('hex');
  const done = (x) => { clearTimeout(timer); s.removeAllListeners('message'); out.push(x); i++; next(); };
  s.on('message', (m, rinfo) => { if (m.subarray(8, 16).toString('hex') === id) done({ from: rinfo.address, hex: m.toString('hex') }); });
  timer = setTimeout(() => done({ timeout: true }), r.timeoutMs);
  s.send(Buffer.from(r.hex, 'hex'), ${PORT}, r.to);
}
s.bind(0, next);
`;

interface Reply {
  readonly from?: string;
  readonly msg?: craq.CraqMessage;
}

let reqId = 100n;

async function ask(lab: Lab, to: string, msgs: craq.CraqMessage[], timeoutMs = 2000): Promise<Reply[]> {
  const reqs = msgs.map((m) => ({ to, hex: Buffer.from(craq.encodeCraq(m)).toString('hex'), timeoutMs }));
  const r = await lab.exec('c', ['node', '-e', CLIENT, JSON.stringify(reqs)], { timeoutMs: 20_000 });
  const out = JSON.parse(r.stdout) as { from?: string; hex?: string }[];
  return out.map((x) => (x.hex ? { from: x.from, msg: craq.decodeCraq(Buffer.from(x.hex, 'hex')) } : {}));
}

const read = (): craq.CraqMessage => craq.craqReadRequest({ key: KEY, reqId: reqId++ });
const write = (v: string): craq.CraqMessage => craq.craqWriteRequest({ key: KEY, reqId: reqId++, value: new TextEncoder().encode(v) });
const del = (): craq.CraqMessage => craq.craqDeleteRequest({ key: KEY, reqId: reqId++ });
const text = (m: craq.CraqMessage | undefined): string => new TextDecoder().decode(m?.value ?? new Uint8Array(0));

function config(i: number, macs: string[], netchain: boolean): CraqConfig {
  const peer = (j: number): CraqPeer => ({ ip4: IP[NODES[j]!], ip6: IP6[NODES[j]!], mac: macs[j]!, port: PORT });
  return {
    enabled: true,
    netchain,
    head: i === 0,
    tail: i === 2,
    epoch: EPOCH,
    port: PORT,
    self: peer(i),
    pred: i > 0 ? peer(i - 1) : NO_PEER,
    succ: i < 2 ? peer(i + 1) : NO_PEER,
    tail_: peer(2),
  };
}

/** Pins of earlier runs whose process is gone (ncq-<pid>-<node> under /sys/fs/bpf). */
function removeStalePins(): void {
  for (const name of readdirSync('/sys/fs/bpf')) {
    const pid = /^ncq-(\d+)-/.exec(name)?.[1];
    if (pid === undefined) continue;
    try {
      process.kill(Number(pid), 0);
    } catch {
      rmSync(`/sys/fs/bpf/${name}`, { force: true });
    }
  }
}

test('a chain of three XDP nodes serves reads at every node, writes through the head, commits at the tail', { timeout: 90_000 }, async () => {
  const objects: CraqNodeObject[] = [];
  const pins: string[] = [];
  removeStalePins();
  try {
    await withLab(spec, async (lab) => {
      const macs: string[] = [];
      for (const n of NODES) {
        const eth0 = (await lab.links(n)).find((l) => l.ifname === 'eth0');
        assert.ok(eth0?.address, `${n}: eth0 has a MAC`);
        macs.push(eth0.address);
      }
      for (const [i, n] of NODES.entries()) {
        const node = CraqNodeObject.load();
        objects.push(node);
        node.setConfig(config(i, macs, false));
        node.putKey(K.keyId, placedKey(K.keyCheck, 1n, new TextEncoder().encode('v1')));
        const pin = `/sys/fs/bpf/ncq-${process.pid}-${n}`;
        rmSync(pin, { force: true });
        node.prog.pin(pin);
        pins.push(pin);
        await lab.exec(n, ['ip', '-force', 'link', 'set', 'dev', 'eth0', 'xdpdrv', 'pinned', pin], { sysfs: 'host' });
        // XDP_TX frames reach the bridge only when the veth peer has NAPI (an XDP program of its own)
        await lab.exec('sw', ['ip', 'link', 'set', 'dev', `p${i + 1}`, 'xdpdrv', 'obj', SELFTEST, 'sec', 'xdp']);
      }
      const [n1, n2, n3] = objects as [CraqNodeObject, CraqNodeObject, CraqNodeObject];
      const commits = n3.commitReader();
      try {
        // clean reads at every node
        for (const n of NODES) {
          const [r] = await ask(lab, IP[n], [read()]);
          assert.deepEqual([r?.msg?.op, r?.msg?.status, r?.msg?.version, text(r?.msg), r?.from], [CraqOp.READ_REPLY, CraqStatus.OK, 1n, 'v1', IP[n]], n);
        }
        // writes go to the head
        const [nh] = await ask(lab, IP.n2, [write('nope')]);
        assert.deepEqual([nh?.msg?.op, nh?.msg?.status], [CraqOp.WRITE_REPLY, CraqStatus.NOT_HEAD]);
        const [w] = await ask(lab, IP.n1, [write('v2')]);
        assert.deepEqual([w?.msg?.op, w?.msg?.status, w?.msg?.version, w?.msg?.flags, w?.from], [CraqOp.WRITE_REPLY, CraqStatus.OK, 2n, CraqFlag.FROM_TAIL, IP.n1]);
        for (const n of NODES) {
          const [r] = await ask(lab, IP[n], [read()]);
          assert.deepEqual([r?.msg?.status, r?.msg?.version, text(r?.msg)], [CraqStatus.OK, 2n, 'v2'], `after the write, ${n}`);
        }
        for (const o of objects) assert.equal(o.key(K.keyId)?.cleanVersion, 2n);

        // a dirty key at the head: version 3 stored but not acknowledged (an in-flight write)
        const k1 = n1.key(K.keyId)!;
        const slots = [...k1.slots];
        slots[3 % slots.length] = { version: 3n, value: new TextEncoder().encode('dirty'), tombstone: false };
        n1.putKey(K.keyId, { ...k1, lastVersion: 3n, slots });
        const [d] = await ask(lab, IP.n1, [read()]);
        assert.deepEqual([d?.msg?.status, d?.msg?.version, text(d?.msg), d?.msg?.flags], [CraqStatus.OK, 2n, 'v2', CraqFlag.FROM_TAIL], 'dirty read answers the committed version');
        assert.equal(n1.stats().get('READ_QUERY'), 1n);
        assert.equal(n3.stats().get('VQUERY'), 1n);
        n1.putKey(K.keyId, { ...n1.key(K.keyId)!, lastVersion: 2n });

        // delete commits a tombstone
        const [dl] = await ask(lab, IP.n1, [del()]);
        assert.deepEqual([dl?.msg?.op, dl?.msg?.status, dl?.msg?.version], [CraqOp.DELETE_REPLY, CraqStatus.OK, 3n]);
        const [gone] = await ask(lab, IP.n2, [read()]);
        assert.deepEqual([gone?.msg?.status, gone?.msg?.version], [CraqStatus.NOT_FOUND, 3n]);

        // the tail recorded both commits for the write-through
        const got = commits.drain();
        assert.deepEqual(got.map((c) => [c.keyId, c.version, c.tombstone, new TextDecoder().decode(c.value), c.epoch]), [
          [K.keyId, 2n, false, 'v2', EPOCH],
          [K.keyId, 3n, true, '', EPOCH],
        ]);

        // an unknown key is answered NOT_PLACED by the program; a forged ACK is dropped unanswered
        const unknown = { ...read(), keyId: craq.craqKeyId('/nope'), keyCheck: craq.craqKeyCheck('/nope') };
        const [np] = await ask(lab, IP.n1, [unknown]);
        assert.deepEqual([np?.msg?.op, np?.msg?.status, np?.from], [CraqOp.READ_REPLY, CraqStatus.NOT_PLACED, IP.n1]);
        assert.equal(n1.stats().get('NOT_PLACED'), 1n);
        const forged: craq.CraqMessage = { op: CraqOp.ACK, status: 0, flags: CraqFlag.CLIENT, reqId: reqId++, keyId: K.keyId, keyCheck: K.keyCheck, epoch: EPOCH, version: 3n, value: new Uint8Array(0), client: { family: 4, address: IP.c, port: 9, mac: '02:00:00:00:00:01' } };
        const silent = await ask(lab, IP.n1, [forged], 400);
        assert.deepEqual(silent, [{}]);
        assert.equal(n1.reasons().get('FORGED'), 1n);

        // IPv6: a write through the head and reads at every node (chain messages in IPv6)
        const [w6] = await ask(lab, IP6.n1, [write('v6')]);
        assert.deepEqual([w6?.msg?.op, w6?.msg?.status, w6?.msg?.version, w6?.from], [CraqOp.WRITE_REPLY, CraqStatus.OK, 4n, IP6.n1]);
        for (const n of NODES) {
          const [r] = await ask(lab, IP6[n], [read()]);
          assert.deepEqual([r?.msg?.status, r?.msg?.version, text(r?.msg), r?.from], [CraqStatus.OK, 4n, 'v6', IP6[n]], `IPv6 read at ${n}`);
        }
        assert.deepEqual(commits.drain().map((c) => [c.version, new TextDecoder().decode(c.value)]), [[4n, 'v6']]);

        // a 200-byte value: replies grow by 200 bytes, more than a veth frame's tailroom
        const big = 'x'.repeat(200);
        const [wb] = await ask(lab, IP.n1, [write(big)]);
        assert.deepEqual([wb?.msg?.status, wb?.msg?.version], [CraqStatus.OK, 5n]);
        for (const n of NODES) {
          const [r] = await ask(lab, IP[n], [read()]);
          assert.deepEqual([r?.msg?.status, r?.msg?.version, text(r?.msg)], [CraqStatus.OK, 5n, big], `200-byte read at ${n}`);
        }
        commits.drain();

        // NetChain mode: reads travel to the tail, which answers
        for (const [i, o] of objects.entries()) o.setConfig(config(i, macs, true));
        const [nc] = await ask(lab, IP.n1, [{ ...read() }]);
        assert.deepEqual([nc?.msg?.status, nc?.msg?.version, text(nc?.msg), nc?.msg?.flags, nc?.from], [CraqStatus.OK, 5n, big, CraqFlag.FROM_TAIL, IP.n3]);
        assert.equal(n2.stats().get('READ_FORWARD'), 1n);

        // NetChain mode: a write goes head -> middle -> tail, the tail commits it and answers the
        // client; nothing comes back up the chain; a retry of it (same request id) is re-sent by the
        // head and answered OK by the tail with the same version, not committed again
        const acks = [n1.stats().get('WRITE_REPLY') ?? 0n, n2.stats().get('ACK') ?? 0n];
        const wnc = write('nc');
        const [cw] = await ask(lab, IP.n1, [wnc]);
        assert.deepEqual([cw?.msg?.op, cw?.msg?.status, cw?.msg?.version, cw?.msg?.flags, cw?.from], [CraqOp.WRITE_REPLY, CraqStatus.OK, 6n, CraqFlag.FROM_TAIL, IP.n3]);
        assert.deepEqual([n1.stats().get('WRITE_REPLY') ?? 0n, n2.stats().get('ACK') ?? 0n], acks, 'no ACK, no reply from the head');
        for (const o of objects) assert.deepEqual([o.key(K.keyId)?.cleanVersion, o.key(K.keyId)?.lastVersion], [6n, 6n], 'applied as current everywhere');
        const [again] = await ask(lab, IP.n1, [wnc]);
        assert.deepEqual([again?.msg?.status, again?.msg?.version, again?.from], [CraqStatus.OK, 6n, IP.n3], 'the retry answered by the tail with its version');
        assert.equal(n1.stats().get('DUPLICATE'), 1n);
        const [ncr] = await ask(lab, IP.n1, [read()]);
        assert.deepEqual([ncr?.msg?.status, ncr?.msg?.version, text(ncr?.msg), ncr?.from], [CraqStatus.OK, 6n, 'nc', IP.n3]);
        const [ncd] = await ask(lab, IP6.n1, [del()]);
        assert.deepEqual([ncd?.msg?.op, ncd?.msg?.status, ncd?.msg?.version, ncd?.from], [CraqOp.DELETE_REPLY, CraqStatus.OK, 7n, IP6.n3]);
        assert.deepEqual(commits.drain().map((c) => [c.version, c.tombstone, new TextDecoder().decode(c.value)]), [[6n, false, 'nc'], [7n, true, '']], 'one commit each for the write-through');
      } finally {
        commits.close();
      }
    }, { prefix: 'ncq' });
  } finally {
    for (const p of pins) rmSync(p, { force: true });
    for (const o of objects) o.close();
  }
});
