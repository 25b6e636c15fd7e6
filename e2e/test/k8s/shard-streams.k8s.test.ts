// The operator ensures the JetStream streams on each shard once the shard is ready (`make e2e-k8s`). No
// pod runs next to the test API server, so the shards' URLs are overridden (SHOAL_SHARD_URL_OVERRIDES, the
// development aid): shard-0 of the cluster dials a real nats-server on 127.0.0.1, shard-1 a port where
// nothing listens until the test starts a second nats-server there. The test writes the StatefulSet and
// Deployment status the missing controllers would, and reads the streams from the servers' monitor.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { freePort, httpGet } from '../../src/processes/child-process.js';
import { startNatsServer, type RunningNatsServer } from '../../src/processes/nats-server.js';
import { apply, condition, eventually, getJson, kubectl, type Json } from './support/kube-cli.js';
import { OperatorProcess } from './support/operator-process.js';
import { markProxiesReady, markShardReady } from './support/workload-status.js';

jest.setTimeout(90_000);

const NS = `streams-${process.pid}`;
const CLUSTER = 'streams';
const CRD = join(process.cwd(), 'crds', 'shoal.dev_mqttclusters.yaml');
const NANOS_PER_SECOND = 1_000_000_000;

let dir = '';
let operator: OperatorProcess | undefined;
let shard0: RunningNatsServer | undefined;
let shard1: RunningNatsServer | undefined;
/** Where shard-1 is dialled; nothing listens there at first. */
let shard1Port = 0;

const get = (): Promise<Json> => getJson('mqc', CLUSTER, NS);
const shardStatus = (cluster: Json, id: string): Json => cluster?.status?.shards?.find((s: Json) => s.id === id);

/** The streams a nats-server holds, by name, with their configuration (monitor `/jsz`). */
async function streamsOn(server: RunningNatsServer): Promise<Map<string, Json>> {
  const jsz = JSON.parse((await httpGet(`${server.monitorUrl}/jsz?streams=true&config=true`)).body);
  const details: Json[] = (jsz.account_details ?? []).flatMap((a: Json) => a.stream_detail ?? []);
  return new Map(details.map((d) => [d.name, d.config]));
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'shoal-streams-e2e-'));
  await kubectl(['apply', '--server-side', '-f', CRD]);
  await kubectl(['wait', '--for=condition=Established', 'crd/mqttclusters.shoal.dev', '--timeout=30s']);
  await kubectl(['create', 'namespace', NS]);
  shard0 = await startNatsServer({ storeDir: join(dir, 'shard-0', 'jetstream'), serverName: 'shard-0' });
  shard1Port = await freePort();
  const overrides = { [`${NS}/${CLUSTER}/shard-0`]: shard0.url, [`${NS}/${CLUSTER}/shard-1`]: `nats://127.0.0.1:${shard1Port}` };
  // The admin's kubeconfig (make e2e-k8s sets KUBECONFIG), this namespace only, no Lease.
  operator = OperatorProcess.start({
    SHOAL_WATCH_NAMESPACE: NS,
    SHOAL_LEADER_ELECT: 'false',
    SHOAL_HTTP_PORT: '0',
    SHOAL_OPERATOR_ID: 'streams-e2e',
    SHOAL_SHARD_URL_OVERRIDES: JSON.stringify(overrides),
  });
});

afterAll(async () => {
  const code = await operator?.stop();
  await shard0?.stop();
  await shard1?.stop();
  await kubectl(['delete', 'namespace', NS, '--wait=false']).catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
  expect(code).toBe(0);
});

describe('streams on the shards', () => {
  it('are ensured on a ready shard with the spec retention; an unreachable shard leaves the cluster Degraded/StreamsNotReady', async () => {
    const spec = { shards: { count: 2 }, retention: { offlineMaxAge: '2h', maxBytesPerShard: '64Mi' } };
    expect((await apply(JSON.stringify({ apiVersion: 'shoal.dev/v1alpha1', kind: 'MqttCluster', metadata: { name: CLUSTER }, spec }), NS)).code).toBe(0);
    const starting = await eventually(async () => {
      const c = await get();
      return c?.status?.shards?.length === 2 ? c : undefined;
    }, 'status with two shards');
    expect(shardStatus(starting, 'shard-0').streamsReady).toBe(false);
    expect((await streamsOn(shard0!)).size).toBe(0); // not before the shard is ready

    for (const i of [0, 1]) await markShardReady(NS, CLUSTER, i);
    await markProxiesReady(NS, CLUSTER);
    const degraded = await eventually(async () => {
      const c = await get();
      return condition(c, 'Degraded')?.reason === 'StreamsNotReady' ? c : undefined;
    }, 'Degraded=True StreamsNotReady');
    expect(condition(degraded, 'Degraded').status).toBe('True');
    expect(condition(degraded, 'Degraded').message).toContain(`cannot ensure the streams on shard-1 (nats://127.0.0.1:${shard1Port})`);
    expect(condition(degraded, 'Ready')).toMatchObject({ status: 'False', reason: 'StreamsNotReady' });
    expect(shardStatus(degraded, 'shard-0')).toEqual({
      id: 'shard-0',
      replicas: 1,
      readyReplicas: 1,
      streamsReady: true,
      streams: { observedGeneration: 1, offlineMaxAge: '2h', maxBytesPerShard: '64Mi', replicas: 1 },
    });
    expect(shardStatus(degraded, 'shard-1').streamsReady).toBe(false);

    const streams = await streamsOn(shard0!);
    expect([...streams.keys()].sort()).toEqual(['SHOAL_MSGS', 'SHOAL_RETAINED']);
    expect(streams.get('SHOAL_MSGS')).toMatchObject({ max_age: 2 * 3600 * NANOS_PER_SECOND, max_bytes: 64 * 2 ** 20, num_replicas: 1 });
    expect(streams.get('SHOAL_RETAINED')).toMatchObject({ max_msgs_per_subject: 1, num_replicas: 1 });
    expect(operator!.running).toBe(true);
    expect(operator!.lines.filter((line) => line.level >= 60)).toEqual([]);
  });

  it('are ensured on the missing shard once its server answers (retried with backoff), and the cluster becomes Ready', async () => {
    shard1 = await startNatsServer({ storeDir: join(dir, 'shard-1', 'jetstream'), serverName: 'shard-1', port: shard1Port });
    const ready = await eventually(
      async () => {
        const c = await get();
        return condition(c, 'Ready')?.status === 'True' ? c : undefined;
      },
      'Ready=True',
      45_000,
    );
    expect(condition(ready, 'Degraded')).toMatchObject({ status: 'False', reason: 'AsExpected' });
    expect(ready.status.shards.map((s: Json) => s.streamsReady)).toEqual([true, true]);
    expect([...(await streamsOn(shard1)).keys()].sort()).toEqual(['SHOAL_MSGS', 'SHOAL_RETAINED']);
    // shard-0 was ensured once, not on every pass
    const ensured = operator!.lines.filter((line) => line.msg === 'Ensured the streams').map((line) => line['shard']);
    expect(ensured).toEqual(['shard-0', 'shard-1']);
  });
});
