/**
 * Bulk announcement (issue 5): 100,000 prefixes to a GoBGP peer, time and peak memory, against
 * `gobgp` injecting the same prefixes into its own daemon in the same run.
 *
 *   lb1 (bgp-announcer, AS 65001) ── rx1 (gobgpd, AS 65000)        ours
 *   inj (gobgpd, AS 65002)        ── rx2 (gobgpd, AS 65000)        baseline
 *
 * Both receivers run the same configuration; both senders are eBGP peers with an established
 * session and nothing announced when the clock starts.
 * - ours: the announcer's configuration file gets the N static prefixes (the path a bulk table
 *   takes into the announcer: the Announcer gRPC service has no batch call, one Announce per
 *   prefix is the VIP-by-VIP path of lb-controller) and the process gets SIGHUP; the clock runs
 *   from the SIGHUP (so reading and validating the configuration counts) until rx1's RIB holds
 *   all N prefixes; the announcer's "configuration applied" log line splits it into the reload
 *   and the rest (Adj-RIB-Out, UPDATEs, the receiver).
 * - baseline: `gobgp mrt inject global <file>` streams the same N prefixes, read from an MRT
 *   TABLE_DUMP_V2 file, into the injector's own gobgpd over its gRPC API (AddPathStream: the
 *   fastest bulk path GoBGP 3's CLI has; `gobgp global rib add` is one process and one RPC per
 *   prefix); the clock runs from the start of the command (so reading the file counts) until
 *   rx2's RIB holds all N prefixes.
 * GoBGP 3.10's `gobgp mrt inject` exits right after its last stream Send (no CloseAndRecv), so
 * the paths still in flight to gobgpd are lost (34..1,158 of 100,000 in our tries; fed from a
 * pipe it also misparses records, as it reads with a plain Read). The file therefore ends with
 * the last route repeated (min(5,000, max(1,000, N)) times): identical re-adds that gobgpd does
 * not pass on (the receiver gets no extra UPDATE), processed after every real route, so they
 * can only slow the baseline down, never hide a lost route.
 * The receivers are polled with `gobgp global rib summary` (a count, not a RIB dump). Memory:
 * VmHWM (peak RSS) of the announcer process and of the injecting gobgpd, from /proc; the gobgp
 * CLI's own peak (`/usr/bin/time %M`) is recorded beside it. The announcer runs as installed
 * (dist/main.js, the bundle; build it first). Before anything is announced, VmRSS of both
 * senders right after the sessions came up (bulk_start_rss) and once the announcer's has settled
 * (bulk_idle_rss: once V8's memory reducer is done with the start-up heap; see IDLE_AFTER_MS). Rounds alternate ours / baseline;
 * between rounds everything is withdrawn and both receivers are back at 0.
 *
 * BGP_BULK_PREFIXES (default 100,000; fewer for a quick run) and BGP_BULK_ROUNDS (default 1:
 * gobgpd alone takes 20..40 s per round for 100,000 on 2 cores) set the size.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Lab, LabProcess } from '@netaccel/netlab';
import { createLab, sleep, waitFor } from '@netaccel/netlab';
import type { BenchContext } from '../lib/harness.js';
import { stats } from '../lib/harness.js';
import { announcerConfig, startAnnouncer } from '@netaccel/app-bgp-announcer/testing';
import { LB_AS, lbAddr, prefixes } from '@netaccel/labs';

const RX_AS = 65000;
const INJ_AS = 65002;
const OURS_RX = '10.1.1.1'; // rx1; lb1 is lbAddr('lb1') = 10.1.1.2
const INJ = '10.3.1.2';
const INJ_RX = '10.3.1.1'; // rx2
const MAX_PREFIXES = 1 << 22; // /32s in 100.64.0.0/10
const POLL_MS = 50;
const STALL_MS = 20_000;

const OURS = 'bgp-announcer';
const BASELINE = 'gobgpd (gobgp mrt inject)';
/** Issue 12: the announcer idle at <= 60 MiB (a stated goal, not a measurement). */
const IDLE_GOAL = 'goal (issue 12, stated)';
const IDLE_GOAL_MIB = 60;
/**
 * Idle RSS is read once the announcer's has settled: no earlier than IDLE_AFTER_MS after its
 * start, then once it moved by at most IDLE_STABLE_MIB over IDLE_STABLE_MS of samples, at the
 * latest IDLE_MAX_MS after the start. V8's memory reducer gives the start-up heap back in steps:
 * its first GC ~8 s after the start (69 -> 62 MiB here), the next only once the old generation's
 * allocation rate it estimates (the bytes the start-up promoted / the time since the start) is
 * below 0.7 % of the mark-compact speed it measured in the first GC (`--trace-gc-verbose
 * --trace-mutator-utilization`): ~9 s on a quiet host, ~50 s at a load of 15 (62 -> 60 MiB). An
 * earlier read (20 s, stable for 10 s) took the plateau between the two.
 */
