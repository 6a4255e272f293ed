/**
 * The closed-loop clients of the paxos benchmark, run in a namespace of their own
 * (bench/paxos/rig.ts). Every 10 ms it reads <control file> (JSON {seq, tag, clients, warmupMs,
 * ms, rate?}); on a new seq it runs one point with paxos-gen (paxos-gen.c, built by tools.ts): `clients`
 * closed-loop clients (with `rate`: clients taking puts that arrive at `rate` op/s, paced) in one C process on one UDP socket, each with one put outstanding at a time
 * (16-byte keys, 32-byte values), for warmupMs then ms; latencies and completions count inside the
 * ms window only. Clients 2k and 2k+1 share four keys (named after `tag`, so every point has its
 * own), so writes race; every put of the point (warm-up included) is in the generator's history;
 * then each key is read back here (KvClients of @netaccel/paxos) and the whole history is checked
 * linearizable (@netaccel/linearizability): an acknowledged write that was lost, or a read of a
 * value never written, fails it. Prints one line {seq, ops, seconds, p50Ms, p99Ms, unknown,
 * acked (every operation answered, warm-up and read-back included), lin, cpuUs (the generator's),
 * gen (its whole report)}.
 * Why C: the Node clients cost ~35-40 µs of CPU per put (the KvClient's encode/decode, promises,
 * one recvmsg per datagram), CPU the replicas then did not get on this 2-CPU machine; paxos-gen
 * reads and sends in batches (recvmmsg / sendmmsg) and costs a few µs.
 * The same client ids (a random base + c) run every point, with request ids above the last
 * point's (seq << 32), so the replicas' client table stays one entry per client.
 * Usage: ns-clients.ts <group JSON: [{address, port}]> <control file> <paxos-gen>
 */
import { randomInt } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HistoryRecorder, checkHistory } from '@netaccel/linearizability';
import { KvClient, PaxosClient } from '@netaccel/paxos';
import { monotonicMs, readGenHistory, runGen } from './gen.js';

interface Command {
  seq: number;
  tag: string;
  clients: number;
  warmupMs: number;
  ms: number;
  /** Paced: puts arrive at this rate (op/s), latency from each arrival; absent: closed loop. */
  rate?: number;
}

const [groupArg, control, genBin] = process.argv.slice(2);
const replicas = JSON.parse(groupArg!) as { address: string; port: number }[];
/** The generator's client ids: a random high half, the client's index in the low half. */
const genBase = BigInt(randomInt(1, 0x7fffffff)) << 32n;
/** The read-back clients' ids: another random high half. */
const readBase = BigInt(randomInt(1, 0x7fffffff)) << 32n;
const READERS = 16;
const readers: KvClient[] = [];

async function readersFor(n: number): Promise<KvClient[]> {
  for (let i = readers.length; i < Math.min(n, READERS); i++) readers.push(new KvClient(await PaxosClient.create({ replicas, retryMs: 500, timeoutMs: 5000, clientId: readBase + BigInt(i) })));
  return readers.slice(0, Math.min(n, READERS));
}

const keyOf = (tag: string, client: number, i: number) => `${tag}/p${client >> 1}/k${i % 4}`;

async function point(cmd: Command): Promise<Record<string, unknown>> {
  const historyFile = join(tmpdir(), `npb-gen-${process.pid}-${cmd.seq}.history`);
  let puts;
  let gen;
  try {
    gen = await runGen(genBin!, {
      replicas,
      clients: cmd.clients,
      warmupMs: cmd.warmupMs,
      ms: cmd.ms,
      tag: cmd.tag,
      clientIdBase: genBase,
      firstRequestId: (BigInt(cmd.seq) << 32n) + 1n,
      retryMs: 500,
      timeoutMs: 5000,
      historyFile,
      ...(cmd.rate === undefined ? {} : { rateOpsPerS: cmd.rate }),
    });
    puts = readGenHistory(historyFile);
  } finally {
    rmSync(historyFile, { force: true });
  }
  // read back every key of the point (after all its writes returned), then check the history
  const rec = new HistoryRecorder(monotonicMs);
  const keys = new Set<string>();
  for (let c = 0; c < cmd.clients; c++) for (let i = 0; i < 4; i++) keys.add(keyOf(cmd.tag, c, i));
  const all = [...keys];
  const kvs = await readersFor(cmd.clients);
  let reads = 0;
  await Promise.all(kvs.map(async (kv, c) => {
    for (let j = c; j < all.length; j += kvs.length) {
      const p = rec.begin({ kind: 'read', key: all[j]! });
      try {
        rec.ok(p, await kv.get(all[j]!));
        reads++;
      } catch {
        rec.unknown(p);
      }
    }
  }));
  const history = [...puts, ...rec.history()];
  const check = checkHistory(history, { maxStepsPerKey: 2_000_000 });
  return {
    seq: cmd.seq,
    ops: gen.ops,
    seconds: gen.seconds,
    p50Ms: gen.p50Ms,
    p99Ms: gen.p99Ms,
    unknown: gen.unknown,
    acked: gen.acked + reads,
    historyOps: history.length,
    lin: check.outcome,
    ...(check.counterexample ? { counterexample: check.counterexample.explanation } : {}),
    cpuUs: gen.cpuUs,
    gen,
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
  void Promise.all(readers.map((kv) => kv.client.close())).then(() => process.exit(0));
});
