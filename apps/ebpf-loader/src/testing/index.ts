// @netaccel/app-ebpf-loader/testing: what the loader's end-to-end tests and its benchmark drive
// it with: a home per test file (objects, state, sockets, a pin root of its own), the daemon run
// as a real process inside a netlab node, a client, traffic scripts, and the shape of the state
// file (adoption after a restart), and the configuration schema with the installed object folder
// (the packaging checks). Not an API for other apps: they talk to the loader over gRPC.
export { INSTALLED_OBJECT_DIR, defaultObjectDir, loaderConfig } from '../config.js';
export type { StateData } from '../state.js';
export type { Loader, LoaderHome } from './harness.js';
export {
  AS_TEST,
  MAIN,
  REPO,
  SELFTEST,
  burstScript,
  compileObjects,
  connect,
  ifacePoint,
  lastJson,
  load,
  logLines,
  logLinesWhen,
  makeHome,
  metricValue,
  perCpuPackets,
  pinTree,
  removeHome,
  senderScript,
  sinkScript,
  sleep,
  startLoader,
  stateText,
  telemetryGet,
  u16,
  u32,
} from './harness.js';
