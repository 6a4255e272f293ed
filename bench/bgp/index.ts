/**
 * BGP benchmark: how fast the router's FIB follows the announcers.
 *
 * - convergence: 100 random changes of the set of nodes announcing a VIP (subsets of three
 *   announcers); delay from the request (gRPC Announce / Withdraw) until the router's kernel FIB
 *   shows exactly the new set of next hops; p50 / p99 / max. Baseline, interleaved change by
 *   change in the same lab: BIRD 2 as announcer (a static route toggled with birdc) for another
 *   VIP. Goal p99 < 1 s; the thesis (exabgp) reports ECMP updates within 10 s (a stated figure,
 *   recorded as such, not measured here).
 * - failure detection: a node fails (its kernel silenced with nftables, the announcer killed
 *   with -9) until its next hop leaves the router's FIB, with BFD (100 ms x 3) and with the BGP
 *   hold timer alone (3 s); ratio BFD / hold.
 *
 * - bulk (bulk.ts): 100,000 prefixes to a GoBGP peer, time and peak RSS, against `gobgp mrt
 *   inject` feeding the same prefixes to its own gobgpd, which sends them to a second gobgpd.
 *
 * Router: BIRD 2 with `merge paths on`. Run: node --import tsx bench/run.ts bgp
 * BGP_BENCH_SECTIONS=fib,bulk (default: both) chooses sections; fib is convergence and failure
 * detection. BGP_BULK_PREFIXES / BGP_BULK_ROUNDS make the bulk section quick (see bulk.ts).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Lab, LabProcess } from '@netaccel/netlab';
import { waitFor } from '@netaccel/netlab';
import { seededRandom } from '@netaccel/protocol';
import { announcerV1 } from '@netaccel/rpc';
import type { Benchmark } from '../lib/harness.js';
import { stats } from '../lib/harness.js';
import { announcerClient, announcerConfig, startAnnouncer } from '@netaccel/app-bgp-announcer/testing';
import { LBS, LB_AS, ROUTER_AS, fibNextHops, lbAddr, lbIndex, routerStarLab as newLab, nodeFailure, routerAddr, timeUntilGone } from '@netaccel/labs';
import type { LbName } from '@netaccel/labs';
import { bulk } from './bulk.js';

const VIP = '192.0.2.10'; // announced by bgp-announcer
const BIRD_VIP = '192.0.2.20'; // announced by BIRD on the same nodes (baseline)
const BIRD_AS = 65002;
const CHANGES = 100;
const FAILURES = 5; // per detection method
const BFD = { intervalMs: 100, multiplier: 3 };
const THESIS_MS = 10_000; // thesis: ECMP updates within 10 s

const birdAddr = (lb: LbName): string => `10.1.${lbIndex(lb)}.3`;

function routerBird(): string {
  const lines = [
    'log stderr all;',
    'router id 10.1.9.1;',
    'protocol device { scan time 1; }',
    'protocol kernel k4 { ipv4 { import none; export all; }; merge paths on; }',
    `protocol bfd { interface "*" { min rx interval ${BFD.intervalMs} ms; min tx interval ${BFD.intervalMs} ms; idle tx interval 1000 ms; multiplier ${BFD.multiplier}; }; }`,
  ];
  for (const lb of LBS) {
    const common = '  hold time 3; keepalive time 1; connect retry time 1; error wait time 1, 2;';
    // lb1 and lb2 run BFD; lb3 relies on the hold timer
    lines.push(`protocol bgp ${lb} {`, `  local ${routerAddr(lb)} as ${ROUTER_AS};`, `  neighbor ${lbAddr(lb)} as ${LB_AS};`, common, lb === 'lb3' ? '' : '  bfd on;', '  ipv4 { import all; export none; };', '}');
    lines.push(`protocol bgp bird_${lb} {`, `  local ${routerAddr(lb)} as ${ROUTER_AS};`, `  neighbor ${birdAddr(lb)} as ${BIRD_AS};`, common, '  ipv4 { import all; export none; };', '}');
  }
  return `${lines.join('\n')}\n`;
}

function announcerBird(lb: LbName): string {
  return [
    'log stderr all;',
    `router id ${birdAddr(lb)};`,
    'protocol device { scan time 1; }',
    `protocol static vip { ipv4; route ${BIRD_VIP}/32 blackhole; }`,
    'protocol bgp up {',
    `  local ${birdAddr(lb)} as ${BIRD_AS};`,
    `  neighbor ${routerAddr(lb)} as ${ROUTER_AS};`,
    '  strict bind on;',
    '  hold time 3; keepalive time 1; connect retry time 1; error wait time 1, 2;',
    '  ipv4 { import none; export all; next hop self; };',
    '}',
    '',
  ].join('\n');
}

/** Polls the router's FIB until `dst` has exactly `want` as next hops; answers ms since t0. */
async function converged(lab: Lab, dst: string, want: string[], t0: number): Promise<number> {
  const target = JSON.stringify([...want].sort());
  for (;;) {
    const got = JSON.stringify(await fibNextHops(lab, 'router', dst));
    const now = performance.now();
    if (got === target) return now - t0;
    if (now - t0 > 30_000) throw new Error(`${dst}: FIB shows ${got}, expected ${target} after 30 s`);
  }
}

