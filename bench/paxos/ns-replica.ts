/**
 * One replica of the paxos benchmark, run inside its namespace (bench/paxos/rig.ts): loads
 * electrode.bpf.o, configures the group (this namespace's eth0 as the copies' interface),
 * attaches electrode_xdp + electrode_broadcast to eth0, starts a PaxosReplica (key-value store)
 * with the ElectrodeOffload, prints {"ready":true}. Every 20 ms it reads <control file> (JSON
 * {seq, offloads}); on a new seq it switches the offloads (in this event loop, so no race with
 * publish) and prints one report line {seq, cpuUs, counters, view, status, leader, kernel}.
 * SIGTERM closes the replica (detaching the programs) and exits.
 * Usage: ns-replica.ts <self> <group JSON: [{address, port, mac}]> <control file> <view change ms>
 */
import { readFileSync } from 'node:fs';
import { resolveIfindex } from '@netaccel/bpf';
import { ElectrodeObject } from '@netaccel/bpf-programs/electrode';
import { KvStateMachine, PaxosReplica } from '@netaccel/paxos';

const [selfArg, groupArg, control, vcArg] = process.argv.slice(2);
const self = Number(selfArg);
const group = JSON.parse(groupArg!) as { address: string; port: number; mac: string }[];
const json = (v: unknown) => JSON.stringify(v, (_, x) => (typeof x === 'bigint' ? x.toString() : x));

const el = ElectrodeObject.load();
const ifindex = resolveIfindex('eth0');
el.offload.configure(group.map((g) => ({ ...g, ifindex })));
el.attach('eth0', { replace: true });
const replica = await PaxosReplica.start({
  replicas: group.map(({ address, port }) => ({ address, port })),
  self,
  stateMachine: new KvStateMachine(),
  offload: el.offload,
  viewChangeTimeoutMs: Number(vcArg),
});

let seq = -1;
const timer = setInterval(() => {
  let cmd: { seq: number; offloads: number };
  try {
    cmd = JSON.parse(readFileSync(control!, 'utf8')) as { seq: number; offloads: number };
  } catch {
    return; // absent or being replaced
  }
  if (cmd.seq === seq) return;
  seq = cmd.seq;
  if (el.offload.offloads() !== cmd.offloads) el.offload.setOffloads(cmd.offloads);
  const cpu = process.cpuUsage();
  const snap = replica.snapshot();
  process.stdout.write(`${json({ seq, cpuUs: cpu.user + cpu.system, counters: replica.counters(), view: snap.view, status: snap.status, leader: snap.leader, offloads: el.offload.offloads(), kernel: el.offload.counters().stats })}\n`);
}, 20);
process.stdout.write(`${json({ ready: true, self })}\n`);

process.on('SIGTERM', () => {
  clearInterval(timer);
  void replica.close().then(() => {
    el.close();
    process.exit(0);
  });
});
