/**
 * The README's walk-through of the kept lab, run as printed: the `sh` block under
 * "### Walk-through: the kept lab" is read from README.md and its lines run one after the other
 * in one bash (so `eval "$(netaccel lab env lb1)"` carries to the next lines), a second apart as
 * a person types them, with `netaccel` on PATH as scripts/setup.sh puts it (a link to this
 * checkout's apps/cli/dist/main.js). One line is changed: `make lab ARGS=--keep` becomes
 * `netaccel lab --keep --quick`, because make runs the whole set-up first (packages, npm ci, the
 * build, which `make test` has just done) and the full 70 s scenario; what it runs after them is
 * `netaccel lab --keep`. Each line must exit 0 and print what the README says it shows.
 */
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { listNetns } from '@netaccel/netlab';

const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..');
const CLI = join(ROOT, 'apps', 'cli', 'dist', 'main.js');
const HEADING = '### Walk-through: the kept lab';
const MAKE_LAB = 'make lab ARGS=--keep';

/** The walk-through's lines, as printed in README.md. */
function walkthrough(): string[] {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const at = readme.indexOf(`\n${HEADING}\n`);
  assert.ok(at >= 0, `README.md has no "${HEADING}" section`);
  const start = readme.indexOf('```sh\n', at);
  assert.ok(start >= 0, `no sh block under "${HEADING}"`);
  const end = readme.indexOf('\n```', start + 6);
  return readme.slice(start + 6, end).split('\n').filter((l) => l.trim() !== '');
}

/** A line without its trailing `# comment` (none of the commands has a # of its own). */
const command = (line: string): string => line.replace(/\s+#\s.*$/, '').trim();

const servicesListed = (out: string): void => {
  assert.match(out, /^10\.1\.1\.1:80\/tcp\s+web\s+l2dsr\s.*\syes$/m);
  assert.match(out, /^10\.1\.2\.1:80\/tcp\s+api\s+l2dsr\s.*\syes$/m);
};

const servicesWithoutRefusal = (out: string): void => {
  servicesListed(out);
  assert.doesNotMatch(out, /refused/);
};

/** What each line must show, in the README's order. */
const EXPECTED: { cmd: string; check: (out: string) => void }[] = [
  { cmd: MAKE_LAB, check: (out) => assert.match(out, /the lab keeps running \(run \w+\)\. Look around:/) },
  {
    cmd: 'netaccel lab status',
    check: (out) => {
      for (const lb of ['lb1', 'lb2', 'lb3']) for (const d of ['ebpf-loader', 'bgp-announcer', 'lb-controller']) assert.match(out, new RegExp(`^${lb}\\s+${d}\\s+ready$`, 'm'));
      assert.match(out, /^10\.1\.1\.1 .*\n(\s+nexthop via 10\.0\.0\.1[123] .*\n){3}/m);
    },
  },
  { cmd: 'eval "$(netaccel lab env lb1)"', check: (out) => assert.equal(out, '') },
  { cmd: 'netaccel lb services', check: servicesWithoutRefusal },
  { cmd: 'netaccel bgp peers', check: (out) => assert.match(out, /^10\.0\.0\.2\s+65000\s+established\s/m) },
  { cmd: 'cp "$NETACCEL_LAB_NODE_DIR/services.yaml" /tmp/services.good', check: (out) => assert.equal(out, '') },
  { cmd: ': > "$NETACCEL_LAB_NODE_DIR/services.yaml"', check: (out) => assert.equal(out, '') },
  {
    cmd: 'netaccel lb services',
    check: (out) => {
      servicesListed(out);
      assert.match(out, /^refused: the last desired state from \/\S+\/lb1\/services\.yaml \(.+\) was refused; these services are the state before it \[NA_ERR_LB_STATE_INVALID\]$/m);
      assert.match(out, /the text is empty \(a truncated write\?\); to remove every service, write `services: \[\]`/);
    },
  },
  { cmd: 'netaccel lab status', check: (out) => assert.match(out, /^lb1\s+lb-controller\s+ready; last reload refused at \S+: desired state refused \(\S+\): the text is empty \(a truncated write\?\)/m) },
  {
    cmd: `ip netns exec "$NETACCEL_LAB_NETNS" curl -s http://127.0.0.1:9464/metrics | grep -E '^netaccel_lb_(states_refused|vip_packets)_total'`,
    check: (out) => {
      assert.match(out, /^netaccel_lb_states_refused_total 1$/m);
      assert.match(out, /^netaccel_lb_vip_packets_total\{service="10\.1\.1\.1:80\/tcp"\} [1-9]\d*$/m);
      assert.match(out, /^netaccel_lb_vip_packets_total\{service="10\.1\.2\.1:80\/tcp"\} [1-9]\d*$/m);
    },
  },
  { cmd: 'cp /tmp/services.good "$NETACCEL_LAB_NODE_DIR/services.yaml"', check: (out) => assert.equal(out, '') },
  { cmd: 'netaccel lb services', check: servicesWithoutRefusal },
  { cmd: 'netaccel lab down', check: (out) => assert.match(out, /^removed the lab \(run \w+\)$/m) },
];

const labNamespaces = (): string[] => listNetns().filter((n) => n.startsWith('nxlab-'));

test("the README's walk-through of the kept lab runs as printed", async (t) => {
  assert.ok(existsSync(CLI), `${CLI} is missing: build first (make test does)`);
  const lines = walkthrough();
  assert.deepEqual(lines.map(command), EXPECTED.map((e) => e.cmd), 'the walk-through and this test list the same commands');

  // `netaccel` on PATH as set-up puts it: a link to this checkout's build.
  const bin = mkdtempSync(join(tmpdir(), 'walkthrough-bin-'));
  symlinkSync(CLI, join(bin, 'netaccel'));
  t.onTestFinished(async () => {
    if (labNamespaces().length > 0) await promisify(execFile)(process.execPath, [CLI, 'lab', 'down'], { timeout: 120_000 }).catch(() => undefined);
    rmSync(bin, { recursive: true, force: true });
    rmSync('/tmp/services.good', { force: true });
  });

  const script = ['exec 2>&1', ...lines.flatMap((line, i) => [
    `echo "@@@ begin ${i}"`,
    line.startsWith(MAKE_LAB) ? `netaccel lab --keep --quick${line.slice(MAKE_LAB.length)}` : line,
    `echo "@@@ end ${i} rc=$?"`,
    'sleep 1',
  ])].join('\n');
  const run = await promisify(execFile)('bash', ['-c', script], {
    cwd: ROOT,
    env: { ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}` },
    timeout: 600_000,
    maxBuffer: 64 << 20,
  }).catch((err: { stdout?: string; message: string }) => ({ stdout: err.stdout ?? err.message }));

  for (const [i, e] of EXPECTED.entries()) {
    const m = new RegExp(`@@@ begin ${i}\\n([\\s\\S]*?)@@@ end ${i} rc=(\\d+)\\n`).exec(run.stdout);
    assert.ok(m !== null, `line ${i + 1} (${e.cmd}) did not finish:\n${run.stdout.slice(-3000)}`);
    const out = m[1]!.trimEnd();
    assert.equal(m[2], '0', `line ${i + 1} (${e.cmd}) failed:\n${out.slice(-3000)}`);
    try {
      e.check(out);
    } catch (err) {
      throw new Error(`line ${i + 1} (${e.cmd}) printed:\n${out.slice(-3000)}\n${(err as Error).message}`);
    }
  }
  assert.deepEqual(labNamespaces(), [], 'lab down left no namespace');
});
