/**
 * The Redis side of etcd key counting (ioredis): ZINCRBY batches in one pipeline. The client
 * reconnects by itself; a flush while Redis is down fails fast (no offline queue) and its
 * counts stay in EtcdHeat for the next one.
 */
import { Redis } from 'ioredis';
import type { HeatStore } from './etcd-heat.js';

export function redisHeatStore(url: string): HeatStore {
  const redis = new Redis(url, { lazyConnect: false, enableOfflineQueue: false, maxRetriesPerRequest: 1, retryStrategy: (times) => Math.min(times * 200, 2000) });
  redis.on('error', () => {}); // reported by the failed flushes
  return {
    async zincrby(entries) {
      const pipe = redis.pipeline();
      for (const e of entries) pipe.zincrby(e.set, e.by, e.member);
      const results = (await pipe.exec()) ?? [];
      const failed = results.find(([err]) => err !== null);
      if (failed !== undefined) throw failed[0]!;
    },
    async close() {
      redis.disconnect();
    },
  };
}
