// Issue 5's Kubernetes hardening against a real API server (`make e2e-k8s`): the CRD accepts the auth, ACL and
// NetworkPolicy fields and refuses ill-typed ones; the operator (admin kubeconfig, this namespace only) renders
// the shards' NetworkPolicy, the proxies' auth configuration and hardened pods, which the API server stores as
// sent; turning the policy off prunes it; the chart's optional NetworkPolicy passes a server-side dry run.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { apply, condition, eventually, getJson, kubectl, run, type Json } from './support/kube-cli.js';
import { OperatorProcess } from './support/operator-process.js';

jest.setTimeout(90_000);

const NS = `security-${process.pid}`;
const CHART = join(process.cwd(), 'charts', 'shoal');
const CRD = join(process.cwd(), 'crds', 'shoal.dev_mqttclusters.yaml');
const cluster = (name: string, spec: object): string => JSON.stringify({ apiVersion: 'shoal.dev/v1alpha1', kind: 'MqttCluster', metadata: { name }, spec });
const get = (kind: string, name: string): Promise<Json> => getJson(kind, name, NS);

/** What every container must keep: no privilege escalation, a read-only root, no capability, seccomp. */
const HARDENED_CONTAINER = { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: { drop: ['ALL'] }, seccompProfile: { type: 'RuntimeDefault' } };

const secureSpec = {
  shards: { count: 2 },
  auth: { secretName: 'creds', jwksKey: 'jwks.json', usersFileKey: 'users', jwt: { issuer: 'https://id.example', clientIdClaim: 'sub' } },
  acl: { configMapName: 'rules' },
  networkPolicy: { enabled: true, operatorNamespace: 'shoal-system' },
};

let operator: OperatorProcess | undefined;

beforeAll(async () => {
  await kubectl(['apply', '--server-side', '-f', CRD]);
  await kubectl(['wait', '--for=condition=Established', 'crd/mqttclusters.shoal.dev', '--timeout=30s']);
  await kubectl(['create', 'namespace', NS]);
  operator = OperatorProcess.start({ SHOAL_WATCH_NAMESPACE: NS, SHOAL_LEADER_ELECT: 'false', SHOAL_HTTP_PORT: '0', SHOAL_OPERATOR_ID: 'security-e2e' });
});

afterAll(async () => {
  const code = await operator?.stop();
  await kubectl(['delete', 'namespace', NS, '--wait=false']).catch(() => undefined);
  expect(code).toBe(0);
});

describe('the CRD', () => {
  it('accepts auth, acl and networkPolicy (server-side dry run) and refuses ill-typed values', async () => {
    const accepted = await run('kubectl', ['apply', '--dry-run=server', '-n', NS, '-f', '-'], cluster('dry', secureSpec));
    expect(accepted.stderr).toBe('');
    expect(accepted.stdout).toMatch(/mqttcluster\.shoal\.dev\/dry created \(server dry run\)/);
    for (const spec of [{ networkPolicy: { enabled: 'yes' } }, { auth: { jwksKey: 'jwks.json' } }, { auth: { secretName: 'creds', anonymous: 1 } }]) {
      const refused = await run('kubectl', ['apply', '--dry-run=server', '-n', NS, '-f', '-'], cluster('bad', spec));
      expect(refused.code).not.toBe(0);
    }
  });
});

describe('the operator', () => {
  it('renders the shards NetworkPolicy, the auth chain and hardened pods, and the API server keeps them as sent', async () => {
    expect((await apply(cluster('secure', secureSpec), NS)).code).toBe(0);
    const policy = await eventually(() => get('networkpolicy', 'secure-shards'), 'NetworkPolicy secure-shards');
    expect(policy.spec.policyTypes).toEqual(['Ingress']);
    expect(policy.spec.podSelector.matchLabels).toEqual({ 'app.kubernetes.io/name': 'shoal', 'app.kubernetes.io/instance': 'secure', 'app.kubernetes.io/component': 'shard' });
    expect(policy.spec.ingress[0].from).toEqual([
      { podSelector: { matchLabels: { 'app.kubernetes.io/name': 'shoal', 'app.kubernetes.io/instance': 'secure', 'app.kubernetes.io/component': 'proxy' } } },
      {
        namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'shoal-system' } },
        podSelector: { matchLabels: { 'app.kubernetes.io/name': 'shoal', 'app.kubernetes.io/component': 'operator' } },
      },
    ]);
    expect(policy.spec.ingress[0].ports).toEqual([{ protocol: 'TCP', port: 4222 }]);

    const config = JSON.parse((await eventually(() => get('configmap', 'secure-proxy-config'), 'proxy config')).data['config.json']);
    expect(config.listeners.mqtt.auth).toBe('cluster');
    expect(config.auth.chains.cluster.authenticators.map((a: Json) => a.type)).toEqual(['jwt', 'password-file']);
    expect(config.auth.chains.cluster.aclFile).toBe('/etc/shoal/acl/acl.json');

    const proxy = await eventually(() => get('deployment', 'secure-proxy'), 'proxy Deployment');
    const shard = await eventually(() => get('statefulset', 'secure-shard-1'), 'shard StatefulSet');
    for (const pod of [proxy.spec.template.spec, shard.spec.template.spec]) {
      expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
      for (const container of pod.containers) {
        expect(container.securityContext).toMatchObject(HARDENED_CONTAINER);
      }
    }
    expect(shard.spec.template.spec.automountServiceAccountToken).toBe(false);
    expect((await get('serviceaccount', 'secure-proxy')).automountServiceAccountToken).toBe(false);
  });

  it('prunes the NetworkPolicy when it is turned off', async () => {
    expect((await apply(cluster('secure', { ...secureSpec, networkPolicy: { enabled: false } }), NS)).code).toBe(0);
    await eventually(async () => ((await get('networkpolicy', 'secure-shards')) === undefined ? true : undefined), 'NetworkPolicy pruned');
  });

  it('reports UnsupportedSpec for an auth Secret that names no mechanism', async () => {
    expect((await apply(cluster('bare', { auth: { secretName: 'creds' } }), NS)).code).toBe(0);
    const degraded = await eventually(async () => {
      const c = await get('mqc', 'bare');
      return condition(c, 'Degraded')?.reason === 'UnsupportedSpec' ? condition(c, 'Degraded') : undefined;
    }, 'Degraded/UnsupportedSpec');
    expect(degraded.message).toMatch(/usersFileKey, jwksKey or anonymous/);
  });
});

describe('the chart', () => {
  it('renders its optional operator NetworkPolicy, which the API server accepts (server-side dry run)', async () => {
    const template = await run('helm', ['template', 'shoal', CHART, '-n', NS, '--set', 'networkPolicy.enabled=true', '--set', 'networkPolicy.metricsFrom[0].namespaceSelector.matchLabels.team=observability']);
    expect(template.code).toBe(0);
    const dryRun = await run('kubectl', ['apply', '--dry-run=server', '-n', NS, '-f', '-'], template.stdout);
    expect(dryRun.stderr).not.toMatch(/error/i);
    expect(dryRun.code).toBe(0);
    expect(dryRun.stdout).toMatch(/networkpolicy\.networking\.k8s\.io\/shoal-operator created \(server dry run\)/);
  });
});
