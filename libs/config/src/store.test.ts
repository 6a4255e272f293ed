import { test } from 'vitest';
import type { TestContext } from 'vitest';
import assert from 'node:assert/strict';
import { mkdtemp, rename, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ConfigOf } from './define.js';
import { NA_ERR_CONFIG_FILE_NOT_FOUND, NA_ERR_CONFIG_INVALID, NA_ERR_CONFIG_PARSE, NA_ERR_CONFIG_WATCH } from './errors.js';
import { ConfigStore } from './store.js';
import type { ReloadResult } from './store.js';
import { VALID_YAML, bgpAnnouncer } from './fixtures/bgp-announcer.js';

type Config = ConfigOf<typeof bgpAnnouncer>;
type Call = { next: Config; prev: Config; changed: readonly string[] };

/** A temp folder with the valid file, removed after the test. */
async function fixture(t: TestContext): Promise<{ dir: string; file: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'netaccel-config-store-'));
  t.onTestFinished(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'bgp-announcer.yaml');
  await writeFile(file, VALID_YAML);
  return { dir, file };
}

/** Replaces the file in one rename, so a reader sees the old or the new text, never half of it. */
async function replaceFile(file: string, text: string): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, text);
  await rename(tmp, file);
}

/** Values pushed by callbacks, and a way to wait (with a time limit) for one that matches. */
class Inbox<T> {
  readonly items: T[] = [];
  private waiter: { check: (value: T) => boolean; resolve: (value: T) => void } | undefined;

  readonly push = (value: T): void => {
    this.items.push(value);
    if (this.waiter?.check(value) === true) this.waiter.resolve(value);
  };

  /** The first value, already received or still to come, that `check` accepts. */
  next(what: string, check: (value: T) => boolean, ms = 5_000): Promise<T> {
    const found = this.items.find(check);
    if (found !== undefined) return Promise.resolve(found);
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        reject(new Error(`timed out after ${ms} ms waiting for ${what}`));
      }, ms);
      this.waiter = {
        check,
        resolve: (value) => {
          clearTimeout(timer);
          this.waiter = undefined;
          resolve(value);
        },
      };
    });
  }
}

function record(store: ConfigStore<typeof bgpAnnouncer>): Call[] {
  const calls: Call[] = [];
  store.subscribe((next, prev, changed) => calls.push({ next, prev, changed }));
  return calls;
}

test('a reload of a bad file is refused whole: same object, same content, no listener called', async (t) => {
  const { file } = await fixture(t);
  const store = await ConfigStore.open(bgpAnnouncer, { file, env: {} });
  const before = store.current;
  const snapshot = JSON.stringify(before);
  const calls = record(store);

  // one good change and one bad one in the same file: nothing of it may be applied
  await writeFile(file, VALID_YAML.replace('localAs: 65001', 'localAs: 65009').replace('holdTime: 30', 'holdTime: 1'));
  await assert.rejects(store.reload(), (err) => NA_ERR_CONFIG_INVALID.is(err) && err.message.startsWith('bgp.peers[1].holdTime: expected 0 or 3..65535, got 1'));
  await writeFile(file, 'bgp: [\n');
  await assert.rejects(store.reload(), (err) => NA_ERR_CONFIG_PARSE.is(err));
  await unlink(file);
  await assert.rejects(store.reload(), (err) => NA_ERR_CONFIG_FILE_NOT_FOUND.is(err));

  assert.equal(store.current, before);
  assert.equal(JSON.stringify(store.current), snapshot);
  assert.equal(store.current.bgp.localAs, 65001);
  assert.deepEqual(calls, []);
});

test('a good reload replaces the configuration and tells listeners what changed', async (t) => {
  const { file } = await fixture(t);
  const store = await ConfigStore.open(bgpAnnouncer, { file, env: {} });
  const before = store.current;
  const calls = record(store);

  const text = VALID_YAML.replace('holdTime: 30', 'holdTime: 60').replace('0.0.0.0:9100', '0.0.0.0:9200').replace('    - 192.0.2.0/24', '    - 192.0.2.0/24\n    - 198.51.100.0/24');
  await writeFile(file, text);
  const result = await store.reload();

  const expectedChanged = ['bgp.peers[1].holdTime', 'bgp.announce[1]', 'telemetry.listen.port'];
  assert.deepEqual(result.changed, expectedChanged);
  assert.equal(result.previous, before);
  assert.equal(result.config, store.current);
  assert.notEqual(store.current, before);
  assert.equal(store.current.bgp.peers[1]!.holdTime, 60);
  assert.equal(before.bgp.peers[1]!.holdTime, 30, 'the previous configuration is untouched');
  assert.equal(calls.length, 1);
  assert.equal(calls[0]!.next, store.current);
  assert.equal(calls[0]!.prev, before);
  assert.deepEqual(calls[0]!.changed, expectedChanged);
  assert.ok(Object.isFrozen(store.current.bgp.peers[1]));
});

