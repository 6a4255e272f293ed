/**
 * BPF layer: NAT mode across both directions — replies translated back to VIP -> client
 * (IPv4, IPv6, UDP), the port allocation scheme of xlb_nat.h (deterministic candidates,
 * collision probing, reuse by the same flow, exhaustion, takeover of expired flows, the TIME_WAIT
 * reserve of closed TCP flows, several source addresses), and what is not a reply.
 */
import { afterAll, beforeAll, describe, test } from 'vitest';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { assertPacketsEqual, buildPacket, findLayer, parsePacket, tcp, tcpSyn, TCP_FLAGS, udp, verifyChecksums } from '@netaccel/protocol';
import { decodeCtValue, decodeNatValue, encodeConfig, encodeFlowKey } from './codec.js';
import type { FlowKey } from './codec.js';
import { XLB_DROP } from './drop-reasons.js';
import { natCandidates, natPortCandidates } from './flow-hash.js';
import { MAC, NAT_SOURCE, clientFlow, worldBackend, worldEntries, worldVip, xlbWorld } from './test-world.js';
import { XlbObject, pinThreadToCpu } from './xlb-harness.js';

const world = xlbWorld();
const FROM_ROUTER = { eth: { src: MAC.router, dst: MAC.lb } };
const natV4 = worldVip(world, 'nat-v4');
const natV6 = worldVip(world, 'nat-v6');
const natUdp = worldVip(world, 'nat-udp-v4');

function loadWorld(globals: Record<string, number> = {}): XlbObject {
  const xlb = XlbObject.load('balancer', globals);
  xlb.install(worldEntries(world, xlb.maglevSize));
  return xlb;
}

function bytes(p: Parameters<typeof buildPacket>[0]): Buffer {
  return Buffer.from(buildPacket(p));
}

/** Sends a client SYN through NAT; returns the source port it got (or the verdict). */
function natPortOf(x: XlbObject, f: FlowKey): number | string {
  const r = x.run(bytes(tcpSyn({ src: f.src, dst: f.dst, sport: f.sport, dport: f.dport, ...FROM_ROUTER })));
  if (r.verdict !== 'TX') return r.verdict;
  const seg = findLayer(parsePacket(r.data), 'tcp');
  assert.ok(seg, 'a TCP segment');
  return seg.sport;
}

/** Sends a client SYN through NAT; returns the source address and port it got (or the verdict). */
function natSourceOf(x: XlbObject, f: FlowKey): { address: string; port: number } | string {
  const r = x.run(bytes(tcpSyn({ src: f.src, dst: f.dst, sport: f.sport, dport: f.dport, ...FROM_ROUTER })));
  if (r.verdict !== 'TX') return r.verdict;
  const p = parsePacket(r.data);
  const ip = findLayer(p, 'ipv4');
  assert.ok(ip);
  return { address: ip.src, port: findLayer(p, 'tcp')!.sport };
}

/** The client's FIN on a flow (it closes first). */
function fin(f: FlowKey): Buffer {
  return bytes(tcp({ src: f.src, dst: f.dst, sport: f.sport, dport: f.dport, flags: TCP_FLAGS.FIN | TCP_FLAGS.ACK, ...FROM_ROUTER }));
}

/** The backend's answer to the translated flow: backend -> NAT source:port. */
function reply(f: FlowKey, backendIndex: number, natPort: number, flags: number, natSrc: string = f.src.includes(':') ? NAT_SOURCE.v6 : NAT_SOURCE.v4): Buffer {
  const be = worldBackend(world, backendIndex);
  const spec = { src: be.address, dst: natSrc, sport: be.port || f.dport, dport: natPort, eth: { src: MAC.backend(backendIndex), dst: MAC.lb }, payload: 'answer' };
  return f.protocol === 6 ? bytes(tcp({ ...spec, flags, seq: 777, ack: 1 })) : bytes(udp(spec));
}

/** What the client must receive: VIP:port -> client, to the router's MAC. */
function translated(f: FlowKey, flags: number): Buffer {
  const spec = { src: f.dst, dst: f.src, sport: f.dport, dport: f.sport, eth: { src: MAC.lb, dst: MAC.router }, payload: 'answer' };
  return f.protocol === 6 ? bytes(tcp({ ...spec, flags, seq: 777, ack: 1 })) : bytes(udp(spec));
}

