/**
 * craq.bpf.o as `@netaccel/dataplane` opens it (a ProgramDescriptor): the XDP program of a chain
 * node and every map the scheduler reads or writes, checked to exist when the data plane opens.
 */

/** The object (relative to the bpf package) and its XDP program. */
export const CRAQ_OBJECT = Object.freeze({ path: 'build/craq/craq.bpf.o', program: 'craq_node' } as const);

/** The maps of craq.bpf.o the scheduler uses. */
export type CraqMapName = 'craq_config' | 'craq_keys' | 'craq_reasons' | 'craq_stats' | 'craq_commits';

export const CRAQ_DESCRIPTOR: { readonly name: 'craq'; readonly program: string; readonly maps: readonly CraqMapName[] } = Object.freeze({
  name: 'craq',
  program: CRAQ_OBJECT.program,
  maps: Object.freeze(['craq_config', 'craq_keys', 'craq_reasons', 'craq_stats', 'craq_commits'] as const),
});
