/**
 * One case of the rate rig (rig.ts) under `perf record -a`, for the README's account of what
 * bounds a figure: the chain, mode, node and write share of one run, perf started after the rig is
 * up and stopped when craq-gen ends; prints the run and perf's flat profile of the path (craq-gen
 * and ksoftirqd samples, symbols over 0.5 % of them).
 *
 *   node --import tsx bench/craq/profile.ts <netcraq|netchain> <3|4> <node 0..L-1> <write %: 0,25,50,75,100> [seconds=8] [perf.data]
 *
 * Writes go to other keys than the read one (as figure 3's `-wNN`). PROFILE_TIMED=1: run-time stats
 * on (program time per operation). Needs root, perf, clang, gcc.
 */
import { spawn, execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { CraqRig, W_KEYS } from './rig.js';
import type { ChainLength } from './rig.js';
import { buildCraqTools } from './tools.js';

const [mode, lengthArg, nodeArg, wArg, secondsArg, outArg] = process.argv.slice(2);
const length = Number(lengthArg) as ChainLength;
const node = Number(nodeArg);
const w = Number(wArg);
if ((mode !== 'netcraq' && mode !== 'netchain') || (length !== 3 && length !== 4) || !(node >= 0 && node < length) || ![0, 25, 50, 75, 100].includes(w)) {
  console.error('usage: profile.ts <netcraq|netchain> <3|4> <node 0..L-1> <write %: 0,25,50,75,100> [seconds=8] [perf.data]');
  process.exit(2);
}
const seconds = Number(secondsArg ?? 8);
const out = outArg ?? `/tmp/cqp-perf-${process.pid}.data`;
/** PROFILE_TIMED=1: the kernel's run-time stats on (nodeNsPerOp; they add two clock reads per program run to the profile). */
const timed = process.env.PROFILE_TIMED === '1';

const rig = new CraqRig(buildCraqTools(), (m) => console.error(`profile: ${m}`));
try {
  await rig.up();
  const q = w / 25;
  const hexes = q === 0 ? [rig.readHex(node)] : q === 4 ? [rig.writeHex(node)] : [...Array<string>(q).fill(rig.writeHex(node)), ...Array<string>(4 - q).fill(rig.readHex(node))];
  // warm-up, then the profiled run
  await rig.generate({ length, netchain: mode === 'netchain', hexes, label: 'warm-up', seconds: 0.5, wkeys: W_KEYS });
  const perf = spawn('perf', ['record', '-a', '-g', '-q', '-o', out], { stdio: ['ignore', 'inherit', 'inherit'] });
  await new Promise((r) => setTimeout(r, 500));
  const run = await rig.generate({ length, netchain: mode === 'netchain', hexes, label: `w${w} at n${node + 1} (perf)`, seconds, wkeys: W_KEYS, timed });
  perf.kill('SIGINT');
  await once(perf, 'exit');
  const ops = run.ok + run.other;
  console.log(JSON.stringify({ mode, length, node, w, opsPerS: Math.round(ops / run.seconds), pathNsPerOp: Math.round((run.seconds * 1e9) / ops), pathCpuNsPerOp: Math.round((run.cpuSeconds * 1e9) / ops), ...(timed ? { nodeNsPerOp: Math.round(run.nodeNs / ops), nodeRunsPerOp: run.nodeRuns / ops, switchRunsPerOp: run.switchRuns / ops } : {}), perfData: out }));
  // the path runs in craq-gen's thread and in ksoftirqd (the other tenants' samples left out)
  const report = execFileSync('perf', ['report', '-i', out, '--no-children', '--comm', 'craq-gen,ksoftirqd/0,ksoftirqd/1', '--percentage', 'relative', '--sort', 'sym', '--percent-limit', '0.5', '--stdio', '-g', 'none'], { encoding: 'utf8', maxBuffer: 64 << 20 });
  console.log(report.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#')).join('\n'));
} finally {
  await rig.down();
}