/** 100 random non-empty subsets of the announcers, each different from the one before. */
function changes(n: number, random: () => number): LbName[][] {
  const out: LbName[][] = [];
  let prev = 7;
  while (out.length < n) {
    const mask = 1 + Math.floor(random() * 7);
    if (mask === prev) continue;
    prev = mask;
    out.push(LBS.filter((_, i) => (mask & (1 << i)) !== 0));
  }
  return out;
}

/** Convergence of the router's FIB and failure detection: the router + three announcers lab. */
const fib: Pick<Benchmark, 'run'> = {
  async run(ctx) {
    const lab = newLab('bench-bgp');
    try {
      await lab.up();
      const conf = join(lab.logDir, 'router-bird.conf');
      writeFileSync(conf, routerBird());
      const ctl = join(lab.logDir, 'router-bird.ctl');
      await lab.spawn('router', ['bird', '-f', '-c', conf, '-s', ctl], { name: 'router-bird', ready: { file: ctl } });
      const procs = new Map<LbName, LabProcess>();
      const files = new Map<LbName, ReturnType<typeof announcerConfig>>();
      const start = async (lb: LbName, name: string): Promise<void> => {
        procs.set(lb, await startAnnouncer(lab, lb, files.get(lb)!.file, name));
      };
      await Promise.all(
        LBS.map(async (lb) => {
          await lab.exec(lb, ['ip', 'addr', 'add', `${birdAddr(lb)}/24`, 'dev', 'eth0']);
          const bc = join(lab.logDir, `${lb}-bird.conf`);
          writeFileSync(bc, announcerBird(lb));
          const bctl = join(lab.logDir, `${lb}-bird.ctl`);
          await lab.spawn(lb, ['bird', '-f', '-c', bc, '-s', bctl], { name: `${lb}-bird`, ready: { file: bctl } });
          files.set(
            lb,
            announcerConfig(lab, lb, {
              peers: [{ address: routerAddr(lb), remoteAs: ROUTER_AS, families: ['ipv4-unicast'], ...(lb === 'lb3' ? {} : { bfd: { minTx: `${BFD.intervalMs}ms`, minRx: `${BFD.intervalMs}ms`, multiplier: BFD.multiplier } }) }],
              announce: [{ prefix: `${VIP}/32` }],
              extra: { listen: [`${lbAddr(lb)}:179`] },
            }),
          );
          await start(lb, lb);
        }),
      );
      const all = LBS.map((lb) => lbAddr(lb));
      await converged(lab, VIP, all, performance.now());
      await converged(lab, BIRD_VIP, LBS.map((lb) => birdAddr(lb)), performance.now());
      // BFD up on lb1 and lb2 before anything is measured
      await waitFor(async () => ((await lab.exec('router', ['birdc', '-s', ctl, 'show', 'bfd', 'sessions'])).stdout.match(/\bUp\b/g)?.length === 2 ? true : undefined), { timeoutMs: 20_000, what: 'BFD up' });

      // --- convergence: the same random changes, ours then BIRD's, change by change
      const clients = new Map(LBS.map((lb) => [lb, announcerClient(files.get(lb)!.socket)]));
      let oursSet = new Set<LbName>(LBS);
      let birdSet = new Set<LbName>(LBS);
      const ours: number[] = [];
      const birds: number[] = [];
      for (const next of changes(CHANGES, seededRandom(2026))) {
        const want = new Set(next);
        let t0 = performance.now();
        await Promise.all(
          LBS.filter((lb) => want.has(lb) !== oursSet.has(lb)).map((lb) =>
            want.has(lb)
              ? clients.get(lb)!.announce(announcerV1.AnnounceRequest.create({ route: announcerV1.Route.create({ prefix: `${VIP}/32` }) }))
              : clients.get(lb)!.withdraw(announcerV1.WithdrawRequest.create({ prefix: `${VIP}/32` })),
          ),
        );
        ours.push(await converged(lab, VIP, next.map((lb) => lbAddr(lb)), t0));
        oursSet = want;
        t0 = performance.now();
        await Promise.all(
          LBS.filter((lb) => want.has(lb) !== birdSet.has(lb)).map((lb) =>
            lab.exec(lb, ['birdc', '-s', join(lab.logDir, `${lb}-bird.ctl`), want.has(lb) ? 'enable' : 'disable', 'vip']),
          ),
        );
        birds.push(await converged(lab, BIRD_VIP, next.map((lb) => birdAddr(lb)), t0));
        birdSet = want;
      }
      // every node announces again before the failures
      for (const c of clients.values()) await c.announce(announcerV1.AnnounceRequest.create({ route: announcerV1.Route.create({ prefix: `${VIP}/32` }) }));
      await converged(lab, VIP, all, performance.now());
      for (const c of clients.values()) c.close();
      for (const [subject, xs] of [
        ['bgp-announcer', ours],
        ['bird-announcer', birds],
      ] as const) {
        const s = stats(xs);
        ctx.figure(subject, 'convergence_p50', s.median, 'ms');
        ctx.figure(subject, 'convergence_p99', s.p99, 'ms');
        ctx.figure(subject, 'convergence_max', s.max, 'ms');
      }
      ctx.figure('thesis-exabgp (stated, not measured)', 'convergence_p99', THESIS_MS, 'ms');
      ctx.compare('convergence_p99', 'bgp-announcer', 'thesis-exabgp (stated, not measured)', '< 0.1');
      ctx.compare('convergence_p99', 'bgp-announcer', 'bird-announcer', '<= 1.5');
      ctx.compare('convergence_p50', 'bgp-announcer', 'bird-announcer', '<= 1.5');

      // --- failure detection: node failure (silenced, kill -9) with BFD (lb1, lb2) vs hold timer only (lb3)
      for (const lb of LBS) await lab.exec(lb, ['birdc', '-s', join(lab.logDir, `${lb}-bird.ctl`), 'disable', 'up']);
      const withBfd: number[] = [];
      const holdOnly: number[] = [];
      let gen = 0;
      for (let i = 0; i < FAILURES * 2; i++) {
        const lb: LbName = i % 2 === 1 ? 'lb3' : i % 4 === 0 ? 'lb1' : 'lb2';
        const t0 = await nodeFailure(lab, lb, procs.get(lb)!);
        const ms = await timeUntilGone(lab, VIP, lbAddr(lb), t0, 20_000);
        (lb === 'lb3' ? holdOnly : withBfd).push(ms);
        // the node comes back: traffic allowed again, announcer restarted, next hop back in the FIB
        await lab.exec(lb, ['nft', 'delete', 'table', 'inet', 'netaccel_silence']);
        await start(lb, `${lb}-${++gen}`);
        await converged(lab, VIP, all, performance.now());
        if (lb !== 'lb3') {
          await waitFor(async () => ((await lab.exec('router', ['birdc', '-s', ctl, 'show', 'bfd', 'sessions'])).stdout.match(/\bUp\b/g)?.length === 2 ? true : undefined), { timeoutMs: 20_000, what: 'BFD up again' });
        }
      }
      ctx.figure('bfd-100msx3', 'failure_detection_median', stats(withBfd).median, 'ms');
      ctx.figure('bfd-100msx3', 'failure_detection_max', stats(withBfd).max, 'ms');
      ctx.figure('hold-timer-3s', 'failure_detection_median', stats(holdOnly).median, 'ms');
      ctx.figure('hold-timer-3s', 'failure_detection_max', stats(holdOnly).max, 'ms');
      ctx.figure('thesis-exabgp (stated, not measured)', 'failure_detection_max', THESIS_MS, 'ms');
      ctx.compare('failure_detection_median', 'bfd-100msx3', 'hold-timer-3s', '<= 0.33');
      ctx.compare('failure_detection_max', 'bfd-100msx3', 'thesis-exabgp (stated, not measured)', '< 0.1');
    } finally {
      await lab.down();
    }
  },
};

const SECTIONS = ['fib', 'bulk'] as const;
type Section = (typeof SECTIONS)[number];

function sections(): Set<Section> {
  const raw = process.env.BGP_BENCH_SECTIONS;
  if (raw === undefined || raw.trim() === '') return new Set(SECTIONS);
  const out = new Set<Section>();
  for (const s of raw.split(',').map((x) => x.trim())) {
    if (!(SECTIONS as readonly string[]).includes(s)) throw new Error(`BGP_BENCH_SECTIONS: expected a comma-separated list of ${SECTIONS.join(', ')}, got ${JSON.stringify(raw)}`);
    out.add(s as Section);
  }
  return out;
}

const bench: Benchmark = {
  name: 'bgp',
  description:
    'router FIB convergence after announcement changes (vs BIRD as announcer), failure detection with BFD vs the hold timer, and 100,000 prefixes to a GoBGP peer (vs gobgp mrt inject into its own gobgpd)',
  needsRoot: true,
  async run(ctx) {
    const want = sections(); // checked before any lab is built
    if (want.has('fib')) await fib.run(ctx);
    if (want.has('bulk')) await bulk(ctx);
  },
};

export default bench;
