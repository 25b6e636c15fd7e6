// Two projects: `unit` (pure code, no processes) and `integration` (real nats-server, redis-server,
// proxies and MQTT clients started by the tests). Type checking is `tsc -b`, not jest.
const transform = {
  '^.+\\.ts$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'es6' } }],
};
const common = {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: {
    '^@shoal/proxy$': '<rootDir>/proxy/src/index.ts',
    '^@shoal/proxy/internal$': '<rootDir>/proxy/src/internal.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  transform,
  rootDir: '.',
};

export default {
  projects: [
    {
      ...common,
      displayName: 'unit',
      testMatch: ['<rootDir>/proxy/src/**/*.test.ts', '<rootDir>/operator/src/**/*.test.ts', '<rootDir>/e2e/src/**/*.test.ts'],
    },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/e2e/test/**/*.int.test.ts'],
      slowTestThreshold: 30,
    },
  ],
};
