// One jest run, four projects: unit (pure rules and the flows on in-memory fakes, fast), integration
// (emulators + simulators over HTTP), infra (CDK assertions + cdk-nag) and system (whole-stack
// scenarios: chaos, fuzz, the benchmark smoke run, bundles, the demo, `npm start`; the slowest).
// `npm test` runs all four; `npm run test:fast` runs unit and infra for the edit loop.
// @middy ships ESM only, so ts-jest must transform it too.
const base = {
  testEnvironment: 'node',
  transform: { '^.+\\.[tj]sx?$': ['ts-jest', { tsconfig: { allowJs: true, isolatedModules: true } }] },
  transformIgnorePatterns: ['/node_modules/(?!@middy/)'],
  setupFiles: ['<rootDir>/test/setup-env.js'],
};

/** Integration suites that start the whole stack for a scenario: the `system` project. */
const SYSTEM_SUITES = [
  '<rootDir>/test/integration/chaos/',
  '<rootDir>/test/integration/fuzz/',
  '<rootDir>/test/integration/bench/',
  '<rootDir>/test/integration/bundles/',
  '<rootDir>/test/integration/demo/',
  '<rootDir>/test/integration/runtime/npm-start.test.ts',
];

module.exports = {
  projects: [
    { ...base, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'] },
    {
      ...base,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/integration/**/*.test.ts'],
      testPathIgnorePatterns: ['/node_modules/', ...SYSTEM_SUITES],
      slowTestThreshold: 30,
    },
    { ...base, displayName: 'infra', testMatch: ['<rootDir>/test/infra/**/*.test.ts'] },
    {
      ...base,
      displayName: 'system',
      testMatch: SYSTEM_SUITES.map((suite) => (suite.endsWith('/') ? `${suite}**/*.test.ts` : suite)),
      slowTestThreshold: 60,
    },
  ],
  testTimeout: 60000,
};
