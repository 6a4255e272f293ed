// @netaccel/app-bgp-announcer/testing: what the BGP interop tests and benchmarks drive the
// announcer with: the lab topology (a router and three announcers, optionally a route reflector),
// announcer configurations, the daemon started inside its node, a client, and probes of the
// router's FIB; the configuration schema (the packaging checks). Not an API for other apps: they
// talk to the announcer over gRPC.
export { bgpAnnouncerConfig } from '../config.js';
export type { AnnouncerOptions, LbName, PeerYaml } from './lab.js';
export {
  LBS,
  LB_AS,
  MAIN,
  ROOT,
  ROUTER_AS,
  RR_AS,
  announcerClient,
  announcerConfig,
  countRoutes,
  fibNextHops,
  gateways,
  lbAddr,
  lbIndex,
  newLab,
  nodeFailure,
  prefixes,
  routerAddr,
  silence,
  sleep,
  startAnnouncer,
  timeUntilGone,
  topology,
  waitNextHops,
} from './lab.js';
