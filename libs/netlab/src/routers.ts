/**
 * Configuration of the real routing daemons that labs start: GoBGP as a route reflector (the
 * thesis' appendix B: announcers as dynamic neighbours and route-reflector clients with add-path
 * receive; the upstream router an ordinary iBGP neighbour that gets every path, add-path send).
 */

export interface GobgpReflectorOptions {
  readonly as: number;
  readonly routerId: string;
  /** The address gobgpd listens and connects from. */
  readonly localAddress: string;
  /** The upstream router: a static iBGP neighbour sent up to `sendMax` paths per prefix. */
  readonly router: { readonly address: string; readonly description?: string; readonly sendMax?: number };
  /** Prefixes from which announcers connect (dynamic neighbours of one peer group). */
  readonly clientPrefixes: readonly string[];
  readonly peerGroup?: string;
  /** Seconds; default connect-retry 1, hold 3, keepalive 1 (fast labs). */
  readonly timers?: { readonly connectRetry: number; readonly holdTime: number; readonly keepalive: number };
}

/** gobgpd's TOML configuration (`gobgpd -f <file> -t toml`). */
export function gobgpReflectorConfig(o: GobgpReflectorOptions): string {
  const t = o.timers ?? { connectRetry: 1, holdTime: 3, keepalive: 1 };
  const group = o.peerGroup ?? 'announcers';
  const timers = [`    connect-retry = ${t.connectRetry}`, `    hold-time = ${t.holdTime}`, `    keepalive-interval = ${t.keepalive}`];
  const lines = [
    '[global.config]',
    `  as = ${o.as}`,
    `  router-id = "${o.routerId}"`,
    `  local-address-list = ["${o.localAddress}"]`,
    '',
    '[[neighbors]]',
    '  [neighbors.config]',
    `    neighbor-address = "${o.router.address}"`,
    `    peer-as = ${o.as}`,
    ...(o.router.description !== undefined ? [`    description = "${o.router.description}"`] : []),
    '  [neighbors.timers.config]',
    ...timers,
    '  [[neighbors.afi-safis]]',
    '    [neighbors.afi-safis.config]',
    '      afi-safi-name = "ipv4-unicast"',
    '    [neighbors.afi-safis.add-paths.config]',
    `      send-max = ${o.router.sendMax ?? 8}`,
    '',
    '[[peer-groups]]',
    '  [peer-groups.config]',
    `    peer-group-name = "${group}"`,
    `    peer-as = ${o.as}`,
    '  [peer-groups.timers.config]',
    ...timers,
    '  [peer-groups.add-paths.config]',
    '    receive = true',
    '  [peer-groups.route-reflector.config]',
    '    route-reflector-client = true',
    `    route-reflector-cluster-id = "${o.routerId}"`,
    '  [[peer-groups.afi-safis]]',
    '    [peer-groups.afi-safis.config]',
    '      afi-safi-name = "ipv4-unicast"',
    '    [peer-groups.afi-safis.add-paths.config]',
    '      receive = true',
  ];
  for (const prefix of o.clientPrefixes) {
    lines.push('', '[[dynamic-neighbors]]', '  [dynamic-neighbors.config]', `    prefix = "${prefix}"`, `    peer-group = "${group}"`);
  }
  return `${lines.join('\n')}\n`;
}

export interface BirdReflectorClientOptions {
  readonly as: number;
  /** The router's address on the reflector's network (also its router id). */
  readonly local: string;
  readonly reflector: string;
  /** Seconds; default 3 (keepalive 1). */
  readonly holdTime?: number;
}

/**
 * BIRD 2 as the upstream router: iBGP with a route reflector, every path received (add-path)
 * and installed as one multipath route in the kernel FIB (`merge paths`).
 */
export function birdReflectorClientConfig(o: BirdReflectorClientOptions): string {
  return [
    'log stderr all;',
    `router id ${o.local};`,
    'protocol device { scan time 1; }',
    '# merge paths: the paths of a prefix become one multipath route in the kernel FIB',
    'protocol kernel k4 { ipv4 { import none; export all; }; merge paths on; }',
    'protocol bgp reflector {',
    `  local ${o.local} as ${o.as};`,
    `  neighbor ${o.reflector} as ${o.as};`,
    `  hold time ${o.holdTime ?? 3}; keepalive time 1; connect retry time 1; error wait time 1, 2;`,
    '  direct;',
    '  ipv4 { import all; export none; add paths rx; gateway direct; };',
    '}',
    '',
  ].join('\n');
}
