/**
 * The Electrode structs as `@netaccel/bpf` StructCodecs, by their C names, for a CodecRegistry
 * (the CLI's `netaccel bpf map dump --typed`): the state, a replica's configuration, a ring slot
 * and a quorum slot read and written as the objects codec.ts defines. The per-CPU counters stay
 * with the registry's BTF codec. The registry checks each size against the object's BTF.
 */
import type { CodecRegistry, StructCodec } from '@netaccel/bpf';
import { ELECTRODE_LAYOUTS, decodeLogEntry, decodeQuorumSlot, decodeReplica, decodeState, encodeLogEntry, encodeQuorumSlot, encodeReplica, encodeState } from './codec.js';
import type { ReplicaConfig } from './codec.js';

const L = ELECTRODE_LAYOUTS;

function codec<T>(size: number, decode: (b: Uint8Array) => T, encode: (v: T) => Buffer): StructCodec<unknown> {
  return { size, decode, encode: (v: unknown) => encode(v as T) };
}

/** Electrode's writable structs by C name. An invalid replica entry is `null` either way. */
export const ELECTRODE_STRUCT_CODECS: Readonly<Record<string, StructCodec<unknown>>> = Object.freeze({
  [L.state.name]: codec(L.state.size, decodeState, encodeState),
  [L.replica.name]: codec(
    L.replica.size,
    (b) => decodeReplica(b) ?? null,
    (v: ReplicaConfig | null) => (v === null ? Buffer.alloc(L.replica.size) : encodeReplica(v)),
  ),
  [L.logEntry.name]: codec(L.logEntry.size, decodeLogEntry, encodeLogEntry),
  [L.quorumSlot.name]: codec(L.quorumSlot.size, decodeQuorumSlot, encodeQuorumSlot),
});

/** Registers Electrode's codecs (those not registered yet) in `registry`. */
export function registerElectrodeCodecs(registry: CodecRegistry): void {
  for (const [name, c] of Object.entries(ELECTRODE_STRUCT_CODECS)) if (!registry.has(name)) registry.register(name, c);
}
