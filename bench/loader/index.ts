/**
 * ebpf-loader through its gRPC API against bpftool doing the same work in the same run:
 *
 * - single map updates: MapUpdate calls one after another vs `bpftool map update pinned …` run
 *   once per update (what a script or a controller without a loader would do);
 * - batch map updates: MapUpdateBatch (one BPF_MAP_UPDATE_BATCH) vs `bpftool batch file` with one
 *   `map update` line per entry (one bpftool process for the whole batch);
 * - test-run overhead: TestRun calls (repeat 1) vs `bpftool prog run pinned …` per run;
 * - where a single update's time goes: the same loader answering a call that does no kernel work
 *   and writes no audit line (ListObjects of an owner that has none) — the gRPC round trip, the
 *   floor of every call — next to MapUpdate's latency; and for the three kinds of calls the CPU
 *   time per call of each side (the loader process: /proc/<pid>/stat, all its threads; this
 *   process: process.cpuUsage()). A call's latency is the client's CPU + the loader's CPU + the
 *   time either waited for a CPU (the machine is shared): the CPU figures move less with other
 *   tenants' load than the latencies do;
 * - the same MapUpdate, MapUpdateBatch, TestRun and ListObjects calls through @netaccel/rpc's
 *   lean unary transport (`unaryTransport: 'http2'`, the default of every client of a Unix
 *   socket: one node:http2 stream per call, none of grpc-js's client call stack) against the same
 *   loader (`loader-http2-*`), beside grpc-js's transport, the opt-out (`loader-grpc-*`); both
 *   against the goals;
 * - the loader's server: the loader above serves with @netaccel/rpc's lean server (`rpc.transport:
 *   http2`, its default since issue 12's follow-up, item 4); a second loader with grpc-js's server
 *   (`rpc.transport: grpc-js`, the opt-out) answers the same MapUpdate, TestRun and ListObjects
 *   calls through the lean client in the same rounds (`loader-grpcserver-*`), with the CPU per
 *   call of each side.
 *
 * The loader runs as a real process (node + tsx, as in the tests) on a Unix socket; the maps and
 * programs are the pinned ones of loader-fixture.bpf.o and the selftest, so both sides touch the
 * same kernel objects. Measurements alternate between the two sides, three rounds each, and the
 * median of the rounds is recorded, because the machines are shared and noisy.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { closeSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LoaderClient, createRpcClient, loaderV1 } from '@netaccel/rpc';
import { selftestFixtures } from '@netaccel/bpf-programs/selftest/testing';
import { MAIN, REPO, connect, load, makeHome, removeHome, u16, u32 } from '@netaccel/app-ebpf-loader/testing';
import type { Loader, LoaderHome } from '@netaccel/app-ebpf-loader/testing';
import { stats } from '../lib/harness.js';
import type { BenchContext, Benchmark } from '../lib/harness.js';

const ROUNDS = 5;
const SINGLE_GRPC = 3000; // MapUpdate calls per round
const SINGLE_BPFTOOL = 150; // bpftool processes per round
const BATCH = 10_000; // entries per batch
const BATCHES = 3; // batches per round
const TESTRUN_GRPC = 3000;
const TESTRUN_BPFTOOL = 150;
const ROUND_TRIPS = 3000;
const FRESH_CLIENTS = 300; // clients per round made for one call each (a CLI command, libs/labs' stats)

function key(i: number): Buffer {
  return u32(i);
}

function value(i: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(i) * 3n);
  return b;
}

function hexBytes(b: Buffer): string[] {
  return [...b].map((x) => x.toString(16).padStart(2, '0'));
}

function perSecond(n: number, ms: number): number {
  return (n * 1000) / ms;
}

const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());

/** utime + stime of a process, all threads, µs. */
function processCpuUs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1e6) / CLK_TCK;
}

/** Runs `n` calls through `measure`; answers its figure and the CPU µs per call of the loader and of this process. */
async function withCpu(daemonPid: number, n: number, measure: () => Promise<number>): Promise<{ value: number; serverUs: number; clientUs: number }> {
  const s0 = processCpuUs(daemonPid);
  const c0 = process.cpuUsage();
  const value = await measure();
  const c = process.cpuUsage(c0);
  return { value, serverUs: (processCpuUs(daemonPid) - s0) / n, clientUs: (c.user + c.system) / n };
}

