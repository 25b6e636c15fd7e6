// A clustered shard (SHOAL_SHARD_REPLICAS=3): each shard is 3 nats-server processes forming a JetStream cluster,
// the proxies create SHOAL_MSGS and SHOAL_RETAINED with 3 replicas, and QoS 1 traffic flows through the fleet;
// after the stream leader of a shard is killed, another member leads and traffic flows again.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Qos1Load } from '../src/chaos/qos1-load.js';
import type { Fleet } from '../src/fleet/fleet.js';
import { httpGet } from '../src/processes/child-process.js';
import { startTestFleet } from './support/test-fleet.js';

interface Jsz {
  readonly meta_cluster?: { readonly cluster_size?: number; readonly leader?: string };
  readonly account_details?: { readonly stream_detail?: { readonly name: string; readonly config?: { readonly num_replicas?: number } }[] }[];
}

describe('clustered shards (3 nats-servers each, R3 streams)', () => {
  let fleet: Fleet;
  beforeAll(async () => {
    fleet = await startTestFleet(2, 2, { shardReplicas: 3 });
  }, 180_000);
  afterAll(async () => fleet.stop(), 60_000);

  it('forms a 3-member JetStream cluster per shard with R3 streams, and carries QoS 1 traffic through a leader kill', async () => {
    for (let i = 0; i < 2; i++) {
      const group = fleet.shardGroup(i);
      expect(group?.urls).toHaveLength(3);
      const member = group?.servers[0];
      if (member === undefined) throw new Error(`shard ${i} is not running`);
      const jsz = JSON.parse((await httpGet(`${member.monitorUrl}/jsz?accounts=true&streams=true&config=true`)).body) as Jsz;
      expect(jsz.meta_cluster?.cluster_size).toBe(3);
      const streams = jsz.account_details?.flatMap((a) => a.stream_detail ?? []) ?? [];
      expect(streams.map((s) => [s.name, s.config?.num_replicas]).sort()).toEqual([
        ['SHOAL_MSGS', 3],
        ['SHOAL_RETAINED', 3],
      ]);
    }
    const port = (i: number): number => Number(new URL(fleet.proxyEndpoints[i]?.mqttUrl ?? '').port);
    const load = await Qos1Load.start({ endpoints: [0, 1].map((i) => ({ host: '127.0.0.1', port: port(i) })), prefix: 'r3', publishers: 2, ratePerSecond: 50 });
    await load.probe(10_000);
    await new Promise((resolve) => setTimeout(resolve, 1_000)); // traffic before the fault
    const group = fleet.shardGroup(0);
    const leader = await group?.streamLeader('SHOAL_MSGS');
    expect(leader).toBeDefined();
    await group?.killReplica(leader ?? 0);
    const recoveredMs = await load.probe(30_000);
    let newLeader: number | undefined;
    while (newLeader === undefined) newLeader = await group?.streamLeader('SHOAL_MSGS'); // bounded by the test timeout
    await new Promise((resolve) => setTimeout(resolve, 1_000)); // traffic after the fault
    load.pause();
    const counts = await load.settle(15_000);
    await load.close();
    process.stdout.write(
      `R3 shard: leader ${String(leader)} killed, new leader ${String(newLeader)}, traffic again after ${recoveredMs} ms; ` +
        `acknowledged ${counts.acknowledged}, lost ${counts.lost}, duplicated ${counts.duplicated}\n`,
    );
    expect(newLeader).toBeDefined();
    expect(newLeader).not.toBe(leader);
    expect(counts.acknowledged).toBeGreaterThan(50);
    await group?.startReplica(leader ?? 0);
  }, 150_000);
});
