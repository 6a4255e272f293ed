/**
 * A 3-node topology (client — router — server) with IPv4, IPv6, forwarding and an ECMP route
 * over two router–server links; processes in it. The lab is built once in `before` and torn
 * down in `after`, which node:test runs whether the tests pass or fail.
 */
import { afterAll, beforeAll, describe, test } from 'vitest';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { NA_ERR_NETLAB_EXEC_FAILED, NA_ERR_NETLAB_OPTIONS_INVALID, NA_ERR_NETLAB_PROC_EXITED, NA_ERR_NETLAB_READY_TIMEOUT, NA_ERR_NETLAB_UNKNOWN_NODE } from './errors.js';
import { createLab } from './lab.js';
import type { LabSpec } from './spec-types.js';
import { waitFor } from './wait.js';

const VIP4 = '192.0.2.10';
const VIP6 = '2001:db8::10';

const spec: LabSpec = {
  name: 'three-node',
  nodes: {
    client: { routes: [{ to: 'default', via: '10.0.1.1' }, { to: 'default', via: 'fd01::1' }] },
    router: {
      sysctls: { 'net.ipv4.ip_forward': 1, 'net.ipv6.conf.all.forwarding': 1, 'net.ipv4.fib_multipath_hash_policy': 1 },
      routes: [
        { to: `${VIP4}/32`, nexthops: [{ via: '10.0.2.2' }, { via: '10.0.3.2' }] },
        { to: `${VIP6}/128`, nexthops: [{ via: 'fd02::2' }, { via: 'fd03::2' }] },
      ],
    },
    server: {
      addrs: { lo: [`${VIP4}/32`, `${VIP6}/128`] },
      routes: [{ to: 'default', via: '10.0.2.1' }, { to: '::/0', via: 'fd02::1' }],
    },
  },
  links: [
    { a: 'client:eth0', b: 'router:eth0', aAddr: ['10.0.1.2/24', 'fd01::2/64'], bAddr: ['10.0.1.1/24', 'fd01::1/64'] },
    { a: 'router:eth1', b: 'server:eth0', aAddr: ['10.0.2.1/24', 'fd02::1/64'], bAddr: ['10.0.2.2/24', 'fd02::2/64'] },
    { a: 'router:eth2', b: 'server:eth1', aAddr: ['10.0.3.1/24', 'fd03::1/64'], bAddr: ['10.0.3.2/24', 'fd03::2/64'], mtu: 9000 },
  ],
};

const lab = createLab(spec);
beforeAll(() => lab.up());
afterAll(() => lab.down());

