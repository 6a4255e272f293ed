/**
 * Namespace layer: the ICMP errors of xlb with real traffic and real kernels judging them.
 *
 *   c   10.77.0.2  fd77::2  ─┐
 *   lb  10.77.0.1  fd77::1  ─┤ sw (bridge br0)     xlb on lb:eth0 (XDP native), encap_mtu 1400
 *   b   10.77.0.11 fd77::11 ─┘                     VIPs: 198.51.100.77:9/udp IPIP (v4),
 *                                                  2001:db8:77::7:9/udp IPIP (v6), 198.51.100.78:5353/udp NAT
 *
 *   - too big: c sends a 1450-byte UDP datagram with DF (IPv6: any) to the IPIP VIPs from a
 *     connected socket; xlb answers with fragmentation needed / packet too big, c's kernel
 *     checks its checksum, matches the quote to the socket and lowers the path MTU to the
 *     one reported (IP_MTU / IPV6_MTU: 1380 / 1360); the next such send fails with EMSGSIZE.
 *   - NAT, backend side: c sends to the NAT VIP a datagram for a port b does not serve; b's
 *     kernel answers port unreachable to the NAT source (lb's address), xlb translates it, and
 *     c's connected socket gets ECONNREFUSED (its kernel found its own flow in the quote).
 *   - NAT, client side: b answers from a connected socket to a client socket already closed;
 *     c's kernel answers port unreachable to the VIP, xlb translates it towards b, and b's
 *     socket gets ECONNREFUSED.
 * The veth quirks are handled as in @netaccel/labs: the bridge port facing lb gets a trivial
 * XDP program (XDP_TX needs NAPI on the peer) and c and b send complete checksums. Namespaces
 * have the prefix xic; the lab is torn down and the pin removed even when an assertion fails.
 */
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { withLab } from '@netaccel/netlab';
import type { Lab, LabSpec } from '@netaccel/netlab';
import { XLB_BACKEND_F } from './constants.js';
import { XLB_DROP } from './drop-reasons.js';
import { worldEntries } from './test-world.js';
import type { XlbWorld } from './test-world.js';
import { BPF_DIR, XlbObject } from './xlb-harness.js';

const PREFIX = 'xic';
const SELFTEST = join(BPF_DIR, 'build', 'selftest', 'selftest.bpf.o');
const IP = { c: '10.77.0.2', lb: '10.77.0.1', b: '10.77.0.11' } as const;
const IP6 = { c: 'fd77::2', lb: 'fd77::1', b: 'fd77::11' } as const;
const VIP = { v4: '198.51.100.77', v6: '2001:db8:77::7', nat: '198.51.100.78' } as const;
const PYTHON = '/usr/bin/python3';

const spec: LabSpec = {
  name: 'icmp',
  nodes: {
    sw: {},
    c: { routes: [{ to: `${VIP.v4}/32`, via: IP.lb }, { to: `${VIP.nat}/32`, via: IP.lb }, { to: `${VIP.v6}/128`, via: IP6.lb }] },
    lb: {},
    b: {},
  },
  links: [
    { a: 'sw:pc', b: 'c:eth0', bAddr: [`${IP.c}/24`, `${IP6.c}/64`] },
    { a: 'sw:plb', b: 'lb:eth0', bAddr: [`${IP.lb}/24`, `${IP6.lb}/64`] },
    { a: 'sw:pb', b: 'b:eth0', bAddr: [`${IP.b}/24`, `${IP6.b}/64`] },
  ],
  bridges: [{ node: 'sw', name: 'br0', ports: ['pc', 'plb', 'pb'] }],
};

function world(lbMac: string, bMac: string): XlbWorld {
  const onLink = XLB_BACKEND_F.VALID | XLB_BACKEND_F.ON_LINK;
  const table = Array.from({ length: 13 }, () => 0);
  const vip = (vipIndex: number, address: string, port: number, mode: 'ipip' | 'nat', be: number) => ({
    name: address,
    key: { address, port, protocol: 'udp' as const },
    meta: { vipIndex, flags: 0, tableSize: 13, activeSlot: 0 as const, mode },
    table: table.map(() => be),
  });
  return {
    config: { localMac: lbMac, natSourceV4: IP.lb, natSourceV6: IP6.lb },
    nexthops: [],
    backends: [
      { index: 0, record: { address: IP.b, mac: bMac, port: 0, flags: onLink, nexthop: 0 } },
      { index: 1, record: { address: IP6.b, mac: bMac, port: 0, flags: onLink, nexthop: 0 } },
    ],
    vips: [vip(0, VIP.v4, 9, 'ipip', 0), vip(1, VIP.v6, 9, 'ipip', 1), vip(2, VIP.nat, 5353, 'nat', 0)],
  };
}

/**
 * c: from a connected socket with DF (IP_PMTUDISC_DO), 1450 bytes, wait, read the path MTU,
 * send 1450 bytes again. Prints {mtu, again}.
 */
const TOO_BIG = `
import json, socket, sys, time
host, v6 = sys.argv[1], sys.argv[2] == '6'
fam = socket.AF_INET6 if v6 else socket.AF_INET
lvl, disc, mtu_opt = (socket.IPPROTO_IPV6, 23, 24) if v6 else (socket.IPPROTO_IP, 10, 14)
s = socket.socket(fam, socket.SOCK_DGRAM)
s.setsockopt(lvl, disc, 2)
s.connect((host, 9))
s.send(b'x' * 1450)
mtu = s.getsockopt(lvl, mtu_opt)
for _ in range(100):
    if mtu < 1500: break
    time.sleep(0.02)
    mtu = s.getsockopt(lvl, mtu_opt)
try:
    s.send(b'x' * 1450)
    again = 'sent'
except OSError as e:
    again = e.errno
print(json.dumps({'mtu': mtu, 'again': again}))
`;

