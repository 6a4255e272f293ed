import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, test } from 'vitest';
import * as z from 'zod';
import { ConfigStore, defineConfig, listenAddress, logLevel } from '@netaccel/config';
import { createLogCapture, createLogger, notifyReceiver as receiver } from '@netaccel/telemetry';
import type { LogCapture, NotifyReceiver } from '@netaccel/telemetry';
import { DaemonHost } from './host.js';
import { runDaemon } from './run.js';
import { packageOf, packageVersion } from './version.js';

const dir = mkdtempSync(join(tmpdir(), 'netaccel-daemon-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let seq = 0;

const testConfig = defineConfig({
  app: 'test-daemon',
  schema: z.strictObject({
    logLevel: logLevel(),
    greeting: z.string(),
    telemetry: z.strictObject({ listen: listenAddress() }),
  }),
  defaults: { logLevel: 'info', greeting: 'hello', telemetry: { listen: '127.0.0.1:0' } },
});

interface Fixture {
  readonly file: string;
  readonly notify: NotifyReceiver;
  readonly capture: LogCapture;
  readonly host: DaemonHost<typeof testConfig>;
}

async function fixture(yaml = 'greeting: hello\n'): Promise<Fixture> {
  const n = ++seq;
  const file = join(dir, `daemon-${n}.yaml`);
  writeFileSync(file, yaml);
  const notify = receiver(join(dir, `notify-${n}`));
  const capture = createLogCapture();
  const log = createLogger({ name: 'test-daemon', level: 'debug', destination: capture.stream });
  const store = await ConfigStore.open(testConfig, { file, env: {} });
  const host = new DaemonHost({ name: 'test-daemon', version: '1.2.3', store, log, env: { NOTIFY_SOCKET: notify.socket }, signals: new EventEmitter() });
  return { file, notify, capture, host };
}

describe('DaemonHost', () => {
  test('close: STOPPING=1 first, then the hooks in reverse order of registration; a failing hook is logged, the others run', async () => {
    const { host, notify, capture } = await fixture();
    const order: string[] = [];
    await host.start((h) => {
      h.onClose('first', () => void order.push('first'));
      h.onClose('second', async () => {
        await new Promise((r) => setTimeout(r, 10));
        order.push('second');
      });
      h.onClose('broken', () => {
        order.push('broken');
        throw new Error('disk gone');
      });
      h.onClose('last', () => void order.push('last'));
      return { status: () => 'fine' };
    });
    host.ready();
    assert.deepEqual(notify.drain(), ['READY=1\nSTATUS=fine']);
    const closing = host.close('test');
    assert.equal(host.close('again'), closing, 'a second close returns the same promise');
    await assert.rejects(closing, { code: 'NA_ERR_DAEMON_CLOSE_FAILED', message: /broken failed/ });
    assert.deepEqual(order, ['last', 'broken', 'second', 'first']);
    assert.deepEqual(notify.drain(), ['STOPPING=1']);
    const failed = capture.find({ msg: 'close hook failed' });
    assert.equal(failed.length, 1);
    assert.equal(failed[0]!.hook, 'broken');
    assert.throws(() => host.onClose('late', () => undefined), { code: 'NA_ERR_DAEMON_CLOSED' });
    notify.close();
  });

  test('a start that fails undoes what was started, in reverse order, and throws its error', async () => {
    const { host, notify } = await fixture();
    const order: string[] = [];
    let bound: string | undefined;
    const boom = new Error('the data plane cannot be opened');
    await assert.rejects(
      host.start(async (h) => {
        h.onClose('state lock', () => void order.push('state lock'));
        const { address } = await h.serveTelemetry({ listen: { host: '127.0.0.1', port: 0 } });
        assert.equal(address.kind, 'tcp');
        bound = address.url;
        h.onClose('loader', () => void order.push('loader'));
        throw boom;
      }),
      (err) => err === boom,
    );
    assert.deepEqual(order, ['loader', 'state lock']);
    assert.ok(bound !== undefined);
    await assert.rejects(fetch(`${bound}/healthz`), 'the telemetry server was closed');
    assert.equal(host.closed, true);
    assert.deepEqual(notify.drain(), ['STOPPING=1'], 'never READY');
    notify.close();
  });

  test('the telemetry server: /v1/status has app, version and pid before the daemon\'s fields; metrics carry the version', async () => {
    const { host, notify } = await fixture();
    const { server } = await host.start(async (h) => ({ ...(await h.serveTelemetry({ listen: { host: '127.0.0.1', port: 0 }, status: () => ({ peers: 2 }), readiness: { 'test-ready': () => true } })), status: () => 'x' }));
    const status = JSON.parse((await server.app.inject({ url: '/v1/status' })).body) as Record<string, unknown>;
    assert.deepEqual(status, { app: 'test-daemon', version: '1.2.3', pid: process.pid, peers: 2 });
    assert.equal((await server.app.inject({ url: '/readyz' })).statusCode, 200);
    assert.match((await server.app.inject({ url: '/metrics' })).body, /netaccel_build_info\{app="test-daemon",version="1\.2\.3"[^}]*\} 1/);
    await host.close();
    notify.close();
  });

  test('gRPC services are served through the host and shut down (socket removed) at close', async () => {
    const { host, notify } = await fixture();
    const socket = join(dir, `grpc-${seq}.sock`);
    const { rpc } = await host.start(async (h) => ({ rpc: await h.serveGrpc({ address: socket, services: [] }), status: () => 'serving' }));
    assert.equal(rpc.target, `unix://${socket}`);
    assert.ok(existsSync(socket));
    await host.close();
    assert.equal(existsSync(socket), false);
    notify.close();
  });
});

describe('DaemonHost reload', () => {
  test('a good configuration goes through the reload hooks: RELOADING=1 … READY=1, counted, logged with the changed paths', async () => {
    const { host, notify, capture, file } = await fixture();
    const seen: [string, string, readonly string[]][] = [];
    let greeting = host.config.greeting;
    await host.start((h) => {
      h.beforeReload(() => seen.push(['before', '', []]));
      h.onReload((next, prev, changed) => {
        seen.push([prev.greeting, next.greeting, changed]);
        greeting = next.greeting;
      });
      return { status: () => `greeting ${greeting}` };
    });
    host.ready();
    notify.drain();
    writeFileSync(file, 'greeting: bonjour\n');
    const outcome = await host.reload();
    assert.deepEqual(outcome, { accepted: true, changed: ['greeting'] });
    assert.deepEqual(seen, [['before', '', []], ['hello', 'bonjour', ['greeting']]]);
    assert.equal(host.config.greeting, 'bonjour');
    const messages = notify.drain();
    assert.equal(messages.length, 2);
    assert.match(messages[0]!, /^RELOADING=1\nMONOTONIC_USEC=\d+\nSTATUS=reloading the configuration$/);
    assert.equal(messages[1], 'READY=1\nSTATUS=greeting bonjour');
    const line = capture.find({ msg: 'configuration reloaded' })[0]!;
    assert.equal(line.component, 'config');
    assert.deepEqual(line.paths, ['greeting']);
    const { server } = await host.serveTelemetry({ listen: { host: '127.0.0.1', port: 0 } });
    assert.match((await server.app.inject({ url: '/metrics' })).body, /netaccel_config_reloads_total\{result="ok"\} 1/);
    await host.close();
    notify.close();
  });

  test('refused whole: a bad file or a hook that refuses keeps the running configuration and state; the status line says so', async () => {
    const { host, notify, capture, file } = await fixture();
    let applied = 0;
    const state = { greeting: host.config.greeting };
    await host.start((h) => {
      h.onReload((next) => {
        if (next.greeting === 'forbidden') throw new Error('greeting: forbidden is not allowed');
        applied++;
        state.greeting = next.greeting;
      });
      return { status: () => `greeting ${state.greeting}` };
    });
    const before = host.config;
    notify.drain();

    writeFileSync(file, 'greeting: [not, a, string]\n');
    const bad = await host.reload();
    assert.equal(bad.accepted, false);
    assert.equal((bad.error as { code?: string }).code, 'NA_ERR_CONFIG_INVALID');
    assert.equal(host.config, before, 'the running configuration is the same object');
    assert.equal(applied, 0);

    writeFileSync(file, 'greeting: forbidden\n');
    const refused = await host.reload();
    assert.equal(refused.accepted, false);
    assert.deepEqual(refused.changed, ['greeting']);
    assert.match((refused.error as Error).message, /forbidden is not allowed/);
    assert.equal(host.config, before);
    assert.deepEqual(state, { greeting: 'hello' });

    const messages = notify.drain();
    assert.equal(messages.length, 4);
    assert.match(messages[2]!, /^RELOADING=1\n/);
    assert.equal(messages[3], 'READY=1\nSTATUS=greeting hello; the last reload was refused (see the journal)');
    assert.equal(capture.find({ msg: 'configuration reload refused; the running configuration stays' }).length, 2);

    writeFileSync(file, 'greeting: hi\n');
    assert.equal((await host.reload()).accepted, true);
    assert.deepEqual(notify.drain().at(-1), 'READY=1\nSTATUS=greeting hi', 'an accepted reload clears the note');
    await host.close();
    notify.close();
  });

  test('a daemon without a reload hook refuses a changed configuration (NA_ERR_DAEMON_RELOAD_UNSUPPORTED) and accepts an unchanged one', async () => {
    const { host, notify, file } = await fixture();
    await host.start(() => ({ status: () => 'static' }));
    writeFileSync(file, '# only a comment changed\ngreeting: hello\n');
    assert.deepEqual(await host.reload(), { accepted: true, changed: [] });
    writeFileSync(file, 'greeting: changed\n');
    const outcome = await host.reload();
    assert.equal(outcome.accepted, false);
    assert.equal((outcome.error as { code?: string }).code, 'NA_ERR_DAEMON_RELOAD_UNSUPPORTED');
    assert.match((outcome.error as Error).message, /test-daemon takes its configuration at start only; restart it to apply the change of greeting/);
    assert.equal(host.config.greeting, 'hello');
    await host.close();
    notify.close();
  });
});

describe('runDaemon', () => {
  test('loads the configuration, starts, says READY=1; SIGHUP reloads; SIGTERM: STOPPING=1, hooks in reverse, exit 0', async () => {
    const n = ++seq;
    const file = join(dir, `run-${n}.yaml`);
    writeFileSync(file, 'greeting: hello\nlogLevel: warn\n');
    const notify = receiver(join(dir, `notify-run-${n}`));
    const signals = new EventEmitter();
    const capture = createLogCapture();
    const order: string[] = [];
    let exited: number | undefined;
    let greeting = '';
    const running = await runDaemon(
      {
        name: 'test-daemon',
        version: '1.2.3',
        config: testConfig,
        start(host) {
          greeting = host.config.greeting;
          host.onClose('a', () => void order.push('a'));
          host.onClose('b', () => void order.push('b'));
          host.onReload((next) => void (greeting = next.greeting));
          return { status: () => `greeting ${greeting}` };
        },
        running: () => ({ greeting }),
      },
      { argv: ['--config', file], env: { NOTIFY_SOCKET: notify.socket }, signals, exit: (code) => void (exited = code), logDestination: capture.stream },
    );
    assert.ok(running);
    assert.deepEqual(notify.drain(), ['READY=1\nSTATUS=greeting hello']);
    assert.equal(capture.find({ msg: 'test-daemon running' }).length, 0, 'logLevel warn from the file');

    writeFileSync(file, 'greeting: bonjour\nlogLevel: info\n');
    signals.emit('SIGHUP', 'SIGHUP');
    const reload: string[] = [];
    for (let i = 0; i < 300 && !reload.some((m) => m.startsWith('READY=1')); i++) {
      await new Promise((r) => setTimeout(r, 10));
      reload.push(...notify.drain());
    }
    assert.equal(reload.length, 2, reload.join(' | '));
    assert.equal(reload[1], 'READY=1\nSTATUS=greeting bonjour');
    assert.equal(capture.find({ msg: 'configuration reloaded' }).length, 0, 'logged at info, still under warn');

    signals.emit('SIGTERM', 'SIGTERM');
    for (let i = 0; i < 200 && exited === undefined; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(exited, 0);
    assert.equal(capture.find({ msg: 'shutting down' }).length, 1, 'the reloaded level (info) is in force');
    assert.deepEqual(order, ['b', 'a']);
    assert.deepEqual(notify.drain(), ['STOPPING=1']);
    assert.equal(signals.listenerCount('SIGHUP'), 0);
    notify.close();
  });

  test('a configuration that cannot be loaded is reported on stderr with its code: exit code 1, nothing started', async () => {
    const written: string[] = [];
    const saved = process.exitCode;
    try {
      const r = await runDaemon(
        { name: 'test-daemon', version: '1.2.3', config: testConfig, start: () => assert.fail('not started') },
        { argv: ['--config', join(dir, 'absent.yaml')], env: {}, stderr: { write: (t: string) => written.push(t) }, signals: new EventEmitter() },
      );
      assert.equal(r, undefined);
      assert.equal(process.exitCode, 1);
      assert.match(written.join(''), /^test-daemon: cannot load the configuration: NA_ERR_CONFIG_FILE_NOT_FOUND: /);
      written.length = 0;
      await runDaemon(
        { name: 'test-daemon', version: '1.2.3', config: testConfig, start: () => assert.fail('not started') },
        { argv: ['--bogus'], env: {}, stderr: { write: (t: string) => written.push(t) }, signals: new EventEmitter() },
      );
      assert.match(written.join(''), /NA_ERR_DAEMON_OPTIONS_INVALID: arguments: .*--bogus/);
    } finally {
      process.exitCode = saved;
    }
  });

  test('a start that fails is logged (fatal), undone, and leaves exit code 1', async () => {
    const file = join(dir, `fail-${++seq}.yaml`);
    writeFileSync(file, 'greeting: hello\n');
    const capture = createLogCapture();
    const signals = new EventEmitter();
    const undone: string[] = [];
    const saved = process.exitCode;
    try {
      const r = await runDaemon(
        {
          name: 'test-daemon',
          version: '1.2.3',
          config: testConfig,
          start(host) {
            host.onClose('lock', () => void undone.push('lock'));
            throw new Error('another loader owns this state directory');
          },
        },
        { argv: ['-c', file], env: {}, signals, logDestination: capture.stream },
      );
      assert.equal(r, undefined);
      assert.equal(process.exitCode, 1);
      assert.deepEqual(undone, ['lock']);
      const fatal = capture.find({ msg: 'test-daemon cannot start' })[0]!;
      assert.equal(fatal.level, 'fatal');
      assert.match(JSON.stringify(fatal.err), /another loader owns/);
      assert.equal(signals.listenerCount('SIGTERM'), 0);
      assert.equal(signals.listenerCount('SIGHUP'), 0);
    } finally {
      process.exitCode = saved;
    }
  });
});

test('packageVersion: the version of the package.json above the module', () => {
  assert.equal(packageVersion(import.meta.url), '0.1.0');
  assert.equal(packageOf(import.meta.url).name, '@netaccel/daemon');
  assert.throws(() => packageVersion('/'), { code: 'NA_ERR_DAEMON_VERSION' });
});
