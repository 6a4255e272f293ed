/**
 * One replica of the paxos benchmark in its own process (so the replicas of a group run on the
 * machine's CPUs like separate daemons do). Configuration in NETACCEL_PAXOS_BENCH (JSON: peers,
 * self); IPC: sends 'ready' once serving; answers 'stats' with its CPU time and counters; exits
 * on 'close'.
 */
import { KvStateMachine, PaxosReplica } from '@netaccel/paxos';
import type { Peer } from '@netaccel/paxos';

interface Config {
  readonly peers: Peer[];
  readonly self: number;
  readonly viewChangeTimeoutMs: number;
}

const config = JSON.parse(process.env.NETACCEL_PAXOS_BENCH ?? '{}') as Config;
const replica = await PaxosReplica.start({ replicas: config.peers, self: config.self, stateMachine: new KvStateMachine(), viewChangeTimeoutMs: config.viewChangeTimeoutMs });

process.on('message', (m: unknown) => {
  if (m === 'stats') {
    const cpu = process.cpuUsage();
    process.send!({ cpuUs: cpu.user + cpu.system, counters: replica.counters(), snapshot: { ...replica.snapshot(), lastOp: String(replica.snapshot().lastOp), commit: String(replica.snapshot().commit), executed: String(replica.snapshot().executed) } });
  } else if (m === 'close') {
    void replica.close().then(() => process.exit(0));
  }
});
process.on('disconnect', () => void replica.close().then(() => process.exit(0)));
process.send!('ready');
