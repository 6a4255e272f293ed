/**
 * `make lab` runs this until the full lab (three BGP-announcing XDP balancers, a router and six
 * backends) exists: the most complete demonstration the parts built so far allow, on real
 * kernels objects and real traffic.
 *
 *   client ──eth0── gw ──eth1── server        (namespaces built by @netaccel/netlab)
 *
 * 1. builds the topology (IPv4 + IPv6, forwarding on gw);
 * 2. starts an HTTP server and a UDP sink on the server;
 * 3. loads bpf/build/selftest/selftest.bpf.o with @netaccel/bpf, sets its drop-port global, pins
 *    it and attaches it (native XDP) to gw's client-facing interface;
 * 4. drives HTTP requests and UDP datagrams from the client through gw;
 * 5. reads the program's per-CPU verdict counters and the UDP sink's count, and checks that the
 *    datagrams to the drop port were dropped in XDP and every other packet went through;
 * 6. serves the counters as Prometheus metrics with @netaccel/telemetry and scrapes them;
 * 7. tears everything down (also on failure or Ctrl-C) and prints a report.
 * Exit 0 when every check held. Each step prints its time; a failure names the step and the log
 * file to read.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BpfObject, ensureBpffs } from '@netaccel/bpf';
import { createLab, type Lab } from '@netaccel/netlab';
import { buildTelemetryServer, createLogger, createMetrics } from '@netaccel/telemetry';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const OBJECT = join(root, 'bpf/build/selftest/selftest.bpf.o');
const DROP_PORT = 9; // UDP "discard": datagrams to it are dropped in XDP
const PASS_PORT = 5001; // a UDP port the sink listens on and XDP lets through
const HTTP_REQUESTS = 200;
const UDP_EACH = 500;
const VERDICTS = ['aborted', 'drop', 'pass', 'tx', 'redirect'] as const;

const spec = {
  name: 'demo',
  nodes: {
    client: { routes: [{ to: 'default', via: '10.70.1.1' }, { to: 'default', via: 'fd70:1::1' }] },
    gw: { forwarding: true },
    server: { routes: [{ to: 'default', via: '10.70.2.1' }, { to: 'default', via: 'fd70:2::1' }] },
  },
  links: [
    { a: 'client:eth0', b: 'gw:eth0', aAddr: ['10.70.1.2/24', 'fd70:1::2/64'], bAddr: ['10.70.1.1/24', 'fd70:1::1/64'] },
    { a: 'gw:eth1', b: 'server:eth0', aAddr: ['10.70.2.1/24', 'fd70:2::1/64'], bAddr: ['10.70.2.2/24', 'fd70:2::2/64'] },
  ],
};

const HTTP_SERVER = `require('http').createServer((q, s) => s.end('hello from server\\n')).listen(8080, '::', () => console.log('listening'));`;
const UDP_SINK = `let n = 0; const s = require('dgram').createSocket('udp4');
s.on('message', () => { n++; }); s.bind(${PASS_PORT}, () => console.log('bound'));
process.on('SIGTERM', () => { require('fs').writeFileSync(process.argv[1], String(n)); process.exit(0); });`;
const CLIENT = `(async () => {
  let ok = 0, failed = 0;
  for (let i = 0; i < ${HTTP_REQUESTS}; i++) {
    const url = i % 2 === 0 ? 'http://10.70.2.2:8080/' : 'http://[fd70:2::2]:8080/';
    try { const r = await fetch(url); (await r.text()) === 'hello from server\\n' ? ok++ : failed++; } catch { failed++; }
  }
  const s = require('dgram').createSocket('udp4');
  const send = (port) => new Promise((res, rej) => s.send('x'.repeat(64), port, '10.70.2.2', (e) => e ? rej(e) : res()));
  for (let i = 0; i < ${UDP_EACH}; i++) { await send(${DROP_PORT}); await send(${PASS_PORT}); }
  s.close();
  console.log(JSON.stringify({ ok, failed }));
})();`;

interface Step {
  name: string;
  ms: number;
}
const steps: Step[] = [];
let current = '';

async function step<T>(name: string, fn: () => Promise<T> | T): Promise<T> {
  current = name;
  process.stdout.write(`lab: ${name} ...`);
  const t0 = performance.now();
  const r = await fn();
  const ms = performance.now() - t0;
  steps.push({ name, ms });
  process.stdout.write(` ${ms.toFixed(0)} ms\n`);
  return r;
}

function check(what: string, ok: boolean, detail: string): void {
  if (!ok) throw new Error(`${what}: ${detail}`);
  console.log(`lab:   ok  ${what} (${detail})`);
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('the demonstration builds network namespaces and loads XDP programs: run it as root');
  const lab: Lab = createLab(spec);
  const pinDir = `/sys/fs/bpf/netaccel-demo-${process.pid}`;
  let obj: BpfObject | undefined;
  let telemetry: ReturnType<typeof buildTelemetryServer> | undefined;
  try {
    await step('build topology client - gw - server (IPv4 + IPv6)', () => lab.up());
    const sinkCount = join(lab.logDir, 'udp-sink.count');
    await step('start HTTP server and UDP sink on server', async () => {
      await lab.spawn('server', ['node', '-e', HTTP_SERVER], { name: 'http', ready: { tcp: '10.70.2.2:8080' } });
      await lab.spawn('server', ['node', '-e', UDP_SINK, sinkCount], { name: 'udp-sink', ready: { log: /bound/ } });
    });
    obj = await step(`load selftest XDP program (drop UDP port ${DROP_PORT}) and attach it to gw:eth0`, async () => {
      ensureBpffs();
      const o = BpfObject.openFile(OBJECT);
      o.setGlobal('drop_udp_port', DROP_PORT);
      o.load();
      mkdirSync(pinDir, { recursive: true });
      o.program('selftest_xdp').pin(join(pinDir, 'prog'));
      // sysfs: 'host' enters only the network namespace, so the host's bpffs pin stays visible.
      await lab.exec('gw', ['ip', 'link', 'set', 'dev', 'eth0', 'xdpdrv', 'pinned', join(pinDir, 'prog')], { sysfs: 'host' });
      return o;
    });
    const { ok, failed } = await step(`drive ${HTTP_REQUESTS} HTTP requests and 2 x ${UDP_EACH} UDP datagrams from client`, async () => {
      const r = await lab.exec('client', ['node', '-e', CLIENT], { timeoutMs: 120_000 });
      return JSON.parse(r.stdout.trim()) as { ok: number; failed: number };
    });
    const sunk = await step('stop the UDP sink and read what arrived', async () => {
      const sink = lab.processes().find((p) => p.name === 'udp-sink');
      if (!sink) throw new Error('the UDP sink process is gone');
      await sink.stop();
      const { readFileSync } = await import('node:fs');
      return Number(readFileSync(sinkCount, 'utf8'));
    });
    const counters = await step('read the per-CPU verdict counters from the map', () => {
      const map = obj!.map('verdict_stats');
      const out: Record<string, bigint> = {};
      VERDICTS.forEach((v, i) => {
        const key = Buffer.alloc(4);
        key.writeUInt32LE(i);
        const perCpu = map.lookupPerCpu(key);
        if (!perCpu) throw new Error(`verdict_stats has no entry ${i} (${v})`);
        out[v] = perCpu.reduce((sum, b) => sum + Buffer.from(b).readBigUInt64LE(0), 0n);
      });
      return out;
    });
    const metricsText = await step('serve the counters as Prometheus metrics and scrape /metrics', async () => {
      const log = createLogger({ name: 'lab', level: 'warn' });
      const metrics = createMetrics({ app: 'lab' });
      metrics.gauge({
        name: 'xdp_verdict_packets',
        help: 'Packets the selftest XDP program returned each verdict for',
        labelNames: ['verdict'] as const,
        collect(this) {
          for (const v of VERDICTS) this.set({ verdict: v }, Number(counters[v]));
        },
      });
      telemetry = buildTelemetryServer({ log, metrics, listen: { host: '127.0.0.1', port: 0 }, status: () => ({ counters: Object.fromEntries(Object.entries(counters).map(([k, v]) => [k, Number(v)])) }) });
      const addr = await telemetry.listen();
      const text = await (await fetch(`http://127.0.0.1:${'port' in addr ? addr.port : 0}/metrics`)).text();
      return text.split('\n').filter((l) => l.startsWith('netaccel_xdp_verdict_packets'));
    });

    console.log('\nlab: checks');
    check('every HTTP request through XDP answered', ok === HTTP_REQUESTS && failed === 0, `${ok}/${HTTP_REQUESTS} ok, IPv4 and IPv6`);
    check(`UDP to port ${PASS_PORT} all delivered`, sunk === UDP_EACH, `${sunk}/${UDP_EACH} arrived`);
    check(`UDP to port ${DROP_PORT} dropped in XDP`, counters.drop === BigInt(UDP_EACH), `drop counter ${counters.drop}`);
    check('everything else passed', counters.pass! > BigInt(UDP_EACH + HTTP_REQUESTS), `pass counter ${counters.pass}`);
    check('metrics exported', metricsText.length === VERDICTS.length, `${metricsText.length} series`);

    console.log('\nlab: report');
    for (const s of steps) console.log(`  ${s.ms.toFixed(0).padStart(6)} ms  ${s.name}`);
    console.log('\n  XDP verdicts on gw:eth0:');
    for (const v of VERDICTS) console.log(`    ${v.padEnd(9)} ${counters[v]}`);
    console.log('\n  /metrics:');
    for (const l of metricsText) console.log(`    ${l}`);
    console.log(`\n  logs of this run: ${lab.logDir}`);
  } catch (err) {
    console.error(`\nlab: FAILED at step "${current}": ${err instanceof Error ? err.message : String(err)}`);
    console.error(`lab: logs of this run (one file per process): ${lab.logDir}`);
    throw err;
  } finally {
    await telemetry?.close();
    obj?.close();
    await lab.down();
    rmSync(pinDir, { recursive: true, force: true });
  }
}

main().then(
  () => {
    console.log('\nlab: done, everything torn down');
  },
  () => {
    process.exitCode = 1;
  },
);