const IDLE_AFTER_MS = 60_000;
const IDLE_STABLE_MS = 10_000;
const IDLE_STABLE_MIB = 0.5;
const IDLE_MAX_MS = 90_000;

function envInt(name: string, dflt: number, min: number, max: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return dflt;
  const v = Number(raw);
  if (!Number.isInteger(v) || v < min || v > max) throw new Error(`${name}: expected a whole number ${min}..${max}, got ${JSON.stringify(raw)}`);
  return v;
}

// --- GoBGP ------------------------------------------------------------------------------------

function gobgpdConfig(o: { as: number; routerId: string; neighbor: string; peerAs: number }): string {
  return [
    '[global.config]',
    `  as = ${o.as}`,
    `  router-id = "${o.routerId}"`,
    `  local-address-list = ["${o.routerId}"]`,
    '',
    '[[neighbors]]',
    '  [neighbors.config]',
    `    neighbor-address = "${o.neighbor}"`,
    `    peer-as = ${o.peerAs}`,
    '  [neighbors.timers.config]',
    '    connect-retry = 1',
    '  [[neighbors.afi-safis]]',
    '    [neighbors.afi-safis.config]',
    '      afi-safi-name = "ipv4-unicast"',
    '',
  ].join('\n');
}

async function startGobgpd(lab: Lab, node: string, o: Parameters<typeof gobgpdConfig>[0]): Promise<LabProcess> {
  const conf = join(lab.logDir, `${node}-gobgpd.toml`);
  writeFileSync(conf, gobgpdConfig(o));
  return lab.spawn(node, ['gobgpd', '-f', conf, '-t', 'toml', '-p', '--api-hosts', '127.0.0.1:50051', '--pprof-disable'], {
    name: `${node}-gobgpd`,
    ready: { tcp: `${o.routerId}:179` },
  });
}

async function established(lab: Lab, node: string, neighbor: string, timeoutMs: number): Promise<void> {
  await waitFor(
    async () => {
      const out = await lab.exec(node, ['gobgp', 'neighbor', '-j'], { check: false });
      if (out.code !== 0) return undefined;
      const list = JSON.parse(out.stdout) as { state?: { neighbor_address?: string; session_state?: number | string } }[];
      return list.some((n) => n.state?.neighbor_address === neighbor && /established|^6$/i.test(String(n.state.session_state ?? ''))) ? true : undefined;
    },
    { timeoutMs, intervalMs: 100, what: `${node}: session with ${neighbor} established` },
  );
}

/** Destinations and paths in a gobgpd's IPv4 unicast RIB (a count; the RIB is not dumped). */
async function ribSummary(lab: Lab, node: string): Promise<{ destinations: number; paths: number }> {
  const out = (await lab.exec(node, ['gobgp', 'global', 'rib', 'summary', '-a', 'ipv4'])).stdout;
  const m = /Destination:\s*(\d+),\s*Path:\s*(\d+)/.exec(out);
  if (!m) throw new Error(`${node}: unexpected output of gobgp global rib summary: ${JSON.stringify(out)}`);
  return { destinations: Number(m[1]), paths: Number(m[2]) };
}

