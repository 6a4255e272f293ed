/**
 * Test fixtures of the selftest XDP program (selftest.bpf.c), after Katran's: each is
 * {name, input packet, expected verdict, expected output packet}. The BPF-layer test in this
 * folder runs them through `bpftool prog run`, the libs/bpf tests through the koffi binding, so
 * both drive the program with the same packets and expectations.
 *
 * Packets are plain Buffers built here (the shared packet codecs live in libs/protocol); the
 * expected echo reply is built from scratch, with a checksum computed over the whole message,
 * not derived from the program's incremental update.
 */

/** XDP verdicts (enum xdp_action); also the keys of the verdict_stats map. */
export const XDP_VERDICT = { ABORTED: 0, DROP: 1, PASS: 2, TX: 3, REDIRECT: 4 } as const;
export type XdpVerdictName = keyof typeof XDP_VERDICT;

/** Entries of verdict_stats (SELFTEST_VERDICTS in selftest_kern_user.h). */
export const SELFTEST_VERDICTS = 5;

/** Default of the drop_udp_port global (SELFTEST_DEFAULT_DROP_PORT in selftest_kern_user.h). */
export const SELFTEST_DEFAULT_DROP_PORT = 9;

/** Layout of `struct selftest_counter` (selftest_kern_user.h); checked against the object's BTF. */
export const SELFTEST_COUNTER_LAYOUT = { name: 'selftest_counter', size: 16, members: { packets: 0, bytes: 8 } } as const;

export interface SelftestCounter {
  packets: bigint;
  bytes: bigint;
}

/** Decodes one `struct selftest_counter` (little-endian, as on the host) at `offset`. */
export function decodeSelftestCounter(buf: Uint8Array, offset = 0): SelftestCounter {
  const view = new DataView(buf.buffer, buf.byteOffset + offset, SELFTEST_COUNTER_LAYOUT.size);
  return {
    packets: view.getBigUint64(SELFTEST_COUNTER_LAYOUT.members.packets, true),
    bytes: view.getBigUint64(SELFTEST_COUNTER_LAYOUT.members.bytes, true),
  };
}

export interface SelftestFixture {
  readonly name: string;
  readonly packet: Buffer;
  readonly verdict: XdpVerdictName;
  /** The frame the program leaves behind: the input unless it rewrote it. */
  readonly output: Buffer;
  /**
   * Runs in one BPF_PROG_TEST_RUN. 1 for packets the program rewrites: the kernel repeats the
   * program on the same buffer, so a second run would see the reply instead of the request.
   */
  readonly repeat: number;
}

const MAC_A = '02:00:00:00:00:0a';
const MAC_B = '02:00:00:00:00:0b';
const IP_A = '10.200.0.1';
const IP_B = '10.200.0.2';
const ETH_P_IP = 0x0800;
const ETH_P_ARP = 0x0806;
const ETH_P_8021Q = 0x8100;
const ETH_P_8021AD = 0x88a8;
const IPPROTO_ICMP = 1;
const IPPROTO_UDP = 17;

/** RFC 1071 checksum of `buf` (one's complement of the one's-complement sum of 16-bit words). */
export function internetChecksum(buf: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i + 1 < buf.length; i += 2) sum += (buf[i]! << 8) | buf[i + 1]!;
  if (buf.length % 2 === 1) sum += buf[buf.length - 1]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

function mac(text: string): Buffer {
  return Buffer.from(text.split(':').map((h) => Number.parseInt(h, 16)));
}

function ipv4Addr(text: string): Buffer {
  return Buffer.from(text.split('.').map(Number));
}

/** Ethernet header; `vlans` are [TPID, VLAN id] tags, outermost first. */
function eth(dst: string, src: string, type: number, vlans: ReadonlyArray<readonly [number, number]> = []): Buffer {
  const h = Buffer.alloc(14 + 4 * vlans.length);
  mac(dst).copy(h, 0);
  mac(src).copy(h, 6);
  let off = 12;
  for (const [tpid, vid] of vlans) {
    h.writeUInt16BE(tpid, off);
    h.writeUInt16BE(vid & 0x0fff, off + 2);
    off += 4;
  }
  h.writeUInt16BE(type, off);
  return h;
}

interface Ipv4Options {
  src: string;
  dst: string;
  protocol: number;
  /** Extra header bytes (IPv4 options), a multiple of 4. */
  options?: Buffer;
  /** The 16-bit flags + fragment offset field. */
  fragOff?: number;
  ttl?: number;
}

function ipv4(o: Ipv4Options, payload: Buffer): Buffer {
  const opts = o.options ?? Buffer.alloc(0);
  const hlen = 20 + opts.length;
  const h = Buffer.alloc(hlen);
  h[0] = 0x40 | (hlen / 4);
  h.writeUInt16BE(hlen + payload.length, 2);
  h.writeUInt16BE(0x1234, 4);
  h.writeUInt16BE(o.fragOff ?? 0x4000, 6); // DF
  h[8] = o.ttl ?? 64;
  h[9] = o.protocol;
  ipv4Addr(o.src).copy(h, 12);
  ipv4Addr(o.dst).copy(h, 16);
  opts.copy(h, 20);
  h.writeUInt16BE(internetChecksum(h), 10);
  return Buffer.concat([h, payload]);
}

