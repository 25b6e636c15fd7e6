import { describe, expect, it } from '@jest/globals';
import { FleetConfigError, fleetConfigFromEnv } from './fleet-config.js';
import { shardMemberPorts, shardUrls } from './shard-group.js';

describe('SHOAL_SHARD_REPLICAS', () => {
  it('defaults to one nats-server per shard on SHOAL_NATS_PORT + i', () => {
    const config = fleetConfigFromEnv({}, '/tmp');
    expect(config.shardReplicas).toBe(1);
    expect(shardUrls(config, 2)).toEqual(['nats://127.0.0.1:4224']);
  });

  it('with 3, gives shard i the members 3i..3i+2 of the NATS, monitoring and route port ranges', () => {
    const config = fleetConfigFromEnv({ SHOAL_SHARD_REPLICAS: '3', SHOAL_NATS_CLUSTER_PORT: '7222' }, '/tmp');
    expect(shardUrls(config, 1)).toEqual(['nats://127.0.0.1:4225', 'nats://127.0.0.1:4226', 'nats://127.0.0.1:4227']);
    expect(shardMemberPorts(config, 2, 1)).toEqual({ client: 4229, http: 8229, route: 7229 });
  });

  it('refuses 2 replicas, and ranges that overlap once every member is counted', () => {
    expect(() => fleetConfigFromEnv({ SHOAL_SHARD_REPLICAS: '2' }, '/tmp')).toThrow('SHOAL_SHARD_REPLICAS must be 1 or 3');
    const overlap = { SHOAL_SHARD_REPLICAS: '3', SHOAL_NATS_PORT: '5000', SHOAL_NATS_CLUSTER_PORT: '5005' };
    expect(() => fleetConfigFromEnv(overlap, '/tmp')).toThrow(FleetConfigError);
  });
});