/**
 * Polls a receiver until its RIB holds exactly `want` destinations (one path each); answers ms
 * since `t0`. Gives up after `timeoutMs`, or when the count, once it moved, has not moved again
 * for STALL_MS (a sender that lost routes), saying what `hint` adds.
 */
async function ribReaches(lab: Lab, node: string, want: number, t0: number, timeoutMs: number, hint: () => Promise<string> = () => Promise.resolve('')): Promise<number> {
  let last = -1;
  let moved = t0;
  let changes = 0; // the first sample counts as one
  for (;;) {
    const s = await ribSummary(lab, node);
    const now = performance.now();
    if (s.destinations === want) {
      if (s.paths !== want) throw new Error(`${node}: ${s.destinations} destinations but ${s.paths} paths; expected one path each`);
      return now - t0;
    }
    if (want > 0 && s.destinations > want) throw new Error(`${node}: RIB holds ${s.destinations} destinations, more than the ${want} sent`);
    if (s.destinations !== last) [last, moved, changes] = [s.destinations, now, changes + 1];
    if (now - t0 > timeoutMs || (changes > 1 && now - moved > STALL_MS)) {
      throw new Error(`${node}: RIB holds ${s.destinations} of ${want} destinations after ${Math.round(now - t0)} ms (no change for ${Math.round(now - moved)} ms)${await hint()}`);
    }
    await sleep(POLL_MS);
  }
}

/** One route of a receiver's RIB as gobgp shows it (prefix, next hop, AS path). */
async function ribRoute(lab: Lab, node: string, prefix: string): Promise<{ nexthop: string; asPath: number[] }> {
  const out = (await lab.exec(node, ['gobgp', 'global', 'rib', '-a', 'ipv4', prefix, '-j'])).stdout;
  const paths = (JSON.parse(out) as Record<string, { attrs?: { type: number; nexthop?: string; as_paths?: { asns?: number[] }[] }[] }[]>)[prefix] ?? [];
  if (paths.length !== 1) throw new Error(`${node}: ${prefix}: expected one path, got ${out}`);
  const attrs = paths[0]!.attrs ?? [];
  return {
    nexthop: attrs.find((a) => a.type === 3)?.nexthop ?? '',
    asPath: attrs.find((a) => a.type === 2)?.as_paths?.flatMap((s) => s.asns ?? []) ?? [],
  };
}

// --- MRT TABLE_DUMP_V2 (RFC 6396) for gobgp mrt inject ----------------------------------------

function mrtRecord(subtype: number, body: Buffer): Buffer {
  const h = Buffer.alloc(12);
  h.writeUInt32BE(Math.floor(Date.now() / 1000), 0);
  h.writeUInt16BE(13, 4); // TABLE_DUMP_V2
  h.writeUInt16BE(subtype, 6);
  h.writeUInt32BE(body.length, 8);
  return Buffer.concat([h, body]);
}

const ipv4 = (a: string): Buffer => Buffer.from(a.split('.').map(Number));

/**
 * A TABLE_DUMP_V2 file: PEER_INDEX_TABLE with the injector itself, then one RIB_IPV4_UNICAST
 * record per prefix with ORIGIN IGP, an empty AS_PATH and NEXT_HOP `nextHop`: the routes of a
 * speaker's own table, which it sends to an external peer with its AS prepended, as the announcer
 * does with its static routes.
 */
