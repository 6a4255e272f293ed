/**
 * The leader's per-request JavaScript cost, without the kernel: a 7-replica group's leader (a real
 * `PaxosReplica` with the key-value machine) on a transport that sends nothing, fed REQUEST
 * datagrams from 256 clients in turns of 14 (the batching the bench measures), and the
 * PREPARE_OKs of each entry as the two configurations deliver them to the leader: `none` one from
 * each of the 6 followers, `all` one flagged QUORUM (the kernel's quorum wait). It decodes,
 * batches, encodes the PREPARE, commits, executes and encodes every REPLY, as in the bench. CPU
 * time (process.cpuUsage, user + system) per request; GC included.
 *
 *   node --import tsx bench/paxos/leader-path.ts [<git revision>]   (root not needed)
 *
 * With a revision, its `libs/protocol/src/paxos` and `libs/paxos/src` are extracted (git archive)
 * next to this file and measured against the working tree in the same process, rounds
 * interleaved (base, tree, base, ...; each (variant, mode) rounds times): a same-run baseline.
 * Writes bench/results/paxos-leader-path.json.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { BenchContext, renderResult, writeResult } from '../lib/harness.js';
import { median } from './options.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..', '..');
const N = 7;
const CLIENTS = 256;
const BATCH = 14;
const REQUESTS = 60_000;
const ROUNDS = Number(process.env.PAXOS_LEADER_ROUNDS ?? 5);

type Peer = { address: string; port: number };
interface Variant {
  readonly name: string;
  /** @netaccel/paxos of the variant (PaxosReplica, KvStateMachine, encodeKvOp). */
  readonly lib: Record<string, unknown>;
  /** Its paxos wire codec (encodePaxos). */
  readonly wire: Record<string, unknown>;
}

const replicas: Peer[] = Array.from({ length: N }, (_, i) => ({ address: `10.99.0.${i + 1}`, port: 7470 }));
const clientPeer: Peer = { address: '10.99.1.1', port: 40000 };

/** CPU µs per request of `requests` requests through a leader of `v` in `mode`. */
async function leaderCost(v: Variant, mode: 'none' | 'all', requests: number): Promise<number> {
  const encodePaxos = v.wire.encodePaxos as (m: unknown) => Buffer;
  const encodeKvOp = v.lib.encodeKvOp as (op: unknown) => Buffer;
  const KvStateMachine = v.lib.KvStateMachine as new () => unknown;
  const PaxosReplica = v.lib.PaxosReplica as { start(o: unknown): Promise<{ receive(d: Buffer, f: Peer): void; close(): Promise<void>; counters(): Record<string, number> }> };
  const prepares: bigint[] = [];
  let replies = 0;
  const transport = {
    local: replicas[0]!,
    send(data: Buffer): void {
      if (data[5] === 3) prepares.push(data.readBigUInt64BE(16)); // PREPARE: its op
      else if (data[5] === 2) replies++;
    },
    onMessage(): void {},
    close: async () => undefined,
  };
  const leader = await PaxosReplica.start({ replicas, self: 0, stateMachine: new KvStateMachine(), transport, heartbeatMs: 1000, retransmitMs: 5000, viewChangeTimeoutMs: 60_000 });
  const ok = (op: bigint, from: number, flags: number) => encodePaxos({ type: 4, sender: from, view: 0, op, flags });
  const value = Buffer.alloc(32, 0x76);
  const payloads = Array.from({ length: CLIENTS }, (_, c) => encodeKvOp({ kind: 'put', key: `lp/p${c >> 1}/k${c % 4}`, value }));
  const base = 0x4d2n << 32n;
  const seq = new Array<bigint>(CLIENTS).fill(1n << 32n);
  const turn = () => new Promise<void>((r) => setImmediate(r));
  let sent = 0;
  let client = 0;
  const c0 = process.cpuUsage();
  while (sent < requests) {
    for (let k = 0; k < BATCH; k++, sent++, client = (client + 1) % CLIENTS) {
      seq[client] = seq[client]! + 1n;
      leader.receive(encodePaxos({ type: 1, view: 0, clientId: base + BigInt(client), requestId: seq[client], payload: payloads[client] }), clientPeer);
    }
    await turn(); // the pump: batch, PREPARE
    for (const op of prepares.splice(0)) {
      if (mode === 'all') leader.receive(ok(op, 1, 2), replicas[1]!);
      else for (let f = 1; f < N; f++) leader.receive(ok(op, f, 0), replicas[f]!);
    }
    await turn();
  }
  const c = process.cpuUsage(c0);
  await leader.close();
  const executed = leader.counters().requests_executed ?? 0;
  if (executed !== sent || replies !== sent) throw new Error(`leader path ${v.name} ${mode}: ${executed} executed, ${replies} replies of ${sent}`);
  // the request datagrams are encoded here (the same for both variants): measured apart and taken out
  return (c.user + c.system) / sent;
}

