// Control-plane e2e: the chart and the operator against a real kube-apiserver + etcd (`make e2e-k8s`).
// The operator runs as a child process with the chart's ServiceAccount token, so the chart's RBAC is
// what it really has. No controller-manager or kubelet runs: the test writes the Deployment and
// StatefulSet status that those controllers would (as envtest users do), and garbage collection of
// owned objects does not happen (the test checks the owner references instead).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { parseRingDocument } from '@shoal/proxy';
import { apply, condition, eventually, getJson, kubectl, run, type Json } from './support/kube-cli.js';
import { startNatsServer, type RunningNatsServer } from '../../src/processes/nats-server.js';
import { OperatorProcess } from './support/operator-process.js';
import { markProxiesReady as markWorkloadProxiesReady, markShardReady as markWorkloadShardReady } from './support/workload-status.js';

jest.setTimeout(90_000);

const NS = `e2e-${process.pid}`;
const OPERATOR_NS = 'shoal-system';
const CHART = join(process.cwd(), 'charts', 'shoal');
const CRD = join(process.cwd(), 'crds', 'shoal.dev_mqttclusters.yaml');

const cluster = (name: string, spec: object): string => JSON.stringify({ apiVersion: 'shoal.dev/v1alpha1', kind: 'MqttCluster', metadata: { name }, spec });
const get = (kind: string, name: string): Promise<Json> => getJson(kind, name, NS);
const ring = async (name: string): Promise<Json> => parseRingDocument(JSON.parse((await get('configmap', `${name}-ring`)).data['ring.json']));

const markShardReady = (name: string, index: number): Promise<void> => markWorkloadShardReady(NS, name, index);
const markProxiesReady = (name: string): Promise<void> => markWorkloadProxiesReady(NS, name);

/** A kubeconfig for the chart's ServiceAccount (a TokenRequest token), next to the admin's server and CA. */
async function serviceAccountKubeconfig(): Promise<string> {
  const admin = JSON.parse(await kubectl(['config', 'view', '--raw', '--minify', '-o', 'json']));
  const token = (await kubectl(['create', 'token', 'shoal-operator', '-n', OPERATOR_NS, '--duration=2h'])).trim();
  const file = join(tmpdir(), `shoal-operator-${process.pid}.kubeconfig`);
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: admin.clusters,
    users: [{ name: 'shoal-operator', user: { token } }],
    contexts: [{ name: 'operator', context: { cluster: admin.clusters[0].name, user: 'shoal-operator' } }],
    'current-context': 'operator',
  };
  writeFileSync(file, JSON.stringify(config), { mode: 0o600 });
  return file;
}

let operator: OperatorProcess;
let tokenKubeconfig = '';
/** One real nats-server that stands in for every shard of `demo` (the operator ensures the streams there). */
let nats: RunningNatsServer | undefined;
let natsDir = '';

beforeAll(async () => {
  await kubectl(['apply', '--server-side', '-f', CRD]);
  await kubectl(['wait', '--for=condition=Established', 'crd/mqttclusters.shoal.dev', '--timeout=30s']);
  await kubectl(['create', 'namespace', NS]);
  await kubectl(['create', 'namespace', OPERATOR_NS]).catch(() => undefined);
  const installed = await run('helm', ['install', 'shoal', CHART, '-n', OPERATOR_NS, '--set', 'replicaCount=1']);
  if (installed.code !== 0) throw new Error(`helm install failed: ${installed.stderr}`);
  natsDir = mkdtempSync(join(tmpdir(), 'shoal-operator-e2e-'));
  const shards = await startNatsServer({ storeDir: join(natsDir, 'jetstream'), serverName: 'demo-shards' });
  nats = shards;
  const overrides = Object.fromEntries([0, 1, 2, 3].map((i) => [`${NS}/demo/shard-${i}`, shards.url]));
  operator = OperatorProcess.start({
    SHOAL_SHARD_URL_OVERRIDES: JSON.stringify(overrides),
    KUBECONFIG: (tokenKubeconfig = await serviceAccountKubeconfig()),
    SHOAL_OPERATOR_NAMESPACE: OPERATOR_NS,
    SHOAL_OPERATOR_ID: 'e2e-operator',
    SHOAL_HTTP_PORT: '0',
    SHOAL_LOG_LEVEL: 'info',
  });
});

