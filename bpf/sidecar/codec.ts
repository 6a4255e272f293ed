/**
 * Encoders and decoders of every struct sidecar_kern_user.h shares with TypeScript, and their
 * layouts (`SIDECAR_LAYOUTS`: size and member offsets, checked against the object's BTF in
 * sidecar-objects.bpf.test.ts). Little-endian host integers; addresses and ports network order.
 */
import { formatIp, parseIp } from '@netaccel/protocol';
import { SIDECAR_LATENCY_BUCKETS, SIDECAR_MAX_PATH, SIDECAR_RULE_F, SIDECAR_STATUS_SLOTS } from './constants.js';
import { huffmanDecode } from './huffman.js';

export interface StructLayout {
  readonly name: string;
  readonly size: number;
  readonly members: Readonly<Record<string, number>>;
}

const STATS_STATUS = 56;
const STATS_LATENCY = STATS_STATUS + 8 * SIDECAR_STATUS_SLOTS;

export const SIDECAR_LAYOUTS = Object.freeze({
  sockKey: { name: 'sidecar_sock_key', size: 40, members: { local_ip: 0, remote_ip: 16, local_port: 32, remote_port: 34, family: 36, pad: 37 } },
  rule: { name: 'sidecar_rule', size: 8, members: { flags: 0, pad: 4 } },
  conn: {
    name: 'sidecar_conn',
    size: 80,
    members: {
      flags: 0, reason: 4, stream: 8, method: 12, carry: 16, user_skip: 20, kernel_frames: 24, kernel_bytes: 32, user_frames: 40, user_bytes: 48,
      rx_bytes: 56, user_from: 64, last_stream: 72, pad: 76,
    },
  },
  pathKey: { name: 'sidecar_path_key', size: 4 + SIDECAR_MAX_PATH, members: { len: 0, huffman: 2, pad: 3, bytes: 4 } },
  policyValue: { name: 'sidecar_policy_value', size: 8, members: { method: 0, action: 4 } },
  config: { name: 'sidecar_config', size: 8, members: { default_action: 0, generation: 4 } },
  streamKey: { name: 'sidecar_stream_key', size: 48, members: { conn: 0, stream: 40, pad: 44 } },
  stream: { name: 'sidecar_stream', size: 32, members: { start_ns: 0, method: 8, flags: 12, timeout: 16, timeout_len: 28 } },
  methodStats: {
    name: 'sidecar_method_stats',
    size: STATS_LATENCY + 8 * SIDECAR_LATENCY_BUCKETS,
    members: {
      requests: 0, denied: 8, request_bytes: 16, response_bytes: 24, responses: 32, resets: 40, latency_ns_sum: 48,
      status: STATS_STATUS, latency_log2_us: STATS_LATENCY,
    },
  },
  counter: { name: 'sidecar_counter', size: 16, members: { frames: 0, bytes: 8 } },
} as const satisfies Record<string, StructLayout>);

const L = SIDECAR_LAYOUTS;

function check(buf: Uint8Array, layout: StructLayout): Buffer {
  if (buf.length !== layout.size) throw new RangeError(`${layout.name}: expected ${layout.size} bytes, got ${buf.length}`);
  return Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
}

function uint(path: string, v: unknown, max: number, min = 0): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new RangeError(`${path}: expected an integer ${min}..${max}, got ${JSON.stringify(v)}`);
  }
  return v;
}

// --- socket keys --------------------------------------------------------------------------------

/**
 * A socket by its 4-tuple as the socket sees it (local = its own address). In offload_rules a
 * side with the unspecified address and port 0 ('0.0.0.0' / '::', 0) is a wildcard.
 */
export interface SockKey {
  readonly localAddress: string;
  readonly localPort: number;
  readonly remoteAddress: string;
  readonly remotePort: number;
}

function isZero(bytes: Uint8Array): boolean {
  return bytes.every((b) => b === 0);
}

export function encodeSockKey(k: SockKey): Buffer {
  const b = Buffer.alloc(L.sockKey.size);
  const local = parseIp(k.localAddress, 'sockKey.localAddress');
  const remote = parseIp(k.remoteAddress, 'sockKey.remoteAddress');
  const family = isZero(local) ? remote.length : isZero(remote) ? local.length : local.length;
  if (!isZero(local) && !isZero(remote) && local.length !== remote.length) {
    throw new RangeError(`sockKey: local ${k.localAddress} and remote ${k.remoteAddress} are of different families`);
  }
  b.set(local, L.sockKey.members.local_ip);
  b.set(remote, L.sockKey.members.remote_ip);
  b.writeUInt16BE(uint('sockKey.localPort', k.localPort, 0xffff), L.sockKey.members.local_port);
  b.writeUInt16BE(uint('sockKey.remotePort', k.remotePort, 0xffff), L.sockKey.members.remote_port);
  b[L.sockKey.members.family] = family === 4 ? 4 : 6;
  return b;
}