function udp(srcPort: number, dstPort: number, data: Buffer): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt16BE(srcPort, 0);
  h.writeUInt16BE(dstPort, 2);
  h.writeUInt16BE(8 + data.length, 4);
  return Buffer.concat([h, data]); // checksum 0: none (allowed for UDP over IPv4)
}

function icmpEcho(type: number, id: number, seq: number, data: Buffer): Buffer {
  const m = Buffer.alloc(8 + data.length);
  m[0] = type;
  m.writeUInt16BE(id, 4);
  m.writeUInt16BE(seq, 6);
  data.copy(m, 8);
  m.writeUInt16BE(internetChecksum(m), 2);
  return m;
}

const DATA = Buffer.from('netaccel selftest payload');

function udpPacket(dstPort: number, opts: Partial<Ipv4Options> = {}, vlans: ReadonlyArray<readonly [number, number]> = []): Buffer {
  return Buffer.concat([
    eth(MAC_B, MAC_A, ETH_P_IP, vlans),
    ipv4({ src: IP_A, dst: IP_B, protocol: IPPROTO_UDP, ...opts }, udp(40000, dstPort, DATA)),
  ]);
}

/** The fixtures for a program loaded with `drop_udp_port = dropPort` (non-zero). */
export function selftestFixtures(dropPort: number): readonly SelftestFixture[] {
  if (!Number.isInteger(dropPort) || dropPort < 1 || dropPort > 65535) {
    throw new RangeError(`dropPort: expected 1..65535, got ${dropPort}`);
  }
  const otherPort = dropPort === 53 ? 54 : 53;
  const same = (name: string, packet: Buffer, verdict: XdpVerdictName, repeat = 100): SelftestFixture => ({
    name,
    packet,
    verdict,
    output: packet,
    repeat,
  });
  const echoData = Buffer.from('0123456789abcdef0123456789abcdef');
  const request = Buffer.concat([
    eth(MAC_B, MAC_A, ETH_P_IP),
    ipv4({ src: IP_A, dst: IP_B, protocol: IPPROTO_ICMP }, icmpEcho(8, 0x4242, 7, echoData)),
  ]);
  const reply = Buffer.concat([
    eth(MAC_A, MAC_B, ETH_P_IP),
    ipv4({ src: IP_B, dst: IP_A, protocol: IPPROTO_ICMP }, icmpEcho(0, 0x4242, 7, echoData)),
  ]);
  const truncated = udpPacket(dropPort).subarray(0, 14 + 19);
  const arp = Buffer.concat([eth('ff:ff:ff:ff:ff:ff', MAC_A, ETH_P_ARP), Buffer.alloc(28)]);
  return [
    same(`UDP to the drop port ${dropPort} is dropped`, udpPacket(dropPort), 'DROP'),
    same(`UDP to port ${otherPort} passes`, udpPacket(otherPort), 'PASS'),
    same('UDP to the drop port behind 802.1ad + 802.1Q tags is dropped',
      udpPacket(dropPort, {}, [[ETH_P_8021AD, 100], [ETH_P_8021Q, 200]]), 'DROP'),
    same('UDP to the drop port behind 3 VLAN tags (over the parser limit) passes',
      udpPacket(dropPort, {}, [[ETH_P_8021AD, 1], [ETH_P_8021Q, 2], [ETH_P_8021Q, 3]]), 'PASS'),
    same('UDP to the drop port after 8 bytes of IPv4 options is dropped',
      udpPacket(dropPort, { options: Buffer.from([1, 1, 1, 1, 1, 1, 1, 0]) }), 'DROP'),
    same('a non-first fragment to the drop port passes (no UDP header in it)',
      udpPacket(dropPort, { fragOff: 0x0010 }), 'PASS'),
    same('a truncated IPv4 header passes', truncated, 'PASS'),
    same('ARP passes', arp, 'PASS'),
    { name: 'ICMP echo request is answered in place (XDP_TX)', packet: request, verdict: 'TX', output: reply, repeat: 1 },
    same('ICMP echo reply passes', reply, 'PASS'),
  ];
}

/** Packets and bytes per verdict that running `fixtures` once each must leave in verdict_stats. */
export function expectedCounters(fixtures: readonly SelftestFixture[]): Map<XdpVerdictName, SelftestCounter> {
  const out = new Map<XdpVerdictName, SelftestCounter>();
  for (const f of fixtures) {
    const c = out.get(f.verdict) ?? { packets: 0n, bytes: 0n };
    c.packets += BigInt(f.repeat);
    c.bytes += BigInt(f.repeat * f.packet.length);
    out.set(f.verdict, c);
  }
  return out;
}