function mrtTable(prefixList: readonly string[], self: { routerId: string; as: number }, nextHop: string, repeatLast = 0): Buffer {
  const peerIndex = Buffer.concat([ipv4(self.routerId), Buffer.from([0, 0, 0, 1]), Buffer.from([0x02]), ipv4(self.routerId), ipv4(self.routerId), Buffer.alloc(4)]);
  peerIndex.writeUInt32BE(self.as, peerIndex.length - 4);
  const attrs = Buffer.concat([Buffer.from([0x40, 1, 1, 0]), Buffer.from([0x40, 2, 0]), Buffer.from([0x40, 3, 4]), ipv4(nextHop)]);
  const now = Math.floor(Date.now() / 1000);
  const out: Buffer[] = [mrtRecord(1, peerIndex)];
  const all = prefixList.length === 0 ? [] : [...prefixList, ...Array<string>(repeatLast).fill(prefixList[prefixList.length - 1]!)];
  all.forEach((p, seq) => {
    const [addr, len] = p.split('/') as [string, string];
    const bits = Number(len);
    const octets = ipv4(addr).subarray(0, Math.ceil(bits / 8));
    const body = Buffer.alloc(4 + 1 + octets.length + 2 + 2 + 4 + 2 + attrs.length);
    let o = body.writeUInt32BE(seq, 0);
    o = body.writeUInt8(bits, o);
    o += octets.copy(body, o);
    o = body.writeUInt16BE(1, o); // one entry
    o = body.writeUInt16BE(0, o); // peer index
    o = body.writeUInt32BE(now, o);
    o = body.writeUInt16BE(attrs.length, o);
    attrs.copy(body, o);
    out.push(mrtRecord(2, body));
  });
  return Buffer.concat(out);
}

// --- memory -----------------------------------------------------------------------------------

/** VmHWM (peak RSS) and VmRSS of a process, MiB. */
function memory(pid: number): { peak: number; rss: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string): number => {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(status);
    if (!m) throw new Error(`/proc/${pid}/status: no ${field}`);
    return Number(m[1]);
  };
  return { peak: kb('VmHWM') / 1024, rss: kb('VmRSS') / 1024 };
}

/** Waits until the RSS of `pid` has settled (see IDLE_AFTER_MS). */
async function settled(pid: number, startedAt: number): Promise<void> {
  await sleep(Math.max(0, startedAt + IDLE_AFTER_MS - performance.now()));
  const window: number[] = [];
  const samples = IDLE_STABLE_MS / 1000 + 1;
  while (performance.now() - startedAt < IDLE_MAX_MS) {
    window.push(memory(pid).rss);
    if (window.length > samples) window.shift();
    if (window.length === samples && Math.max(...window) - Math.min(...window) <= IDLE_STABLE_MIB) return;
    await sleep(1000);
  }
}

/** The process the lab started, not a wrapper: `ip netns exec` execs the command in place. */
function checkComm(pid: number, want: string): void {
  const comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  if (comm !== want) throw new Error(`pid ${pid} is ${JSON.stringify(comm)}, expected ${want}: memory would be measured on the wrong process`);
}

/** Wall-clock time (ms) of the announcer's first "configuration applied" log line at or after `since`. */
function appliedAt(proc: LabProcess, since: number): number {
  for (const line of proc.output().split('\n')) {
    if (!line.includes('"msg":"configuration applied"')) continue;
    const t = Date.parse((JSON.parse(line) as { time: string }).time);
    if (t >= since) return t;
  }
  throw new Error(`${proc.name}: no "configuration applied" in the log after the SIGHUP`);
}

// --- the section ------------------------------------------------------------------------------

