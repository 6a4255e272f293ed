/**
 * Where `netaccel lab` finds what it starts: the built daemons and the BPF objects, in the
 * repository (a checkout) or the installed tree (/usr/lib/netaccel), which have the same layout.
 * The scenario (@netaccel/labs) takes them as an option.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CraqInstall, SidecarInstall, ThesisInstall } from '@netaccel/labs';

/** The repository (a checkout) or the installed tree (/usr/lib/netaccel): same layout. */
export const INSTALL_ROOT = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..', '..', '..');

export const DAEMON_MAINS = {
  'ebpf-loader': join(INSTALL_ROOT, 'apps', 'ebpf-loader', 'dist', 'main.js'),
  'bgp-announcer': join(INSTALL_ROOT, 'apps', 'bgp-announcer', 'dist', 'main.js'),
  'lb-controller': join(INSTALL_ROOT, 'apps', 'lb-controller', 'dist', 'main.js'),
} as const;

/** BPF objects: the checkout's bpf/build, else the installed ones. */
export function objectDir(): string {
  const build = join(INSTALL_ROOT, 'bpf', 'build');
  return existsSync(join(build, 'xlb', 'xlb.bpf.o')) ? build : join(INSTALL_ROOT, 'bpf');
}

export const labInstall = (): ThesisInstall => ({ daemons: DAEMON_MAINS, objectDir: objectDir() });

/** What the CRAQ scenario runs: a loader per chain node, the craq-scheduler, bpf/craq's object. */
export const craqInstall = (): CraqInstall => ({
  loaderMain: DAEMON_MAINS['ebpf-loader'],
  schedulerMain: join(INSTALL_ROOT, 'apps', 'craq-scheduler', 'dist', 'main.js'),
  craqObject: join(objectDir(), 'craq', 'craq.bpf.o'),
  selftestObject: join(objectDir(), 'selftest', 'selftest.bpf.o'),
});

/** What the sidecar scenario runs: sidecar-offload, bpf/sidecar's object for its kernel path. */
export const sidecarInstall = (): SidecarInstall => ({
  sidecarMain: join(INSTALL_ROOT, 'apps', 'sidecar-offload', 'dist', 'main.js'),
  sidecarObject: join(objectDir(), 'sidecar', 'sidecar.bpf.o'),
});
