/**
 * End to end: craq-scheduler with `dataPlane.via: loader` programs three XDP chain nodes through
 * ebpf-loader. Lab (prefix ncw): namespaces n1 → n2 → n3 and a client c on one bridge; one real
 * ebpf-loader per chain node, each in its node's namespace (a loader attaches XDP by interface
 * name in its own namespace, and one loader answers a second LoadObject of the same file with the
 * same object, i.e. the same maps: three nodes need three loaders). A real etcd on loopback; the
 * scheduler in process. A key is pinned over gRPC (Pin), read over UDP at every node (answered by
 * XDP), written through the head, and the commit read from the tail's ring buffer through the
 * loader (WatchRingBuffer) reaches etcd; writes of a held key are answered RETRY. Teardown (scheduler, loaders, lab, pins, etcd) always.
 */
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Etcd3 } from 'etcd3';
import { withLab } from '@netaccel/netlab';
import type { Lab, LabSpec } from '@netaccel/netlab';
import { craq } from '@netaccel/protocol';
import { CraqClient as CraqRpcClient, craqV1, createRpcClient } from '@netaccel/rpc';
import { ConfigStore } from '@netaccel/config';
import { DaemonHost } from '@netaccel/daemon';
import { createLogger } from '@netaccel/telemetry';
import { CRAQ_OBJECT } from '@netaccel/bpf-programs/craq';
import { TestEtcd } from '@netaccel/craq/testing';
import { REPO, SELFTEST, makeHome, removeHome, startLoader } from '@netaccel/app-ebpf-loader/testing';
import type { LoaderHome } from '@netaccel/app-ebpf-loader/testing';
import { CraqDaemon, craqSchedulerConfig } from '@netaccel/app-craq-scheduler/testing';

const { CraqOp, CraqStatus } = craq;
const PORT = craq.CRAQ_DEFAULT_PORT;
const NODES = ['n1', 'n2', 'n3'] as const;
const IP = { n1: '10.81.0.1', n2: '10.81.0.2', n3: '10.81.0.3', c: '10.81.0.100' } as const;
const KEY = '/ncw/leases/node-1';

const spec: LabSpec = {
  name: 'sched',
  nodes: { sw: {}, n1: {}, n2: {}, n3: {}, c: {} },
  links: [
    { a: 'sw:p1', b: 'n1:eth0', bAddr: `${IP.n1}/24` },
    { a: 'sw:p2', b: 'n2:eth0', bAddr: `${IP.n2}/24` },
    { a: 'sw:p3', b: 'n3:eth0', bAddr: `${IP.n3}/24` },
    { a: 'sw:p4', b: 'c:eth0', bAddr: `${IP.c}/24` },
  ],
  bridges: [{ node: 'sw', name: 'br0', ports: ['p1', 'p2', 'p3', 'p4'] }],
};

