// The replica runner's control file, watched (control-watch.ts): written in place, replaced by a
// rename (twice: the watch is re-armed on each new file), removed and created again, closed.
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { mkdtempSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { watchControlFile } from './control-watch.js';

function setup(t: { onTestFinished(fn: () => unknown): void }) {
  const dir = mkdtempSync(join(tmpdir(), 'pxn-control-'));
  t.onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'offloads');
  const seen: string[] = [];
  let waiting: { want: string; resolve: () => void } | undefined;
  const onValue = (text: string): void => {
    seen.push(text);
    if (waiting !== undefined && text === waiting.want) waiting.resolve();
  };
  /** Resolves once `want` was seen (now or later); fails after 5 s. */
  const until = (want: string): Promise<void> => {
    if (seen.at(-1) === want) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`never saw ${want}; saw ${JSON.stringify(seen)}`)), 5000);
      waiting = { want, resolve: () => (clearTimeout(timer), resolve()) };
    });
  };
  return { dir, file, seen, onValue, until };
}

test('written in place and replaced by renames: every final value seen, the first at once, no repeats', async (t) => {
  const { dir, file, seen, onValue, until } = setup(t);
  writeFileSync(file, '0\n');
  const w = watchControlFile(file, onValue);
  t.onTestFinished(() => w.close());
  assert.deepEqual(seen, ['0'], 'the value at start, read at once');
  writeFileSync(file, '7');
  await until('7');
  writeFileSync(file, '7'); // the same value again: not passed on
  for (const v of ['3', '5']) {
    writeFileSync(join(dir, 'tmp'), v);
    renameSync(join(dir, 'tmp'), file);
    await until(v);
  }
  writeFileSync(file, '1'); // in place, on the renamed file
  await until('1');
  assert.deepEqual(seen.filter((v) => v !== ''), ['0', '7', '3', '5', '1']);
});

test('removed and created again: seen once it exists; nothing after close', async (t) => {
  const { file, seen, onValue, until } = setup(t);
  const w = watchControlFile(file, onValue, { retryMs: 10 });
  t.onTestFinished(() => w.close());
  assert.deepEqual(seen, [], 'no file yet: nothing');
  writeFileSync(file, '4');
  await until('4');
  unlinkSync(file);
  writeFileSync(file, '6');
  await until('6');
  w.close();
  writeFileSync(file, '2');
  // a second watch sees '2' at once and '9' by its event: by then the closed one would have seen them
  const other = setup(t);
  const w2 = watchControlFile(file, other.onValue);
  t.onTestFinished(() => w2.close());
  assert.deepEqual(other.seen, ['2']);
  writeFileSync(file, '9');
  await other.until('9');
  assert.deepEqual(seen.filter((v) => v !== ''), ['4', '6'], JSON.stringify(seen));
});
