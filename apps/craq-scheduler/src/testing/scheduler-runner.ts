/**
 * A craq-scheduler PROCESS for the kill -9 and partition tests: the daemon from a configuration
 * file, its chain nodes served by the test's process (remote-nodes.ts), every timer on. It
 * prints JSON lines: `{"ready":…}` once started, and every change of whether it acts
 * (`{"active":true|false,"at":ms,"since":ms}`: seen at `at`, not yet at `since`, both Date.now()
 * of the poll every 5 ms), with its replica's view and leader.
 *
 *   node --import tsx scheduler-runner.ts <config.yaml> <nodes.sock>
 */
import { ConfigStore } from '@netaccel/config';
import { DaemonHost } from '@netaccel/daemon';
import { createLogger } from '@netaccel/telemetry';
import { craqSchedulerConfig } from '../config.js';
import { CraqDaemon, VERSION } from '../daemon.js';
import { RemoteNode } from './remote-nodes.js';

const [file, nodesSocket] = process.argv.slice(2);
if (file === undefined || nodesSocket === undefined) {
  process.stderr.write('usage: scheduler-runner <config.yaml> <nodes.sock>\n');
  process.exit(2);
}
const out = (o: object): void => void process.stdout.write(`${JSON.stringify({ at: Date.now(), ...o })}\n`);

const store = await ConfigStore.open(craqSchedulerConfig, { file, env: {} });
const log = createLogger({ name: 'craq-scheduler', level: 'info', destination: process.stderr });
const host = new DaemonHost({ name: 'craq-scheduler', version: VERSION, store, log, env: {} });
const daemon = await host.start((h) => CraqDaemon.start(h, { dataPlanes: (c) => c.chain.nodes.map((n) => new RemoteNode(nodesSocket, n.name, { address: n.address, port: n.port })), timers: true }));
out({ ready: true, self: host.config.membership.paxos.self, pid: process.pid });

let active = false;
let since = Date.now();
const poll = setInterval(() => {
  const now = daemon.active;
  const at = Date.now();
  if (now !== active) {
    active = now;
    let paxos: object = {};
    try {
      const s = daemon.store!.status();
      paxos = { view: s.view, leader: s.leader };
    } catch {
      // closed
    }
    out({ active, at, since, ...paxos, placed: daemon.placer.entries.size, epoch: String(daemon.placer.epoch) });
  }
  since = at;
}, 5);

const stop = (): void => {
  clearInterval(poll);
  void host.close().then(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
