import { test } from 'vitest';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NA_ERR_LB_LOADER_UNREACHABLE } from './errors.js';
import { waitForLoader } from './loader-wait.js';

test('the controller waits for the loader socket: resolves once it accepts (started later), refuses after the wait with the address', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lb-loader-wait-'));
  const server = createServer((s) => s.destroy());
  t.onTestFinished(() => {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const socket = join(dir, 'loader.sock');
  await assert.rejects(waitForLoader(socket, 50), (e: unknown) => NA_ERR_LB_LOADER_UNREACHABLE.is(e) && e.message.includes(socket) && /ENOENT/.test(e.message));
  let accepted = false;
  const waiting = waitForLoader(`unix:${socket}`, 10_000).then(() => {
    accepted = true;
  });
  await new Promise((r) => setTimeout(r, 60));
  assert.equal(accepted, false, 'nothing listens yet');
  await new Promise<void>((r) => server.listen(socket, () => r()));
  await waiting;
  assert.equal(accepted, true);
  // TCP host:port as well
  const tcp = createServer((s) => s.destroy());
  await new Promise<void>((r) => tcp.listen(0, '127.0.0.1', () => r()));
  t.onTestFinished(() => void tcp.close());
  await waitForLoader(`127.0.0.1:${(tcp.address() as { port: number }).port}`, 1000);
});
