/**
 * HTTP backends: nginx in each backend node, answering every request with the node's name (so
 * a client can count responses per backend), no keep-alive, no access log. Each one's folder,
 * configuration and temporary files are under the lab's log folder (`<node>/`), its log is
 * `<node>-nginx.log`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Lab, LabProcess } from '@netaccel/netlab';

/** nginx for a backend: answers every request with its name, no keep-alive, no access log. */
export function nginxConfig(name: string, dir: string): string {
  const tmp = join(dir, 'tmp');
  mkdirSync(tmp, { recursive: true });
  return [
    'daemon off;',
    'worker_processes 1;',
    `pid ${join(dir, 'nginx.pid')};`,
    'error_log stderr warn;',
    'events { worker_connections 4096; }',
    'http {',
    '  access_log off;',
    ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `  ${t}_temp_path ${join(tmp, t)};`),
    '  server {',
    '    listen 80 default_server backlog=4096;',
    '    keepalive_timeout 0;',
    `    location / { default_type text/plain; return 200 "${name}\\n"; }`,
    '  }',
    '}',
    '',
  ].join('\n');
}

/** Starts nginx in every node of `nodes` at once and waits until each listens on port 80. */
export async function startNginxBackends(lab: Lab, nodes: readonly string[]): Promise<Map<string, LabProcess>> {
  const procs = await Promise.all(
    nodes.map(async (b) => {
      const dir = join(lab.logDir, b);
      mkdirSync(dir, { recursive: true });
      const conf = join(dir, 'nginx.conf');
      writeFileSync(conf, nginxConfig(b, dir));
      return [b, await lab.spawn(b, ['nginx', '-p', dir, '-c', conf, '-e', 'stderr'], { name: `${b}-nginx`, ready: { tcp: '0.0.0.0:80' } })] as const;
    }),
  );
  return new Map(procs);
}
