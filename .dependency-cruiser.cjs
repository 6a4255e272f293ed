// Dependency rules of the monorepo (ARCHITECTURE.md, "Dependency rules"): apps may import libs; libs never import
// apps; apps never import each other; no circular imports anywhere; a relative import never leaves
// its package (other packages are imported by name, through their exports). `npm run depcheck` fails on
// any violation; scripts/depcheck.slow.test.ts proves that it does.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'Circular imports make module initialisation order fragile.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'lib-imports-app',
      severity: 'error',
      comment: 'Libraries never import applications.',
      from: { path: '(^|/)libs/[^/]+/' },
      to: { path: '(^|/)apps/[^/]+/' },
    },
    {
      name: 'app-imports-app',
      severity: 'error',
      comment: 'Applications talk over gRPC, never by importing each other.',
      from: { path: '(^|/)apps/([^/]+)/' },
      to: { path: '(^|/)apps/[^/]+/', pathNot: '(^|/)apps/$2/' },
    },
    {
      name: 'lib-imports-app-package',
      severity: 'error',
      comment: 'Libraries never import applications, also not by package name.',
      from: { path: '(^|/)libs/[^/]+/' },
      to: { path: '@netaccel/app-' },
    },
    {
      name: 'relative-import-leaves-package',
      severity: 'error',
      comment:
        'A relative import stays inside its own package (libs/<name>, apps/<name>, bpf, bench, test, docker, packaging, scripts): ' +
        "another package is imported by its name and through its package.json exports (`@netaccel/bpf-programs/xlb`, " +
        '`@netaccel/app-lb-controller/testing`), never by a path into its folder.',
      from: { path: '^(libs/[^/]+|apps/[^/]+|bpf|bench|test|docker|packaging|scripts)/' },
      to: {
        dependencyTypes: ['local'],
        dependencyTypesNot: ['aliased'],
        pathNot: '^$1/',
      },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment: 'Every import must resolve.',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: ['node_modules'] },
    exclude: { path: ['(^|/)dist/', '(^|/)build/', '(^|/)node_modules/', '\\.d\\.ts$'] },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.js', '.mjs', '.cjs', '.json'],
    },
  },
};
