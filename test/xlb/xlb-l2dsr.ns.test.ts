/**
 * End to end, l2dsr, through the production path: the controller programs the data plane with
 * the real ebpf-loader daemon's gRPC API (load, attach XDP native, maps). See support.ts.
 */
import { modeSuite } from './support.js';

modeSuite('l2dsr', 'loader');
