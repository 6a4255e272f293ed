/**
 * Runs paxos-gen (paxos-gen.c, the benchmark's load generator: closed loop, or paced at a rate)
 * for one point and
 * reads what it left: its JSON report and its history of puts (for the linearizability check),
 * both on CLOCK_MONOTONIC, the clock `monotonicMs` reads here (process.hrtime on Linux).
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { RegisterOp } from '@netaccel/linearizability';
import { parseReportLine } from '../lib/report-line.js';

export interface GenPoint {
  readonly replicas: readonly { readonly address: string; readonly port: number }[];
  readonly clients: number;
  readonly warmupMs: number;
  readonly ms: number;
  /** Names the point's keys ("<tag>/p<c/2>/k<i%4>"); no spaces. */
  readonly tag: string;
  /** Client c's id is base + c; the low 32 bits must be 0. */
  readonly clientIdBase: bigint;
  /** The first request id of every client: above every id these client ids used before. */
  readonly firstRequestId: bigint;
  readonly retryMs: number;
  readonly timeoutMs: number;
  /** Where the generator writes its history of puts ('-' or absent: none). */
  readonly historyFile?: string;
  /**
   * Paced (open-loop) mode: puts arrive at this rate (op/s) whatever the replicas answer, taken by
   * idle clients (`clients` bounds the puts in flight), latency from each arrival. Absent or 0:
   * closed loop.
   */
  readonly rateOpsPerS?: number;
}

/** paxos-gen's report (one JSON line). */
export interface GenReport {
  /** Puts sent and answered inside the window, and their latency percentiles (ms). */
  readonly ops: number;
  readonly seconds: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Every put answered OK, warm-up and the window's tail included. */
  readonly acked: number;
  /** Puts that gave up (timeout: outcome unknown). */
  readonly unknown: number;
  /** Puts the state machine refused (ERROR replies). */
  readonly errors: number;
  readonly retransmits: number;
  readonly redirects: number;
  /** Puts started. */
  readonly puts: number;
  /** The generator's CPU time (user + system) over its run, µs. */
  readonly cpuUs: number;
  /** Its context switches over the run. */
  readonly wakeups: number;
  readonly sendCalls: number;
  readonly recvCalls: number;
  readonly datagramsSent: number;
  readonly runSeconds: number;
  /** The paced rate (op/s); 0: closed loop. */
  readonly rate: number;
  /** Puts answered OK inside the window (any start): the load carried. */
  readonly completed: number;
  /** Paced: the arrivals inside the window (0 closed loop). */
  readonly offered: number;
  /** Paced: the most arrivals waiting for an idle client at once. */
  readonly maxBacklog: number;
  /** Paced: arrivals no client could start within the timeout after the window (abandoned). */
  readonly unstarted: number;
  /**
   * Paced: the generator's own lateness per start inside the window, p99 and max (ms): from when
   * the arrival was due and a client idle to its send (its scheduling, not the replicas' backlog).
   */
  readonly genLateP99Ms: number;
  readonly genLateMaxMs: number;
  /** Paced: 1 when the generator ran at SCHED_FIFO priority 1 (granted to root), 0 otherwise. */
  readonly realtime: number;
}

const FIELDS = ['ops', 'seconds', 'p50Ms', 'p99Ms', 'acked', 'unknown', 'errors', 'retransmits', 'redirects', 'puts', 'cpuUs', 'wakeups', 'sendCalls', 'recvCalls', 'datagramsSent', 'runSeconds', 'rate', 'completed', 'offered', 'maxBacklog', 'unstarted', 'genLateP99Ms', 'genLateMaxMs', 'realtime'] as const;

/** Milliseconds on CLOCK_MONOTONIC (the generator's clock). */
export const monotonicMs = (): number => Number(process.hrtime.bigint()) / 1e6;

/** The command line of one point. */
export function genArgs(p: GenPoint): string[] {
  if ((p.clientIdBase & 0xffffffffn) !== 0n) throw new Error(`paxos-gen: clientIdBase ${p.clientIdBase}: its low 32 bits must be 0`);
  if (/\s/.test(p.tag) || p.tag === '') throw new Error(`paxos-gen: tag ${JSON.stringify(p.tag)}: expected a non-empty tag without spaces`);
  const rate = p.rateOpsPerS ?? 0;
  if (!Number.isFinite(rate) || rate < 0) throw new Error(`paxos-gen: rateOpsPerS ${rate}: expected a rate >= 0 (0: closed loop)`);
  return [
    p.replicas.map((r) => `${r.address}:${r.port}`).join(','),
    String(p.clients),
    String(Math.round(p.warmupMs)),
    String(Math.round(p.ms)),
    p.tag,
    `0x${p.clientIdBase.toString(16)}`,
    `0x${p.firstRequestId.toString(16)}`,
    String(p.retryMs),
    String(p.timeoutMs),
    p.historyFile ?? '-',
    ...(rate > 0 ? [String(Math.round(rate * 1000) / 1000)] : []),
  ];
}

/** Parses the generator's report line; throws naming what is missing. */
export function parseGenReport(stdout: string): GenReport {
  const line = stdout.trim().split('\n').at(-1) ?? '';
  return parseReportLine('paxos-gen', line, FIELDS) as unknown as GenReport;
}

/** Runs one point; resolves with the report once the generator exited. */
export function runGen(bin: string, p: GenPoint): Promise<GenReport> {
  return new Promise((resolve, reject) => {
    execFile(bin, genArgs(p), { maxBuffer: 1 << 20, timeout: p.warmupMs + p.ms + p.timeoutMs + 60_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`paxos-gen failed (${err.message.split('\n')[0]}): ${stderr.trim()}`));
      else {
        try {
          resolve(parseGenReport(stdout));
        } catch (e) {
          reject(e as Error);
        }
      }
    });
  });
}

/**
 * The puts of a history file as register writes (times in ms on CLOCK_MONOTONIC; an unknown
 * outcome has complete null). Ids are `g<line>`.
 */
export function parseGenHistory(text: string): RegisterOp[] {
  const ops: RegisterOp[] = [];
  const lines = text.split('\n');
  for (const [i, line] of lines.entries()) {
    if (line === '') continue;
    const f = line.split(' ');
    const invoke = Number(f[0]);
    const complete = f[1] === '-' ? null : Number(f[1]);
    if (f.length !== 4 || !Number.isFinite(invoke) || (complete !== null && !(Number.isFinite(complete) && complete >= invoke))) {
      throw new Error(`paxos-gen history line ${i + 1}: expected "<invoke ns> <complete ns|-> <key> <value>", got ${JSON.stringify(line)}`);
    }
    ops.push({ id: `g${i}`, kind: 'write', key: f[2]!, value: f[3]!, invoke: invoke / 1e6, complete: complete === null ? null : complete / 1e6 });
  }
  return ops;
}

export const readGenHistory = (file: string): RegisterOp[] => parseGenHistory(readFileSync(file, 'utf8'));