test('reload({ apply }): a changed configuration is applied before it replaces the running one; a throwing apply refuses it whole', async (t) => {
  const { file } = await fixture(t);
  const store = await ConfigStore.open(bgpAnnouncer, { file, env: {} });
  const before = store.current;
  const calls = record(store);
  const applied: string[][] = [];
  await writeFile(file, VALID_YAML.replace('localAs: 65001', 'localAs: 65009'));
  const refusal = new Error('peer 192.0.2.1 cannot be reconfigured');
  await assert.rejects(
    store.reload({
      apply: (next, prev, changed) => {
        assert.equal(prev, before);
        assert.equal(next.bgp.localAs, 65009);
        applied.push([...changed]);
        throw refusal;
      },
    }),
    (err) => err === refusal,
  );
  assert.equal(store.current, before, 'refused: the running configuration stays');
  assert.deepEqual(calls, []);
  const result = await store.reload({
    apply: async (next, _prev, changed) => {
      await new Promise((r) => setTimeout(r, 5));
      assert.equal(store.current, before, 'applied before the swap');
      assert.equal(next.bgp.localAs, 65009);
      applied.push([...changed]);
    },
  });
  assert.equal(store.current, result.config);
  assert.equal(store.current.bgp.localAs, 65009);
  assert.equal(calls.length, 1);
  assert.deepEqual(applied, [['bgp.localAs'], ['bgp.localAs']]);
  await store.reload({ apply: () => assert.fail('nothing changed: apply is not called') });
});

test('a reload that changes nothing keeps the running object and calls no listener', async (t) => {
  const { file } = await fixture(t);
  const store = await ConfigStore.open(bgpAnnouncer, { file, env: {} });
  const before = store.current;
  const calls = record(store);
  await writeFile(file, `# reformatted\n${VALID_YAML}`);
  const result = await store.reload();
  assert.deepEqual(result.changed, []);
  assert.equal(result.config, before);
  assert.equal(store.current, before);
  assert.deepEqual(calls, []);
});

test('the environment is read again on reload', async (t) => {
  const { file } = await fixture(t);
  const env: Record<string, string> = {};
  const store = await ConfigStore.open(bgpAnnouncer, { file, env });
  env.NETACCEL_BGP_ANNOUNCER_LOG_LEVEL = 'debug';
  const result = await store.reload();
  assert.deepEqual(result.changed, ['logLevel']);
  assert.equal(store.current.logLevel, 'debug');
});

test('concurrent reloads: the second compares with the result of the first, listeners run once', async (t) => {
  const { file } = await fixture(t);
  const store = await ConfigStore.open(bgpAnnouncer, { file, env: {} });
  const calls = record(store);
  await writeFile(file, VALID_YAML.replace('localAs: 65001', 'localAs: 65009'));
  const [first, second] = await Promise.all([store.reload(), store.reload()]);
  assert.deepEqual(first.changed, ['bgp.localAs']);
  assert.deepEqual(second.changed, [], 'the second reload compares with the result of the first');
  assert.equal(second.config, first.config);
  assert.equal(calls.length, 1);
});

test('listeners: unsubscribe, and a throwing listener neither stops the others nor the reload', async (t) => {
  const { file } = await fixture(t);
  const listenerErrors: unknown[] = [];
  const store = await ConfigStore.open(bgpAnnouncer, { file, env: {}, onListenerError: (err) => listenerErrors.push(err) });
  const boom = new Error('listener bug');
  store.subscribe(() => {
    throw boom;
  });
  const calls = record(store);
  let removedCalls = 0;
  const unsubscribe = store.subscribe(() => removedCalls++);
  unsubscribe();

  await writeFile(file, VALID_YAML.replace('localAs: 65001', 'localAs: 65009'));
  const result = await store.reload();
  assert.deepEqual(result.changed, ['bgp.localAs']);
  assert.equal(store.current.bgp.localAs, 65009);
  assert.equal(calls.length, 1);
  assert.equal(removedCalls, 0);
  assert.deepEqual(listenerErrors, [boom]);
});

test('watch reloads after the file is replaced, and reports a refused reload without throwing', async (t) => {
  const { file } = await fixture(t);
  const store = await ConfigStore.open(bgpAnnouncer, { file, env: {} });
  t.onTestFinished(() => store.close());
  const calls = record(store);

  const reloads = new Inbox<ReloadResult<Config>>();
  const errors = new Inbox<unknown>();
  const watcher = store.watch({ debounceMs: 20, onReload: reloads.push, onError: errors.push });

  await replaceFile(file, VALID_YAML.replace('holdTime: 30', 'holdTime: 60'));
  const result = await reloads.next('the reload with holdTime 60', (r) => r.changed.length > 0);
  assert.deepEqual(result.changed, ['bgp.peers[1].holdTime']);
  assert.equal(store.current.bgp.peers[1]!.holdTime, 60);
  assert.equal(calls.length, 1);
  assert.deepEqual(errors.items, []);

  const running = store.current;
  await replaceFile(file, VALID_YAML.replace('holdTime: 30', 'holdTime: 1'));
  const err = await errors.next('a refused reload', () => true);
  assert.ok(NA_ERR_CONFIG_INVALID.is(err), String(err));
  assert.match(err.message, /^bgp\.peers\[1\]\.holdTime: expected 0 or 3\.\.65535, got 1 \(at .*:11:7\)$/);
  assert.equal(store.current, running);
  assert.equal(calls.length, 1);

  watcher.close();
  watcher.close(); // closing twice is harmless
});

test('watch needs a file', async () => {
  const store = await ConfigStore.open(bgpAnnouncer, {
    env: { NETACCEL_BGP_ANNOUNCER_BGP__LOCAL_AS: '65001', NETACCEL_BGP_ANNOUNCER_BGP__ROUTER_ID: '10.0.0.1' },
  });
  assert.throws(
    () => store.watch({ onError: () => undefined }),
    (err) => NA_ERR_CONFIG_WATCH.is(err) && err.message === 'cannot watch configuration of bgp-announcer: the store has no file',
  );
});

test('open fails as loadConfig does', async (t) => {
  const { dir } = await fixture(t);
  await assert.rejects(ConfigStore.open(bgpAnnouncer, { file: join(dir, 'missing.yaml'), env: {} }), (err) => NA_ERR_CONFIG_FILE_NOT_FOUND.is(err));
});
