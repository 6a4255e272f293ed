/**
 * Namespace layer: a 3-replica libs/paxos cluster (key-value store) with ElectrodeOffload, each
 * replica in its namespace with electrode_xdp and electrode_broadcast on its eth0
 * (fixtures/paxos-replica.ts), and a namespace of clients (fixtures/paxos-client.ts) on the same
 * bridge. The clients put keys while the offloads are on, switched all off a third of the way,
 * and back on at two thirds; every acknowledged write must be read back, the replicas must agree,
 * and the kernel counters must show that every offload worked (and was off for a while).
 * The sw ports facing the replicas carry a trivial XDP program (XDP_TX into a veth needs one on
 * the peer); the replicas' veths run without TX checksum offload.
 */
import { afterAll, beforeAll, describe, test } from 'vitest';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BpfObject } from '@netaccel/bpf';
import { createLab, waitFor } from '@netaccel/netlab';
import type { LabProcess, LabSpec } from '@netaccel/netlab';
import { ELECTRODE_OFF } from './constants.js';
import { ELECTRODE_BPF_DIR } from './object.js';

const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..');
const FIX = fileURLToPath(new URL('./fixtures/', import.meta.url));
const PORT = 7470;
const ADDR = ['10.79.0.1', '10.79.0.2', '10.79.0.3'];
const REPLICAS = ['r0', 'r1', 'r2'] as const;
const PIN = `/sys/fs/bpf/nel-px-${process.pid}`;
const CLIENTS = 3;
const OPS = 60; // per client

const spec: LabSpec = {
  name: 'electrode-paxos',
  nodes: { sw: {}, r0: {}, r1: {}, r2: {}, c: {} },
  links: [...REPLICAS.map((r, i) => ({ a: `${r}:eth0`, b: `sw:p${i}`, aAddr: `${ADDR[i]}/24` })), { a: 'c:eth0', b: 'sw:pc', aAddr: '10.79.0.10/24' }],
  bridges: [{ node: 'sw', name: 'br0', ports: ['p0', 'p1', 'p2', 'pc'] }],
};

type Json = Record<string, unknown>;
const lines = (p: LabProcess): Json[] =>
  p
    .output()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Json);

