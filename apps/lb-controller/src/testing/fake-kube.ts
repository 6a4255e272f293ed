/**
 * A fake Kubernetes API server for tests (no API server can run on the development machine):
 * it speaks the real list/watch protocol for Services (/api/v1/services) and EndpointSlices
 * (/apis/discovery.k8s.io/v1/endpointslices): lists carry a resourceVersion; `?watch=true&
 * resourceVersion=N` streams newline-delimited watch events (ADDED, MODIFIED, DELETED) after N,
 * sends BOOKMARKs, and answers an ERROR event with a 410 Status (Expired, "too old resource
 * version") when N is older than the retained history, as the real server does after a
 * compaction. Loopback only.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';

interface Meta {
  name: string;
  namespace: string;
  resourceVersion?: string;
  [k: string]: unknown;
}
interface Obj {
  metadata: Meta;
  [k: string]: unknown;
}

interface Kind {
  readonly path: string;
  readonly list: string;
  readonly kind: string;
  readonly apiVersion: string;
  readonly objects: Map<string, Obj>;
  readonly history: { rv: number; type: string; object: Obj }[];
  readonly watchers: Set<ServerResponse>;
}

export class FakeKube {
  readonly #server: Server;
  #rv = 100;
  /** Oldest resourceVersion a watch may start from (older: 410). */
  #oldest = 0;
  readonly kinds: Record<'services' | 'endpointslices', Kind>;
  /** Requests seen, for assertions: "list services", "watch endpointslices from 105". */
  readonly requests: string[] = [];
  #bookmarks: NodeJS.Timeout | undefined;

  private constructor() {
    const kind = (path: string, list: string, k: string, apiVersion: string): Kind => ({ path, list, kind: k, apiVersion, objects: new Map(), history: [], watchers: new Set() });
    this.kinds = {
      services: kind('/api/v1/services', 'ServiceList', 'Service', 'v1'),
      endpointslices: kind('/apis/discovery.k8s.io/v1/endpointslices', 'EndpointSliceList', 'EndpointSlice', 'discovery.k8s.io/v1'),
    };
    this.#server = createServer((req, res) => this.#handle(req, res));
  }

  static async start(): Promise<FakeKube> {
    const f = new FakeKube();
    await new Promise<void>((r) => f.#server.listen(0, '127.0.0.1', r));
    f.#bookmarks = setInterval(() => f.bookmark(), 200);
    return f;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.#server.address() as { port: number }).port}`;
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://x');
    const kind = Object.entries(this.kinds).find(([, k]) => k.path === url.pathname);
    if (!kind) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404 }));
      return;
    }
    const [name, k] = kind;
    if (url.searchParams.get('watch') !== 'true') {
      this.requests.push(`list ${name}`);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ kind: k.list, apiVersion: k.apiVersion, metadata: { resourceVersion: String(this.#rv) }, items: [...k.objects.values()] }));
      return;
    }
    const from = Number(url.searchParams.get('resourceVersion') ?? '0');
    this.requests.push(`watch ${name} from ${from}`);
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    if (from < this.#oldest) {
      res.end(`${JSON.stringify({ type: 'ERROR', object: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: `too old resource version: ${from} (${this.#oldest})`, reason: 'Expired', code: 410 } })}\n`);
      return;
    }
    for (const e of k.history) if (e.rv > from) res.write(`${JSON.stringify({ type: e.type, object: e.object })}\n`);
    k.watchers.add(res);
    res.on('close', () => k.watchers.delete(res));
  }

  #emit(k: Kind, type: string, object: Obj): void {
    k.history.push({ rv: this.#rv, type, object });
    for (const w of k.watchers) w.write(`${JSON.stringify({ type, object })}\n`);
  }

  /** Creates or replaces an object (ADDED or MODIFIED). */
  put(which: 'services' | 'endpointslices', object: Obj): void {
    const k = this.kinds[which];
    this.#rv++;
    const o: Obj = { ...object, kind: k.kind, apiVersion: k.apiVersion, metadata: { ...(object.metadata as Meta), resourceVersion: String(this.#rv) } };
    const id = `${o.metadata.namespace}/${o.metadata.name}`;
    const type = k.objects.has(id) ? 'MODIFIED' : 'ADDED';
    k.objects.set(id, o);
    this.#emit(k, type, o);
  }

  delete(which: 'services' | 'endpointslices', namespace: string, name: string): void {
    const k = this.kinds[which];
    const o = k.objects.get(`${namespace}/${name}`);
    if (!o) return;
    this.#rv++;
    k.objects.delete(`${namespace}/${name}`);
    this.#emit(k, 'DELETED', { ...o, metadata: { ...o.metadata, resourceVersion: String(this.#rv) } });
  }

  /** A BOOKMARK with the current resourceVersion on every open watch. */
  bookmark(): void {
    for (const k of Object.values(this.kinds)) {
      for (const w of k.watchers) w.write(`${JSON.stringify({ type: 'BOOKMARK', object: { kind: k.kind, apiVersion: k.apiVersion, metadata: { resourceVersion: String(this.#rv) } } })}\n`);
    }
  }

  /**
   * Forgets the history (a compaction) and ends every watch, so clients re-watch from a
   * resourceVersion that is now too old and must relist after the 410. Changes made by `during`
   * happen while no watch is open.
   */
  compactAndDrop(during?: () => void): void {
    for (const k of Object.values(this.kinds)) {
      for (const w of k.watchers) w.end();
      k.watchers.clear();
    }
    during?.();
    this.#oldest = this.#rv + 1;
    for (const k of Object.values(this.kinds)) k.history.length = 0;
  }

  async close(): Promise<void> {
    clearInterval(this.#bookmarks);
    for (const k of Object.values(this.kinds)) for (const w of k.watchers) w.destroy();
    this.#server.closeAllConnections();
    await new Promise<void>((r) => this.#server.close(() => r()));
  }
}
