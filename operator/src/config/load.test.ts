import { describe, expect, it } from '@jest/globals';
import { loadOperatorConfig, OperatorConfigError } from './load.js';

describe('loadOperatorConfig', () => {
  it('applies the documented defaults', () => {
    expect(loadOperatorConfig({ SHOAL_OPERATOR_ID: 'op-0' })).toEqual({
      watchNamespace: '',
      operatorNamespace: 'default',
      identity: 'op-0',
      leaderElect: true,
      leaseName: 'shoal-operator',
      http: { host: '0.0.0.0', port: 8080 },
      workers: 2,
      images: { proxy: 'ghcr.io/shoal-mqtt/shoal-proxy:0.1.0', nats: 'nats:2.11.9-alpine' },
      logLevel: 'info',
      kubeconfig: undefined,
      shardUrlOverrides: new Map(),
    });
  });

  it('reads every variable', () => {
    const config = loadOperatorConfig({
      SHOAL_WATCH_NAMESPACE: 'iot',
      SHOAL_OPERATOR_NAMESPACE: 'shoal-system',
      SHOAL_OPERATOR_ID: 'op-1',
      SHOAL_LEADER_ELECT: 'false',
      SHOAL_HTTP_PORT: '9000',
      SHOAL_WORKERS: '4',
      SHOAL_PROXY_IMAGE: 'p:1',
      SHOAL_NATS_IMAGE: 'n:1',
      SHOAL_LOG_LEVEL: 'debug',
      KUBECONFIG: '/k',
    });
    expect(config).toMatchObject({ watchNamespace: 'iot', leaderElect: false, http: { port: 9000 }, workers: 4, images: { proxy: 'p:1', nats: 'n:1' }, kubeconfig: '/k' });
  });

  it('reads SHOAL_SHARD_URL_OVERRIDES (a development aid) and refuses malformed ones', () => {
    const overrides = loadOperatorConfig({ SHOAL_SHARD_URL_OVERRIDES: '{"mqtt/demo/shard-0":"nats://127.0.0.1:4222"}' }).shardUrlOverrides;
    expect([...overrides]).toEqual([['mqtt/demo/shard-0', 'nats://127.0.0.1:4222']]);
    expect(() => loadOperatorConfig({ SHOAL_SHARD_URL_OVERRIDES: '{"demo/shard-0":"nats://h:1"}' })).toThrow(/<namespace>\/<cluster>\/shard-<i>/);
    expect(() => loadOperatorConfig({ SHOAL_SHARD_URL_OVERRIDES: '{"a/b/shard-0":"http://h:1"}' })).toThrow(/nats:\/\/host:port/);
    expect(() => loadOperatorConfig({ SHOAL_SHARD_URL_OVERRIDES: '{' })).toThrow(/not JSON[\s\S]*SHOAL_SHARD_URL_OVERRIDES/);
  });

  it('names every invalid variable', () => {
    expect(() => loadOperatorConfig({ SHOAL_HTTP_PORT: 'eighty', SHOAL_LEADER_ELECT: 'yes' })).toThrow(OperatorConfigError);
    expect(() => loadOperatorConfig({ SHOAL_HTTP_PORT: 'eighty', SHOAL_LEADER_ELECT: 'yes' })).toThrow(/SHOAL_HTTP_PORT[\s\S]*|SHOAL_LEADER_ELECT/);
  });
});
