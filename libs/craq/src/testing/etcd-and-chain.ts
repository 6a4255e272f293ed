/**
 * A real etcd and a chain of user-space reference nodes on loopback, the set-up of this package's
 * client tests (client.slow.test.ts, marker.slow.test.ts), one per describe block:
 *
 *   let rig: EtcdAndChain;
 *   beforeAll(async () => { rig = await EtcdAndChain.start(3); });
 *   afterAll(() => rig?.close());
 *
 * `real` is a plain etcd3 client, to look at etcd behind the CRAQ client's back; `client()` is a
 * CraqClient on a placement view that starts at one placement and refreshes from a source.
 * `close()` stops everything, etcd even when closing the nodes fails.
 */
import { Etcd3 } from 'etcd3';
import { TestEtcd } from '@netaccel/netlab';
import { CraqClient } from '../client.js';
import type { CraqClientOptions } from '../client.js';
import { PlacementView, staticPlacementSource } from '../placement.js';
import type { Placement } from '../placement.js';
import { ReferenceChain } from './reference-chain.js';

/** CraqClient options but the view and the etcd client, which the rig provides. */
export type RigClientOptions = Omit<CraqClientOptions, 'view' | 'etcd'>;

export class EtcdAndChain {
  readonly etcd: TestEtcd;
  readonly real: Etcd3;
  readonly chain: ReferenceChain;

  private constructor(etcd: TestEtcd, chain: ReferenceChain) {
    this.etcd = etcd;
    this.real = new Etcd3({ hosts: etcd.clientUrl });
    this.chain = chain;
  }

  /** etcd, then `nodes` reference nodes configured head to tail (etcd stopped again if they fail to start). */
  static async start(nodes: number): Promise<EtcdAndChain> {
    const etcd = await TestEtcd.start();
    try {
      return new EtcdAndChain(etcd, await ReferenceChain.start(nodes));
    } catch (e) {
      await etcd.stop();
      throw e;
    }
  }

  /** A client whose view is `initial` until it refreshes, then what `source` says (the caller closes it). */
  client(initial: Placement, source: () => Placement, opts: RigClientOptions = {}): CraqClient {
    const view = new PlacementView(staticPlacementSource(source));
    view.apply(initial);
    return new CraqClient({ view, etcd: this.real, ...opts });
  }

  async close(): Promise<void> {
    this.real.close();
    try {
      await this.chain.close();
    } finally {
      await this.etcd.stop();
    }
  }
}
