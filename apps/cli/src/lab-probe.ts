/**
 * Whether each daemon of a kept lab is up and ready, for `netaccel lab status`: each daemon's
 * telemetry server (`/readyz`, `/v1/status`) listens on the loopback of its node's namespace,
 * so one short Node process per node asks them from inside it (`ip netns exec`). The address is
 * the daemon's configuration beside its socket (`<dir>/<daemon>.yaml`, JSON, `telemetry.listen`).
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export interface ProbeTarget {
  daemon: string;
  /** `127.0.0.1:9465`, or undefined when the configuration does not say. */
  listen: string | undefined;
}

/** What `/readyz` and `/v1/status` said; `down` when nothing answered. */
export interface DaemonState {
  daemon: string;
  state: 'ready' | 'not ready' | 'down' | 'unknown';
  /** The failing readiness checks, why it is down, or why its state is unknown (the probe failed). */
  detail: string;
  /** A reload refused since the last one accepted (lb-controller's `/v1/status`, `lastRefused`). */
  lastRefused?: { at: string; error: string };
}

const TIMEOUT_MS = 1500; // per request, inside the namespace
// The whole probe of a node: a Node process started inside the namespace, then two requests per
// daemon (in parallel across daemons). Starting Node takes seconds on a loaded 2-CPU machine:
// 4.5 s here made `lab status` call every daemon of a busy lab down.
const PROCESS_TIMEOUT_MS = 20_000;

// Run by `node -e` inside the namespace: argv[1] is the JSON list of targets; prints the states.
const SCRIPT = `
const targets = JSON.parse(process.argv[1]);
const get = async (url) => { const r = await fetch(url, { signal: AbortSignal.timeout(${TIMEOUT_MS}) }); return { code: r.status, body: await r.json().catch(() => ({})) }; };
Promise.all(targets.map(async (t) => {
  if (!t.listen) return { daemon: t.daemon, state: 'down', detail: 'no telemetry address in its configuration' };
  try {
    const ready = await get('http://' + t.listen + '/readyz');
    const status = await get('http://' + t.listen + '/v1/status').catch(() => ({ body: {} }));
    const failing = (ready.body.failing ?? []).map((f) => f.name ?? String(f)).join(', ');
    const out = { daemon: t.daemon, state: ready.code === 200 ? 'ready' : 'not ready', detail: ready.code === 200 ? '' : failing };
    if (status.body && status.body.lastRefused) out.lastRefused = status.body.lastRefused;
    return out;
  } catch (e) {
    return { daemon: t.daemon, state: 'down', detail: 'nothing answers on ' + t.listen };
  }
})).then((r) => process.stdout.write(JSON.stringify(r)));
`;

/** The telemetry address in a daemon's configuration beside its socket, if any. */
export function telemetryAddress(socket: string, daemon: string): string | undefined {
  const file = join(dirname(socket), `${daemon}.yaml`);
  if (!existsSync(file)) return undefined;
  try {
    const listen = (JSON.parse(readFileSync(file, 'utf8')) as { telemetry?: { listen?: unknown } }).telemetry?.listen;
    return typeof listen === 'string' ? listen : undefined;
  } catch {
    return undefined;
  }
}

/** Asks each target's `/readyz` and `/v1/status` from inside namespace `ns` (here when undefined). */
export function probeDaemons(ns: string | undefined, targets: readonly ProbeTarget[]): Promise<DaemonState[]> {
  const [cmd, args] = ns === undefined ? [process.execPath, ['-e', SCRIPT, JSON.stringify(targets)]] : ['ip', ['netns', 'exec', ns, process.execPath, '-e', SCRIPT, JSON.stringify(targets)]];
  return new Promise((resolve) => {
    execFile(cmd, args, { encoding: 'utf8', timeout: PROCESS_TIMEOUT_MS }, (err, stdout, stderr) => {
      if (err !== null) {
        // Not "down": nobody could ask. Say why (the command line would only repeat the script).
        const why = err.killed ? `no answer within ${PROCESS_TIMEOUT_MS / 1000} s` : (stderr.trim().split('\n')[0] || `exit code ${String(err.code)}`);
        resolve(targets.map((t) => ({ daemon: t.daemon, state: 'unknown', detail: `could not look inside ${ns ?? 'this namespace'}: ${why}` })));
        return;
      }
      resolve(JSON.parse(stdout) as DaemonState[]);
    });
  });
}

/** One line per daemon: `lb1  lb-controller  ready`, the failing checks, or the refused reload. */
export function stateText(node: string, s: DaemonState): string {
  // The refusal on the daemon's line, all of it: its first line only names the file, the next ones say what is wrong.
  const refused = s.lastRefused === undefined ? '' : `; last reload refused at ${s.lastRefused.at}: ${s.lastRefused.error.split('\n').map((l) => l.trim()).filter((l) => l !== '').join(' ')}`;
  return `${node.padEnd(6)} ${s.daemon.padEnd(14)} ${s.state}${s.detail !== '' ? ` (${s.detail})` : ''}${refused}`;
}
