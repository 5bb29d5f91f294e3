// Lint for the whole workspace. Its main job is to make the dependency rules of
// DESIGN.md fail loudly: apps are imported by nobody, libs never import apps or tools,
// and the pure libs (raft, api) import no I/O — neither npm packages (Nx's
// bannedExternalImports) nor Node built-ins (which Nx skips, so no-restricted-imports does it).
import nx from '@nx/eslint-plugin';

// Node built-ins a pure lib must not touch, with and without the `node:` prefix.
const ioBuiltins = [
  'fs', 'fs/promises', 'net', 'http', 'http2', 'https', 'tls', 'dgram', 'dns', 'child_process',
  'worker_threads', 'cluster', 'timers', 'timers/promises', 'os', 'process', 'readline', 'crypto',
];
const bannedForPure = ['@grpc/*', 'classic-level', 'level', 'ws', 'node-pty', 'pino', 'prom-client'];

/** The project-level rules; `testsMayUseTools` lets integration tests start real daemons. */
function boundaries({ testsMayUseTools }) {
  const libDeps = testsMayUseTools ? ['type:lib', 'type:tool'] : ['type:lib'];
  return [
    'error',
    {
      enforceBuildableLibDependency: false,
      allowCircularSelfDependency: false,
      banTransitiveDependencies: false,
      checkDynamicDependenciesExceptions: [],
      depConstraints: [
        // A pure lib may only lean on other pure libs, and on no I/O package.
        {
          sourceTag: 'purity:pure',
          onlyDependOnLibsWithTags: testsMayUseTools ? ['purity:pure', 'type:tool'] : ['purity:pure'],
          bannedExternalImports: testsMayUseTools ? [] : bannedForPure,
        },
        { sourceTag: 'type:lib', onlyDependOnLibsWithTags: libDeps },
        { sourceTag: 'type:app', onlyDependOnLibsWithTags: libDeps },
        // Tools (image builder, registry, runtime launchers, conformance) may use libs and each other.
        { sourceTag: 'type:tool', onlyDependOnLibsWithTags: ['type:lib', 'type:tool'] },
      ],
    },
  ];
}

export default [
  ...nx.configs['flat/base'],
  ...nx.configs['flat/typescript'],
  {
    ignores: ['**/dist', '**/node_modules', '**/generated', '**/.nx', '**/tmp', '**/vitest.config.ts', 'vitest.shared.ts'],
  },
  {
    files: ['**/*.ts', '**/*.mjs', '**/*.js'],
    rules: {
      '@nx/enforce-module-boundaries': boundaries({ testsMayUseTools: false }),
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // Strict null checks already make every `!` a visible, deliberate claim.
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  {
    // Cross-process and integration tests (each project's test/ folder) may start real
    // daemons through the tools (etcd, registry, containerd); source code never may.
    files: ['**/test/**/*.ts'],
    rules: {
      '@nx/enforce-module-boundaries': boundaries({ testsMayUseTools: true }),
      // Wire responses in integration tests are read loosely on purpose.
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
  {
    // The pure libs: no Node I/O built-ins and no timers. Time and randomness come in as arguments.
    files: ['libs/raft/**/*.ts', 'libs/api/**/*.ts', 'libs/testing/**/*.ts'],
    ignores: ['**/*.test.ts', '**/test/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: ioBuiltins.flatMap((name) => [
            { name, message: 'pure libs do no I/O: take it as an argument instead' },
            { name: `node:${name}`, message: 'pure libs do no I/O: take it as an argument instead' },
          ]),
          patterns: [
            { group: ['fs/*', 'node:fs/*'], message: 'pure libs do no I/O' },
            { group: bannedForPure, message: 'pure libs do no I/O' },
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'setTimeout', message: 'pure libs take time as input (tick), not timers' },
        { name: 'setInterval', message: 'pure libs take time as input (tick), not timers' },
        { name: 'setImmediate', message: 'pure libs take time as input (tick), not timers' },
        { name: 'process', message: 'pure libs read nothing from the process' },
      ],
      'no-restricted-properties': [
        'error',
        { object: 'Date', property: 'now', message: 'pure libs take the clock as an argument' },
        { object: 'Math', property: 'random', message: 'pure libs take randomness as an argument' },
      ],
    },
  },
];
