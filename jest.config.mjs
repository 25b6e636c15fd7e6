// Three projects: `unit` (pure code, no processes), `integration` (real nats-server, redis-server,
// proxies and MQTT clients started by the tests) and `k8s` (the operator against a real API server).
// Type checking is `tsc -b`, not jest.
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
      testMatch: ['<rootDir>/proxy/src/**/*.test.ts', '<rootDir>/operator/src/**/*.test.ts', '<rootDir>/e2e/src/**/*.test.ts', '<rootDir>/bench/**/*.test.ts'],
    },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/e2e/test/**/*.int.test.ts'],
      slowTestThreshold: 30,
    },
    {
      // Control-plane e2e: a real kube-apiserver (KUBECONFIG) and the operator as a child process.
      // Not part of `test:int`; run by `make e2e-k8s`, which starts and stops the API server.
      ...common,
      displayName: 'k8s',
      testMatch: ['<rootDir>/e2e/test/k8s/**/*.k8s.test.ts'],
      slowTestThreshold: 60,
    },
  ],
};
