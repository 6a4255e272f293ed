import { afterAll, beforeAll, test } from 'vitest';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NA_ERR_LOADER_INVALID_REQUEST, NA_ERR_LOADER_OBJECT_NOT_FOUND, NA_ERR_LOADER_PATH_OUTSIDE } from './errors.js';
import { canonicalGlobals, objectId, objectName, readObject, sha256Hex } from './object-source.js';

let root = '';
let dir = '';
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'loader-source-'));
  dir = join(root, 'objects');
  mkdirSync(join(dir, 'sub'), { recursive: true });
  writeFileSync(join(dir, 'a.bpf.o'), 'object a');
  writeFileSync(join(dir, 'sub', 'b.o'), 'object b');
  writeFileSync(join(root, 'secret'), 'outside');
  symlinkSync(join(root, 'secret'), join(dir, 'out.bpf.o'));
  symlinkSync(join(dir, 'a.bpf.o'), join(dir, 'alias.bpf.o'));
  symlinkSync(dir, join(root, 'link-to-objects'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

test('paths inside the directory: relative, absolute, through symlinks that stay inside', () => {
  const a = readObject(dir, 'a.bpf.o');
  assert.deepEqual([a.path, a.name, a.sha256, a.bytes.toString()], [join(dir, 'a.bpf.o'), 'a', sha256Hex('object a'), 'object a']);
  assert.equal(readObject(dir, join(dir, 'sub', 'b.o')).name, 'b');
  assert.equal(readObject(dir, 'alias.bpf.o').path, join(dir, 'a.bpf.o'), 'the symlink is resolved');
  assert.equal(readObject(join(root, 'link-to-objects'), 'a.bpf.o').path, join(dir, 'a.bpf.o'), 'the directory may be a symlink');
});

test('outside the directory: refused before existence is revealed, symlinks resolved first', () => {
  const outside = (p: string, resolved: string) => assert.throws(() => readObject(dir, p), (e: unknown) => NA_ERR_LOADER_PATH_OUTSIDE.is(e) && e.message === `path ${p}: resolves to ${resolved}, outside the object directory ${dir}`);
  outside('../secret', join(root, 'secret'));
  outside('/etc/does-not-exist', '/etc/does-not-exist');
  outside('out.bpf.o', join(root, 'secret'));
  outside('.', dir);
  assert.throws(() => readObject(dir, 'missing.o'), (e: unknown) => NA_ERR_LOADER_OBJECT_NOT_FOUND.is(e) && e.message === `no object file missing.o in ${dir}`);
  assert.throws(() => readObject(dir, 'sub'), (e: unknown) => NA_ERR_LOADER_INVALID_REQUEST.is(e) && e.message === 'path: sub is not a file');
  assert.throws(() => readObject(dir, ' '), (e: unknown) => NA_ERR_LOADER_INVALID_REQUEST.is(e));
  assert.throws(() => readObject(join(root, 'nope'), 'a.o'), (e: unknown) => NA_ERR_LOADER_OBJECT_NOT_FOUND.is(e) && /object directory .* does not exist/.test(e.message));
});

test('identity: file hash plus sorted globals; names are made safe', () => {
  const g1 = canonicalGlobals({ b: Buffer.from([2]), a: Buffer.from([0xab, 1]) });
  assert.deepEqual(Object.entries(g1), [['a', 'ab01'], ['b', '02']]);
  const sha = sha256Hex('x');
  assert.equal(objectId('sel', sha, g1), objectId('sel', sha, canonicalGlobals({ a: Buffer.from([0xab, 1]), b: Buffer.from([2]) })));
  assert.notEqual(objectId('sel', sha, g1), objectId('sel', sha, {}));
  assert.match(objectId('sel', sha, {}), /^sel-[0-9a-f]{12}$/);
  assert.equal(objectName('/x/my.prog v2.bpf.o'), 'my_prog_v2');
  assert.equal(objectName('/x/.o'), 'object');
});
