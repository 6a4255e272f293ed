/**
 * Map sizes are the build's (ELECTRODE_RING_SIZE, ELECTRODE_QUORUM_WINDOW: the programs compute
 * slots with the constants, so they are not resized at load).
 *
 * Loads electrode.bpf.o in this process with libs/bpf (one object per replica: its maps are the
 * replica's state, ring and bitsets), attaches its programs to interfaces, and hands out the
 * ElectrodeOffload over its maps. close() detaches what it attached and closes the object.
 *
 * Daemons that go through ebpf-loader use ElectrodeOffload over the loader's maps instead; this
 * is for the BPF tests, the namespace tests and an in-process replica (libs/paxos' cluster
 * tests and benchmarks).
 */
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BpfObject, attachTc, attachXdp, detachXdp, queryTc, queryXdp } from '@netaccel/bpf';
import type { BpfMap, BpfProgram, TcAttachment, XdpAttachment, XdpMode } from '@netaccel/bpf';
import { ELECTRODE_OBJECT } from './constants.js';
import { ElectrodeOffload } from './offload.js';
import type { ElectrodeMaps } from './offload.js';

/** The folder holding bpf/package.json, from the sources (electrode/) and the build (dist/electrode/). */
function packageDir(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no package.json above ${from}`);
  }
}

/** bpf/: the object is at ELECTRODE_OBJECT.path under it. */
export const ELECTRODE_BPF_DIR = packageDir(dirname(fileURLToPath(import.meta.url)));

/** Path of the built object; throws with the make command when it is missing. */
export function electrodeObjectPath(): string {
  const path = join(ELECTRODE_BPF_DIR, ELECTRODE_OBJECT.path);
  if (!statSync(path, { throwIfNoEntry: false })) throw new Error(`${path} is missing: run make -C bpf`);
  return path;
}

export interface LoadElectrodeOptions {
  /** The object (default: bpf/build/electrode/electrode.bpf.o). */
  readonly objectPath?: string;
  /** ELECTRODE_OFF bits the first publish writes (default all). */
  readonly offloads?: number;
  /** Map electrode_state and el_log into the process (ElectrodeOffloadOptions.mmap). */
  readonly mmap?: boolean;
}

export interface AttachOptions {
  /** XDP mode of electrode_xdp (default native). */
  readonly xdpMode?: XdpMode;
  /** Also attach electrode_broadcast on TC egress (default true). */
  readonly broadcast?: boolean;
  /**
   * Take over what a replica that died without closing left attached: the XDP program of the
   * interface (whatever it is) and the TC filter at ELECTRODE_TC_FILTER. Default false: an
   * occupied hook is an error (NA_ERR_BPF_BUSY / NA_ERR_BPF_HOOK_BUSY).
   */
  readonly replace?: boolean;
}

/** Where electrode_broadcast sits on TC egress (fixed, so a restarted replica replaces it). */
export const ELECTRODE_TC_FILTER = Object.freeze({ priority: 0x4e41, handle: 0x4e415058 } as const);

/** One loaded electrode.bpf.o and what it attached. */
export class ElectrodeObject {
  readonly object: BpfObject;
  readonly offload: ElectrodeOffload;
  readonly #attachments: (XdpAttachment | TcAttachment)[] = [];
  #closed = false;

  private constructor(object: BpfObject, opts: LoadElectrodeOptions) {
    this.object = object;
    this.offload = new ElectrodeOffload(electrodeMaps(object), {
      ...(opts.offloads !== undefined ? { offloads: opts.offloads } : {}),
      ...(opts.mmap !== undefined ? { mmap: opts.mmap } : {}),
      onClose: () => this.close(),
    });
  }

  static load(opts: LoadElectrodeOptions = {}): ElectrodeObject {
    const obj = BpfObject.openFile(opts.objectPath ?? electrodeObjectPath());
    try {
      obj.load();
      return new ElectrodeObject(obj, opts);
    } catch (err) {
      obj.close();
      throw err;
    }
  }

  program(which: keyof typeof ELECTRODE_OBJECT.programs): BpfProgram {
    return this.object.program(ELECTRODE_OBJECT.programs[which]);
  }

  map(which: keyof typeof ELECTRODE_OBJECT.maps): BpfMap {
    return this.object.map(ELECTRODE_OBJECT.maps[which]);
  }

  /**
   * Attaches electrode_xdp (and electrode_broadcast on TC egress, at ELECTRODE_TC_FILTER) to
   * `iface` in this namespace.
   */
  attach(iface: string | number, opts: AttachOptions = {}): void {
    const mode = opts.xdpMode ?? 'native';
    if (opts.replace && queryXdp(iface).programId !== 0) detachXdp(iface, { mode });
    this.#attachments.push(attachXdp(iface, this.program('xdp'), { mode }));
    if (opts.broadcast ?? true) {
      const filter = { direction: 'egress', ...ELECTRODE_TC_FILTER } as const;
      const replace = opts.replace === true && queryTc(iface, filter) !== 0;
      this.#attachments.push(attachTc(iface, this.program('broadcast'), { ...filter, replace }));
    }
  }

  /** Detaches (interfaces that are gone are skipped) and closes the object. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    void this.offload.close(); // the binding refuses from now on (its onClose finds this closed)
    try {
      for (const a of this.#attachments.reverse()) {
        try {
          a.detach();
        } catch {
          // the interface (or its namespace) is gone, and the attachment with it
        }
      }
    } finally {
      this.object.close();
    }
  }
}

/** The maps ElectrodeOffload needs, from a loaded object. */
export function electrodeMaps(obj: BpfObject): ElectrodeMaps {
  const m = ELECTRODE_OBJECT.maps;
  return { state: obj.map(m.state), config: obj.map(m.config), log: obj.map(m.log), stats: obj.map(m.stats), reasons: obj.map(m.reasons) };
}
