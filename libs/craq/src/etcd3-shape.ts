/**
 * The etcd3 client's shape over the NetCRAQ client, so that an application switches with one
 * import: `import { Etcd3 } from 'etcd3'` becomes `import { Etcd3 } from '@netaccel/craq'` (plus
 * a `craq` option). `get(key)` (`.string()`, `.buffer()`, `.json()`, `.number()`, `.exists()`,
 * or awaited: the string), `put(key).value(v)` and `delete().key(k)` go through the chain for
 * placed keys; everything else (ranges, prefixes, leases, watches, transactions) is etcd3's own,
 * on `.etcd` or through the same-named methods that delegate to it.
 */
import { Etcd3 as RealEtcd3 } from 'etcd3';
import type { IOptions } from 'etcd3';
import type { Logger } from '@netaccel/errors';
import { CraqClient } from './client.js';
import type { CraqClientOptions } from './client.js';
import type { HeatReporter } from './heat.js';
import { grpcPlacementSource } from './grpc-placement.js';
import { PlacementView } from './placement.js';
import type { PlacementSource } from './placement.js';

export interface CraqOptions extends Omit<CraqClientOptions, 'view' | 'etcd' | 'reporter' | 'log'> {
  /** craq-scheduler's gRPC address (`unix:///run/netaccel/craq-scheduler.sock`), or a source of your own. */
  readonly scheduler: string | PlacementSource;
  /** How often the placement is refreshed, ms. Default 1000. */
  readonly refreshMs?: number;
  readonly reporter?: HeatReporter;
  readonly log?: Logger;
}

export interface Etcd3Options extends IOptions {
  readonly craq: CraqOptions;
}

/** Thenable like etcd3's SingleRangeBuilder: awaiting it gives the value as a string. */
export class CraqGet implements PromiseLike<string | null> {
  constructor(private readonly client: CraqClient, private readonly key: string) {}

  buffer(): Promise<Buffer | null> {
    return this.client.get(this.key);
  }
  async string(encoding: BufferEncoding = 'utf8'): Promise<string | null> {
    return (await this.buffer())?.toString(encoding) ?? null;
  }
  async json(): Promise<unknown> {
    const s = await this.string();
    return s === null ? null : (JSON.parse(s) as unknown);
  }
  async number(): Promise<number | null> {
    const s = await this.string();
    return s === null ? null : Number(s);
  }
  async exists(): Promise<boolean> {
    return (await this.buffer()) !== null;
  }
  then<A = string | null, B = never>(ok?: ((v: string | null) => A | PromiseLike<A>) | null, fail?: ((e: unknown) => B | PromiseLike<B>) | null): Promise<A | B> {
    return this.string().then(ok, fail);
  }
}

/** Like etcd3's PutBuilder: `await client.put(key).value(v)`. */
export class CraqPut {
  constructor(private readonly client: CraqClient, private readonly key: string) {}

  value(v: string | Buffer | number): Promise<void> {
    return this.client.put(this.key, typeof v === 'number' ? String(v) : v);
  }
}

/** Like etcd3's DeleteBuilder for one key: `await client.delete().key(k)`. */
export class CraqDelete {
  constructor(private readonly client: CraqClient) {}

  key(k: string): Promise<void> {
    return this.client.delete(k);
  }
}

export class Etcd3 {
  /** The etcd3 client underneath: ranges, leases, watches, transactions. */
  readonly etcd: RealEtcd3;
  readonly craq: CraqClient;
  readonly view: PlacementView;

  constructor(options: Etcd3Options) {
    const { craq: c, ...etcdOptions } = options;
    this.etcd = new RealEtcd3(etcdOptions);
    const source = typeof c.scheduler === 'string' ? grpcPlacementSource({ address: c.scheduler }) : c.scheduler;
    this.view = new PlacementView(source, c.log);
    this.view.start(c.refreshMs ?? 1000);
    void this.view.refresh().catch(() => undefined); // until it answers, every key goes to etcd
    this.craq = new CraqClient({ ...c, view: this.view, etcd: this.etcd });
  }

  get(key: string): CraqGet {
    return new CraqGet(this.craq, key);
  }
  put(key: string): CraqPut {
    return new CraqPut(this.craq, key);
  }
  delete(): CraqDelete {
    return new CraqDelete(this.craq);
  }
  getAll(): ReturnType<RealEtcd3['getAll']> {
    return this.etcd.getAll();
  }
  watch(): ReturnType<RealEtcd3['watch']> {
    return this.etcd.watch();
  }
  lease(...args: Parameters<RealEtcd3['lease']>): ReturnType<RealEtcd3['lease']> {
    return this.etcd.lease(...args);
  }
  if(...args: Parameters<RealEtcd3['if']>): ReturnType<RealEtcd3['if']> {
    return this.etcd.if(...args);
  }

  close(): void {
    this.view.close();
    void this.craq.close();
    this.etcd.close();
  }
}
