/**
 * The closed-loop clients of the paxos benchmark, run in a namespace of their own
 * (bench/paxos/rig.ts). Every 10 ms it reads <control file> (JSON {seq, tag, clients, warmupMs,
 * ms}); on a new seq it runs one point: `clients` KvClients, each with one put outstanding at a
 * time (16-byte keys, 32-byte values), for warmupMs then ms; latencies and completions count
 * inside the ms window only. Clients 2k and 2k+1 share four keys (named after `tag`, so every
 * point has its own), so writes race; every put of the point (warm-up included) is recorded,
 * then each key is read back and the history is checked linearizable (@netaccel/linearizability):
 * an acknowledged write that was lost, or a read of a value never written, fails it. Prints one
 * line {seq, ops, seconds, p50Ms, p99Ms, unknown, acked (every operation answered, warm-up and
 * read-back included), lin, cpuUs}.
 * The clients share one UDP socket (SharedSocket): the generator's own cost is in every point's
 * figures and in the CPU the replicas do not get, and with a socket per client each reply was a
 * wake-up and two recvmsg (the second finding nothing); one socket reads what arrived in one go.
 * Usage: ns-clients.ts <group JSON: [{address, port}]> <control file>
 */
import { readFileSync } from 'node:fs';
import { HistoryRecorder, checkHistory } from '@netaccel/linearizability';
import { KvClient, PaxosClient, udpTransport } from '@netaccel/paxos';
import type { DatagramHandler, Transport } from '@netaccel/paxos';
import { paxos } from '@netaccel/protocol';
import { percentile } from './options.js';

interface Command {
  seq: number;
  tag: string;
  clients: number;
  warmupMs: number;
  ms: number;
}

const [groupArg, control] = process.argv.slice(2);
const replicas = JSON.parse(groupArg!) as { address: string; port: number }[];
const pool: KvClient[] = [];
const VALUE_PAD = 'v'.repeat(32);

/** One socket for every client; a REPLY goes to the client whose id's low 32 bits are its index. */
class SharedSocket {
  private readonly handlers: DatagramHandler[] = [];
  /** Client ids: a random high half, the index in the low half. */
  readonly base = BigInt(Math.floor(Math.random() * 0x7fffffff) + 1) << 32n;

  constructor(readonly socket: Transport) {
    socket.onMessage((data, from) => {
      if (data.length < paxos.PAXOS_HEADER_LEN + 8) return;
      this.handlers[data.readUInt32BE(paxos.PAXOS_HEADER_LEN + 4)]?.(data, from);
    });
  }

  transport(i: number): Transport {
    return {
      local: this.socket.local,
      send: (d, to) => this.socket.send(d, to),
      onMessage: (h) => void (this.handlers[i] = h),
      close: () => Promise.resolve(),
    };
  }
}

const shared = new SharedSocket(await udpTransport({ address: '0.0.0.0', port: 0, bufferBytes: 1 << 20 }));

async function clientsFor(n: number): Promise<KvClient[]> {
  for (let i = pool.length; i < n; i++) pool.push(new KvClient(await PaxosClient.create({ replicas, retryMs: 500, timeoutMs: 5000, clientId: shared.base + BigInt(i), transport: shared.transport(i) })));
  return pool.slice(0, n);
}

const keyOf = (tag: string, client: number, i: number) => `${tag}/p${client >> 1}/k${i % 4}`;

async function point(cmd: Command): Promise<Record<string, unknown>> {
  const kvs = await clientsFor(cmd.clients);
  const rec = new HistoryRecorder();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const start = t0 + cmd.warmupMs;
  const end = start + cmd.ms;
  const latencies: number[] = [];
  let ops = 0;
  let acked = 0;
  let unknown = 0;
  await Promise.all(kvs.map(async (kv, c) => {
    for (let i = 0; performance.now() < end; i++) {
      const key = keyOf(cmd.tag, c, i);
      const value = `${c}-${i}-${VALUE_PAD}`.slice(0, 32);
      const p = rec.begin({ kind: 'write', key, value });
      const a = performance.now();
      try {
        await kv.put(key, value);
      } catch {
        rec.unknown(p); // timed out: it may take effect later
        unknown++;
        continue;
      }
      rec.ok(p);
      acked++;
      const b = performance.now();
      if (a >= start && b <= end) {
        ops++;
        latencies.push(b - a);
      }
    }
  }));
  const seconds = cmd.ms / 1000;
  const cpu = process.cpuUsage(cpu0);
  // read back every key of the point (after all its writes returned), then check the history
  const keys = new Set<string>();
  for (let c = 0; c < cmd.clients; c++) for (let i = 0; i < 4; i++) keys.add(keyOf(cmd.tag, c, i));
  const readers = [...keys];
  await Promise.all(kvs.map(async (kv, c) => {
    for (let j = c; j < readers.length; j += kvs.length) {
      const p = rec.begin({ kind: 'read', key: readers[j]! });
      try {
        rec.ok(p, await kv.get(readers[j]!));
        acked++;
      } catch {
        rec.unknown(p);
      }
    }
  }));
  const check = checkHistory(rec.history(), { maxStepsPerKey: 2_000_000 });
  return {
    seq: cmd.seq,
    ops,
    seconds,
    p50Ms: percentile(latencies, 0.5),
    p99Ms: percentile(latencies, 0.99),
    unknown,
    acked,
    historyOps: rec.history().length,
    lin: check.outcome,
    ...(check.counterexample ? { counterexample: check.counterexample.explanation } : {}),
    cpuUs: cpu.user + cpu.system,
  };
}

let seq = -1;
let busy = false;
setInterval(() => {
  if (busy) return;
  let cmd: Command;
  try {
    cmd = JSON.parse(readFileSync(control!, 'utf8')) as Command;
  } catch {
    return;
  }
  if (cmd.seq === seq) return;
  seq = cmd.seq;
  busy = true;
  point(cmd).then(
    (r) => process.stdout.write(`${JSON.stringify(r)}\n`),
    (err: unknown) => process.stdout.write(`${JSON.stringify({ seq: cmd.seq, error: String(err) })}\n`),
  ).finally(() => {
    busy = false;
  });
}, 10);
process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
process.on('SIGTERM', () => {
  void Promise.all(pool.map((kv) => kv.client.close()))
    .then(() => shared.socket.close())
    .then(() => process.exit(0));
});