export async function bulk(ctx: BenchContext): Promise<void> {
  const n = envInt('BGP_BULK_PREFIXES', 100_000, 1, MAX_PREFIXES);
  const rounds = envInt('BGP_BULK_ROUNDS', 1, 1, 20);
  const pad = Math.min(5000, Math.max(1000, n)); // see above: the tail gobgp mrt inject may lose
  const timeoutMs = 60_000 + n; // 1 min + 1 ms per prefix
  const list = prefixes(n);
  const lab = createLab(
    {
      name: 'bench-bgp-bulk',
      nodes: { lb1: {}, rx1: {}, inj: {}, rx2: {} },
      links: [
        { a: 'rx1:eth0', b: 'lb1:eth0', aAddr: `${OURS_RX}/24`, bAddr: `${lbAddr('lb1')}/24` },
        { a: 'rx2:eth0', b: 'inj:eth0', aAddr: `${INJ_RX}/24`, bAddr: `${INJ}/24` },
      ],
    },
    { killGraceMs: 2000, readyTimeoutMs: 20_000 },
  );
  try {
    await lab.up();
    await startGobgpd(lab, 'rx1', { as: RX_AS, routerId: OURS_RX, neighbor: lbAddr('lb1'), peerAs: LB_AS });
    await startGobgpd(lab, 'rx2', { as: RX_AS, routerId: INJ_RX, neighbor: INJ, peerAs: INJ_AS });
    const injector = await startGobgpd(lab, 'inj', { as: INJ_AS, routerId: INJ, neighbor: INJ_RX, peerAs: RX_AS });
    checkComm(injector.pid, 'gobgpd');

    // ours: production settings (log level info, no UPDATE rate limit, hold time 90 s)
    const files = announcerConfig(lab, 'lb1', { peers: [{ address: OURS_RX, remoteAs: RX_AS, families: ['ipv4-unicast'] }], holdTime: 90 });
    const empty = { ...files.config, logLevel: 'info' } as { logLevel: string; bgp: Record<string, unknown> };
    const full = { ...empty, bgp: { ...empty.bgp, announce: list.map((prefix) => ({ prefix })) } };
    const emptyText = `${JSON.stringify(empty)}\n`;
    const fullText = `${JSON.stringify(full)}\n`;
    writeFileSync(files.file, emptyText);
    const announcer = await startAnnouncer(lab, 'lb1', files.file, 'lb1-bulk', { bundled: true }); // as installed: the bundle
    const startedAt = performance.now();
    checkComm(announcer.pid, 'node');

    const mrt = join(lab.logDir, `bulk-${n}.mrt`);
    writeFileSync(mrt, mrtTable(list, { routerId: INJ, as: INJ_AS }, INJ, pad));

    await established(lab, 'rx1', lbAddr('lb1'), 30_000);
    await established(lab, 'rx2', INJ, 30_000);
    // right after the start, then idle: V8 gives back the heap the start-up used once the
    // process has been quiet for a while (its memory reducer; see IDLE_AFTER_MS)
    ctx.figure(OURS, 'bulk_start_rss', memory(announcer.pid).rss, 'MiB');
    ctx.figure(BASELINE, 'bulk_start_rss', memory(injector.pid).rss, 'MiB');
    await settled(announcer.pid, startedAt);
    ctx.figure(OURS, 'bulk_idle_rss', memory(announcer.pid).rss, 'MiB');
    ctx.figure(BASELINE, 'bulk_idle_rss', memory(injector.pid).rss, 'MiB');
    ctx.figure(IDLE_GOAL, 'bulk_idle_rss', IDLE_GOAL_MIB, 'MiB');

    const ours: number[] = [];
    const base: number[] = [];
    const reloadMs: number[] = [];
    const afterMs: number[] = [];
    let cliPeakKb = 0;
    let reloads = 0;
    for (let r = 0; r < rounds; r++) {
      // ours: the configuration with N prefixes, SIGHUP
      writeFileSync(files.file, fullText);
      const wall0 = Date.now();
      let t0 = performance.now();
      announcer.kill('SIGHUP');
      const total = await ribReaches(lab, 'rx1', n, t0, timeoutMs, async () => `; announcer log: ${announcer.tail(5).join(' | ')}`);
      ours.push(total);
      reloads++;
      // where the time went: reading, validating and applying the configuration, then BGP
      const applied = appliedAt(announcer, wall0);
      reloadMs.push(applied - wall0);
      afterMs.push(total - (applied - wall0));
      // baseline: gobgp mrt inject into the injector's own gobgpd
      t0 = performance.now();
      let cliDone = false;
      const inject = lab.exec('inj', ['/usr/bin/time', '-f', 'maxrss_kb=%M', 'gobgp', 'mrt', 'inject', 'global', mrt], { timeoutMs }).finally(() => (cliDone = true));
      inject.catch(() => undefined); // awaited below; not unhandled if the wait fails first
      const ms = await ribReaches(lab, 'rx2', n, t0, timeoutMs, async () => {
        const held = (await ribSummary(lab, 'inj')).destinations;
        return `; the injector's own RIB holds ${held}, gobgp mrt inject ${cliDone ? 'has exited' : 'still runs'}${cliDone && held < n ? ` (it lost the last ${n - held} routes: raise the padding)` : ''}`;
      });
      const cli = await inject;
      base.push(ms);
      const kb = /maxrss_kb=(\d+)/.exec(cli.stderr);
      if (!kb) throw new Error(`gobgp mrt inject: no maximum RSS in ${JSON.stringify(cli.stderr)}`);
      cliPeakKb = Math.max(cliPeakKb, Number(kb[1]));

      // what arrived is the routes each speaker originates: its AS, its address as next hop
      const last = list[n - 1]!;
      const o = await ribRoute(lab, 'rx1', last);
      if (o.nexthop !== lbAddr('lb1') || JSON.stringify(o.asPath) !== JSON.stringify([LB_AS])) throw new Error(`rx1: ${last}: ${JSON.stringify(o)}`);
      const b = await ribRoute(lab, 'rx2', last);
      if (b.nexthop !== INJ || JSON.stringify(b.asPath) !== JSON.stringify([INJ_AS])) throw new Error(`rx2: ${last}: ${JSON.stringify(b)}`);

      if (r + 1 < rounds) {
        // back to nothing announced on both sides before the next round
        writeFileSync(files.file, emptyText);
        announcer.kill('SIGHUP');
        reloads++;
        await lab.exec('inj', ['gobgp', 'global', 'rib', '-a', 'ipv4', 'del', 'all']);
        await ribReaches(lab, 'rx1', 0, performance.now(), timeoutMs);
        await ribReaches(lab, 'rx2', 0, performance.now(), timeoutMs);
      }
    }
    const accepted = announcer.output().split('\n').filter((l) => l.includes('"msg":"configuration reloaded"')).length;
    if (accepted !== reloads) throw new Error(`the announcer logged ${accepted} accepted reloads, expected ${reloads}`);
    if (announcer.exited || injector.exited) throw new Error('a sender exited during the run');

    const metric = (m: string): string => `bulk_${n}_${m}`;
    ctx.figure(OURS, metric('time'), stats(ours).median / 1000, 's');
    ctx.figure(BASELINE, metric('time'), stats(base).median / 1000, 's');
    ctx.figure(OURS, metric('time_max'), stats(ours).max / 1000, 's');
    ctx.figure(BASELINE, metric('time_max'), stats(base).max / 1000, 's');
    ctx.figure(`${OURS}: SIGHUP to configuration applied`, metric('time'), stats(reloadMs).median / 1000, 's');
    ctx.figure(`${OURS}: configuration applied to all in the peer's RIB`, metric('time'), stats(afterMs).median / 1000, 's');
    ctx.figure(OURS, metric('peak_rss'), memory(announcer.pid).peak, 'MiB');
    ctx.figure(BASELINE, metric('peak_rss'), memory(injector.pid).peak, 'MiB');
    ctx.figure('gobgp CLI (mrt inject)', metric('peak_rss'), cliPeakKb / 1024, 'MiB');
    ctx.compare(metric('time'), OURS, BASELINE, '<= 1');
    ctx.compare(metric('peak_rss'), OURS, BASELINE, '<= 2');
    ctx.compare('bulk_idle_rss', OURS, IDLE_GOAL, '<= 1');
  } finally {
    await lab.down();
  }
}
