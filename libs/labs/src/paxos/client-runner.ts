/**
 * The closed-loop clients of the Paxos scenario, run inside the client namespace by the scenario
 * (scenario.ts): <clients> key-value clients, each with one operation outstanding at a time, get
 * or put (half each) on <keys> shared keys with values unique to the operation, every operation
 * recorded for the linearizability check (a timed-out one as of unknown outcome). Once
 * <stop file> exists they finish their operation and stop; one reader then reads every key (also
 * recorded: an acknowledged write that is lost shows as a read the history cannot explain). The
 * history goes to <history file>. Times are epoch milliseconds, the clock of the replicas' lines.
 * Prints {"at":ms,"ok":n,"unknown":n} every 250 ms and {"final":true,…} at the end.
 * Usage: client-runner <group JSON: [{address, port}]> <clients> <keys> <history file> <stop file> [seed]
 */
import { existsSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { HistoryRecorder } from '@netaccel/linearizability';
import { KvClient, NA_ERR_PAXOS_TIMEOUT, PaxosClient, seededRandom } from '@netaccel/paxos';

const [groupArg, clientsArg, keysArg, historyFile, stopFile, seedArg] = process.argv.slice(2);
const replicas = JSON.parse(groupArg!) as { address: string; port: number }[];
const keys = Array.from({ length: Number(keysArg) }, (_, i) => `k${i}`);
const now = (): number => performance.timeOrigin + performance.now();
const rec = new HistoryRecorder(now);
let ok = 0;
let unknown = 0;
const stopped = (): boolean => existsSync(stopFile!);

/** Runs `op`, recording its outcome; a timeout is an unknown outcome, anything else is fatal. */
async function settle<T>(op: Promise<T>, onOk: (v: T) => void, onUnknown: () => void): Promise<void> {
  try {
    onOk(await op);
    ok++;
  } catch (err) {
    if (!NA_ERR_PAXOS_TIMEOUT.is(err)) throw err;
    onUnknown();
    unknown++;
  }
}

async function client(c: number): Promise<void> {
  const rand = seededRandom(Number(seedArg ?? '1') * 1000 + c);
  const kv = new KvClient(await PaxosClient.create({ replicas, timeoutMs: 10_000 }));
  try {
    for (let i = 0; !stopped(); i++) {
      const key = keys[Math.floor(rand() * keys.length)]!;
      if (rand() < 0.5) {
        const p = rec.begin({ kind: 'read', key });
        await settle(kv.get(key), (v) => rec.ok(p, v), () => rec.unknown(p));
      } else {
        const value = `c${c}-${i}`;
        const p = rec.begin({ kind: 'write', key, value });
        await settle(kv.put(key, value), () => rec.ok(p), () => rec.unknown(p));
      }
    }
  } finally {
    await kv.close();
  }
}

const progress = setInterval(() => process.stdout.write(`${JSON.stringify({ at: Date.now(), ok, unknown })}\n`), 250);
await Promise.all(Array.from({ length: Number(clientsArg) }, (_, c) => client(c)));
const reader = new KvClient(await PaxosClient.create({ replicas, timeoutMs: 10_000 }));
for (const key of keys) {
  const p = rec.begin({ kind: 'read', key });
  await settle(reader.get(key), (v) => rec.ok(p, v), () => rec.unknown(p));
}
await reader.close();
clearInterval(progress);
writeFileSync(historyFile!, JSON.stringify(rec.history()));
process.stdout.write(`${JSON.stringify({ final: true, at: Date.now(), ok, unknown, ops: rec.history().length })}\n`);