describe('libs/paxos with the Electrode offloads (3 replicas in namespaces)', () => {
  const lab = createLab(spec, { prefix: 'nel' });
  const replicas: LabProcess[] = [];
  let pass: BpfObject | undefined;
  const control = (i: number) => join(lab.logDir, `offloads-r${i}`);

  beforeAll(async () => {
    rmSync(PIN, { recursive: true, force: true });
    mkdirSync(PIN, { recursive: true });
    await lab.up();
    for (const n of [...REPLICAS, 'c']) await lab.exec(n, ['ethtool', '-K', 'eth0', 'tx', 'off']);
    pass = BpfObject.openFile(join(ELECTRODE_BPF_DIR, 'build/selftest/selftest.bpf.o'));
    pass.setGlobal('drop_udp_port', 0);
    pass.load();
    pass.program('selftest_xdp').pin(`${PIN}/pass`);
    for (const p of ['p0', 'p1', 'p2']) await lab.exec('sw', ['ip', 'link', 'set', 'dev', p, 'xdpdrv', 'pinned', `${PIN}/pass`], { sysfs: 'host' });
    const macs = await Promise.all(REPLICAS.map(async (r) => (await lab.links(r)).find((l) => l.ifname === 'eth0')!.address!));
    const group = JSON.stringify(REPLICAS.map((_, i) => ({ address: ADDR[i], port: PORT, mac: macs[i] })));
    for (const [i, r] of REPLICAS.entries()) {
      writeFileSync(control(i), String(ELECTRODE_OFF.ALL));
      replicas.push(
        await lab.spawn(r, [process.execPath, '--import', 'tsx', join(FIX, 'paxos-replica.ts'), String(i), group, control(i)], {
          name: `replica-${r}`,
          cwd: ROOT,
          sysfs: 'host',
          ready: { log: /"ready":true/ },
          timeoutMs: 60_000,
        }),
      );
    }
  }, 180_000);

  afterAll(async () => {
    try {
      for (const r of replicas) await r.stop();
      await lab.down();
    } finally {
      pass?.close();
      rmSync(PIN, { recursive: true, force: true });
    }
  });

  test('commits with all offloads on and while they are switched off and on mid-run; no acknowledged write lost', async () => {
    const group = JSON.stringify(ADDR.map((address) => ({ address, port: PORT })));
    const client = await lab.spawn('c', [process.execPath, '--import', 'tsx', join(FIX, 'paxos-client.ts'), group, String(CLIENTS), String(OPS)], { name: 'clients', cwd: ROOT });
    const done = () => Math.max(0, ...lines(client).map((l) => Number(l.done ?? 0)));
    const total = CLIENTS * OPS;
    const switchAll = (bits: number) => REPLICAS.forEach((_, i) => writeFileSync(control(i), String(bits)));

    await waitFor(() => done() >= total / 3, { timeoutMs: 60_000, what: 'a third of the puts with all offloads on' });
    switchAll(0);
    await waitFor(() => replicas.every((r) => lines(r).some((l) => l.offloads === 0)), { timeoutMs: 5_000, what: 'offloads off everywhere' });
    await waitFor(() => done() >= (2 * total) / 3, { timeoutMs: 60_000, what: 'two thirds of the puts' });
    switchAll(ELECTRODE_OFF.ALL);
    await waitFor(() => replicas.every((r) => lines(r).filter((l) => l.offloads !== undefined).at(-1)?.offloads === ELECTRODE_OFF.ALL), { timeoutMs: 5_000, what: 'offloads on again' });
    const exit = await client.wait({ timeoutMs: 120_000 });
    assert.equal(exit.code, 0, client.tail().join('\n'));

    const result = lines(client).find((l) => l.final) as { acked: number; unknown: number; lost: string[] };
    assert.deepEqual(result.lost, [], 'every acknowledged write is read back');
    assert.equal(result.acked + result.unknown, total);
    assert.ok(result.acked >= total - 3, `acknowledged ${result.acked} of ${total}`);

    // settle (COMMIT heartbeats carry the commit number), then stop the replicas for their reports
    await new Promise((r) => setTimeout(r, 500));
    for (const r of replicas) await r.stop(10_000);
    const reports = replicas.map((r) => lines(r).find((l) => l.final) as { snapshot: Json; kernel: { stats: Record<string, string>; reasons: Record<string, { packets: string }> } });
    const snaps = reports.map((r) => r.snapshot);
    assert.deepEqual(snaps.map((s) => [s.view, s.status, s.leader]), [[0, 'normal', 0], [0, 'normal', 0], [0, 'normal', 0]], 'no view change');
    assert.equal(new Set(snaps.map((s) => s.executed)).size, 1, `the replicas executed the same: ${JSON.stringify(snaps)}`);
    assert.ok(BigInt(snaps[0]!.commit as string) >= BigInt(Math.ceil(result.acked / 64)));

    const [leader, f1, f2] = reports.map((r) => r.kernel) as [typeof reports[0]['kernel'], typeof reports[0]['kernel'], typeof reports[0]['kernel']];
    const nonzero = (k: typeof leader) => Object.fromEntries(Object.entries(k.reasons).filter(([, c]) => c.packets !== '0').map(([n, c]) => [n.replace(/^ELECTRODE_R_/, ''), c.packets]));
    console.log(JSON.stringify({ clients: result, stats: [leader.stats, f1.stats, f2.stats], reasons: [leader, f1, f2].map(nonzero) }));
    const stat = (k: typeof leader, name: string) => BigInt(k.stats[name] ?? '0');
    const reason = (k: typeof leader, name: string) => BigInt(k.reasons[`ELECTRODE_R_${name}`]?.packets ?? '0');
    assert.ok(stat(leader, 'BCAST_CLONES') > 0n, 'the leader broadcast');
    assert.ok(stat(leader, 'QUORUMS') > 0n, 'the leader\'s quorum wait passed completing PrepareOKs');
    assert.ok(stat(f1, 'FAST_ACKS') > 0n && stat(f2, 'FAST_ACKS') > 0n, 'both followers fast-acked');
    assert.ok(reason(f1, 'OFFLOAD_OFF') + reason(f2, 'OFFLOAD_OFF') > 0n, 'Prepares passed up while the fast-ack was off');
    assert.ok(reason(leader, 'OFFLOAD_OFF') > 0n, 'PrepareOKs passed up while the quorum wait was off');
  }, 240_000);
});