/** Sends each request from the client namespace and waits for the reply with its req_id. */
const CLIENT = `
const dgram = require('node:dgram');
const reqs = JSON.parse(process.argv[1]);
const s = dgram.createSocket('udp4');
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

let reqId = 500n;

async function ask(lab: Lab, to: string, m: craq.CraqMessage): Promise<{ from?: string; msg?: craq.CraqMessage }> {
  const reqs = [{ to, hex: Buffer.from(craq.encodeCraq(m)).toString('hex'), timeoutMs: 2000 }];
  const r = await lab.exec('c', ['node', '-e', CLIENT, JSON.stringify(reqs)], { timeoutMs: 20_000 });
  const [x] = JSON.parse(r.stdout) as { from?: string; hex?: string }[];
  return x?.hex ? { from: x.from, msg: craq.decodeCraq(Buffer.from(x.hex, 'hex')) } : {};
}

const text = (m: craq.CraqMessage | undefined): string => new TextDecoder().decode(m?.value ?? new Uint8Array(0));

async function until(what: string, check: () => Promise<boolean> | boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Pin roots of earlier runs of this file whose process is gone. */
function removeStalePins(): void {
  for (const name of readdirSync('/sys/fs/bpf')) {
    const pid = /^netaccel-test-(\d+)-ncw-/.exec(name)?.[1];
    if (pid !== undefined && !existsSync(`/proc/${pid}`)) rmSync(join('/sys/fs/bpf', name), { recursive: true, force: true });
  }
}

test('craq-scheduler via loader: Pin places a key on three XDP nodes, every node answers reads, a write through the head reaches etcd', { timeout: 120_000 }, async () => {
  removeStalePins();
  const homes: LoaderHome[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'ncw-sched-'));
  let etcd: TestEtcd | undefined;
  let real: Etcd3 | undefined;
  try {
    etcd = await TestEtcd.start();
    real = new Etcd3({ hosts: etcd.clientUrl });
    await real.put(KEY).value('v0');
    await withLab(spec, async (lab) => {
      const macs: string[] = [];
      for (const [i, n] of NODES.entries()) {
        const eth0 = (await lab.links(n)).find((l) => l.ifname === 'eth0');
        assert.ok(eth0?.address, `${n}: eth0 has a MAC`);
        macs.push(eth0.address);
        const home = makeHome(`ncw-${n}`);
        homes.push(home);
        copyFileSync(join(REPO, 'bpf', CRAQ_OBJECT.path), join(home.objectDir, 'craq.bpf.o'));
        await startLoader(lab, n, home, `loader-${n}`);
        // XDP_TX frames reach the bridge only when the veth peer has NAPI (an XDP program of its own)
        await lab.exec('sw', ['ip', 'link', 'set', 'dev', `p${i + 1}`, 'xdpdrv', 'obj', SELFTEST, 'sec', 'xdp']);
      }
      const socket = join(dir, 'craq-scheduler.sock');
      const file = join(dir, 'craq-scheduler.yaml');
      writeFileSync(file, [
        `etcd: { endpoints: ['${etcd!.clientUrl}'], metricsUrl: '', prefixes: ['/ncw/'] }`,
        "redis: { url: '' }",
        'chain:',
        '  nodes:',
        ...NODES.map((n, i) => `    - { name: ${n}, address: ${IP[n]}, port: ${PORT}, iface: eth0, mac: '${macs[i]}', loaderSocket: ${homes[i]!.socket} }`),
        "dataPlane: { via: loader, object: craq.bpf.o, xdpMode: native }",
        "telemetry: { listen: '127.0.0.1:0' }",
        `grpc: { socket: ${socket} }`,
        '',
      ].join('\n'));
      const store = await ConfigStore.open(craqSchedulerConfig, { file, env: {} });
      const log = createLogger({ name: 'craq-scheduler', level: 'debug', destination: { write: () => true } });
      const host = new DaemonHost({ name: 'craq-scheduler', version: '0.0.0-test', store, log, env: {} });
      try {
        const d = await host.start((x) => CraqDaemon.start(x, { timers: false }));
        assert.deepEqual(d.chain.state.members.map((m) => m.name), ['n1', 'n2', 'n3']);
        await d.chain.probeOnce();
        assert.deepEqual([...d.chain.liveness.values()].map((l) => l.alive && l.missed === 0), [true, true, true], 'every loader answers with the program attached');

        const api = createRpcClient(CraqRpcClient, { address: `unix://${socket}` });
        try {
          await api.pin(craqV1.PinRequest.create({ key: KEY }));
          const placed = await api.getPlacement(craqV1.GetPlacementRequest.create());
          assert.deepEqual(placed.keys.map((k) => k.key), [KEY]);
        } finally {
          api.close();
        }

        // a clean read at every node, answered by XDP there
        let version = 0n;
        for (const n of NODES) {
          const r = await ask(lab, IP[n], craq.craqReadRequest({ key: KEY, reqId: reqId++ }));
          assert.deepEqual([r.msg?.op, r.msg?.status, text(r.msg), r.from], [CraqOp.READ_REPLY, CraqStatus.OK, 'v0', IP[n]], `read at ${n}`);
          version = r.msg!.version;
        }
        // a write through the head: answered once the tail committed and the ACK came back
        const w = await ask(lab, IP.n1, craq.craqWriteRequest({ key: KEY, reqId: reqId++, value: new TextEncoder().encode('v1') }));
        assert.deepEqual([w.msg?.op, w.msg?.status, w.msg?.version, w.from], [CraqOp.WRITE_REPLY, CraqStatus.OK, version + 1n, IP.n1]);
        for (const n of NODES) {
          const r = await ask(lab, IP[n], craq.craqReadRequest({ key: KEY, reqId: reqId++ }));
          assert.deepEqual([r.msg?.status, r.msg?.version, text(r.msg)], [CraqStatus.OK, version + 1n, 'v1'], `read after the write at ${n}`);
        }
        // the tail's commit, read through its loader, is written behind to etcd
        await until('the commit in etcd', async () => {
          await d.placer.writeBack.flush();
          return (await real!.get(KEY).string()) === 'v1';
        });
        // the hold flag: while the scheduler holds the key's writes the head answers RETRY, reads go on
        const head = d.chain.head()!;
        const id = craq.craqKeyId(KEY);
        await head.setWritable(id, false);
        assert.deepEqual([(await head.get(id))?.writable, (await head.get(id))?.version], [false, version + 1n]);
        const held = await ask(lab, IP.n1, craq.craqWriteRequest({ key: KEY, reqId: reqId++, value: new TextEncoder().encode('held') }));
        assert.deepEqual([held.msg?.op, held.msg?.status], [CraqOp.WRITE_REPLY, CraqStatus.RETRY]);
        await head.setWritable(id, true);
        assert.equal((await head.get(id))?.writable, true);
        // the per-key counters come from the maps through the loaders
        const counters = await head.counters();
        assert.deepEqual(counters.map((c) => [c.keyId, c.reads, c.writes]), [[craq.craqKeyId(KEY), 2n, 1n]]);
      } finally {
        await host.close();
      }
    }, { prefix: 'ncw' });
  } finally {
    for (const h of homes) removeHome(h);
    rmSync(dir, { recursive: true, force: true });
    real?.close();
    await etcd?.stop();
  }
});
