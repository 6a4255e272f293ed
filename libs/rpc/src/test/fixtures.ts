// Test fixtures of @netaccel/rpc: a Loader implementation whose behaviour the request selects,
// a logger that records what it is given, and temporary directories. Not part of the build.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { defineError } from '@netaccel/errors';
import type { ErrorFactory, ErrorKind } from '@netaccel/errors';
import { MapEntry, MapLookupResponse } from '../generated/netaccel/loader/v1/loader.js';
import type { LoaderService } from '../generated/netaccel/loader/v1/loader.js';
import type { ServiceHandlers } from '../handlers.js';
import type { Logger } from '@netaccel/errors';

export const KINDS: readonly ErrorKind[] = [
  'invalid-argument', 'not-found', 'already-exists', 'failed-precondition', 'permission-denied',
  'resource-exhausted', 'unavailable', 'deadline-exceeded', 'aborted', 'internal',
];

/** One test error per kind: NA_ERR_TEST_NOT_FOUND, ... */
export const TEST_ERRORS: Readonly<Record<ErrorKind, ErrorFactory>> = Object.freeze(
  Object.fromEntries(
    KINDS.map((k) => [k, defineError(`NA_ERR_TEST_${k.toUpperCase().replace(/-/g, '_')}`, `test failure of kind ${k}: %s`, k)]),
  ) as Record<ErrorKind, ErrorFactory>,
);

const NA_ERR_TEST_UNIMPLEMENTED = defineError('NA_ERR_TEST_UNIMPLEMENTED', '%s is not part of the fixture', 'failed-precondition');

/** What the fixture's handlers did, for assertions. */
export interface Probe {
  /** Items the MapDump handler produced. */
  dumped: number;
  /** The MapDump handler's finally block ran. */
  dumpClosed: boolean;
  /** The last mapLookup handler saw its signal abort, with this reason. */
  lookupAbortReason: unknown;
  /** Unary handlers that finished (returned or threw). */
  finished: number;
}

export function newProbe(): Probe {
  return { dumped: 0, dumpClosed: false, lookupAbortReason: undefined, finished: 0 };
}

function unimplemented(name: string) {
  return (): never => {
    throw NA_ERR_TEST_UNIMPLEMENTED(name);
  };
}

/**
 * A Loader whose MapLookup and MapDump behave as the request's map id says:
 *   mapLookup: "ok" answers the key back; "kind:<kind>" throws that kind; "crash" throws a
 *   TypeError; "slow:<ms>" answers after ms (or when the signal aborts).
 *   mapDump: yields `limit` entries, 20 ms apart when the map id is "slow", forever when limit is 0.
 */
export function fixtureLoader(probe: Probe): ServiceHandlers<typeof LoaderService> {
  return {
    loadObject: unimplemented('LoadObject'),
    unloadObject: unimplemented('UnloadObject'),
    listObjects: unimplemented('ListObjects'),
    listPrograms: unimplemented('ListPrograms'),
    attach: unimplemented('Attach'),
    detach: unimplemented('Detach'),
    listMaps: unimplemented('ListMaps'),
    mapUpdate: unimplemented('MapUpdate'),
    mapDelete: unimplemented('MapDelete'),
    mapUpdateBatch: unimplemented('MapUpdateBatch'),
    mapLookupBatch: unimplemented('MapLookupBatch'),
    testRun: unimplemented('TestRun'),
    programStats: unimplemented('ProgramStats'),
    watchRingBuffer: unimplemented('WatchRingBuffer'),
    mapLookup: async (req, ctx) => {
      try {
        const id = req.mapId;
        if (id === 'ok') return MapLookupResponse.create({ entry: MapEntry.create({ key: req.key, value: Buffer.from('value') }) });
        if (id === 'crash') throw new TypeError('boom: secret internals');
        if (id.startsWith('kind:')) {
          const kind = id.slice(5) as ErrorKind;
          throw TEST_ERRORS[kind].with({ details: { mapId: id, n: 1 } }, id);
        }
        if (id.startsWith('slow:')) {
          try {
            await sleep(Number(id.slice(5)), undefined, { signal: ctx.signal });
          } catch {
            probe.lookupAbortReason = ctx.signal.reason;
            throw ctx.signal.reason;
          }
          return MapLookupResponse.create({ entry: MapEntry.create({ key: req.key }) });
        }
        throw TEST_ERRORS['not-found'](`no map ${id}`);
      } finally {
        probe.finished++;
      }
    },
    mapDump: async function* (req, ctx) {
      try {
        for (let i = 0; req.limit === 0 || i < req.limit; i++) {
          if (req.mapId === 'slow') await sleep(20, undefined, { signal: ctx.signal });
          probe.dumped++;
          yield MapEntry.create({ key: Buffer.from([i]), value: Buffer.from(`v${i}`) });
        }
        if (req.mapId === 'fail-after') throw TEST_ERRORS['resource-exhausted']('dump failed at the end');
      } finally {
        probe.dumpClosed = true;
      }
    },
  };
}

export interface LogRecord {
  level: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';
  bindings: Record<string, unknown>;
  obj: Record<string, unknown>;
  msg: string;
}

/** A logger that keeps every record, with its child bindings merged, like pino's NDJSON lines. */
export function captureLogger(): { log: Logger; records: LogRecord[] } {
  const records: LogRecord[] = [];
  const make = (bindings: Record<string, unknown>): Logger => {
    const at = (level: LogRecord['level']) => (obj: object, msg: string): void => {
      records.push({ level, bindings, obj: obj as Record<string, unknown>, msg });
    };
    return {
      child: (b) => make({ ...bindings, ...b }),
      trace: at('trace'),
      debug: at('debug'),
      info: at('info'),
      warn: at('warn'),
      error: at('error'),
      fatal: at('fatal'),
      isLevelEnabled: () => true,
    };
  };
  return { log: make({}), records };
}

/** A fresh temporary directory (short, for socket paths) and its removal. */
export async function tempDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'na-rpc-'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Leaves a stale socket file at `path`: a process listens on it and is killed before it can clean up. */
export async function makeStaleSocket(path: string): Promise<void> {
  const code = `require('net').createServer().listen(${JSON.stringify(path)}, () => process.kill(process.pid, 'SIGKILL'))`;
  const child = spawn(process.execPath, ['-e', code], { stdio: 'ignore' });
  await once(child, 'exit');
}

/** Polls `cond` every 10 ms until it holds; fails after `timeoutMs`. */
export async function until(cond: () => boolean, timeoutMs = 3000, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(10);
  }
}
