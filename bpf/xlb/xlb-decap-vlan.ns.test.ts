/**
 * Namespace layer: xlb_decap on a backend whose tunnels arrive VLAN-tagged, with real frames and
 * the real receive path.
 *
 *   a:eth0 ──veth── b:eth0 (xlb_decap on tc ingress)   10.77.9.2/24
 *                   lo: VIP 198.51.100.79, a UDP socket on :7000
 *
 * a sends IPIP frames (IPv4 in IPv4, an inner UDP datagram to the VIP) with AF_PACKET on eth0,
 * tags included. The receive path moves the outer tag to skb metadata before tc ingress: a
 * single tag leaves a plain tunnel in the frame; QinQ (802.1ad + 802.1Q) leaves its inner tag
 * in it, which xlb_decap pops and pushes back around bpf_skb_adjust_room.
 *
 * This kernel has no VLAN devices (CONFIG_VLAN_8021Q is off), so the stack delivers only
 * priority-tagged frames (VLAN id 0, 802.1p) and drops the others after tc for want of their
 * VLAN device. So: priority tags (one, and QinQ with both ids 0) must reach the socket, which
 * proves the frame the stack got after xlb_decap (tags restored around the inner packet,
 * checksums intact); tags with ids 100 and 300 + 400 must be decapsulated (decap_stats) and,
 * as the kernel would without the program, not delivered. Namespaces have the prefix xic; the
 * lab is torn down and the pin removed even when an assertion fails.
 */
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { readdirSync, rmSync } from 'node:fs';
import { buildPacket, ipipEncap, udp } from '@netaccel/protocol';
import type { Packet } from '@netaccel/protocol';
import { withLab } from '@netaccel/netlab';
import type { Lab, LabSpec } from '@netaccel/netlab';
import { XLB_DECAP_STAT } from './constants.js';
import { XLB_DROP } from './drop-reasons.js';
import { encodeDecapKey, encodeU32 } from './codec.js';
import { XlbObject } from './xlb-harness.js';

const PREFIX = 'xic';
const PYTHON = '/usr/bin/python3';
const VIP = '198.51.100.79';
const B = '10.77.9.2';

const spec: LabSpec = {
  name: 'decapvlan',
  nodes: { a: {}, b: { addrs: { lo: `${VIP}/32` }, sysctls: { 'net.ipv4.conf.all.rp_filter': 0, 'net.ipv4.conf.default.rp_filter': 0 } } },
  links: [{ a: 'a:eth0', b: 'b:eth0', aAddr: '10.77.9.1/24', bAddr: '10.77.9.2/24' }],
};

/** b: prints the payloads received on VIP:7000 until 1 s passes without one. */
const RECEIVER = `
import json, socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 7000))
print('ready', flush=True)
out = []
s.settimeout(10)
while True:
    try:
        out.append(s.recv(100).decode())
    except socket.timeout:
        break
    s.settimeout(1)
print(json.dumps(out), flush=True)
`;

/** a: sends each hex frame on eth0 as it is. */
const SENDER = `
import socket, sys
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(('eth0', 0))
for h in sys.argv[1:]:
    s.send(bytes.fromhex(h))
`;

/** `p` with VLAN tags (priority 5) after its Ethernet header, outermost first (802.1ad for the outer of two). */
function tagged(p: Packet, vids: number[]): Packet {
  const tags = vids.map((vid, i) => ({ type: 'vlan' as const, vid, pcp: 5, ...(i === 0 && vids.length > 1 ? { tpid: 0x88a8 } : {}) }));
  return { ...p, layers: [p.layers[0]!, ...tags, ...p.layers.slice(1)] };
}

async function macOf(lab: Lab, node: string, ifname = 'eth0'): Promise<string> {
  const l = (await lab.links(node)).find((x) => x.ifname === ifname);
  assert.ok(l?.address, `${node}: ${ifname} has a MAC`);
  return l.address;
}

/** Pins of earlier runs whose process is gone (xic-<pid>-… under /sys/fs/bpf). */
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

test('tunnels behind a priority tag and behind QinQ tags are opened on the real receive path; the priority-tagged ones reach the VIP', { timeout: 60_000 }, async () => {
  removeStalePins();
  const pin = `/sys/fs/bpf/xic-${process.pid}-decap`;
  const decap = XlbObject.load('decap');
  try {
    decap.map('decap_addrs').update(encodeDecapKey(B), encodeU32(0));
    await withLab(
      spec,
      async (lab) => {
        rmSync(pin, { force: true });
        decap.prog.pin(pin);
        await lab.exec('b', ['tc', 'qdisc', 'add', 'dev', 'eth0', 'clsact']);
        await lab.exec('b', ['tc', 'filter', 'add', 'dev', 'eth0', 'ingress', 'bpf', 'direct-action', 'pinned', pin], { sysfs: 'host' });

        const eth = { src: await macOf(lab, 'a'), dst: await macOf(lab, 'b') };
        const inner = (text: string) => udp({ src: '192.0.2.10', dst: VIP, sport: 40000, dport: 7000, payload: text, eth });
        const frame = (text: string, vids: number[]) => Buffer.from(buildPacket(tagged(ipipEncap(inner(text), '172.16.1.2', B), vids))).toString('hex');
        const frames = [frame('untagged', []), frame('priority tag', [0]), frame('QinQ priority tags', [0, 0]), frame('vlan 100', [100]), frame('QinQ 300+400', [300, 400])];
        const receiver = await lab.spawn('b', [PYTHON, '-u', '-c', RECEIVER, VIP], { name: 'receiver', ready: { log: /ready/ }, timeoutMs: 15_000 });
        await lab.exec('a', [PYTHON, '-c', SENDER, ...frames]);
        const exit = await receiver.wait({ timeoutMs: 15_000 });
        assert.equal(exit.code, 0, `the receiver: ${receiver.tail().join('\n')}`);
        const got = JSON.parse(receiver.output().trim().split('\n').at(-1)!) as string[];
        assert.deepEqual(got, ['untagged', 'priority tag', 'QinQ priority tags'], 'priority-tagged tunnels reach the VIP; VLANs 100 and 300 have no device here');
        assert.equal(decap.counter('decap_stats', XLB_DECAP_STAT.ipip).packets, 5n, 'every tunnel was opened');
        assert.equal(decap.counter('drop_stats', XLB_DROP.DECAP_ADJUST_ROOM).packets, 0n);
      },
      { prefix: PREFIX },
    );
  } finally {
    rmSync(pin, { force: true });
    decap.close();
  }
});
