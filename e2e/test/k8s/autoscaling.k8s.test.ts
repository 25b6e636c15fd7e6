// Autoscaling on a real API server (`make e2e-k8s`): the HPA the operator renders for an MqttCluster with
// autoscaling is accepted; the Prometheus Adapter manifests of docs/autoscaling pass a server-side dry run and
// serve the metric the HPA names; and a real proxy process, with the token of the cluster's `X-proxy`
// ServiceAccount, keeps `controller.kubernetes.io/pod-deletion-cost` of its pod at its connection count, with no
// more rights than patching pods of its namespace.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import yaml from 'js-yaml';
import mqtt, { type MqttClient } from 'mqtt';
import { freePort, httpReady, startProcess, type SupervisedProcess } from '../../src/processes/child-process.js';
import { startNatsServer, type RunningNatsServer } from '../../src/processes/nats-server.js';
import { apply, eventually, getJson, kubectl, run, type Json } from './support/kube-cli.js';
import { OperatorProcess } from './support/operator-process.js';

jest.setTimeout(90_000);

const NS = `autoscaling-${process.pid}`;
const CLUSTER = 'fleet';
const POD = `${CLUSTER}-proxy-7d9f-abcde`;
const SA = `system:serviceaccount:${NS}:${CLUSTER}-proxy`;
const CRD = join(process.cwd(), 'crds', 'shoal.dev_mqttclusters.yaml');
const ADAPTER = join(process.cwd(), 'docs', 'autoscaling', 'prometheus-adapter.yaml');

let dir = '';
let operator: OperatorProcess | undefined;
let shard: RunningNatsServer | undefined;
let proxy: SupervisedProcess | undefined;
let mqttPort = 0;

const deletionCost = async (): Promise<string | undefined> =>
  (await getJson('pod', POD, NS))?.metadata?.annotations?.['controller.kubernetes.io/pod-deletion-cost'];

/** The proxy configuration: ring from a local file (one real shard), deletion cost through the test API server. */
async function proxyConfigFile(httpPort: number): Promise<string> {
  const admin = JSON.parse(await kubectl(['config', 'view', '--raw', '--minify', '-o', 'json']));
  const server = admin.clusters[0].cluster;
  writeFileSync(join(dir, 'ca.crt'), Buffer.from(server['certificate-authority-data'], 'base64'));
  writeFileSync(join(dir, 'token'), (await kubectl(['create', 'token', `${CLUSTER}-proxy`, '-n', NS, '--duration=1h'])).trim(), { mode: 0o600 });
  const ring = { version: 1, vnodes: 64, shardKeyLevels: 0, shards: [{ id: 'shard-0', urls: [shard?.url], weight: 1 }] };
  writeFileSync(join(dir, 'ring.json'), JSON.stringify(ring));
  const config = {
    proxyId: POD,
    listeners: { mqtt: { host: '127.0.0.1', port: mqttPort } },
    http: { host: '127.0.0.1', port: httpPort },
    ring: { file: join(dir, 'ring.json') },
    podDeletionCost: { intervalMs: 500, namespace: NS, apiServer: { url: server.server, caFile: join(dir, 'ca.crt'), tokenFile: join(dir, 'token') } },
  };
  writeFileSync(join(dir, 'proxy.json'), JSON.stringify(config));
  return join(dir, 'proxy.json');
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'shoal-autoscaling-'));
  await kubectl(['apply', '--server-side', '-f', CRD]);
  await kubectl(['wait', '--for=condition=Established', 'crd/mqttclusters.shoal.dev', '--timeout=30s']);
  await kubectl(['create', 'namespace', NS]);
  operator = OperatorProcess.start({ SHOAL_WATCH_NAMESPACE: NS, SHOAL_LEADER_ELECT: 'false', SHOAL_HTTP_PORT: '0', SHOAL_OPERATOR_ID: 'autoscaling-e2e' });
  const spec = { proxy: { autoscaling: { enabled: true, minReplicas: 2, maxReplicas: 6, targetConnectionsPerPod: 1000 } } };
  const manifest = { apiVersion: 'shoal.dev/v1alpha1', kind: 'MqttCluster', metadata: { name: CLUSTER }, spec };
  expect((await apply(JSON.stringify(manifest), NS)).code).toBe(0);
  await eventually(() => getJson('rolebinding', `${CLUSTER}-proxy`, NS), `RoleBinding ${CLUSTER}-proxy`);
});

