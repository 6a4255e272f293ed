/**
 * The systemd units of the three daemons (apps/<app>/<app>.service): systemd's own checks
 * (verify, its capability table and system-call groups, the offline security review) and the
 * sandbox packaging/README.md describes. Slow layer (*.slow.test.ts): needs systemd-analyze (systemd 252), no
 * root, no running systemd. That the units really run is packaging/systemd.ns.test.ts.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, test } from 'vitest';
import { fileURLToPath } from 'node:url';
import { allowedSyscalls, checkUnits, knownCapabilities, security, stageUnits, syscalls, verify, withinThreshold } from './testing/systemd-analyze.js';
import { parseUnit, value, values, words } from './testing/unit-file.js';
import type { UnitFile } from './testing/unit-file.js';

const root = resolve(fileURLToPath(import.meta.url), '..', '..');
const DAEMONS = ['ebpf-loader', 'lb-controller', 'bgp-announcer', 'craq-scheduler', 'sidecar-offload'] as const;
type Daemon = (typeof DAEMONS)[number];
const CLIENTS = ['lb-controller', 'bgp-announcer', 'craq-scheduler', 'sidecar-offload'] as const;

const text = (d: Daemon): string => readFileSync(join(root, 'apps', d, `${d}.service`), 'utf8');
const units = Object.fromEntries(DAEMONS.map((d) => [d, parseUnit(text(d), `${d}.service`)])) as Record<Daemon, UnitFile>;
const svc = (d: Daemon, key: string): string | undefined => value(units[d], 'Service', key);

/** Capabilities each daemon needs (packaging/README.md says why): bounding set = ambient set. */
const CAPS: Record<Daemon, string[]> = {
  'ebpf-loader': ['CAP_BPF', 'CAP_NET_ADMIN', 'CAP_PERFMON', 'CAP_SYS_ADMIN'],
  'lb-controller': [],
  'bgp-announcer': ['CAP_NET_BIND_SERVICE'],
  'craq-scheduler': [],
  'sidecar-offload': [],
};

/** `systemd-analyze security --offline=yes` exposure measured for each unit; a unit may not get worse. */
const EXPOSURE: Record<Daemon, number> = { 'ebpf-loader': 2.5, 'lb-controller': 1.1, 'bgp-announcer': 1.4, 'craq-scheduler': 1.1, 'sidecar-offload': 1.1 };

/** Hardening every unit has, as written in the [Service] section. */
const COMMON: Record<string, string> = {
  Type: 'notify',
  NotifyAccess: 'main',
  Restart: 'on-failure',
  Group: 'netaccel',
  UMask: '0077',
  RuntimeDirectory: 'netaccel',
  RuntimeDirectoryMode: '0770',
  RuntimeDirectoryPreserve: 'yes',
  NoNewPrivileges: 'yes',
  ProtectSystem: 'strict',
  ProtectHome: 'yes',
  PrivateTmp: 'yes',
  PrivateMounts: 'yes',
  PrivateDevices: 'yes',
  PrivateIPC: 'yes',
  ProtectKernelModules: 'yes',
  ProtectKernelLogs: 'yes',
  ProtectControlGroups: 'yes',
  ProtectClock: 'yes',
  ProtectHostname: 'yes',
  ProtectProc: 'invisible',
  RestrictNamespaces: 'yes',
  RestrictRealtime: 'yes',
  RestrictSUIDSGID: 'yes',
  LockPersonality: 'yes',
  MemoryDenyWriteExecute: 'no', // V8's JIT
  SystemCallArchitectures: 'native',
  SystemCallErrorNumber: 'EPERM',
  DevicePolicy: 'closed',
};