export function decodeSockKey(buf: Uint8Array): SockKey {
  const b = check(buf, L.sockKey);
  const family = b[L.sockKey.members.family];
  if (family !== 4 && family !== 6) throw new RangeError(`sidecar_sock_key.family: expected 4 or 6, got ${family}`);
  const n = family === 4 ? 4 : 16;
  return {
    localAddress: formatIp(b.subarray(0, n)),
    localPort: b.readUInt16BE(L.sockKey.members.local_port),
    remoteAddress: formatIp(b.subarray(16, 16 + n)),
    remotePort: b.readUInt16BE(L.sockKey.members.remote_port),
  };
}

/** The same connection seen from its other end. */
export function reverseSockKey(k: SockKey): SockKey {
  return { localAddress: k.remoteAddress, localPort: k.remotePort, remoteAddress: k.localAddress, remotePort: k.localPort };
}

// --- rules, config, policy values ---------------------------------------------------------------

export function encodeRule(flags: number): Buffer {
  const b = Buffer.alloc(L.rule.size);
  b.writeUInt32LE(uint('rule.flags', flags, SIDECAR_RULE_F.ALL, 1), 0);
  return b;
}

export function decodeRule(buf: Uint8Array): number {
  return check(buf, L.rule).readUInt32LE(0);
}

export interface SidecarConfig {
  readonly defaultAction: number;
  /** The policy's generation (0: the programs cache no decision). */
  readonly generation: number;
}

export function encodeConfig(defaultAction: number, generation = 0): Buffer {
  const b = Buffer.alloc(L.config.size);
  b.writeUInt32LE(uint('config.defaultAction', defaultAction, 2), 0);
  b.writeUInt32LE(uint('config.generation', generation, 0xffff_ffff), 4);
  return b;
}

export function decodeConfig(buf: Uint8Array): SidecarConfig {
  const b = check(buf, L.config);
  return { defaultAction: b.readUInt32LE(0), generation: b.readUInt32LE(4) };
}

/**
 * sidecar_cfg[0] for a policy write: `config` (compilePolicy's) with the generation after the one
 * in the map now (`current`, undefined when unset), never 0, so that no decision the programs
 * cached under the previous policy is used. Written after the policy entries.
 */
export function nextConfig(config: Uint8Array, current: Uint8Array | undefined): Buffer {
  const prev = current === undefined ? 0 : decodeConfig(current).generation;
  const generation = prev >= 0xffff_ffff ? 1 : prev + 1;
  return encodeConfig(decodeConfig(config).defaultAction, generation);
}

export interface PolicyValue {
  readonly method: number;
  readonly action: number;
}

export function encodePolicyValue(v: PolicyValue): Buffer {
  const b = Buffer.alloc(L.policyValue.size);
  b.writeUInt32LE(uint('policyValue.method', v.method, 0xffffffff), 0);
  b.writeUInt32LE(uint('policyValue.action', v.action, 2), 4);
  return b;
}

export function decodePolicyValue(buf: Uint8Array): PolicyValue {
  const b = check(buf, L.policyValue);
  return { method: b.readUInt32LE(0), action: b.readUInt32LE(4) };
}

/** A policy key: one byte form (as on the wire) of a :path string literal. */
export function encodePathKey(bytes: Uint8Array, huffman: boolean): Buffer {
  if (bytes.length < 1 || bytes.length > SIDECAR_MAX_PATH) {
    throw new RangeError(`pathKey: expected 1..${SIDECAR_MAX_PATH} bytes, got ${bytes.length}`);
  }
  const b = Buffer.alloc(L.pathKey.size);
  b.writeUInt16LE(bytes.length, 0);
  b[2] = huffman ? 1 : 0;
  b.set(bytes, L.pathKey.members.bytes);
  return b;
}

export function decodePathKey(buf: Uint8Array): { bytes: Buffer; huffman: boolean } {
  const b = check(buf, L.pathKey);
  const len = b.readUInt16LE(0);
  return { bytes: Buffer.from(b.subarray(4, 4 + len)), huffman: b[2] === 1 };
}

// --- per-socket state ---------------------------------------------------------------------------

export interface ConnState {
  readonly flags: number;
  readonly reason: number;
  readonly stream: number;
  readonly method: number;
  /** Bytes of a frame the kernel judged that are still to come. */
  readonly carry: number;
  /** Bytes at the start of what user space got first that end a frame the kernel forwarded. */
  readonly userSkip: number;
  readonly kernelFrames: bigint;
  readonly kernelBytes: bigint;
  readonly userFrames: bigint;
  readonly userBytes: bigint;
  /** sk_msg sockets: bytes received through TCP (from the proxy). */
  readonly rxBytes: bigint;
  /** Handed over: offset in the bytes sent the normal way from which user space reads whole frames. */
  readonly userFrom: bigint;
  /** Request sockets: the highest stream id of a request the kernel counted (in `streams`). */
  readonly lastStream: number;
}

