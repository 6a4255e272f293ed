// @netaccel/bpf-programs/codecs: every program's struct codecs for a CodecRegistry, so that a
// tool showing any loaded object's maps (the CLI's `--typed`) registers them in one call.
import type { CodecRegistry } from '@netaccel/bpf';
import { registerElectrodeCodecs } from './electrode/struct-codecs.js';
import { registerXlbCodecs } from './xlb/struct-codecs.js';

/** Registers the struct codecs of every netaccel BPF program (names already present are kept). */
export function registerProgramCodecs(registry: CodecRegistry): void {
  registerXlbCodecs(registry);
  registerElectrodeCodecs(registry);
}

export { registerElectrodeCodecs, registerXlbCodecs };
