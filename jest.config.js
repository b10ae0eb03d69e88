// Three tiers: `unit` (pure domain logic, small fakes for ports, no network), `integration`
// (the real emulators and the four services started by the test run; see libs/e2e) and `contract`
// (the four service images under testcontainers, moto's IAM checks on; see libs/contract-tests).
const { readFileSync } = require('node:fs');

const { compilerOptions } = JSON.parse(readFileSync(`${__dirname}/tsconfig.base.json`, 'utf8'));
const moduleNameMapper = {};
for (const [alias, [target]] of Object.entries(compilerOptions.paths)) {
  const from = `^${alias.replace('/*', '/(.*)')}$`;
  moduleNameMapper[from] = `<rootDir>/${target.replace('/*', '/$1')}`;
}

// ESM-only dependencies that jest must transform to run under its CommonJS module system.
const esmPackages = ['jose', 'p-limit', 'yocto-queue'];

const shared = {
  rootDir: __dirname,
  testEnvironment: 'node',
  moduleNameMapper,
  transform: {
    '^.+\\.(t|j|mj)s$': ['@swc/jest', { jsc: { target: 'es2023' }, module: { type: 'commonjs' } }],
  },
  transformIgnorePatterns: [`/node_modules/(?!(${esmPackages.join('|')})/)`],
  moduleFileExtensions: ['ts', 'js', 'mjs', 'json'],
};

module.exports = {
  // A global option: jest ignores it inside a project entry. Integration tests need minutes.
  testTimeout: 120000,
  projects: [
    {
      ...shared,
      displayName: 'unit',
      testMatch: [
        '<rootDir>/{libs,services,deploy}/**/src/**/*.test.ts',
        '<rootDir>/deploy/test/**/*.test.ts',
      ],
      testPathIgnorePatterns: ['/node_modules/', '\\.int\\.test\\.ts$', '\\.contract\\.test\\.ts$'],
    },
    {
      ...shared,
      displayName: 'integration',
      // libs/e2e drives the running stack; a service's own *.int.test.ts composes its adapters
      // in process against the emulators that stack started.
      testMatch: ['<rootDir>/libs/e2e/src/**/*.int.test.ts', '<rootDir>/services/*/src/**/*.int.test.ts'],
      globalSetup: '<rootDir>/libs/e2e/src/global-setup.ts',
      globalTeardown: '<rootDir>/libs/e2e/src/global-teardown.ts',
    },
    {
      ...shared,
      displayName: 'contract',
      testMatch: ['<rootDir>/libs/contract-tests/src/**/*.contract.test.ts'],
      globalSetup: '<rootDir>/libs/contract-tests/src/global-setup.ts',
      globalTeardown: '<rootDir>/libs/contract-tests/src/global-teardown.ts',
    },
  ],
};
