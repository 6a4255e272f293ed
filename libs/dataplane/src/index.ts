// @netaccel/dataplane: a BPF program's maps, programs and globals, through ebpf-loader or in process.

// What a daemon uses
export { checkPacked, packEntries } from './access.js';
export type { GlobalValues, MapAccess, MapGeometry, OpenOptions, ProgramDescriptor } from './access.js';

// The two carriers
export { LoaderDataPlane, typedGlobals } from './loader.js';
export type { LoaderAttachPoint, LoaderOpenOptions } from './loader.js';
export { InProcessDataPlane } from './in-process.js';

// Errors
export { NA_ERR_DATAPLANE_INVALID, NA_ERR_DATAPLANE_OBJECT, NA_ERR_DATAPLANE_OP, dataplaneErrors } from './errors.js';