afterAll(async () => {
  const code = await operator.stop();
  rmSync(tokenKubeconfig, { force: true });
  await nats?.stop();
  rmSync(natsDir, { recursive: true, force: true });
  expect(code).toBe(0);
  await run('helm', ['uninstall', 'shoal', '-n', OPERATOR_NS]);
});

describe('the chart', () => {
  it('passes helm lint --strict', async () => {
    const lint = await run('helm', ['lint', '--strict', CHART]);
    expect(lint.stderr).toBe('');
    expect(lint.code).toBe(0);
  });

  it('renders manifests the API server accepts (kubectl apply --dry-run=server) and installs with --dry-run=server', async () => {
    const template = await run('helm', ['template', 'shoal', CHART, '-n', OPERATOR_NS, '--include-crds', '--set', 'operator.watchNamespace=team-a']);
    expect(template.code).toBe(0);
    const dryRun = await run('kubectl', ['apply', '--dry-run=server', '-n', OPERATOR_NS, '-f', '-'], template.stdout);
    expect(dryRun.stderr).not.toMatch(/error/i);
    expect(dryRun.code).toBe(0);
    expect(dryRun.stdout).toMatch(/deployment\.apps\/shoal-operator (created|configured|unchanged) \(server dry run\)/);
    const install = await run('helm', ['install', 'shoal-dry', CHART, '-n', OPERATOR_NS, '--dry-run=server']);
    expect(install.code).toBe(0);
  });

  it('grants no wildcard', async () => {
    const role = JSON.parse(await kubectl(['get', 'clusterrole', 'shoal-operator', '-o', 'json']));
    for (const rule of role.rules) {
      expect([...rule.apiGroups, ...rule.resources, ...rule.verbs]).not.toContain('*');
    }
  });
});

describe('the MqttCluster API', () => {
  it('installs the CRD with its short name, printer columns and subresources', async () => {
    const crd = JSON.parse(await kubectl(['get', 'crd', 'mqttclusters.shoal.dev', '-o', 'json']));
    const version = crd.spec.versions[0];
    expect(crd.spec.names.shortNames).toEqual(['mqc']);
    expect(version.additionalPrinterColumns.map((c: Json) => c.name)).toEqual(['Ready', 'Proxies', 'Shards', 'Ring', 'Reason', 'Age']);
    expect(version.subresources.scale).toEqual({
      specReplicasPath: '.spec.proxy.replicas',
      statusReplicasPath: '.status.proxy.replicas',
      labelSelectorPath: '.status.proxy.selector',
    });
  });

  it.each([
    ['shards.replicas must be 1 or 3', { shards: { replicas: 2 } }, 'spec.shards.replicas: Unsupported value: 2: supported values: "1", "3"'],
    ['autoscaling bounds', { proxy: { autoscaling: { minReplicas: 9, maxReplicas: 3 } } }, 'autoscaling.minReplicas must be less than or equal to autoscaling.maxReplicas'],
    ['TLS needs a Secret', { proxy: { listeners: { tls: { enabled: true } } } }, 'listeners.tls.secretName is required when TLS is enabled'],
    ['one listener at least', { proxy: { listeners: { mqtt: { enabled: false } } } }, 'at least one listener (mqtt, websocket, tls) must be enabled'],
    ['Redis: url or secretRef', { sessions: { redis: { url: 'redis://r:6379', secretRef: { name: 'r' } } } }, 'sessions.redis needs exactly one of url and secretRef'],
    ['source ranges need a LoadBalancer', { proxy: { service: { type: 'ClusterIP', loadBalancerSourceRanges: ['10.0.0.0/8'] } } }, 'loadBalancerSourceRanges needs service.type LoadBalancer'],
    ['a malformed quantity', { shards: { storage: { size: 'ten gigs' } } }, 'spec.shards.storage.size'],
    ['an unknown field', { proxy: { replica: 3 } }, 'unknown field "spec.proxy.replica"'],
  ])('rejects an invalid spec with a clear message: %s', async (_name, spec, message) => {
    const result = await apply(cluster('invalid', spec), NS);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(message);
  });
});

