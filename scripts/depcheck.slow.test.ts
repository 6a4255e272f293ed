// The dependency rules (.dependency-cruiser.cjs) are enforced by a check that fails: these
// tests run the real check on small trees that break each rule, and on one that keeps them.
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stripVTControlCharacters } from 'node:util';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const depcruise = join(root, 'node_modules', '.bin', 'depcruise');

function check(files: Record<string, string>): { status: number | null; out: string } {
  const dir = mkdtempSync(join(tmpdir(), 'depcheck-'));
  try {
    const paths = { '@netaccel/*': ['./libs/*/src/index.ts'], '@netaccel/app-x/testing': ['./apps/x/src/testing/index.ts'] };
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', paths } }));
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), text);
    }
    const trees = ['libs', 'apps', 'bpf', 'bench', 'test', 'docker'].filter((t) => Object.keys(files).some((f) => f.startsWith(`${t}/`)));
    const r = spawnSync(depcruise, ['--config', join(root, '.dependency-cruiser.cjs'), '--output-type', 'err', ...trees], {
      cwd: dir,
      encoding: 'utf8',
      // The check's text is matched below: no colour, whatever the caller's environment forces
      // (CI sets FORCE_COLOR, which put escape codes between a rule's name and its files).
      env: { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1' },
    });
    return { status: r.status, out: stripVTControlCharacters(`${r.stdout}${r.stderr}`) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// Packages import each other by name (tsconfig paths here, as in the repository); relative imports
// stay inside their package.
const clean = {
  'libs/a/src/index.ts': "export const a = 1;\n",
  'libs/b/src/index.ts': "import { a } from '@netaccel/a';\nexport const b = a + 1;\n",
  'apps/x/src/main.ts': "import { b } from '@netaccel/b';\nimport { y } from './y.js';\nconsole.log(b, y);\n",
  'apps/x/src/y.ts': "export const y = 2;\n",
  'apps/x/src/testing/index.ts': "export { y } from '../y.js';\n",
  'bench/x/index.ts': "import { y } from '@netaccel/app-x/testing';\nimport { b } from '@netaccel/b';\nconsole.log(y, b);\n",
  'test/x/x.test.ts': "import { y } from '@netaccel/app-x/testing';\nimport { z } from '../support.js';\nconsole.log(y, z);\n",
  'test/support.ts': "export const z = 3;\n",
};

test('a tree that keeps the rules passes', () => {
  const r = check(clean);
  assert.equal(r.status, 0, r.out);
});

test('a lib importing an app fails, naming the rule and the files', () => {
  const r = check({ ...clean, 'libs/a/src/index.ts': "import '../../../apps/x/src/y.js';\nexport const a = 1;\n" });
  assert.notEqual(r.status, 0);
  assert.match(r.out, /lib-imports-app/);
  assert.match(r.out, /libs\/a\/src\/index\.ts/);
});

test('an app importing another app fails', () => {
  const r = check({ ...clean, 'apps/z/src/main.ts': "import { y } from '../../x/src/y.js';\nconsole.log(y);\n" });
  assert.notEqual(r.status, 0);
  assert.match(r.out, /app-imports-app/);
  assert.match(r.out, /apps\/z\/src\/main\.ts/);
});

test('a relative import into another package fails, also between libraries', () => {
  const r = check({ ...clean, 'libs/b/src/index.ts': "import { a } from '../../a/src/index.js';\nexport const b = a + 1;\n" });
  assert.notEqual(r.status, 0);
  assert.match(r.out, /relative-import-leaves-package: libs\/b\/src\/index\.ts → libs\/a\/src\/index\.ts/);
});

test("an app's relative import of a lib's sources fails", () => {
  const r = check({ ...clean, 'apps/x/src/main.ts': "import { b } from '../../../libs/b/src/index.js';\nconsole.log(b);\n" });
  assert.notEqual(r.status, 0);
  assert.match(r.out, /relative-import-leaves-package: apps\/x\/src\/main\.ts → libs\/b\/src\/index\.ts/);
});

test("bench, test and docker reaching into an app's sources, the BPF programs' folder or each other fail", () => {
  for (const [from, text, to] of [
    ['bench/x/index.ts', "import { y } from '../../apps/x/src/y.js';\nconsole.log(y);\n", 'apps/x/src/y.ts'],
    ['docker/x.test.ts', "import { y } from '../apps/x/src/y.js';\nconsole.log(y);\n", 'apps/x/src/y.ts'],
    ['test/x/x.test.ts', "import { c } from '../../bpf/xlb/codec.js';\nconsole.log(c);\n", 'bpf/xlb/codec.ts'],
    ['bench/x/index.ts', "import { z } from '../../test/support.js';\nconsole.log(z);\n", 'test/support.ts'],
  ] as const) {
    const r = check({ ...clean, 'bpf/xlb/codec.ts': "export const c = 4;\n", [from]: text });
    assert.notEqual(r.status, 0, `${from} -> ${to}`);
    assert.ok(r.out.includes(`relative-import-leaves-package: ${from} → ${to}`), r.out);
  }
});

test('a BPF program binding importing a lib by relative path fails', () => {
  const r = check({ ...clean, 'bpf/xlb/codec.ts': "import { a } from '../../libs/a/src/index.js';\nexport const c = a;\n" });
  assert.notEqual(r.status, 0);
  assert.match(r.out, /relative-import-leaves-package: bpf\/xlb\/codec\.ts → libs\/a\/src\/index\.ts/);
});

test('a circular import fails', () => {
  const r = check({
    ...clean,
    'libs/c/src/p.ts': "import { q } from './q.js';\nexport const p = () => q;\n",
    'libs/c/src/q.ts': "import { p } from './p.js';\nexport const q = () => p;\n",
  });
  assert.notEqual(r.status, 0);
  assert.match(r.out, /no-circular/);
});

test('an import that does not resolve fails', () => {
  const r = check({ ...clean, 'libs/a/src/index.ts': "import './missing.js';\nexport const a = 1;\n" });
  assert.notEqual(r.status, 0);
  assert.match(r.out, /not-to-unresolvable/);
});
