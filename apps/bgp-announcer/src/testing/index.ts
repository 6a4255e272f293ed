// @netaccel/app-bgp-announcer/testing: what the BGP interop tests and benchmarks drive the
// announcer with: announcer configurations, the daemon started inside its node, a client; the
// configuration schema (the packaging checks). The topology, the FIB probes and the failures
// are @netaccel/labs' (imported from there).
// Not an API for other apps: they talk to the announcer over gRPC.
export { bgpAnnouncerConfig } from '../config.js';
export type { AnnouncerOptions, PeerYaml, StartOptions } from './lab.js';
export { BUNDLED_MAIN, MAIN, ROOT, announcerClient, announcerConfig, checkBundle, startAnnouncer } from './lab.js';
