/**
 * xlb's struct codecs as `@netaccel/bpf` StructCodecs, by their C names, for a CodecRegistry: the
 * CLI's `netaccel bpf map dump --typed` then shows a VIP key as `{ address, port, protocol }`
 * rather than bytes, and takes the same JSON to write one. Structs whose codec cannot write
 * (statistics read per CPU, NAT values that need their family) stay with the registry's BTF
 * codec. The registry checks each codec's size against the object's BTF when it is used.
 */
import type { CodecRegistry, StructCodec } from '@netaccel/bpf';
import {
  XLB_LAYOUTS,
  decodeBackend, decodeConfig, decodeCtValue, decodeDecapKey, decodeFlowKey, decodeFlowKey4, decodeNexthop, decodeVipKey, decodeVipMeta,
  encodeBackend, encodeConfig, encodeCtValue, encodeDecapKey, encodeFlowKey, encodeFlowKey4, encodeNexthop, encodeVipKey, encodeVipMeta,
} from './codec.js';

const L = XLB_LAYOUTS;

/** A typed codec as the registry holds it (values are what the CLI prints and reads as JSON). */
function codec<T>(size: number, decode: (b: Uint8Array) => T, encode: (v: T) => Buffer): StructCodec<unknown> {
  return { size, decode, encode: (v: unknown) => encode(v as T) };
}

/** xlb's writable structs by C name. */
export const XLB_STRUCT_CODECS: Readonly<Record<string, StructCodec<unknown>>> = Object.freeze({
  [L.vipKey.name]: codec(L.vipKey.size, decodeVipKey, encodeVipKey),
  [L.vipMeta.name]: codec(L.vipMeta.size, decodeVipMeta, encodeVipMeta),
  [L.backend.name]: codec(L.backend.size, decodeBackend, encodeBackend),
  [L.nexthop.name]: codec(L.nexthop.size, decodeNexthop, encodeNexthop),
  [L.config.name]: codec(L.config.size, decodeConfig, encodeConfig),
  [L.flowKey.name]: codec(L.flowKey.size, decodeFlowKey, encodeFlowKey),
  [L.flowKey4.name]: codec(L.flowKey4.size, decodeFlowKey4, encodeFlowKey4),
  [L.ctValue.name]: codec(L.ctValue.size, decodeCtValue, encodeCtValue),
  [L.decapKey.name]: codec(L.decapKey.size, decodeDecapKey, encodeDecapKey),
});

/** Registers xlb's codecs (those not registered yet) in `registry`. */
export function registerXlbCodecs(registry: CodecRegistry): void {
  for (const [name, codec] of Object.entries(XLB_STRUCT_CODECS)) if (!registry.has(name)) registry.register(name, codec);
}