export function decodeConn(buf: Uint8Array): ConnState {
  const b = check(buf, L.conn);
  return {
    flags: b.readUInt32LE(0),
    reason: b.readUInt32LE(4),
    stream: b.readUInt32LE(8),
    method: b.readUInt32LE(12),
    carry: b.readUInt32LE(16),
    userSkip: b.readUInt32LE(20),
    kernelFrames: b.readBigUInt64LE(24),
    kernelBytes: b.readBigUInt64LE(32),
    userFrames: b.readBigUInt64LE(40),
    userBytes: b.readBigUInt64LE(48),
    rxBytes: b.readBigUInt64LE(56),
    userFrom: b.readBigUInt64LE(64),
    lastStream: b.readUInt32LE(72),
  };
}

// --- counters (per CPU, summed) -----------------------------------------------------------------

export interface MethodStats {
  readonly requests: bigint;
  readonly denied: bigint;
  readonly requestBytes: bigint;
  readonly responseBytes: bigint;
  readonly responses: bigint;
  readonly resets: bigint;
  readonly latencyNsSum: bigint;
  /** Index = grpc-status 0..16, then SIDECAR_STATUS_UNKNOWN. */
  readonly status: readonly bigint[];
  /** Bucket 0 < 1 us, bucket b in [2^(b-1), 2^b) us, the last one open. */
  readonly latencyLog2Us: readonly bigint[];
}

/** Sums the per-CPU values of one method_stats entry. */
export function decodeMethodStats(values: readonly Uint8Array[]): MethodStats {
  const sum = (off: number) => values.reduce((a, v) => a + check(v, L.methodStats).readBigUInt64LE(off), 0n);
  const m = L.methodStats.members;
  return {
    requests: sum(m.requests),
    denied: sum(m.denied),
    requestBytes: sum(m.request_bytes),
    responseBytes: sum(m.response_bytes),
    responses: sum(m.responses),
    resets: sum(m.resets),
    latencyNsSum: sum(m.latency_ns_sum),
    status: Array.from({ length: SIDECAR_STATUS_SLOTS }, (_, i) => sum(m.status + 8 * i)),
    latencyLog2Us: Array.from({ length: SIDECAR_LATENCY_BUCKETS }, (_, i) => sum(m.latency_log2_us + 8 * i)),
  };
}

export interface Counter {
  readonly frames: bigint;
  readonly bytes: bigint;
}

/** Sums the per-CPU values of one reason_stats entry. */
export function decodeCounter(values: readonly Uint8Array[]): Counter {
  let frames = 0n;
  let bytes = 0n;
  for (const v of values) {
    const b = check(v, L.counter);
    frames += b.readBigUInt64LE(0);
    bytes += b.readBigUInt64LE(8);
  }
  return { frames, bytes };
}

// --- requests in flight (streams) ------------------------------------------------------------------

/** Key of `streams`: a request socket (as seen from itself) and a stream id. */
export function encodeStreamKey(conn: SockKey, stream: number): Buffer {
  const b = Buffer.alloc(L.streamKey.size);
  encodeSockKey(conn).copy(b, L.streamKey.members.conn);
  b.writeUInt32LE(uint('stream', stream, 0x7fffffff), L.streamKey.members.stream);
  return b;
}

/** A request in flight the kernel tracks: when its HEADERS was judged (bpf_ktime_get_ns) and its method id. */
export interface StreamState {
  readonly startNs: bigint;
  readonly method: number;
  /** The response's HEADERS (not trailers-only) went to the client (SIDECAR_STREAM_F_RESPONDED). */
  readonly responded: boolean;
  /**
   * The request's grpc-timeout value ("250m", "10S") as the kernel found it (SIDECAR_STREAM_F_TIMEOUT;
   * Huffman-decoded here when SIDECAR_STREAM_F_TIMEOUT_HUFF), or undefined without one (or one the
   * kernel did not reach: README "grpc-timeout").
   */
  readonly timeout: string | undefined;
}

export function decodeStream(buf: Uint8Array): StreamState {
  const b = check(buf, L.stream);
  const flags = b.readUInt32LE(12);
  return { startNs: b.readBigUInt64LE(0), method: b.readUInt32LE(8), responded: (flags & 1) !== 0, timeout: (flags & 2) !== 0 ? timeoutText(b, (flags & 4) !== 0) : undefined };
}

/** grpc-timeout's value bytes of a streams entry as text (undefined: not decodable). */
function timeoutText(b: Buffer, huffman: boolean): string | undefined {
  const len = b.readUInt32LE(28);
  if (len > 12) return undefined;
  const raw = b.subarray(16, 16 + len);
  try {
    return (huffman ? huffmanDecode(raw) : raw).toString('latin1');
  } catch {
    return undefined; // a malformed Huffman string: as if absent (the user path's rule too)
  }
}

export function encodeU32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(uint('u32', n, 0xffffffff), 0);
  return b;
}
