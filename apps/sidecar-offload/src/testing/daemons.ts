/**
 * Real etcd (Debian's etcd-server) and Redis (redis-server) for tests: loopback only, free ports,
 * a temporary folder each, stopped and removed by `stop()`. The processes are @netaccel/netlab's
 * TestEtcd and TestRedis; this names them as the sidecar's tests use them.
 */
import { TestEtcd, TestRedis, freePort } from '@netaccel/netlab';

export { freePort };

export interface TestProcess {
  /** etcd: http://127.0.0.1:port; Redis: redis://127.0.0.1:port. */
  readonly url: string;
  /** host:port. */
  readonly address: string;
  log(): string;
  stop(): Promise<void>;
}

export async function startEtcd(): Promise<TestProcess> {
  const etcd = await TestEtcd.start();
  return { url: etcd.clientUrl, address: etcd.clientUrl.slice('http://'.length), log: () => etcd.log, stop: () => etcd.stop() };
}

export async function startRedis(): Promise<TestProcess> {
  const redis = await TestRedis.start();
  return { url: redis.url, address: `127.0.0.1:${redis.port}`, log: () => redis.log, stop: () => redis.stop() };
}