afterAll(async () => {
  const exit = await proxy?.stop();
  await shard?.stop();
  await operator?.stop();
  await kubectl(['delete', 'namespace', NS, '--wait=false']).catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
  expect(exit?.signal ?? null).toBeNull();
});

describe('autoscaling on shoal_proxy_connections', () => {
  it('has its HPA accepted by the API server, on the Pods metric with a slow scale-down', async () => {
    const hpa = await eventually(() => getJson('hpa', `${CLUSTER}-proxy`, NS), `HPA ${CLUSTER}-proxy`);
    expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: `${CLUSTER}-proxy` });
    expect(hpa.spec.metrics).toEqual([
      { type: 'Pods', pods: { metric: { name: 'shoal_proxy_connections' }, target: { type: 'AverageValue', averageValue: '1k' } } },
    ]);
    expect(hpa.spec.behavior.scaleDown.policies).toEqual([{ type: 'Pods', value: 1, periodSeconds: 120 }]);
  });

  it('documents Prometheus Adapter manifests that pass a server-side dry run and serve the metric the HPA names', async () => {
    await kubectl(['create', 'namespace', 'monitoring']).catch(() => undefined);
    const dryRun = await run('kubectl', ['apply', '--dry-run=server', '-f', ADAPTER]);
    expect(dryRun.stderr).toBe('');
    expect(dryRun.stdout).toContain('apiservice.apiregistration.k8s.io/v1beta1.custom.metrics.k8s.io created (server dry run)');
    const configMap = yaml.loadAll(readFileSync(ADAPTER, 'utf8')).find((doc) => (doc as Json).kind === 'ConfigMap') as Json;
    const rules = (yaml.load(configMap.data['config.yaml']) as Json).rules;
    expect(rules.map((r: Json) => r.name.as)).toEqual(['shoal_proxy_connections']);
    expect(rules[0].resources.overrides).toEqual({ namespace: { resource: 'namespace' }, pod: { resource: 'pod' } });
  });

  it('grants the proxies patch on pods of their namespace only', async () => {
    const can = async (...args: string[]): Promise<string> => (await run('kubectl', ['auth', 'can-i', ...args, '--as', SA])).stdout.trim();
    expect(await can('patch', 'pods', '-n', NS)).toBe('yes');
    expect(await can('delete', 'pods', '-n', NS)).toBe('no');
    expect(await can('get', 'pods', '-n', NS)).toBe('no');
    expect(await can('patch', 'pods', '-n', 'default')).toBe('no');
    expect(await can('patch', 'deployments', '-n', NS)).toBe('no');
  });

  it('keeps the pod-deletion-cost of its own pod at its connection count', async () => {
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: POD }, spec: { serviceAccountName: `${CLUSTER}-proxy`, containers: [{ name: 'proxy', image: 'shoal-proxy:e2e' }] } };
    expect((await apply(JSON.stringify(pod), NS)).code).toBe(0);
    shard = await startNatsServer({ storeDir: join(dir, 'shard-0'), serverName: 'shard-0' });
    mqttPort = await freePort();
    const httpPort = await freePort();
    proxy = await startProcess({
      name: 'proxy (pod deletion cost)',
      command: process.execPath,
      args: [join(process.cwd(), 'proxy', 'dist', 'main.js')],
      env: { ...process.env, SHOAL_PROXY_CONFIG: await proxyConfigFile(httpPort) },
      logFile: join(dir, 'proxy.log'),
      ready: httpReady(`http://127.0.0.1:${httpPort}/readyz`),
      stopTimeoutMs: 10_000,
    });
    expect(await eventually(async () => ((await deletionCost()) === '0' ? '0' : undefined), 'deletion cost 0')).toBe('0');
    const clients: MqttClient[] = await Promise.all(
      Array.from({ length: 7 }, () => mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`, { reconnectPeriod: 0 })),
    );
    expect(await eventually(async () => ((await deletionCost()) === '7' ? '7' : undefined), 'deletion cost 7', 10_000)).toBe('7');
    await Promise.all(clients.slice(0, 4).map((c) => c.endAsync()));
    expect(await eventually(async () => ((await deletionCost()) === '3' ? '3' : undefined), 'deletion cost 3', 10_000)).toBe('3');
    await Promise.all(clients.slice(4).map((c) => c.endAsync()));
  });
});
