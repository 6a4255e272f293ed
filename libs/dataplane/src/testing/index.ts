// @netaccel/dataplane/testing: what tests and benchmarks of programs loaded through ebpf-loader
// share: a real loader daemon started as a child process in a temporary home.
export { TestLoader } from './test-loader.js';
export type { TestLoaderOptions } from './test-loader.js';
