// @netaccel/app-ebpf-loader/testing: what end-to-end tests read of the loader: the shape of its
// state file (adoption after a restart). Not an API for other apps: they talk over gRPC.
export type { StateData } from '../state.js';
