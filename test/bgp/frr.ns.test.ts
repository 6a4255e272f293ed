/** Interop with FRR 8 (zebra + bgpd, `maximum-paths 8`) as the upstream router. */
import { frrEstablished, frrReceived, startFrr } from './frr.js';
import { routerSuite } from './router-suite.js';
import { lbAddr } from '@netaccel/labs';

routerSuite('FRR', async (lab) => {
  const frr = await startFrr(lab);
  return {
    fibProto: 'bgp',
    established: () => frrEstablished(frr),
    communities: async (prefix) => {
      const r = await frr.json<{ paths?: { community?: { string: string } }[] }>(`show bgp ipv4 unicast ${prefix} json`);
      return [...new Set((r.paths ?? []).flatMap((p) => (p.community?.string ?? '').split(' ').filter((x) => x !== '')))];
    },
    acceptedFrom: (lb) => frrReceived(frr, lbAddr(lb)),
  };
});
