import nx from '@nx/eslint-plugin';
import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';
import globals from 'globals';

const depConstraints = [
  // A service is a composition root: it may use shared libraries, never another service.
  {
    sourceTag: 'type:service',
    onlyDependOnLibsWithTags: ['type:contracts', 'type:definitions', 'type:server-kit', 'type:sync-core'],
  },
  {
    sourceTag: 'type:server-kit',
    onlyDependOnLibsWithTags: ['type:contracts', 'type:definitions'],
  },
  { sourceTag: 'type:sync-core', onlyDependOnLibsWithTags: ['type:definitions'] },
  {
    sourceTag: 'type:client',
    onlyDependOnLibsWithTags: ['type:contracts', 'type:definitions', 'type:sync-core'],
  },
  {
    sourceTag: 'type:local-stack',
    onlyDependOnLibsWithTags: ['type:contracts', 'type:definitions', 'type:client', 'type:sync-core'],
  },
  {
    sourceTag: 'type:e2e',
    onlyDependOnLibsWithTags: [
      'type:contracts',
      'type:definitions',
      'type:client',
      'type:local-stack',
      'type:sync-core',
      'type:test-support',
    ],
  },
  // What both black-box tiers share; never a tier itself, so neither depends on the other.
  {
    sourceTag: 'type:test-support',
    onlyDependOnLibsWithTags: [
      'type:contracts',
      'type:definitions',
      'type:local-stack',
      'type:sync-core',
      'type:client',
    ],
  },
  { sourceTag: 'type:deploy', onlyDependOnLibsWithTags: ['type:definitions'] },
  { sourceTag: 'type:contracts', onlyDependOnLibsWithTags: [] },
  { sourceTag: 'type:definitions', onlyDependOnLibsWithTags: [] },
];

/** Module boundaries with `extra` tags allowed to `sourceTag` (for one kind of file). */
const boundaries = (sourceTag, extra) => [
  'error',
  {
    enforceBuildableLibDependency: false,
    allow: [],
    depConstraints: depConstraints.map((constraint) =>
      constraint.sourceTag === sourceTag
        ? { ...constraint, onlyDependOnLibsWithTags: [...constraint.onlyDependOnLibsWithTags, ...extra] }
        : constraint,
    ),
  },
];

const clientCoreMessage =
  "The sync client's core speaks its model (sync/model.ts); proto belongs in an adapter (grpc/).";

export default tseslint.config(
  { ignores: ['**/node_modules', '**/dist', '**/src/gen/**', '**/cdk.out', '.nx', '.local', 'coverage'] },
  eslint.configs.recommended,
  ...tseslint.configs.recommended,
  { plugins: { '@nx': nx } },
  { languageOptions: { globals: { ...globals.node } } },
  {
    files: ['**/*.ts'],
    rules: {
      '@nx/enforce-module-boundaries': boundaries('type:service', []),
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-syntax': [
        'error',
        {
          selector:
            'CallExpression[callee.object.name=/^(it|test|describe)$/][callee.property.name=/^(skip|only|todo)$/]',
          message: 'Skipped or focused tests are defects.',
        },
      ],
      '@typescript-eslint/ban-ts-comment': [
        'error',
        { 'ts-ignore': true, 'ts-expect-error': 'allow-with-description' },
      ],
    },
  },
  {
    // The sync client's core speaks its own model (libs/sync-client/src/sync/model.ts); the proto
    // messages and call helpers of @filesync/contracts stay in the adapters listed here, which
    // talk to the services (or, for TLS roots, to storage) and map at their edge.
    files: ['libs/sync-client/src/**/*.ts'],
    ignores: [
      'libs/sync-client/src/grpc/**',
      'libs/sync-client/src/session/**',
      'libs/sync-client/src/trash/**',
      'libs/sync-client/src/storage/s3-sdk.ts',
      'libs/sync-client/src/storage/storage-credentials.ts',
      'libs/sync-client/src/config/trusted-ca.ts',
      'libs/sync-client/src/client.ts',
    ],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [{ name: '@filesync/contracts', message: clientCoreMessage }],
          patterns: [{ group: ['@filesync/contracts/*'], message: clientCoreMessage }],
        },
      ],
    },
  },
  {
    // A service's integration tests find the emulators the test tier started through its harness.
    files: ['services/*/src/**/*.int.test.ts'],
    rules: { '@nx/enforce-module-boundaries': boundaries('type:service', ['type:test-support']) },
  },
  prettier,
);
