/**
 * The loader's core, without gRPC: opens (checks the pin root is on bpffs, reads the state file,
 * adopts what is pinned, holds run-time statistics on), and then loads, attaches, detaches and
 * unloads. Every call is synchronous — libbpf and the state file are written without an await in
 * between — so two requests can never interleave half-way through a change.
 *
 * `close()` closes descriptors and nothing else: programs stay loaded and attached.
 */
import { mkdirSync, readFileSync, statfsSync } from 'node:fs';
import { BPFFS_DEFAULT, ensureBpffs, enableRunTimeStats, isBpffsMounted } from '@netaccel/bpf';
import type { RunTimeStats } from '@netaccel/bpf';
import type { Logger } from '@netaccel/telemetry';
import { adopt } from './adopt.js';
import type { AdoptReport } from './adopt.js';
import { attach } from './attach.js';
import type { AttachRequest, AttachResult } from './attach.js';
import { detach } from './detach.js';
import { NA_ERR_LOADER_PIN_ROOT } from './errors.js';
import { loadObject, unloadObject } from './objects.js';
import type { LoadRequest, LoadResult } from './objects.js';
import { Registry } from './registry.js';
import { StateStore } from './state.js';
import type { AttachmentRecord } from './state.js';

const BPF_FS_MAGIC = 0xcafe4a11;

export interface LoaderOptions {
  readonly objectDir: string;
  readonly pinRoot: string;
  readonly stateDir: string;
  /** Hold BPF_ENABLE_STATS while running. */
  readonly statsRunTime: boolean;
  readonly log: Logger;
}

function checkPinRoot(pinRoot: string): void {
  if ((pinRoot === BPFFS_DEFAULT || pinRoot.startsWith(`${BPFFS_DEFAULT}/`)) && !isBpffsMounted(BPFFS_DEFAULT)) ensureBpffs(BPFFS_DEFAULT);
  try {
    mkdirSync(pinRoot, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw NA_ERR_LOADER_PIN_ROOT.with({ cause: err }, pinRoot, `cannot be created: ${(err as Error).message}`);
  }
  if (statfsSync(pinRoot).type !== BPF_FS_MAGIC) throw NA_ERR_LOADER_PIN_ROOT(pinRoot, 'is not on a bpf file system (mount -t bpf bpf /sys/fs/bpf)');
}

/** kernel.bpf_stats_enabled: 1 while anyone holds BPF_ENABLE_STATS or the sysctl is set. */
export function kernelStatsEnabled(): boolean {
  try {
    return readFileSync('/proc/sys/kernel/bpf_stats_enabled', 'utf8').trim() === '1';
  } catch {
    return false;
  }
}

export class Loader {
  readonly reg: Registry;
  readonly options: LoaderOptions;
  readonly report: AdoptReport;
  readonly #stats: RunTimeStats | undefined;

  private constructor(reg: Registry, options: LoaderOptions, report: AdoptReport, stats: RunTimeStats | undefined) {
    this.reg = reg;
    this.options = options;
    this.report = report;
    this.#stats = stats;
  }

  /** Checks the pin root, adopts what the state file and bpffs hold, turns statistics on. */
  static open(options: LoaderOptions): Loader {
    checkPinRoot(options.pinRoot);
    const store = new StateStore(options.stateDir);
    const state = store.load();
    const reg = new Registry(store, options.pinRoot, options.log);
    const report = adopt(reg, state);
    let stats: RunTimeStats | undefined;
    if (options.statsRunTime) {
      try {
        stats = enableRunTimeStats();
      } catch (err) {
        options.log.warn({ err }, 'cannot enable BPF run-time statistics; run counts stay zero');
      }
    }
    return new Loader(reg, options, report, stats);
  }

  get statsEnabled(): boolean {
    return this.#stats !== undefined || kernelStatsEnabled();
  }

  load(req: LoadRequest): LoadResult {
    return loadObject(this.reg, this.options.objectDir, req);
  }

  unload(objectId: string, force: boolean): string[] {
    return unloadObject(this.reg, objectId, force, (linkId) => void detach(this.reg, linkId));
  }

  attach(req: AttachRequest): AttachResult {
    return attach(this.reg, req);
  }

  detach(linkId: string): AttachmentRecord {
    return detach(this.reg, linkId);
  }

  /** Closes descriptors and stops holding statistics; every program stays loaded and attached. */
  close(): void {
    this.reg.close();
    this.#stats?.close();
  }
}
