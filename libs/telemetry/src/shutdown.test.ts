import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { describe, it } from 'vitest';
import { createLogCapture } from './log-capture.js';
import { createLogger } from './logger.js';
import { onShutdown } from './shutdown.js';
import type { ShutdownOptions } from './shutdown.js';

function setup() {
  const capture = createLogCapture();
  const log = createLogger({ name: 'lbd', level: 'debug', destination: capture.stream });
  const signals = new EventEmitter();
  const exits: number[] = [];
  let exited!: (code: number) => void;
  const exitedOnce = new Promise<number>((resolve) => (exited = resolve));
  const exit = (code: number) => {
    exits.push(code);
    exited(code);
  };
  const opts = (extra: ShutdownOptions = {}): ShutdownOptions => ({ signalSource: signals, exit, ...extra });
  return { capture, log, signals, exits, exitedOnce, opts };
}

describe('onShutdown', () => {
  it('on SIGTERM runs the handlers in reverse registration order, logs and exits 0', async () => {
    const { capture, log, signals, exits, exitedOnce, opts } = setup();
    const order: string[] = [];
    const shutdown = onShutdown(
      log,
      [
        { name: 'bpf-maps', run: () => void order.push('bpf-maps') },
        async function bgp() {
          await new Promise((resolve) => setTimeout(resolve, 5));
          order.push('bgp');
        },
      ],
      opts(),
    );
    shutdown.add({ name: 'telemetry', run: async () => void order.push('telemetry') });
    assert.equal(signals.listenerCount('SIGTERM'), 1);
    assert.equal(signals.listenerCount('SIGINT'), 1);

    signals.emit('SIGTERM', 'SIGTERM');
    assert.equal(await exitedOnce, 0);
    assert.deepEqual(order, ['telemetry', 'bgp', 'bpf-maps']);
    assert.deepEqual(exits, [0]);
    assert.equal(signals.listenerCount('SIGTERM'), 0, 'listeners are removed once done');
    const records = capture.find({ component: 'shutdown' });
    assert.deepEqual(
      records.filter((r) => r.level === 'info').map((r) => [r.msg, r.reason]),
      [
        ['shutting down', 'SIGTERM'],
        ['shutdown complete', 'SIGTERM'],
      ],
    );
    assert.deepEqual(
      records.filter((r) => r.msg === 'shutdown handler done').map((r) => r.handler),
      ['telemetry', 'bgp', 'bpf-maps'],
    );
  });

  it('reports a timeout, aborts the running handler and exits 1', async () => {
    const { capture, log, signals, exits, exitedOnce, opts } = setup();
    const ran: string[] = [];
    let abortReason: unknown;
    onShutdown(
      log,
      [
        { name: 'never-reached', run: () => void ran.push('never-reached') },
        {
          name: 'hangs',
          run: (signal) =>
            new Promise((_, reject) => {
              signal.addEventListener('abort', () => {
                abortReason = signal.reason;
                reject(signal.reason as Error);
              });
            }),
        },
      ],
      opts({ timeoutMs: 30 }),
    );
    signals.emit('SIGINT', 'SIGINT');
    assert.equal(await exitedOnce, 1);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(exits, [1]);
    assert.deepEqual(ran, [], 'handlers after the deadline do not run');
    assert.equal((abortReason as { code?: string }).code, 'NA_ERR_TELEMETRY_SHUTDOWN_TIMEOUT');
    const [timeout] = capture.find({ msg: 'shutdown timed out' });
    assert.equal(timeout?.level, 'error');
    assert.equal(timeout?.handler, 'hangs');
    const err = timeout?.err as { code: string; message: string };
    assert.equal(err.code, 'NA_ERR_TELEMETRY_SHUTDOWN_TIMEOUT');
    assert.equal(err.message, 'shutdown did not finish within 30 ms');
    assert.equal(capture.find({ msg: 'shutdown handler failed' }).length, 0);
  });

  it('logs a failing handler, runs the others and exits 1', async () => {
    const { capture, log, signals, exitedOnce, opts } = setup();
    const order: string[] = [];
    onShutdown(
      log,
      [
        { name: 'first', run: () => void order.push('first') },
        {
          name: 'broken',
          run: () => {
            throw new Error('map unpin failed');
          },
        },
      ],
      opts(),
    );
    signals.emit('SIGTERM', 'SIGTERM');
    assert.equal(await exitedOnce, 1);
    assert.deepEqual(order, ['first']);
    const [failed] = capture.find({ msg: 'shutdown handler failed' });
    const err = failed?.err as { code: string; message: string };
    assert.equal(err.code, 'NA_ERR_TELEMETRY_SHUTDOWN_HANDLER_FAILED');
    assert.equal(err.message, 'shutdown handler broken failed: map unpin failed');
    assert.equal(capture.find({ msg: 'shutdown finished with errors' })[0]?.exitCode, 1);
  });

  it('exits at once with 1 on a second signal', async () => {
    const { capture, log, signals, exits, opts } = setup();
    let unblock!: () => void;
    const blocked = new Promise<void>((resolve) => (unblock = resolve));
    onShutdown(log, [{ name: 'slow', run: () => blocked }], opts({ timeoutMs: 5_000 }));
    signals.emit('SIGTERM', 'SIGTERM');
    signals.emit('SIGINT', 'SIGINT');
    assert.deepEqual(exits, [1]);
    assert.equal(capture.find({ msg: 'second signal during shutdown: exiting now' })[0]?.signal, 'SIGINT');
    unblock();
    await new Promise((resolve) => setTimeout(resolve, 10));
    assert.deepEqual(exits, [1], 'exit is called once');
  });

  it('can be started without a signal and runs once', async () => {
    const { log, exits, opts } = setup();
    let runs = 0;
    const shutdown = onShutdown(log, [() => void runs++], opts());
    const [a, b] = await Promise.all([shutdown.shutdown('fatal error'), shutdown.shutdown('again')]);
    assert.equal(a, 0);
    assert.equal(b, 0);
    assert.equal(runs, 1);
    assert.deepEqual(exits, [0]);
  });

  it('stops listening after dispose', () => {
    const { log, signals, opts } = setup();
    const shutdown = onShutdown(log, [], opts({ signals: ['SIGHUP'] }));
    assert.equal(signals.listenerCount('SIGHUP'), 1);
    assert.equal(signals.listenerCount('SIGTERM'), 0);
    shutdown.dispose();
    assert.equal(signals.listenerCount('SIGHUP'), 0);
  });

  it('rejects bad options and handlers with the path of the field first', () => {
    const { log, opts } = setup();
    const code = 'NA_ERR_TELEMETRY_OPTIONS_INVALID';
    assert.throws(() => onShutdown(log, [], opts({ timeoutMs: 0 })), { code, message: /^timeoutMs: / });
    assert.throws(() => onShutdown(log, [], opts({ signals: [] })), { code, message: /^signals: / });
    assert.throws(() => onShutdown(log, [{ name: '', run: () => undefined }], opts()), {
      code,
      message: 'handlers[0].name: expected a non-empty string, got ""',
    });
    assert.throws(() => onShutdown(log, [{ name: 'x', run: 1 as never }], opts()), {
      code,
      message: 'handlers[0].run: expected a function, got 1',
    });
    assert.throws(() => onShutdown(log, [], { signalSource: {} as never }), { code, message: /^signalSource: / });
  });
});