describe('a cluster from the minimal sample', () => {
  it('gets every child, each owned by the cluster and applied by the field manager shoal-operator', async () => {
    expect((await apply(cluster('demo', {}), NS)).code).toBe(0);
    const owner = await get('mqc', 'demo');
    const children = [
      ['deployment', 'demo-proxy'], ['serviceaccount', 'demo-proxy'], ['role', 'demo-proxy'], ['rolebinding', 'demo-proxy'],
      ['service', 'demo-mqtt'], ['poddisruptionbudget', 'demo-proxy'], ['configmap', 'demo-proxy-config'], ['configmap', 'demo-ring'],
      ...[0, 1, 2].flatMap((i) => [['statefulset', `demo-shard-${i}`], ['service', `demo-shard-${i}`], ['configmap', `demo-shard-${i}`]]),
    ];
    for (const [kind, name] of children) {
      const child = await eventually(() => get(kind!, name!), `${kind} ${name}`);
      expect(child.metadata.ownerReferences).toEqual([
        { apiVersion: 'shoal.dev/v1alpha1', kind: 'MqttCluster', name: 'demo', uid: owner.metadata.uid, controller: true, blockOwnerDeletion: true },
      ]);
      expect(child.metadata.managedFields.map((f: Json) => `${f.manager}/${f.operation}`)).toContain('shoal-operator/Apply');
    }
    const service = await get('service', 'demo-mqtt');
    expect(service.spec.type).toBe('LoadBalancer');
    const pod = (await get('deployment', 'demo-proxy')).spec.template.spec;
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    expect(pod.containers[0].securityContext).toMatchObject({ readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
    // The API server takes the downward-API GOMAXPROCS as written (the default 500m request: one core).
    const shard = (await get('statefulset', 'demo-shard-0')).spec.template.spec.containers[0];
    expect(shard.env).toContainEqual({ name: 'GOMAXPROCS', valueFrom: { resourceFieldRef: { containerName: 'nats', resource: 'requests.cpu', divisor: '1' } } });
  });

  it('publishes a ring the proxies accept: three shards with their nats URLs', async () => {
    const document = await eventually(() => ring('demo'), 'the ring');
    expect(document).toEqual({
      version: 1,
      vnodes: 4096,
      shardKeyLevels: 0,
      shards: [0, 1, 2].map((i) => ({ id: `shard-${i}`, urls: [`nats://demo-shard-${i}-0.demo-shard-${i}.${NS}.svc:4222`], weight: 1 })),
    });
  });

  it('reports progress, then Ready once the shards and proxies are (status written as their controllers would)', async () => {
    const waiting = await eventually(async () => {
      const c = await get('mqc', 'demo');
      return condition(c, 'Ready')?.reason === 'ShardsNotReady' ? c : undefined;
    }, 'Ready=False ShardsNotReady');
    expect(condition(waiting, 'Progressing')).toMatchObject({ status: 'True', reason: 'ShardsStarting', observedGeneration: 1 });
    for (const i of [0, 1, 2]) await markShardReady('demo', i);
    await markProxiesReady('demo');
    const ready = await eventually(async () => {
      const c = await get('mqc', 'demo');
      return condition(c, 'Ready')?.status === 'True' ? c : undefined;
    }, 'Ready=True');
    expect(condition(ready, 'Degraded')).toMatchObject({ status: 'False', observedGeneration: 1 });
    expect(ready.status.shards.map((s: Json) => s.streamsReady)).toEqual([true, true, true]);
    expect(ready.status.proxy).toEqual({
      replicas: 2,
      readyReplicas: 2,
      selector: 'app.kubernetes.io/name=shoal,app.kubernetes.io/instance=demo,app.kubernetes.io/component=proxy',
    });
    const table = await kubectl(['get', 'mqc', 'demo', '-n', NS, '--no-headers', '-o', 'custom-columns=READY:.status.conditions[?(@.type=="Ready")].status']);
    expect(table.trim()).toBe('True');
    const printed = await kubectl(['get', 'mqc', '-n', NS]);
    expect(printed).toMatch(/^NAME\s+READY\s+PROXIES\s+SHARDS\s+RING\s+AGE/);
    expect(printed).toMatch(/\ndemo\s+True\s+2\s+3\s+1\s+/);
  });

  it('writes the status only when it changed (passes with nothing new leave the resourceVersion alone)', async () => {
    const before = (await get('mqc', 'demo')).metadata.resourceVersion;
    const passes = await operator.reconciles();
    await kubectl(['annotate', 'configmap', 'demo-ring', '-n', NS, 'e2e/nudge=1', '--overwrite']);
    await kubectl(['annotate', 'configmap', 'demo-ring', '-n', NS, 'e2e/nudge=2', '--overwrite']);
    await eventually(async () => ((await operator.reconciles()) >= passes + 2 ? true : undefined), 'two more reconcile passes');
    expect((await get('mqc', 'demo')).metadata.resourceVersion).toBe(before);
  });

  it('scales the proxies with kubectl scale through the scale subresource', async () => {
    await kubectl(['scale', 'mqc', 'demo', '-n', NS, '--replicas=5']);
    await eventually(async () => ((await get('deployment', 'demo-proxy')).spec.replicas === 5 ? true : undefined), 'Deployment replicas 5');
    await markProxiesReady('demo');
    const scale = await eventually(async () => {
      const s = JSON.parse(await kubectl(['get', 'mqc', 'demo', '-n', NS, '--subresource=scale', '-o', 'json']));
      return s.status.replicas === 5 ? s : undefined;
    }, 'scale status 5');
    expect(scale.spec.replicas).toBe(5);
    expect(scale.status.selector).toBe('app.kubernetes.io/name=shoal,app.kubernetes.io/instance=demo,app.kubernetes.io/component=proxy');
  });

  it('with autoscaling on, creates the HPA and stops applying the Deployment replicas (which stay at 5)', async () => {
    await kubectl(['patch', 'mqc', 'demo', '-n', NS, '--type=merge', '-p', '{"spec":{"proxy":{"autoscaling":{"enabled":true,"minReplicas":3,"maxReplicas":20}}}}']);
    const hpa = await eventually(() => get('hpa', 'demo-proxy'), 'the HPA');
    expect(hpa.spec).toMatchObject({
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'demo-proxy' },
      minReplicas: 3,
      maxReplicas: 20,
      metrics: [{ type: 'Pods', pods: { metric: { name: 'shoal_proxy_connections' }, target: { type: 'AverageValue', averageValue: '50k' } } }],
    });
    const deployment = await get('deployment', 'demo-proxy');
    expect(deployment.spec.replicas).toBe(5);
    const ownerOfReplicas = deployment.metadata.managedFields
      .filter((f: Json) => f.fieldsV1?.['f:spec']?.['f:replicas'] !== undefined)
      .map((f: Json) => f.manager);
    expect(ownerOfReplicas).not.toContain('shoal-operator');
    // The HPA owns the count now: the operator leaves a change by the autoscaler alone. The Deployment's
    // update event queues a pass; the operator's reconcile counter says when two more have run.
    await kubectl(['scale', 'deployment', 'demo-proxy', '-n', NS, '--replicas=7']);
    const before = await operator.reconciles();
    await kubectl(['annotate', 'deployment', 'demo-proxy', '-n', NS, 'e2e/nudge=1', '--overwrite']);
    await eventually(async () => ((await operator.reconciles()) >= before + 2 ? true : undefined), 'two more reconcile passes');
    expect((await get('deployment', 'demo-proxy')).spec.replicas).toBe(7);
  });

  it('turns a shard-count increase into a ring transition, published once the new shard is ready', async () => {
    await kubectl(['patch', 'mqc', 'demo', '-n', NS, '--type=merge', '-p', '{"spec":{"shards":{"count":4}}}']);
    await eventually(() => get('statefulset', 'demo-shard-3'), 'StatefulSet demo-shard-3');
    const held = await eventually(async () => {
      const c = await get('mqc', 'demo');
      return condition(c, 'Progressing')?.reason === 'ShardsNotReady' ? c : undefined;
    }, 'Progressing ShardsNotReady');
    expect(held.status.ring.version).toBe(1);
    await markShardReady('demo', 3);
    const document = await eventually(async () => {
      const r = await ring('demo');
      return r.version === 2 ? r : undefined;
    }, 'ring version 2');
    expect(document.shards.map((s: Json) => s.id)).toEqual(['shard-0', 'shard-1', 'shard-2', 'shard-3']);
    expect(document.previous.version).toBe(1);
    expect(document.previous.shards).toHaveLength(3);
    expect(Date.parse(document.transitionUntil) - Date.now()).toBeGreaterThan(500_000);
    const status = await eventually(async () => {
      const c = await get('mqc', 'demo');
      return c.status.ring?.version === 2 ? c : undefined;
    }, 'status ring 2');
    expect(condition(status, 'Progressing')).toMatchObject({ status: 'True', reason: 'RingTransition' });
  });

  it('refuses a shrink in the API server (transition rule on oldSelf)', async () => {
    const result = await run('kubectl', ['patch', 'mqc', 'demo', '-n', NS, '--type=merge', '-p', '{"spec":{"shards":{"count":2}}}']);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('shards.count cannot decrease: a removed shard would lose its stored and retained messages');
  });

  it('refuses a shrink of a recreated cluster that finds a larger ring, and says why in Degraded', async () => {
    const from = operator.lines.length;
    // Deleting without a garbage collector orphans the children (as `kubectl delete --cascade=orphan` would).
    await kubectl(['delete', 'mqc', 'demo', '-n', NS, '--wait=true']);
    const orphan = await get('configmap', 'demo-ring');
    expect(orphan.metadata.ownerReferences[0].name).toBe('demo'); // GC would delete it; no controller-manager runs here
    expect((await apply(cluster('demo', { shards: { count: 2 } }), NS)).code).toBe(0);
    const degraded = await eventually(async () => {
      const c = await get('mqc', 'demo');
      return condition(c, 'Degraded')?.status === 'True' ? c : undefined;
    }, 'Degraded=True');
    expect(condition(degraded, 'Degraded')).toMatchObject({ reason: 'ShardShrinkRefused' });
    expect(condition(degraded, 'Degraded').message).toContain('removing shard-2, shard-3 would lose their stored and retained messages');
    expect((await ring('demo')).shards).toHaveLength(4);
    expect(await get('statefulset', 'demo-shard-3')).toBeDefined();
    expect(operator.errorsSince(from)).toEqual([]);
  });

  it('sets Degraded with the reason when the spec asks for what the proxy cannot do', async () => {
    expect((await apply(cluster('tls', { shards: { count: 1 }, proxy: { listeners: { tls: { enabled: true, secretName: 'mqtt-tls' } } } }), NS)).code).toBe(0);
    const degraded = await eventually(async () => {
      const c = await get('mqc', 'tls');
      return condition(c, 'Degraded')?.status === 'True' ? c : undefined;
    }, 'Degraded=True');
    expect(condition(degraded, 'Degraded')).toMatchObject({ reason: 'UnsupportedSpec' });
    // the Event is written after the status: wait for it rather than read it once
    const reasons = await eventually(async () => {
      const events = JSON.parse(await kubectl(['get', 'events', '-n', NS, '--field-selector', 'involvedObject.name=tls', '-o', 'json']));
      const found: string[] = events.items.map((e: Json) => `${e.type}/${e.reason}`);
      return found.includes('Warning/UnsupportedSpec') ? found : undefined;
    }, 'Warning/UnsupportedSpec event');
    expect(reasons).toContain('Warning/UnsupportedSpec');
  });

  it('survives objects it did not expect, keeps leading, and logs no error when clusters are deleted', async () => {
    const from = operator.lines.length;
    const stray = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'stray', labels: { 'app.kubernetes.io/managed-by': 'shoal-operator' } }, data: {} };
    const orphaned = {
      ...stray,
      metadata: { ...stray.metadata, name: 'orphan', ownerReferences: [{ apiVersion: 'shoal.dev/v1alpha1', kind: 'MqttCluster', name: 'ghost', uid: '00000000-0000-0000-0000-000000000000', controller: true }] },
    };
    expect((await apply(JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [stray, orphaned] }), NS)).code).toBe(0);
    await kubectl(['delete', 'mqc', '--all', '-n', NS, '--wait=true']);
    await kubectl(['annotate', 'configmap', 'orphan', '-n', NS, 'e2e/nudge=1']);
    const lease = await eventually(async () => {
      const l = await getJson('lease', 'shoal-operator', OPERATOR_NS);
      return l?.spec.holderIdentity === 'e2e-operator' ? l : undefined;
    }, 'the leader Lease');
    expect(lease.spec.leaseDurationSeconds).toBe(15);
    expect(operator.running).toBe(true);
    expect(operator.errorsSince(from)).toEqual([]);
  });
});