/** c: a connected socket to the NAT VIP's port 5353, one datagram, then recv: the error it gets. */
const REFUSED = `
import json, socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(3)
s.connect((sys.argv[1], 5353))
s.send(b'hello')
try:
    s.recv(100)
    r = 'answered'
except OSError as e:
    r = 'timeout' if isinstance(e, socket.timeout) else e.errno
print(json.dumps({'result': r}))
`;

/** b: serves one datagram on :5353, answers it after the client is gone, then recv: its error. */
const LATE_ANSWER = `
import json, socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('0.0.0.0', 5353))
print('ready', flush=True)
s.settimeout(10)
data, peer = s.recvfrom(100)
s.connect(peer)
time.sleep(0.3)
s.send(b'late answer')
s.settimeout(3)
try:
    s.recv(100)
    r = 'answered'
except OSError as e:
    r = 'timeout' if isinstance(e, socket.timeout) else e.errno
print(json.dumps({'peer': peer, 'result': r}), flush=True)
`;

/** c: one datagram from a socket closed right after. */
const SEND_AND_CLOSE = `
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.connect((sys.argv[1], 5353))
s.send(b'bye')
s.close()
`;

async function py(lab: Lab, node: string, script: string, args: string[]): Promise<Record<string, unknown>> {
  const r = await lab.exec(node, [PYTHON, '-c', script, ...args], { timeoutMs: 20_000 });
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
}

async function macOf(lab: Lab, node: string): Promise<string> {
  const eth0 = (await lab.links(node)).find((l) => l.ifname === 'eth0');
  assert.ok(eth0?.address, `${node}: eth0 has a MAC`);
  return eth0.address;
}

/** Pins of earlier runs whose process is gone (xic-<pid>-lb under /sys/fs/bpf). */
function removeStalePins(): void {
  for (const name of readdirSync('/sys/fs/bpf')) {
    const pid = /^xic-(\d+)-/.exec(name)?.[1];
    if (pid === undefined) continue;
    try {
      process.kill(Number(pid), 0);
    } catch {
      rmSync(`/sys/fs/bpf/${name}`, { force: true });
    }
  }
}

test('xlb answers too-big packets with ICMP the client kernel acts on, and translates ICMP errors of NAT flows both ways', { timeout: 90_000 }, async () => {
  removeStalePins();
  const pin = `/sys/fs/bpf/xic-${process.pid}-lb`;
  const xlb = XlbObject.load('balancer', { encap_mtu: 1400 });
  try {
    await withLab(
      spec,
      async (lab) => {
        xlb.install(worldEntries(world(await macOf(lab, 'lb'), await macOf(lab, 'b')), xlb.maglevSize));
        rmSync(pin, { force: true });
        xlb.prog.pin(pin);
        await lab.exec('lb', ['ip', '-force', 'link', 'set', 'dev', 'eth0', 'xdpdrv', 'pinned', pin], { sysfs: 'host' });
        await lab.exec('sw', ['ip', 'link', 'set', 'dev', 'plb', 'xdpdrv', 'obj', SELFTEST, 'sec', 'xdp']);
        for (const n of ['c', 'b']) await lab.exec(n, ['ethtool', '-K', 'eth0', 'tx', 'off']);

        // too big: IPv4 with DF (IPIP over IPv4: 1400 - 20), IPv6 (IPIP over IPv6: 1400 - 40)
        const v4 = await py(lab, 'c', TOO_BIG, [VIP.v4, '4']);
        assert.deepEqual(v4, { mtu: 1380, again: 90 }, 'IPv4: path MTU 1380, then EMSGSIZE');
        const v6 = await py(lab, 'c', TOO_BIG, [VIP.v6, '6']);
        assert.deepEqual(v6, { mtu: 1360, again: 90 }, 'IPv6: path MTU 1360, then EMSGSIZE');
        assert.equal(xlb.drops().get(XLB_DROP.ICMP_TOO_BIG)!.packets, 2n, 'both counted ICMP_TOO_BIG');

        // NAT, backend side: b has nothing on 5353 and answers port unreachable to lb
        const refused = await py(lab, 'c', REFUSED, [VIP.nat]);
        assert.deepEqual(refused, { result: 111 }, 'the client socket gets ECONNREFUSED');
        assert.ok(xlb.stats('vip_stats', 2).replyPackets >= 1n, 'the translated error counted as a reply');

        // NAT, client side: the client's port is closed when b answers
        const server = await lab.spawn('b', [PYTHON, '-u', '-c', LATE_ANSWER], { name: 'late-answer', ready: { log: /ready/ }, timeoutMs: 15_000 });
        await lab.exec('c', [PYTHON, '-c', SEND_AND_CLOSE, VIP.nat]);
        const exit = await server.wait({ timeoutMs: 15_000 });
        assert.equal(exit.code, 0, `b's script: ${JSON.stringify(exit)}`);
        const line = server.output().trim().split('\n').at(-1)!;
        const r = JSON.parse(line) as { peer: [string, number]; result: unknown };
        assert.equal(r.peer[0], IP.lb, 'b saw the NAT source');
        assert.equal(r.result, 111, 'b gets ECONNREFUSED from the translated error');
      },
      { prefix: PREFIX },
    );
  } finally {
    rmSync(pin, { force: true });
    xlb.close();
  }
});