/** CPU µs per request of encoding the request datagrams alone (the driver's share of leaderCost). */
function driverCost(v: Variant, requests: number): number {
  const encodePaxos = v.wire.encodePaxos as (m: unknown) => Buffer;
  const payload = Buffer.alloc(60);
  const c0 = process.cpuUsage();
  for (let i = 0; i < requests; i++) encodePaxos({ type: 1, view: 0, clientId: (0x4d2n << 32n) + BigInt(i % CLIENTS), requestId: (1n << 32n) + BigInt(i), payload });
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / requests;
}

/** Extracts a revision's paxos sources under HERE and points their @netaccel/protocol at its own codec. */
function extract(rev: string): string {
  const dir = join(HERE, `.leader-path-${rev.replace(/[^A-Za-z0-9]/g, '')}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const tar = execFileSync('git', ['-C', ROOT, 'archive', rev, 'libs/protocol/src/paxos', 'libs/paxos/src']);
  execFileSync('tar', ['-x', '-C', dir], { input: tar });
  const shim = join(dir, 'protocol.ts');
  writeFileSync(shim, `export * from '${relative(dir, join(ROOT, 'libs/protocol/src/index.js'))}';\nexport * as paxos from './libs/protocol/src/paxos/index.js';\n`);
  const src = join(dir, 'libs/paxos/src');
  for (const f of readdirSync(src, { recursive: true }) as string[]) {
    if (!f.endsWith('.ts')) continue;
    const p = join(src, f);
    const text = readFileSync(p, 'utf8');
    const to = relative(dirname(p), shim).replace(/\.ts$/, '.js');
    writeFileSync(p, text.replaceAll("from '@netaccel/protocol'", `from '${to.startsWith('.') ? to : `./${to}`}'`));
  }
  return dir;
}

async function main(): Promise<void> {
  const rev = process.argv[2];
  const tree: Variant = { name: 'tree', lib: await import('@netaccel/paxos'), wire: (await import('@netaccel/protocol')).paxos as unknown as Record<string, unknown> };
  const variants: Variant[] = [tree];
  let dir: string | undefined;
  try {
    if (rev) {
      dir = extract(rev);
      const lib = (await import(pathToFileURL(join(dir, 'libs/paxos/src/index.ts')).href)) as Record<string, unknown>;
      const wire = (await import(pathToFileURL(join(dir, 'libs/protocol/src/paxos/index.ts')).href)) as Record<string, unknown>;
      variants.unshift({ name: `base-${rev}`, lib, wire });
    }
    const ctx = new BenchContext('paxos-leader-path');
    const samples = new Map<string, number[]>();
    for (const v of variants) for (const mode of ['none', 'all'] as const) await leaderCost(v, mode, 10_000); // warm
    for (let round = 0; round < ROUNDS; round++) {
      for (const mode of ['none', 'all'] as const) {
        for (const v of round % 2 === 0 ? variants : [...variants].reverse()) {
          const us = await leaderCost(v, mode, REQUESTS) - driverCost(v, REQUESTS);
          const k = `${v.name}|${mode}`;
          samples.set(k, [...(samples.get(k) ?? []), us]);
          console.error(`bench: paxos-leader-path: ${v.name} ${mode} round ${round}: ${us.toFixed(2)} us/request`);
        }
      }
    }
    for (const v of variants) for (const mode of ['none', 'all'] as const) {
      const xs = samples.get(`${v.name}|${mode}`)!;
      ctx.figure(`leader-${mode}-${v.name}`, 'cpu_us_per_request', Math.round(median(xs) * 100) / 100, 'us');
      ctx.figure(`leader-${mode}-${v.name}`, 'cpu_us_per_request_min', Math.round(Math.min(...xs) * 100) / 100, 'us');
    }
    if (rev) for (const mode of ['none', 'all'] as const) ctx.compare('cpu_us_per_request', `leader-${mode}-tree`, `leader-${mode}-base-${rev}`, '<= 1');
    const result = ctx.result();
    console.log(renderResult(result));
    console.log(`results in ${writeResult(result)}`);
  } finally {
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}

await main();
