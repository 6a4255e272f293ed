/**
 * What tests look at inside a namespace: ICMP echo (a small python3 raw-socket pinger, since the
 * lab machines have no iputils ping), interface counters from /sys/class/net/<if>/statistics
 * (no tcpdump needed), and the shapes of `ip -j route` and `ip -j link`.
 */
import { NA_ERR_NETLAB_EXEC_FAILED } from './errors.js';

export interface PingOptions {
  /** Echo requests to send. Default 1. */
  readonly count?: number;
  /** How long to wait for each reply. Default 1000 ms. */
  readonly timeoutMs?: number;
  /** Pause between requests. Default 100 ms. */
  readonly intervalMs?: number;
}

export interface PingResult {
  /** At least one reply came back (what ping's exit status 0 means). */
  readonly ok: boolean;
  readonly sent: number;
  readonly received: number;
  /** Round-trip time of each reply, milliseconds. */
  readonly rttMs: readonly number[];
}

/** One entry of `ip -j route`; ECMP routes carry `nexthops` instead of gateway/dev. */
export interface RouteInfo {
  readonly dst: string;
  readonly gateway?: string;
  readonly dev?: string;
  readonly protocol?: string;
  readonly scope?: string;
  readonly metric?: number;
  readonly prefsrc?: string;
  readonly type?: string;
  readonly flags: readonly string[];
  readonly nexthops?: readonly { readonly gateway?: string; readonly dev: string; readonly weight: number; readonly flags: readonly string[] }[];
  readonly [key: string]: unknown;
}

/** One entry of `ip -j link`. */
export interface LinkInfo {
  readonly ifindex: number;
  readonly ifname: string;
  readonly flags: readonly string[];
  readonly mtu: number;
  readonly operstate: string;
  readonly link_type: string;
  readonly address?: string;
  readonly master?: string;
  readonly [key: string]: unknown;
}

/** /sys/class/net/<if>/statistics/*, by file name. */
export type IfCounters = Readonly<Record<string, number>> & {
  readonly rx_packets: number;
  readonly tx_packets: number;
  readonly rx_bytes: number;
  readonly tx_bytes: number;
  readonly rx_dropped: number;
  readonly tx_dropped: number;
  readonly rx_errors: number;
  readonly tx_errors: number;
};

export const PING_DEFAULTS = Object.freeze({
  count: 1,
  timeoutMs: 1_000, // 1 s per reply
  intervalMs: 100, // 100 ms between requests
});

/** argv: addr count timeout_s interval_s. Prints one JSON line {sent, received, rtt_ms}. */
export const PING_SCRIPT = `
import json, os, select, socket, struct, sys, time
addr, count, timeout, interval = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
info = socket.getaddrinfo(addr, None, 0, socket.SOCK_RAW)[0]
v6 = info[0] == socket.AF_INET6
s = socket.socket(info[0], socket.SOCK_RAW, socket.IPPROTO_ICMPV6 if v6 else socket.IPPROTO_ICMP)
ident = os.getpid() & 0xffff
def csum(b):
    if len(b) % 2: b += b'\\0'
    t = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    t = (t >> 16) + (t & 0xffff); t += t >> 16
    return ~t & 0xffff
sent = 0; rtts = []
for seq in range(count):
    if seq: time.sleep(interval)
    body = b'netaccel-netlab-ping'
    req, rep = (128, 129) if v6 else (8, 0)
    hdr = struct.pack('!BBHHH', req, 0, 0, ident, seq)
    if not v6: hdr = struct.pack('!BBHHH', req, 0, csum(hdr + body), ident, seq)
    t0 = time.monotonic(); s.sendto(hdr + body, info[4]); sent += 1
    deadline = t0 + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([s], [], [], left)[0]: break
        data = s.recv(65535)
        if not v6: data = data[(data[0] & 15) * 4:]
        if len(data) >= 8:
            t, _, _, i, q = struct.unpack('!BBHHH', data[:8])
            if t == rep and i == ident and q == seq:
                rtts.append((time.monotonic() - t0) * 1000); break
print(json.dumps({'sent': sent, 'received': len(rtts), 'rtt_ms': rtts}))
`;

export function pingArgv(to: string, opts: PingOptions = {}): string[] {
  const count = opts.count ?? PING_DEFAULTS.count;
  const timeoutMs = opts.timeoutMs ?? PING_DEFAULTS.timeoutMs;
  const intervalMs = opts.intervalMs ?? PING_DEFAULTS.intervalMs;
  return ['python3', '-c', PING_SCRIPT, to, String(count), String(timeoutMs / 1000), String(intervalMs / 1000)];
}

/** Parses the pinger's output line. */
export function parsePing(stdout: string, node: string): PingResult {
  try {
    const r = JSON.parse(stdout.trim().split('\n').pop() ?? '') as { sent: number; received: number; rtt_ms: number[] };
    return Object.freeze({ ok: r.received > 0, sent: r.sent, received: r.received, rttMs: Object.freeze(r.rtt_ms) });
  } catch {
    throw NA_ERR_NETLAB_EXEC_FAILED('python3 ping', node, 'unparsable output', stdout.slice(0, 200));
  }
}

/** argv that prints `<counter>:<value>` lines for one interface. */
export function countersArgv(ifname: string): string[] {
  return ['sh', '-c', 'cd "/sys/class/net/$1/statistics" && grep -H . *', 'sh', ifname];
}

export function parseCounters(stdout: string): IfCounters {
  const counters: Record<string, number> = {};
  for (const line of stdout.split('\n')) {
    const m = /^([a-z0-9_]+):(\d+)$/.exec(line.trim());
    if (m?.[1] !== undefined && m[2] !== undefined) counters[m[1]] = Number(m[2]);
  }
  return Object.freeze(counters) as IfCounters;
}
