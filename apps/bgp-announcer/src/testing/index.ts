// @netaccel/app-bgp-announcer/testing: what the BGP interop tests and benchmarks drive the
// announcer with: announcer configurations, the daemon started inside its node, a client; the
// configuration schema (the packaging checks). The topology and the FIB probes are
// @netaccel/labs'; they are re-exported here for bench/bgp, which imports them from this entry.
// Not an API for other apps: they talk to the announcer over gRPC.
export { bgpAnnouncerConfig } from '../config.js';
export type { AnnouncerOptions, PeerYaml } from './lab.js';
export { MAIN, ROOT, announcerClient, announcerConfig, startAnnouncer } from './lab.js';
export type { LbName } from '@netaccel/labs';
export {
  LBS,
  LB_AS,
  ROUTER_AS,
  RR_AS,
  countRoutes,
  fibNextHops,
  gateways,
  lbAddr,
  lbIndex,
  routerStarLab as newLab,
  nodeFailure,
  prefixes,
  routerAddr,
  silence,
  timeUntilGone,
  routerStarTopology as topology,
  waitNextHops,
} from '@netaccel/labs';
export { sleep } from '@netaccel/netlab';
