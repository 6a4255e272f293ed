/**
 * nginx configurations of the end-to-end section: the backends' HTTP server (a fixed reply
 * naming the backend) and the balancer's `stream` proxy (the user-space L4 baseline). Each
 * instance runs in the foreground with every path under its own folder.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Lab, LabProcess } from '@netaccel/netlab';

export const STREAM_MODULE = '/usr/lib/nginx/modules/ngx_stream_module.so';

function common(dir: string, workers: number): string[] {
  return [
    'user root;',
    `worker_processes ${workers};`,
    `pid ${join(dir, 'nginx.pid')};`,
    `error_log ${join(dir, 'error.log')} warn;`,
    'events { worker_connections 8192; multi_accept on; }',
  ];
}

export function backendConf(dir: string, name: string): string {
  const tmp = (t: string) => `${t}_temp_path ${join(dir, t)};`;
  return [
    ...common(dir, 1),
    'http {',
    '  access_log off;',
    `  ${['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map(tmp).join(' ')}`,
    '  keepalive_requests 1000000;',
    '  keepalive_timeout 60s;',
    '  server {',
    '    listen 80 backlog=4096;',
    `    location / { default_type text/plain; return 200 "${name}\\n"; }`,
    '  }',
    '}',
    '',
  ].join('\n');
}

export function streamProxyConf(dir: string, listen: string, upstreams: readonly string[]): string {
  return [
    `load_module ${STREAM_MODULE};`,
    ...common(dir, 2),
    'stream {',
    `  upstream backends { ${upstreams.map((u) => `server ${u};`).join(' ')} }`,
    `  server { listen ${listen} backlog=4096; proxy_pass backends; }`,
    '}',
    '',
  ].join('\n');
}

/** Writes `conf` under `<lab log dir>/<name>/` and starts nginx in `node`, ready when `ready` listens. */
export async function startNginx(lab: Lab, node: string, name: string, conf: (dir: string) => string, ready: string): Promise<LabProcess> {
  const dir = join(lab.logDir, name);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'nginx.conf');
  writeFileSync(file, conf(dir));
  return lab.spawn(node, ['nginx', '-p', dir, '-c', file, '-g', 'daemon off;'], { name, ready: { tcp: ready } });
}
