// What issue 5 asks of everything the operator renders: authentication settings in the proxy configuration,
// the optional shards NetworkPolicy, and the hardened pods (non-root, read-only root, no capabilities, seccomp).
import { describe, expect, it } from '@jest/globals';
import { parseProxyConfig } from '@shoal/proxy';
import { resolvedCluster } from '../test-support/clusters.js';
import { buildProxyObjects, buildShardObjects } from './desired-state.js';
import { UnsupportedSpecError } from './errors.js';
import { buildProxyConfigDocument } from './proxy-config.js';
import { buildShardNetworkPolicy } from './shard-network-policy.js';

/** What every container must keep: no privilege escalation, a read-only root, no capability, seccomp. */
const HARDENED_CONTAINER = { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: { drop: ['ALL'] }, seccompProfile: { type: 'RuntimeDefault' } };

describe('authentication in the proxy configuration', () => {
  it('renders one chain from the auth Secret (JWT first, then the users file) and the ACL file, named by every listener', () => {
    const cluster = resolvedCluster({
      auth: { secretName: 'creds', jwksKey: 'jwks.json', usersFileKey: 'users', jwt: { issuer: 'https://id.example', clientIdClaim: 'sub' } },
      acl: { configMapName: 'rules' },
      proxy: { listeners: { websocket: { enabled: true } } },
    });
    const document = buildProxyConfigDocument(cluster);
    expect(document.auth).toEqual({
      chains: {
        cluster: {
          authenticators: [
            { type: 'jwt', jwksFile: '/etc/shoal/auth/jwks.json', issuer: 'https://id.example', clientIdClaim: 'sub' },
            { type: 'password-file', file: '/etc/shoal/auth/users' },
          ],
          aclFile: '/etc/shoal/acl/acl.json',
        },
      },
    });
    expect(document.listeners.mqtt?.auth).toBe('cluster');
    expect(document.listeners.websocket?.auth).toBe('cluster');
    expect(parseProxyConfig({ proxyId: 'p', ...document }).auth?.chains.cluster?.authenticators).toHaveLength(2);
  });

  it('accepts anonymous clients only when asked, and an ACL alone applies to anonymous clients', () => {
    const anonymous = buildProxyConfigDocument(resolvedCluster({ auth: { secretName: 'creds', usersFileKey: 'u', anonymous: true } }));
    expect(anonymous.auth?.chains.cluster?.authenticators).toEqual([{ type: 'password-file', file: '/etc/shoal/auth/u' }, { type: 'anonymous' }]);
    const aclOnly = buildProxyConfigDocument(resolvedCluster({ acl: { configMapName: 'rules', key: 'rules.json' } }));
    expect(aclOnly.auth).toEqual({ chains: { cluster: { authenticators: [{ type: 'anonymous' }], aclFile: '/etc/shoal/acl/rules.json' } } });
  });

  it('renders no chain without auth or acl (the listeners accept every client, as before)', () => {
    const document = buildProxyConfigDocument(resolvedCluster({}));
    expect(document.auth).toBeUndefined();
    expect(document.listeners.mqtt).toEqual({ host: '0.0.0.0', port: 1883 });
  });

  it('reports UnsupportedSpec for an auth Secret that names no mechanism', () => {
    expect(() => buildProxyConfigDocument(resolvedCluster({ auth: { secretName: 'creds' } }))).toThrow(UnsupportedSpecError);
  });
});

describe('shards NetworkPolicy', () => {
  it('is absent unless enabled', () => {
    expect(buildShardNetworkPolicy(resolvedCluster({}))).toBeUndefined();
    expect(buildShardNetworkPolicy(resolvedCluster({ networkPolicy: { enabled: false } }))).toBeUndefined();
    expect(buildShardObjects(resolvedCluster({}), [0]).map((o) => o.kind)).not.toContain('NetworkPolicy');
  });

  it('admits NATS clients from the proxies and the operator only, and routes between shards', () => {
    const policy = buildShardNetworkPolicy(resolvedCluster({ networkPolicy: { enabled: true, operatorNamespace: 'shoal-system' } }));
    const shards = { 'app.kubernetes.io/name': 'shoal', 'app.kubernetes.io/instance': 'demo', 'app.kubernetes.io/component': 'shard' };
    expect(policy?.metadata.name).toBe('demo-shards');
    expect(policy?.spec).toEqual({
      podSelector: { matchLabels: shards },
      policyTypes: ['Ingress'],
      ingress: [
        {
          from: [
            { podSelector: { matchLabels: { 'app.kubernetes.io/name': 'shoal', 'app.kubernetes.io/instance': 'demo', 'app.kubernetes.io/component': 'proxy' } } },
            {
              namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'shoal-system' } },
              podSelector: { matchLabels: { 'app.kubernetes.io/name': 'shoal', 'app.kubernetes.io/component': 'operator' } },
            },
          ],
          ports: [{ protocol: 'TCP', port: 4222 }],
        },
        { from: [{ podSelector: { matchLabels: shards } }], ports: [{ protocol: 'TCP', port: 4222 }, { protocol: 'TCP', port: 6222 }] },
      ],
    });
    expect(buildShardObjects(resolvedCluster({ networkPolicy: { enabled: true } }), [0, 1]).filter((o) => o.kind === 'NetworkPolicy')).toHaveLength(1);
  });
});

describe('pod hardening', () => {
  const cluster = resolvedCluster({ shards: { count: 2, replicas: 3 }, auth: { secretName: 'creds', jwksKey: 'jwks.json' } });
  const workloads = [...buildProxyObjects(cluster), ...buildShardObjects(cluster, [0, 1])].filter((o) => o.kind === 'Deployment' || o.kind === 'StatefulSet');
  type Pod = {
    automountServiceAccountToken?: boolean;
    securityContext: Record<string, unknown>;
    containers: { name: string; securityContext: Record<string, unknown> }[];
    initContainers?: unknown[];
  };
  const podOf = (o: (typeof workloads)[number]): Pod => (o as unknown as { spec: { template: { spec: Pod } } }).spec.template.spec;

  it('renders the proxy Deployment and every shard StatefulSet', () => {
    expect(workloads.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(['Deployment/demo-proxy', 'StatefulSet/demo-shard-0', 'StatefulSet/demo-shard-1']);
  });

  it.each(['Deployment/demo-proxy', 'StatefulSet/demo-shard-0', 'StatefulSet/demo-shard-1'])('%s runs non-root with seccomp RuntimeDefault, read-only root and no capabilities', (ref) => {
    const workload = workloads.find((o) => `${o.kind}/${o.metadata.name}` === ref);
    if (workload === undefined) throw new Error(`${ref} not rendered`);
    const pod = podOf(workload);
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    expect(pod.initContainers ?? []).toEqual([]);
    for (const container of pod.containers) {
      expect(container.securityContext).toMatchObject(HARDENED_CONTAINER);
    }
  });

  it('mounts a service-account token only where it is used (the proxies watch their ring ConfigMap)', () => {
    expect(workloads.map((o) => podOf(o).automountServiceAccountToken)).toEqual([true, false, false]);
    const account = buildProxyObjects(cluster).find((o) => o.kind === 'ServiceAccount') as unknown as { automountServiceAccountToken?: boolean };
    expect(account.automountServiceAccountToken).toBe(false);
  });
});