describe('xlb.bpf.o: NAT', () => {
  let unpin: () => void = () => {};
  beforeAll(() => {
    unpin = pinThreadToCpu(0);
  });
  afterAll(() => unpin());

  const withObject = (name: string, globals: Record<string, number>, fn: (x: XlbObject) => Promise<void> | void) =>
    test(name, async () => {
      const x = loadWorld(globals);
      try {
        await fn(x);
      } finally {
        x.close();
      }
    });

  withObject('replies are translated back to VIP -> client (TCP over IPv4 and IPv6, UDP)', {}, (x) => {
    const cases = [
      { f: clientFlow(natV4, 45001, 4), be: natV4.table[0]! },
      { f: clientFlow(natV6, 45002, 6), be: natV6.table[0]! },
      { f: clientFlow(natUdp, 45003, 4), be: natUdp.table[0]! },
    ];
    for (const { f, be } of cases) {
      let port: number;
      if (f.protocol === 6) {
        port = natPortOf(x, f) as number;
      } else {
        const r = x.run(bytes(udp({ src: f.src, dst: f.dst, sport: f.sport, dport: f.dport, payload: 'q', ...FROM_ROUTER })));
        assert.equal(r.verdict, 'TX');
        port = findLayer(parsePacket(r.data), 'udp')!.sport;
      }
      assert.equal(port, natPortCandidates(f)[0], `${f.dst}: the first candidate port of a fresh table`);
      const flags = TCP_FLAGS.SYN | TCP_FLAGS.ACK;
      const r = x.run(reply(f, be, port, flags));
      assert.equal(r.verdict, 'TX', `reply to ${f.dst}`);
      assertPacketsEqual(r.data, translated(f, flags), { message: `reply to ${f.dst}` });
      assert.ok(verifyChecksums(r.data).ok);
    }
    const s = x.stats('vip_stats', natV4.meta.vipIndex);
    assert.equal(s.replyPackets, 1n);
    assert.ok(s.replyBytes > 0n);
    assert.equal(x.stats('backend_stats', natV4.table[0]!).replyPackets, 1n);
  });

  withObject('later packets of a flow keep its port; a server FIN marks the NAT entry closing', {}, (x) => {
    const f = clientFlow(natV4, 45010, 4);
    const port = natPortOf(x, f) as number;
    const ack = bytes(tcp({ src: f.src, dst: f.dst, sport: f.sport, dport: f.dport, flags: TCP_FLAGS.ACK, ...FROM_ROUTER }));
    for (let i = 0; i < 3; i++) {
      const r = x.run(ack);
      assert.equal(findLayer(parsePacket(r.data), 'tcp')?.sport, port);
    }
    assert.equal(x.run(reply(f, 0, port, TCP_FLAGS.FIN | TCP_FLAGS.ACK)).verdict, 'TX');
    const be = worldBackend(world, 0);
    const key = encodeFlowKey({ src: be.address, dst: NAT_SOURCE.v4, sport: be.port, dport: port, protocol: 6 });
    const v = decodeNatValue(x.map('nat_rev').lookup(key)!, 4);
    assert.deepEqual([v.client, v.clientPort, v.vip, v.vipPort, v.clientMac, v.state], [f.src, f.sport, f.dst, f.dport, MAC.router, 'tcp-closing']);
  });

  // Within one tick of the coarse clock a flow's packets skip the reverse entry (its last packet
  // verified and refreshed it); a packet of a later tick looks it up again.
  withObject('a flow whose reverse entry is lost gets it back (same port) from its next packet a tick later, and its replies are translated again', {}, async (x) => {
    const f = clientFlow(natV4, 45020, 4);
    const port = natPortOf(x, f) as number;
    const be = worldBackend(world, 0);
    const key = encodeFlowKey({ src: be.address, dst: NAT_SOURCE.v4, sport: be.port, dport: port, protocol: 6 });
    assert.equal(x.map('nat_rev').delete(key), true, 'the reverse entry was there');
    assert.equal(x.run(reply(f, 0, port, TCP_FLAGS.ACK)).verdict, 'PASS', 'without it a reply is not translated');
    await sleep(50); // several ticks at any HZ (100..1000)
    const ack = bytes(tcp({ src: f.src, dst: f.dst, sport: f.sport, dport: f.dport, flags: TCP_FLAGS.ACK, ...FROM_ROUTER }));
    const r = x.run(ack);
    assert.equal(r.verdict, 'TX');
    assert.equal(findLayer(parsePacket(r.data), 'tcp')?.sport, port, 'the flow keeps its port');
    const v = decodeNatValue(x.map('nat_rev').lookup(key)!, 4);
    assert.deepEqual([v.client, v.clientPort, v.vip, v.vipPort, v.state], [f.src, f.sport, f.dst, f.dport, 'tcp-established']);
    const back = x.run(reply(f, 0, port, TCP_FLAGS.ACK));
    assert.equal(back.verdict, 'TX', 'the reply is translated again');
    assertPacketsEqual(back.data, translated(f, TCP_FLAGS.ACK), { message: 'translated reply' });
  });

  withObject('what is not a reply passes: unknown port, another backend, another protocol', {}, (x) => {
    const f = clientFlow(natV4, 45020, 4);
    const port = natPortOf(x, f) as number;
    const unknown = reply(f, 0, port === 1024 ? 1025 : port - 1, TCP_FLAGS.ACK);
    const r1 = x.run(unknown);
    assert.equal(r1.verdict, 'PASS');
    assert.deepEqual(r1.data, unknown);
    const stranger = reply(f, 1, port, TCP_FLAGS.ACK);
    assert.equal(x.run(stranger).verdict, 'PASS');
    const asUdp = reply({ ...f, protocol: 17 }, 0, port, 0);
    assert.equal(x.run(asUdp).verdict, 'PASS');
  });

  withObject('ports: deterministic candidates, collisions probe on, the same flow reuses, exhaustion drops', { nat_port_min: 50000, nat_port_max: 50002 }, (x) => {
    const taken = new Set<number>();
    const flows = [45030, 45031, 45032].map((sport) => clientFlow(natV4, sport, 4));
    for (const f of flows) {
      const want = natPortCandidates(f, 50000, 50002).find((p) => !taken.has(p))!;
      assert.equal(natPortOf(x, f), want, `flow ${f.sport}: first free candidate`);
      taken.add(want);
    }
    assert.deepEqual([...taken].sort(), [50000, 50001, 50002]);
    const before = x.drops().get(XLB_DROP.NAT_PORTS_EXHAUSTED)!.packets;
    assert.equal(natPortOf(x, clientFlow(natV4, 45033, 4)), 'DROP', 'a fourth flow finds every port live');
    assert.equal(x.drops().get(XLB_DROP.NAT_PORTS_EXHAUSTED)!.packets, before + 1n);
    // The first flow, having lost its connection-table entry (as on another CPU), finds its own port.
    const first = flows[0]!;
    const firstPort = natPortCandidates(first, 50000, 50002)[0]!;
    assert.equal(x.ctDelete(first), true);
    const ack = bytes(tcp({ src: first.src, dst: first.dst, sport: first.sport, dport: first.dport, flags: TCP_FLAGS.ACK, ...FROM_ROUTER }));
    assert.equal(findLayer(parsePacket(x.run(ack).data), 'tcp')?.sport, firstPort);
    // A different backend has its own port space.
    const udpFlow = clientFlow(natUdp, 45034, 4);
    const r = x.run(bytes(udp({ src: udpFlow.src, dst: udpFlow.dst, sport: udpFlow.sport, dport: udpFlow.dport, ...FROM_ROUTER })));
    assert.equal(r.verdict, 'TX');
  });

  withObject('the port of an expired flow is taken over (ct_tcp_syn_timeout_ms = 100, nat_tcp_time_wait_ms = 200)', { nat_port_min: 50000, nat_port_max: 50002, ct_tcp_syn_timeout_ms: 100, nat_tcp_time_wait_ms: 200 }, async (x) => {
    const old = clientFlow(natV4, 45040, 4);
    const port = natPortOf(x, old) as number;
    let next: FlowKey | undefined;
    for (let sport = 45041; !next; sport++) {
      const f = clientFlow(natV4, sport, 4);
      if (natPortCandidates(f, 50000, 50002)[0] === port) next = f;
    }
    await sleep(300);
    assert.equal(natPortOf(x, next), port, 'the new flow takes the expired one\'s port');
    const r = x.run(reply(next, 0, port, TCP_FLAGS.SYN | TCP_FLAGS.ACK));
    assertPacketsEqual(r.data, translated(next, TCP_FLAGS.SYN | TCP_FLAGS.ACK), { message: 'replies now go to the new flow' });
  });

  withObject('a closed TCP flow\'s port stays reserved for nat_tcp_time_wait_ms after its closing timeout', { nat_port_min: 50000, nat_port_max: 50002, ct_tcp_closing_timeout_ms: 100, nat_tcp_time_wait_ms: 1500 }, async (x) => {
    const old = clientFlow(natV4, 45050, 4);
    const port = natPortOf(x, old) as number;
    assert.equal(x.run(fin(old)).verdict, 'TX');
    let next: FlowKey | undefined;
    for (let sport = 45051; !next; sport++) {
      const f = clientFlow(natV4, sport, 4);
      if (natPortCandidates(f, 50000, 50002)[0] === port) next = f;
    }
    await sleep(400); // the closing timeout is over; the backend's TIME_WAIT is not
    const during = natPortOf(x, next);
    assert.notEqual(during, port, 'not given away while the backend may still hold it in TIME_WAIT');
    assert.equal(typeof during, 'number');
    // The reserved port still translates the old flow's late packets.
    assert.equal(x.run(reply(old, 0, port, TCP_FLAGS.ACK)).verdict, 'TX');
    await sleep(1700);
    let later: FlowKey | undefined;
    for (let sport = 46051; !later; sport++) {
      const f = clientFlow(natV4, sport, 4);
      if (natPortCandidates(f, 50000, 50002)[0] === port) later = f;
    }
    assert.equal(natPortOf(x, later), port, 'taken over once the reserve is over');
  });

  withObject('several source addresses: each is its own port space, replies to each are translated, the flow remembers its address', { nat_port_min: 50000, nat_port_max: 50001 }, (x) => {
    x.map('xlb_config').update(Buffer.alloc(4), encodeConfig({ ...world.config, natSourceCount: 2 }));
    const second = NAT_SOURCE.v4.replace(/\d+$/, (d) => String(Number(d) + 1));
    const flows = [45060, 45061, 45062, 45063].map((sport) => clientFlow(natV4, sport, 4));
    const taken = new Set<string>();
    for (const f of flows) {
      const want = natCandidates(f, { min: 50000, max: 50001, sources: 2 }).find((c) => !taken.has(`${c.source}:${c.port}`))!;
      const got = natSourceOf(x, f);
      const address = want.source === 0 ? NAT_SOURCE.v4 : second;
      assert.deepEqual(got, { address: want.source === 0 ? NAT_SOURCE.v4 : second, port: want.port }, `flow ${f.sport}`);
      taken.add(`${want.source}:${want.port}`);
      const r = x.run(reply(f, 0, want.port, TCP_FLAGS.SYN | TCP_FLAGS.ACK, want.source === 0 ? NAT_SOURCE.v4 : second));
      assertPacketsEqual(r.data, translated(f, TCP_FLAGS.SYN | TCP_FLAGS.ACK), { message: `reply to flow ${f.sport}` });
      const ct = decodeCtValue(x.ctLookup(f)!);
      assert.equal(ct.natSrcIndex ?? 0, want.source);
      // A later packet keeps its address and port.
      const ack = bytes(tcp({ src: f.src, dst: f.dst, sport: f.sport, dport: f.dport, flags: TCP_FLAGS.ACK, ...FROM_ROUTER }));
      const again = parsePacket(x.run(ack).data);
      assert.deepEqual([findLayer(again, 'ipv4')?.src, findLayer(again, 'tcp')?.sport], [address, want.port]);
    }
    assert.equal(taken.size, 4, 'two addresses × two ports');
    assert.equal(natPortOf(x, clientFlow(natV4, 45064, 4)), 'DROP', 'a fifth flow finds every slot live');
    // An address past the range is not a NAT source: a packet to it passes.
    const third = NAT_SOURCE.v4.replace(/\d+$/, (d) => String(Number(d) + 2));
    assert.equal(x.run(reply(flows[0]!, 0, 50000, TCP_FLAGS.ACK, third)).verdict, 'PASS');
  });
});