const work = mkdtempSync(join(tmpdir(), 'netaccel-units-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** The three units as verify needs them: ExecStart= pointing at programs that exist (they exit 0). */
function staged(dir: string, edit: (d: Daemon, t: string) => string = (_d, t) => t): string[] {
  const bin = join(work, 'bin');
  return stageUnits(
    join(work, dir),
    DAEMONS.map((d) => ({ name: `${d}.service`, text: edit(d, text(d)) })),
    { from: '/usr/bin/', to: `${bin}/` },
    DAEMONS.map((d) => join(bin, `netaccel-${d}`)),
  );
}

describe('systemd-analyze verify', () => {
  test('accepts the three units without a word', () => {
    assert.deepEqual(checkUnits(staged('ok')), []);
  });

  test('rejects a unit with a misspelled directive, an unknown capability, group or family, or a missing program', () => {
    const cases: [string, RegExp, string, RegExp][] = [
      ['typo', /^ProtectSystem=strict$/m, 'ProtectSytem=strict', /Unknown key 'ProtectSytem'/],
      ['cap', /^CapabilityBoundingSet=CAP_BPF /m, 'CapabilityBoundingSet=CAP_BPFF ', /CAP_BPFF is not a capability systemd knows/],
      ['group', /^SystemCallFilter=@system-service /m, 'SystemCallFilter=@system-servic ', /Unknown system call group.*@system-servic/],
      ['family', /^RestrictAddressFamilies=.*$/m, 'RestrictAddressFamilies=AF_UNIX AF_NETLNK', /Failed to parse address family.*AF_NETLNK/],
      ['program', /^ExecStart=\/usr\/bin\/netaccel-ebpf-loader /m, 'ExecStart=/usr/bin/netaccel-no-such-loader ', /not executable/],
    ];
    for (const [dir, line, replacement, expected] of cases) {
      const files = staged(dir, (d, t) => {
        if (d !== 'ebpf-loader') return t;
        const edited = t.replace(line, replacement);
        assert.notEqual(edited, t, `${dir}: the edit changed nothing`);
        return edited;
      });
      const problems = checkUnits(files.filter((f) => f.endsWith('ebpf-loader.service')));
      assert.ok(problems.some((p) => expected.test(p)), `${dir}: expected a problem matching ${expected}, got ${JSON.stringify(problems)}`);
    }
  });

  test('says nothing about an unknown capability, which is why checkUnits looks them up', () => {
    const files = staged('cap-only', (d, t) => (d === 'bgp-announcer' ? t.replaceAll(/^(CapabilityBoundingSet|AmbientCapabilities)=CAP_NET_BIND_SERVICE$/gm, '$1=CAP_NET_BIND_SERVIC') : t));
    assert.deepEqual(verify(files), []);
    assert.equal(checkUnits(files).length, 2); // bounding and ambient sets
  });
});

describe('capabilities', () => {
  const known = knownCapabilities();
  for (const d of DAEMONS) {
    test(`${d}: bounding set = ambient set = ${CAPS[d].join(' ') || 'none'}`, () => {
      const bounding = words(units[d], 'Service', 'CapabilityBoundingSet');
      const ambient = words(units[d], 'Service', 'AmbientCapabilities');
      assert.deepEqual([...bounding].sort(), CAPS[d]);
      assert.deepEqual([...ambient].sort(), CAPS[d]);
      // Written as an assignment even when empty: an absent line would mean "every capability".
      assert.ok(values(units[d], 'Service', 'CapabilityBoundingSet').length > 0);
      for (const c of bounding) assert.ok(known.has(c), c);
    });
  }

  test("systemd's security review reads the same sets", () => {
    const holds = (d: Daemon, check: string): boolean | null | undefined => security(join(root, 'apps', d, `${d}.service`)).checks.find((c) => c.name === check)?.set;
    // set: false means the unit keeps what the check is about.
    assert.equal(holds('ebpf-loader', 'CapabilityBoundingSet=~CAP_SYS_ADMIN'), false);
    assert.equal(holds('ebpf-loader', 'CapabilityBoundingSet=~CAP_BPF'), false);
    assert.equal(holds('ebpf-loader', 'CapabilityBoundingSet=~CAP_NET_ADMIN'), false);
    assert.equal(holds('ebpf-loader', 'CapabilityBoundingSet=~CAP_NET_(BIND_SERVICE|BROADCAST|RAW)'), true);
    assert.equal(holds('bgp-announcer', 'CapabilityBoundingSet=~CAP_NET_(BIND_SERVICE|BROADCAST|RAW)'), false);
    for (const d of CLIENTS) {
      for (const check of ['CapabilityBoundingSet=~CAP_SYS_ADMIN', 'CapabilityBoundingSet=~CAP_BPF', 'CapabilityBoundingSet=~CAP_NET_ADMIN']) {
        assert.equal(holds(d, check), true, `${d} ${check}`);
      }
    }
    assert.equal(holds('lb-controller', 'CapabilityBoundingSet=~CAP_NET_(BIND_SERVICE|BROADCAST|RAW)'), true);
  });
});

describe('sandbox', () => {
  for (const d of DAEMONS) {
    test(`${d}: the hardening every unit has`, () => {
      for (const [key, want] of Object.entries(COMMON)) assert.equal(svc(d, key), want, `${d}: ${key}`);
      assert.equal(value(units[d], 'Install', 'WantedBy'), 'multi-user.target');
      assert.equal(value(units[d], 'Install', 'Alias'), `netaccel-${d}.service`);
      assert.match(svc(d, 'ExecStart') ?? '', new RegExp(`^/usr/bin/netaccel-${d} --config /etc/netaccel/${d}\\.yaml$`));
    });
  }

  test('ebpf-loader: root with a writable bpffs, its state directory, netlink, unlimited memlock', () => {
    const u = units['ebpf-loader'];
    assert.equal(svc('ebpf-loader', 'User'), undefined); // root: bpffs belongs to root
    assert.deepEqual(words(u, 'Service', 'ReadWritePaths'), ['/sys/fs/bpf']);
    // ProtectKernelTunables=yes would make /sys/fs/bpf read-only: its paths are listed instead.
    assert.equal(svc('ebpf-loader', 'ProtectKernelTunables'), 'no');
    const ro = words(u, 'Service', 'ReadOnlyPaths');
    for (const p of ['/sys', '/proc/sys', '-/proc/sysrq-trigger', '-/proc/irq', '-/proc/fs']) assert.ok(ro.includes(p), `ReadOnlyPaths lacks ${p}`);
    assert.deepEqual(words(u, 'Service', 'InaccessiblePaths'), ['-/proc/kallsyms', '-/proc/kcore']);
    assert.equal(svc('ebpf-loader', 'StateDirectory'), 'netaccel/loader');
    assert.equal(svc('ebpf-loader', 'StateDirectoryMode'), '0700');
    assert.equal(svc('ebpf-loader', 'LimitMEMLOCK'), 'infinity');
    assert.deepEqual(words(u, 'Service', 'RestrictAddressFamilies'), ['AF_UNIX', 'AF_INET', 'AF_INET6', 'AF_NETLINK']);
    assert.deepEqual(words(u, 'Unit', 'Wants'), ['sys-fs-bpf.mount']);
    assert.ok(words(u, 'Unit', 'After').includes('sys-fs-bpf.mount'));
  });

  for (const d of CLIENTS) {
    test(`${d}: the netaccel user, kernel tunables protected, no netlink`, () => {
      assert.equal(svc(d, 'User'), 'netaccel');
      assert.equal(svc(d, 'ProtectKernelTunables'), 'yes');
      assert.equal(svc(d, 'RemoveIPC'), 'yes');
      assert.deepEqual(words(units[d], 'Service', 'RestrictAddressFamilies'), ['AF_UNIX', 'AF_INET', 'AF_INET6']);
      assert.deepEqual(words(units[d], 'Service', 'ReadWritePaths'), []);
    });
  }

  test('lb-controller runs in its own user namespace; bgp-announcer cannot (CAP_NET_BIND_SERVICE must hold in the host namespace)', () => {
    assert.equal(svc('lb-controller', 'PrivateUsers'), 'yes');
    assert.equal(svc('bgp-announcer', 'PrivateUsers'), undefined);
  });

  test('bgp-announcer reloads with SIGHUP', () => {
    assert.equal(svc('bgp-announcer', 'ExecReload'), '/bin/kill -HUP $MAINPID');
  });
});

describe('ordering', () => {
  test('lb-controller starts after ebpf-loader and bgp-announcer and pulls both in', () => {
    const u = units['lb-controller'];
    const after = words(u, 'Unit', 'After');
    const pulls = [...words(u, 'Unit', 'Wants'), ...words(u, 'Unit', 'Requires')];
    for (const dep of ['ebpf-loader.service', 'bgp-announcer.service']) {
      assert.ok(after.includes(dep), `After= lacks ${dep}`);
      assert.ok(pulls.includes(dep), `Wants=/Requires= lack ${dep}`);
    }
  });

  test('neither ebpf-loader nor bgp-announcer waits for another daemon (no cycle)', () => {
    for (const d of ['ebpf-loader', 'bgp-announcer'] as const) {
      const deps = [...words(units[d], 'Unit', 'After'), ...words(units[d], 'Unit', 'Wants'), ...words(units[d], 'Unit', 'Requires')];
      for (const other of DAEMONS) assert.ok(!deps.includes(`${other}.service`), `${d} depends on ${other}`);
    }
  });
});

describe('system calls', () => {
  const system = syscalls('@system-service');

  test('@system-service lacks bpf, which is why only the loader adds it', () => {
    assert.ok(system.size > 300);
    assert.ok(!system.has('bpf'));
    assert.ok(syscalls('@privileged').has('bpf'));
  });

  for (const d of DAEMONS) {
    test(`${d}: the filter allows V8's memory protection keys${d === 'ebpf-loader' ? ' and bpf' : ', nothing privileged'}`, () => {
      const allowed = allowedSyscalls(values(units[d], 'Service', 'SystemCallFilter'));
      assert.ok(allowed.size > 300, `${d}: ${allowed.size} system calls`);
      assert.equal(allowed.has('bpf'), d === 'ebpf-loader');
      // V8 write-protects its JIT code with pkeys (seen in strace of the daemons): @pkey.
      for (const s of ['pkey_alloc', 'pkey_mprotect', 'pkey_free']) assert.ok(allowed.has(s), `${d}: ${s}`);
      // @resources is denied everywhere; @mount, @module, @reboot, @swap never allowed.
      for (const s of ['setrlimit', 'sched_setscheduler', 'mount', 'init_module', 'reboot', 'swapon']) assert.ok(!allowed.has(s), `${d}: ${s} allowed`);
      if (d !== 'ebpf-loader') {
        for (const s of syscalls('@privileged')) assert.ok(!allowed.has(s), `${d}: ${s} allowed`);
      }
    });
  }
});

describe('systemd-analyze security --offline=yes', () => {
  for (const d of DAEMONS) {
    test(`${d}: exposure at most ${EXPOSURE[d]} (measured)`, () => {
      const file = join(root, 'apps', d, `${d}.service`);
      const review = security(file);
      assert.ok(review.exposure <= EXPOSURE[d], `${d}: exposure ${review.exposure} > ${EXPOSURE[d]}`);
      assert.ok(withinThreshold(file, EXPOSURE[d]));
    });
  }

  test('a unit stripped of its sandbox scores worse and fails the threshold', () => {
    const keep = /^(\[|#|$|Description|Documentation|After|Wants|Type|ExecStart|Restart|Group|WantedBy|Alias|StartLimit)/;
    const bare = text('ebpf-loader').split('\n').filter((l) => keep.test(l)).join('\n');
    const [file] = stageUnits(join(work, 'bare'), [{ name: 'ebpf-loader.service', text: bare }]);
    const review = security(file!);
    assert.ok(review.exposure > 9, `bare unit: exposure ${review.exposure}`);
    assert.equal(withinThreshold(file!, EXPOSURE['ebpf-loader']), false);
  });
});