describe('three-node topology', () => {
  test('every node has its namespace, loopback up and the spec addresses', async () => {
    for (const node of lab.nodes()) {
      assert.ok(existsSync(lab.nsPath(node)), lab.nsPath(node));
      const lo = (await lab.links(node)).find((l) => l.ifname === 'lo');
      assert.ok(lo?.flags.includes('UP'), `${node}: lo is not up`);
    }
    const addrs = await lab.ipJson<{ ifname: string; addr_info: { local: string; tentative?: boolean }[] }[]>('server', ['address', 'show']);
    const local = addrs.flatMap((i) => i.addr_info.map((a) => `${i.ifname}:${a.local}`));
    for (const want of ['lo:192.0.2.10', 'lo:2001:db8::10', 'eth0:10.0.2.2', 'eth0:fd02::2', 'eth1:10.0.3.2']) assert.ok(local.includes(want), want);
    assert.ok(addrs.every((i) => i.addr_info.every((a) => a.tentative !== true)), 'no address is tentative (DAD is off)');
    assert.equal((await lab.links('server')).find((l) => l.ifname === 'eth1')?.mtu, 9000);
    assert.equal(lab.addr('client', 'eth0'), '10.0.1.2');
    assert.equal(lab.addr('client', 'eth0', 6), 'fd01::2');
  });

  test('the router forwards IPv4 and IPv6 between client and server', async () => {
    const targets = ['10.0.2.2', 'fd02::2', VIP4, VIP6];
    const results = await Promise.all(targets.map((to) => lab.ping('client', to, { count: 2, intervalMs: 20 })));
    results.forEach((r, i) => assert.equal(r.received, 2, `client → ${targets[i]}: ${JSON.stringify(r)}`));
  });

  test('a ping to an address nobody has fails without throwing', async () => {
    const r = await lab.ping('client', '10.0.2.99', { timeoutMs: 200 });
    assert.deepEqual([r.ok, r.sent, r.received], [false, 1, 0]);
    await assert.rejects(lab.ping('client', 'server'), (e: unknown) => NA_ERR_NETLAB_OPTIONS_INVALID.is(e) && /^to: expected an IPv4 or IPv6 address/.test(e.message));
  });

  test('the ECMP routes have two nexthops', async () => {
    const v4 = (await lab.routes('router')).find((r) => r.dst === VIP4);
    assert.deepEqual(v4?.nexthops?.map((n) => [n.gateway, n.dev]), [['10.0.2.2', 'eth1'], ['10.0.3.2', 'eth2']]);
    const v6 = (await lab.routes('router', { family: 6 })).find((r) => r.dst === VIP6);
    assert.deepEqual(v6?.nexthops?.map((n) => [n.gateway, n.dev]), [['fd02::2', 'eth1'], ['fd03::2', 'eth2']]);
    const sysctl = await lab.exec('router', ['sysctl', '-n', 'net.ipv4.fib_multipath_hash_policy']);
    assert.equal(sysctl.stdout.trim(), '1');
  });

  test('interface counters show the traffic of a ping', async () => {
    const before = await lab.counters('server', 'eth0');
    await lab.ping('router', '10.0.2.2', { count: 3, intervalMs: 10 });
    const after = await lab.counters('server', 'eth0');
    assert.ok(after.rx_packets - before.rx_packets >= 3, `rx ${before.rx_packets} → ${after.rx_packets}`);
    assert.ok(after.tx_packets - before.tx_packets >= 3, `tx ${before.tx_packets} → ${after.tx_packets}`);
  });

  test('a spawned server becomes ready on TCP and is reachable from another namespace', async () => {
    const server = await lab.spawn('server', ['python3', '-u', '-m', 'http.server', '--bind', '::', '8080'], {
      name: 'http',
      ready: { tcp: `[${VIP6}]:8080` },
      timeoutMs: 10_000,
    });
    try {
      assert.ok(server.logPath.startsWith(lab.logDir));
      for (const host of [VIP4, `[${VIP6}]`]) {
        const r = await lab.exec('client', ['python3', '-c', `import urllib.request;print(urllib.request.urlopen("http://${host}:8080/").status)`]);
        assert.equal(r.stdout.trim(), '200');
      }
      // the request is in the server's log (stderr of http.server)
      await waitFor(() => server.output().includes('"GET / HTTP/1.1" 200'), { timeoutMs: 2000, what: 'the request in the log' });
      assert.ok(server.tail(5).some((l) => l.includes('GET /')));
    } finally {
      await server.stop();
    }
    assert.equal(server.exited, true);
    assert.equal(server.exitInfo?.signal, 'SIGTERM');
  });

  test('log readiness, then kill() and wait()', async () => {
    const script = 'console.log("booting"); setTimeout(() => console.log("ready on 9000"), 100); setInterval(() => {}, 1000)';
    const p = await lab.spawn('client', [process.execPath, '-e', script], { name: 'node-log', ready: { log: /ready on \d+/ } });
    assert.deepEqual(p.output().trim().split('\n'), ['booting', 'ready on 9000']);
    assert.ok(p.kill('SIGKILL'));
    assert.deepEqual(await p.wait({ timeoutMs: 5000 }), { code: null, signal: 'SIGKILL' });
  });

  test('a readiness timeout stops the process and names the log and its last lines', async () => {
    const script = 'for i in 1 2 3; do echo "line $i"; done; echo "still not listening" >&2; exec sleep 60';
    await assert.rejects(lab.spawn('server', ['sh', '-c', script], { name: 'slow', ready: { tcp: '10.0.2.2:9999' }, timeoutMs: 400 }), (err: unknown) => {
      assert.ok(NA_ERR_NETLAB_READY_TIMEOUT.is(err), String(err));
      assert.match(err.message, /^process slow in node server was not ready \(tcp 10\.0\.2\.2:9999 listening\) within 400 ms/);
      assert.ok(err.message.includes(`${lab.logDir}/slow.log`), err.message);
      assert.match(err.message, /\| line 3\n {2}\| still not listening$/);
      return true;
    });
    const slow = lab.processes().find((p) => p.name === 'slow');
    assert.equal(slow?.exited, true, 'the process was stopped');
  });

  test('a process that exits before it is ready fails at once with its exit and output', async () => {
    const started = performance.now();
    await assert.rejects(lab.spawn('server', ['sh', '-c', 'echo "bind: address in use" >&2; exit 3'], { name: 'crash', ready: { tcp: '10.0.2.2:9998' } }), (err: unknown) => {
      assert.ok(NA_ERR_NETLAB_PROC_EXITED.is(err), String(err));
      assert.match(err.message, /exited \(code 3\) before it was ready/);
      assert.match(err.message, /\| bind: address in use$/);
      return true;
    });
    assert.ok(performance.now() - started < 5000);
  });

  test('exec reports failures with the exit code and stderr, or returns them with check: false', async () => {
    await assert.rejects(lab.exec('client', ['sh', '-c', 'echo oops >&2; exit 4']), (err: unknown) => {
      assert.ok(NA_ERR_NETLAB_EXEC_FAILED.is(err));
      assert.match(err.message, /in node client exited with code 4; stderr: oops$/);
      return true;
    });
    const r = await lab.exec('client', ['sh', '-c', 'cat; exit 4'], { check: false, input: 'hello' });
    assert.deepEqual([r.code, r.stdout], [4, 'hello']);
    assert.throws(() => lab.ns('nobody'), (e: unknown) => NA_ERR_NETLAB_UNKNOWN_NODE.is(e));
  });

  test("sysfs: 'namespace' shows the node's interfaces, 'host' keeps the host's /sys", async () => {
    const own = await lab.exec('server', ['ls', '/sys/class/net']);
    assert.deepEqual(own.stdout.trim().split('\n').sort(), ['eth0', 'eth1', 'lo']);
    const host = await lab.exec('server', ['sh', '-c', 'ip -o link show | wc -l; ls /sys/class/net'], { sysfs: 'host' });
    const [ipLinks, ...sysLinks] = host.stdout.trim().split('\n');
    assert.equal(ipLinks, '3', 'still inside the namespace for networking');
    assert.deepEqual(sysLinks.sort(), readdirSync('/sys/class/net').sort(), "the host's /sys, as this process sees it");
  });
});