/** Starts the loader with its log in a file (a pipe read by this process would slow both sides). */
async function startDaemon(home: LoaderHome): Promise<ChildProcess> {
  const logPath = join(home.root, 'loader.log');
  const fd = openSync(logPath, 'a');
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, '--config', home.config], { cwd: REPO, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  const deadline = Date.now() + 30_000;
  while (!readFileSync(logPath, 'utf8').includes('"msg":"loader ready"')) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`the loader did not start:\n${readFileSync(logPath, 'utf8').slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return child;
}

async function singleGrpc(c: Loader, mapId: string, round: number): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < SINGLE_GRPC; i++) {
    const k = (round * SINGLE_GRPC + i) % 60_000;
    await c.mapUpdate(loaderV1.MapUpdateRequest.create({ mapId, entry: { key: key(k), value: value(k), perCpuValues: [] } }));
  }
  return perSecond(SINGLE_GRPC, performance.now() - t0);
}


function singleBpftool(pin: string, round: number): number {
  const t0 = performance.now();
  for (let i = 0; i < SINGLE_BPFTOOL; i++) {
    const k = (round * SINGLE_BPFTOOL + i) % 60_000;
    execFileSync('bpftool', ['map', 'update', 'pinned', pin, 'key', 'hex', ...hexBytes(key(k)), 'value', 'hex', ...hexBytes(value(k))]);
  }
  return perSecond(SINGLE_BPFTOOL, performance.now() - t0);
}

async function batchGrpc(c: Loader, mapId: string, round: number): Promise<number> {
  const requests = Array.from({ length: BATCHES }, (_, b) => loaderV1.MapUpdateBatchRequest.create({
    mapId,
    entries: Array.from({ length: BATCH }, (_, i) => loaderV1.MapEntry.create({ key: key((round * 7 + b * 11 + i) % 60_000), value: value(i) })),
  }));
  const t0 = performance.now();
  for (const req of requests) {
    const r = await c.mapUpdateBatch(req, { deadlineMs: 60_000 });
    if (r.updated !== BATCH) throw new Error(`batch wrote ${r.updated} of ${BATCH}`);
  }
  return perSecond(BATCH * BATCHES, performance.now() - t0);
}

function batchBpftool(pin: string, file: string, round: number): number {
  const files = Array.from({ length: BATCHES }, (_, b) => {
    const lines = Array.from({ length: BATCH }, (_, i) => `map update pinned ${pin} key hex ${hexBytes(key((round * 7 + b * 11 + i) % 60_000)).join(' ')} value hex ${hexBytes(value(i)).join(' ')}`);
    writeFileSync(`${file}.${b}`, `${lines.join('\n')}\n`);
    return `${file}.${b}`;
  });
  const t0 = performance.now();
  for (const f of files) execFileSync('bpftool', ['batch', 'file', f], { stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 64 << 20 });
  return perSecond(BATCH * BATCHES, performance.now() - t0);
}

async function testRunGrpc(c: Loader, programId: string, packet: Buffer): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < TESTRUN_GRPC; i++) await c.testRun(loaderV1.TestRunRequest.create({ programId, dataIn: packet, repeat: 1 }));
  return ((performance.now() - t0) * 1000) / TESTRUN_GRPC;
}

/** µs per call of a request that touches no map and writes no audit line. */
async function roundTripGrpc(c: Loader): Promise<number> {
  const req = loaderV1.ListObjectsRequest.create({ owner: 'cpl-nobody' });
  const t0 = performance.now();
  for (let i = 0; i < ROUND_TRIPS; i++) await c.listObjects(req);
  return ((performance.now() - t0) * 1000) / ROUND_TRIPS;
}

/**
 * µs per client of a client made for one call and closed, as a CLI command or libs/labs' stats
 * helpers do: connect, ListObjects, close. grpc-js's channels of one process share connections
 * (its global subchannel pool, kept ~10 s after a close); a local pool makes each client connect,
 * as each CLI process does.
 */
async function freshClients(socket: string, unaryTransport: 'grpc-js' | 'http2'): Promise<number> {
  const req = loaderV1.ListObjectsRequest.create({ owner: 'cpl-nobody' });
  const grpcOptions = unaryTransport === 'grpc-js' ? { 'grpc.use_local_subchannel_pool': 1 } : {};
  const t0 = performance.now();
  for (let i = 0; i < FRESH_CLIENTS; i++) {
    const f = createRpcClient(LoaderClient, { address: socket, deadlineMs: 10_000, unaryTransport, grpcOptions });
    try {
      await f.listObjects(req);
    } finally {
      f.close();
    }
  }
  return ((performance.now() - t0) * 1000) / FRESH_CLIENTS;
}

function testRunBpftool(pin: string, dataFile: string): number {
  const t0 = performance.now();
  for (let i = 0; i < TESTRUN_BPFTOOL; i++) execFileSync('bpftool', ['prog', 'run', 'pinned', pin, 'data_in', dataFile, 'repeat', '1'], { stdio: 'ignore' });
  return ((performance.now() - t0) * 1000) / TESTRUN_BPFTOOL;
}

const benchmark: Benchmark = {
  name: 'loader',
  description: 'ebpf-loader gRPC API vs bpftool: single and batch map updates, test-run overhead',
  needsRoot: true,
  async run(ctx: BenchContext) {
    const home = makeHome('bench');
    let daemon: ChildProcess | undefined;
    let c: Loader | undefined;
    let h2: Loader | undefined;
    let gsHome: LoaderHome | undefined;
    let gsDaemon: ChildProcess | undefined;
    let gs: Loader | undefined;
    try {
      daemon = await startDaemon(home);
      // grpc-js's transport, the opt-out (`loader-grpc-*`); the clients' default for a Unix socket is h2 below
      c = createRpcClient(LoaderClient, { address: home.socket, deadlineMs: 10_000, unaryTransport: 'grpc-js' });
      const fixture = await load(c, 'loader-fixture.bpf.o');
      const selftest = await load(c, 'selftest.bpf.o', { drop_udp_port: u16(4789) });
      // the same objects in a loader with grpc-js's server, called through the lean client
      gsHome = makeHome('bench-gs', { rpcTransport: 'grpc-js' });
      gsDaemon = await startDaemon(gsHome);
      gs = connect(gsHome);
      const gsFixture = await load(gs, 'loader-fixture.bpf.o');
      const gsProg = (await load(gs, 'selftest.bpf.o', { drop_udp_port: u16(4789) })).programs[0]!;
      const gsMapId = `${gsFixture.id}/bench_map`;
      const mapId = `${fixture.id}/bench_map`;
      const mapPin = fixture.maps.find((m) => m.name === 'bench_map')!.pinPath;
      const prog = selftest.programs[0]!;
      const packet = selftestFixtures(4789)[1]!.packet; // a datagram the program passes
      const dataFile = join(home.root, 'packet.bin');
      writeFileSync(dataFile, packet);
      const batchFile = join(home.root, 'batch.txt');

      h2 = connect(home); // the default transport of a Unix socket client (unaryTransport: 'http2')
      // Warm-up of every path on both sides (JIT of client and daemon, page cache of bpftool).
      await singleGrpc(c, mapId, 99);
      await singleGrpc(h2, mapId, 98);
      await testRunGrpc(h2, prog.id, packet);
      singleBpftool(mapPin, 99);
      await batchGrpc(c, mapId, 99);
      batchBpftool(mapPin, batchFile, 99);
      await testRunGrpc(c, prog.id, packet);
      testRunBpftool(prog.pinPath, dataFile);
      await roundTripGrpc(c);
      await batchGrpc(h2, mapId, 98);
      await roundTripGrpc(h2);
      await freshClients(home.socket, 'grpc-js');
      await freshClients(home.socket, 'http2');
      await singleGrpc(gs, gsMapId, 97);
      await testRunGrpc(gs, gsProg.id, packet);
      await roundTripGrpc(gs);

      const h2Single = { rate: [] as number[], cpu: [] as { serverUs: number; clientUs: number }[] };
      const h2Run = { us: [] as number[], cpu: [] as { serverUs: number; clientUs: number }[] };
      const h2Trip = { us: [] as number[], cpu: [] as { serverUs: number; clientUs: number }[] };
      const h2Batch: number[] = [];
      const gsSingle = { rate: [] as number[], cpu: [] as { serverUs: number; clientUs: number }[] };
      const gsRun = { us: [] as number[], cpu: [] as { serverUs: number; clientUs: number }[] };
      const gsTrip = { us: [] as number[], cpu: [] as { serverUs: number; clientUs: number }[] };
      const gsPid = gsDaemon.pid!;
      const fresh = { grpc: [] as { value: number; serverUs: number; clientUs: number }[], h2: [] as { value: number; serverUs: number; clientUs: number }[] };
      const s = { grpc: [] as number[], bpftool: [] as number[], grpcBatch: [] as number[], bpftoolBatch: [] as number[], runGrpc: [] as number[], runBpftool: [] as number[], roundTrip: [] as number[] };
      const cpu = { single: [] as { serverUs: number; clientUs: number }[], testrun: [] as { serverUs: number; clientUs: number }[], roundTrip: [] as { serverUs: number; clientUs: number }[] };
      const pid = daemon.pid!;
      for (let round = 0; round < ROUNDS; round++) {
        const single = await withCpu(pid, SINGLE_GRPC, () => singleGrpc(c!, mapId, round));
        s.grpc.push(single.value);
        cpu.single.push(single);
        const lean = await withCpu(pid, SINGLE_GRPC, () => singleGrpc(h2!, mapId, round + ROUNDS));
        h2Single.rate.push(lean.value);
        h2Single.cpu.push(lean);
        const gsOne = await withCpu(gsPid, SINGLE_GRPC, () => singleGrpc(gs!, gsMapId, round + 2 * ROUNDS));
        gsSingle.rate.push(gsOne.value);
        gsSingle.cpu.push(gsOne);
        s.bpftool.push(singleBpftool(mapPin, round));
        s.grpcBatch.push(await batchGrpc(c, mapId, round));
        h2Batch.push(await batchGrpc(h2, mapId, round + ROUNDS));
        s.bpftoolBatch.push(batchBpftool(mapPin, batchFile, round));
        const run = await withCpu(pid, TESTRUN_GRPC, () => testRunGrpc(c!, prog.id, packet));
        s.runGrpc.push(run.value);
        cpu.testrun.push(run);
        s.runBpftool.push(testRunBpftool(prog.pinPath, dataFile));
        const leanRun = await withCpu(pid, TESTRUN_GRPC, () => testRunGrpc(h2!, prog.id, packet));
        h2Run.us.push(leanRun.value);
        h2Run.cpu.push(leanRun);
        const gsOneRun = await withCpu(gsPid, TESTRUN_GRPC, () => testRunGrpc(gs!, gsProg.id, packet));
        gsRun.us.push(gsOneRun.value);
        gsRun.cpu.push(gsOneRun);
        const trip = await withCpu(pid, ROUND_TRIPS, () => roundTripGrpc(c!));
        s.roundTrip.push(trip.value);
        cpu.roundTrip.push(trip);
        const leanTrip = await withCpu(pid, ROUND_TRIPS, () => roundTripGrpc(h2!));
        h2Trip.us.push(leanTrip.value);
        h2Trip.cpu.push(leanTrip);
        const gsTripOne = await withCpu(gsPid, ROUND_TRIPS, () => roundTripGrpc(gs!));
        gsTrip.us.push(gsTripOne.value);
        gsTrip.cpu.push(gsTripOne);
        // alternate which goes first: a closed connection's teardown falls into the next block
        for (const t of round % 2 === 0 ? (['grpc-js', 'http2'] as const) : (['http2', 'grpc-js'] as const)) {
          (t === 'grpc-js' ? fresh.grpc : fresh.h2).push(await withCpu(pid, FRESH_CLIENTS, () => freshClients(home.socket, t)));
        }
      }
      const m = (x: number[]) => stats(x).median;
      ctx.figure('loader-grpc-single', 'map_updates_per_s', m(s.grpc), 'updates/s');
      ctx.figure('bpftool-map-update', 'map_updates_per_s', m(s.bpftool), 'updates/s');
      ctx.figure('loader-grpc-batch', 'batch_map_updates_per_s', m(s.grpcBatch), 'updates/s');
      ctx.figure('bpftool-batch-file', 'batch_map_updates_per_s', m(s.bpftoolBatch), 'updates/s');
      ctx.figure('loader-grpc-testrun', 'test_run_latency_us', m(s.runGrpc), 'µs');
      // the floor: a call without kernel work or audit line, against a MapUpdate's latency
      ctx.figure('loader-grpc-round-trip', 'call_latency_us', m(s.roundTrip), 'µs');
      ctx.figure('loader-grpc-single', 'call_latency_us', 1e6 / m(s.grpc), 'µs');
      ctx.figure('bpftool-prog-run', 'test_run_latency_us', m(s.runBpftool), 'µs');
      // the same calls through @netaccel/rpc's lean unary transport (unaryTransport: 'http2')
      ctx.figure('loader-http2-single', 'map_updates_per_s', m(h2Single.rate), 'updates/s');
      ctx.figure('loader-http2-testrun', 'test_run_latency_us', m(h2Run.us), 'µs');
      ctx.figure('loader-http2-batch', 'batch_map_updates_per_s', m(h2Batch), 'updates/s');
      ctx.figure('loader-http2-round-trip', 'call_latency_us', m(h2Trip.us), 'µs');
      // the same lean client against a loader with grpc-js's server (rpc.transport: grpc-js)
      ctx.figure('loader-grpcserver-single', 'map_updates_per_s', m(gsSingle.rate), 'updates/s');
      ctx.figure('loader-grpcserver-testrun', 'test_run_latency_us', m(gsRun.us), 'µs');
      ctx.figure('loader-grpcserver-round-trip', 'call_latency_us', m(gsTrip.us), 'µs');
      // a client per call (connect, ListObjects, close): the CLI's and libs/labs' stats pattern
      ctx.figure('loader-grpc-fresh-client', 'client_latency_us', m(fresh.grpc.map((x) => x.value)), 'µs');
      ctx.figure('loader-http2-fresh-client', 'client_latency_us', m(fresh.h2.map((x) => x.value)), 'µs');
      // CPU per call of each side (where a call's latency goes, besides waiting for a CPU)
      for (const [subject, list] of [
        ['loader-grpc-single', cpu.single], ['loader-grpc-testrun', cpu.testrun], ['loader-grpc-round-trip', cpu.roundTrip],
        ['loader-http2-single', h2Single.cpu], ['loader-http2-testrun', h2Run.cpu], ['loader-http2-round-trip', h2Trip.cpu],
        ['loader-grpc-fresh-client', fresh.grpc], ['loader-http2-fresh-client', fresh.h2],
        ['loader-grpcserver-single', gsSingle.cpu], ['loader-grpcserver-testrun', gsRun.cpu], ['loader-grpcserver-round-trip', gsTrip.cpu],
      ] as const) {
        ctx.figure(subject, 'loader_cpu_us_per_call', Math.round(m(list.map((x) => x.serverUs))), 'µs');
        ctx.figure(subject, 'client_cpu_us_per_call', Math.round(m(list.map((x) => x.clientUs))), 'µs');
      }
      const stats0 = await c.programStats(loaderV1.ProgramStatsRequest.create({ programId: prog.id }));
      ctx.figure('selftest-xdp-in-kernel', 'run_time_ns_per_run', Number(stats0.stats[0]!.runTimeNs) / Math.max(1, Number(stats0.stats[0]!.runCount)), 'ns');

      // A daemon on a Unix socket against a process per update: at least ten times the rate.
      ctx.compare('map_updates_per_s', 'loader-grpc-single', 'bpftool-map-update', '>= 10');
      // One BPF_MAP_UPDATE_BATCH against bpftool parsing and updating line by line.
      ctx.compare('batch_map_updates_per_s', 'loader-grpc-batch', 'bpftool-batch-file', '>= 2');
      // A test run through the loader costs at most a tenth of starting bpftool for it.
      ctx.compare('test_run_latency_us', 'loader-grpc-testrun', 'bpftool-prog-run', '<= 0.1');
      // The same goals with the lean unary transport (the default of Unix socket clients since issue 12's follow-up).
      ctx.compare('map_updates_per_s', 'loader-http2-single', 'bpftool-map-update', '>= 10');
      ctx.compare('batch_map_updates_per_s', 'loader-http2-batch', 'bpftool-batch-file', '>= 2');
      ctx.compare('test_run_latency_us', 'loader-http2-testrun', 'bpftool-prog-run', '<= 0.1');
      // The same lean client, grpc-js's server (the loader's server before item 4's lean server).
      ctx.compare('map_updates_per_s', 'loader-grpcserver-single', 'bpftool-map-update', '>= 10');
      ctx.compare('test_run_latency_us', 'loader-grpcserver-testrun', 'bpftool-prog-run', '<= 0.1');
    } finally {
      h2?.close();
      c?.close();
      gs?.close();
      if (gsDaemon && gsDaemon.exitCode === null) {
        const exited = new Promise((r) => gsDaemon!.once('exit', r));
        gsDaemon.kill('SIGTERM');
        await exited;
      }
      removeHome(gsHome);
      if (daemon && daemon.exitCode === null) {
        const exited = new Promise((r) => daemon!.once('exit', r));
        daemon.kill('SIGTERM');
        await exited;
      }
      removeHome(home);
    }
  },
};

export default benchmark;
