/**
 * Tests: a MapAccess that records every operation that writes (`<op> <map>`: update, updateBatch,
 * updatePacked, delete) before passing it on, to count what a controller writes.
 */
import type { MapAccess } from '@netaccel/dataplane';

const WRITES = new Set<PropertyKey>(['update', 'updateBatch', 'updatePacked', 'delete']);

export function countingMaps<M extends string>(m: MapAccess<M>, writes: string[]): MapAccess<M> {
  return new Proxy(m, {
    get(target, prop) {
      const v = Reflect.get(target, prop, target) as unknown;
      if (typeof v !== 'function') return v;
      const f = (v as (...a: unknown[]) => unknown).bind(target);
      if (!WRITES.has(prop)) return f;
      return (map: string, ...rest: unknown[]) => {
        writes.push(`${String(prop)} ${map}`);
        return f(map, ...rest);
      };
    },
  });
}
