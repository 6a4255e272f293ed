/**
 * NetCRAQ frames as the XDP program writes them: Ethernet, IPv4 (no options, id 0, DF, TTL 64)
 * or IPv6 (class and flow 0, hop limit 64), UDP with a full checksum, the craq payload. The
 * reference model emits these bytes; fixtures compare them with the program's output.
 */
import { parseIPv4, parseIPv6, parseMac } from '@netaccel/protocol';

export interface CraqFrame {
  readonly family: 4 | 6;
  readonly srcMac: string;
  readonly dstMac: string;
  readonly src: string;
  readonly dst: string;
  readonly sport: number;
  readonly dport: number;
  readonly payload: Uint8Array;
}

/** Bytes before the UDP header. */
export function l4Offset(family: 4 | 6): number {
  return family === 4 ? 34 : 54;
}

function sum16(b: Uint8Array, sum = 0): number {
  for (let i = 0; i < b.length; i += 2) sum += (b[i]! << 8) | (b[i + 1] ?? 0);
  return sum;
}

function fold(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return sum;
}

/** The frame's bytes with the IP and UDP checksums the program computes. */
export function encodeFrame(f: CraqFrame): Uint8Array {
  const l4 = l4Offset(f.family);
  const udpLen = 8 + f.payload.length;
  const out = new Uint8Array(l4 + udpLen);
  const dv = new DataView(out.buffer);
  out.set(parseMac(f.dstMac), 0);
  out.set(parseMac(f.srcMac), 6);
  const src = f.family === 4 ? parseIPv4(f.src) : parseIPv6(f.src);
  const dst = f.family === 4 ? parseIPv4(f.dst) : parseIPv6(f.dst);
  let pseudo: number;
  if (f.family === 4) {
    dv.setUint16(12, 0x0800);
    out.set([0x45, 0], 14);
    dv.setUint16(16, 20 + udpLen);
    dv.setUint16(20, 0x4000);
    out[22] = 64;
    out[23] = 17;
    out.set(src, 26);
    out.set(dst, 30);
    dv.setUint16(24, ~fold(sum16(out.subarray(14, 34))) & 0xffff);
    pseudo = sum16(src) + sum16(dst) + 17 + udpLen;
  } else {
    dv.setUint16(12, 0x86dd);
    dv.setUint32(14, 0x60000000);
    dv.setUint16(18, udpLen);
    out[20] = 17;
    out[21] = 64;
    out.set(src, 22);
    out.set(dst, 38);
    pseudo = sum16(src) + sum16(dst) + 17 + udpLen;
  }
  dv.setUint16(l4, f.sport);
  dv.setUint16(l4 + 2, f.dport);
  dv.setUint16(l4 + 4, udpLen);
  out.set(f.payload, l4 + 8);
  let check = ~fold(sum16(out.subarray(l4, l4 + udpLen), pseudo)) & 0xffff;
  if (check === 0) check = 0xffff;
  dv.setUint16(l4 + 6, check);
  return out;
}
