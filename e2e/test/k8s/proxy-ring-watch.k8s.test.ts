// A real proxy process (proxy/dist/main.js) follows the ring ConfigMap through the API server (`make e2e-k8s`):
// the operator publishes the ring of an MqttCluster; the proxy lists and watches it with the token of the
// cluster's own `X-proxy` ServiceAccount (so the operator's Role is what it has), then follows the ring
// transition the operator publishes when the shard count grows, and ignores an invalid edit. The shard URLs
// in the ring are in-cluster DNS names that do not resolve here: the proxy stays not ready, but it loads the
// ring and reports its version on /metrics, which the test polls (there is no event to await).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { freePort, httpGet, httpReady, startProcess, type SupervisedProcess } from '../../src/processes/child-process.js';
import { apply, eventually, getJson, kubectl, type Json } from './support/kube-cli.js';
import { OperatorProcess } from './support/operator-process.js';

jest.setTimeout(90_000);

const NS = `ring-watch-${process.pid}`;
const CLUSTER = 'fleet';
const CRD = join(process.cwd(), 'crds', 'shoal.dev_mqttclusters.yaml');
/** Longest the proxy may take to follow a ring the API server has. */
const FOLLOW_BOUND_MS = 5_000;

const get = (kind: string, name: string): Promise<Json> => getJson(kind, name, NS);
const ringText = async (): Promise<string | undefined> => (await get('configmap', `${CLUSTER}-ring`))?.data?.['ring.json'];
const ringVersion = async (): Promise<number | undefined> => {
  const text = await ringText();
  return text === undefined ? undefined : (JSON.parse(text) as { version: number }).version;
};

/** What the StatefulSet controller would write once the shard's nats-server pods are ready. */
async function markShardReady(index: number): Promise<void> {
  const set = await eventually(() => get('statefulset', `${CLUSTER}-shard-${index}`), `StatefulSet ${CLUSTER}-shard-${index}`);
  const n = set.spec.replicas;
  const status = { observedGeneration: set.metadata.generation, replicas: n, readyReplicas: n, availableReplicas: n, currentReplicas: n, updatedReplicas: n };
  await kubectl(['patch', 'statefulset', set.metadata.name, '-n', NS, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status })]);
}

/**
 * `kubectl get -w` on the ring ConfigMap: when each ring version first reached a watcher here (the reference
 * the proxy's own watch is measured against). Each line is the document as a Go-quoted string.
 */
function watchRingVersions(): { readonly firstSeen: Map<number, number>; stop(): void } {
  const bin = process.env['SHOAL_K8S_BIN'] ?? join(process.cwd(), '.tools', 'bin');
  const args = ['get', 'configmap', `${CLUSTER}-ring`, '-n', NS, '--watch', '-o', 'go-template={{index .data "ring.json" | printf "%q"}}{{"\\n"}}'];
  const child = spawn(join(bin, 'kubectl'), args, { stdio: ['ignore', 'pipe', 'ignore'] });
  const firstSeen = new Map<number, number>();
  let rest = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    const lines = (rest + chunk).split('\n');
    rest = lines.pop() ?? '';
    for (const line of lines) {
      try {
        const version = (JSON.parse(JSON.parse(line) as string) as { version: number }).version;
        if (!firstSeen.has(version)) firstSeen.set(version, Date.now());
      } catch {
        // an invalid document (the test's own edit)
      }
    }
  });
  return { firstSeen, stop: () => child.kill('SIGTERM') };
}

let dir = '';
let operator: OperatorProcess | undefined;
let proxy: SupervisedProcess | undefined;
let metricsUrl = '';
const proxyLogFile = (): string => join(dir, 'proxy.log');

/** The proxy's `shoal_proxy_ring_version`, or undefined before it has a ring (the gauge starts at 0). */
async function proxyRingVersion(): Promise<number | undefined> {
  const match = /^shoal_proxy_ring_version (\d+)$/m.exec((await httpGet(metricsUrl)).body);
  return match === null || match[1] === '0' ? undefined : Number(match[1]);
}

/** The proxy's log lines (pino JSON) with message `msg`. */
function proxyLog(msg: string): Json[] {
  return readFileSync(proxyLogFile(), 'utf8')
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line))
    .filter((line) => line.msg === msg);
}

/** Writes the proxy's configuration: the ring from `X-ring` through the test API server, as `X-proxy`. */
async function proxyConfigFile(httpPort: number): Promise<string> {
  const admin = JSON.parse(await kubectl(['config', 'view', '--raw', '--minify', '-o', 'json']));
  const server = admin.clusters[0].cluster;
  writeFileSync(join(dir, 'ca.crt'), Buffer.from(server['certificate-authority-data'], 'base64'));
  const token = await kubectl(['create', 'token', `${CLUSTER}-proxy`, '-n', NS, '--duration=1h']);
  writeFileSync(join(dir, 'token'), token.trim(), { mode: 0o600 });
  const config = {
    proxyId: 'ring-watch-e2e',
    listeners: {},
    http: { host: '127.0.0.1', port: httpPort },
    ring: {
      configMap: { namespace: NS, name: `${CLUSTER}-ring` },
      apiServer: { url: server.server, caFile: join(dir, 'ca.crt'), tokenFile: join(dir, 'token') },
    },
    logLevel: 'info',
  };
  const file = join(dir, 'proxy.json');
  writeFileSync(file, JSON.stringify(config));
  return file;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'shoal-ring-watch-'));
  await kubectl(['apply', '--server-side', '-f', CRD]);
  await kubectl(['wait', '--for=condition=Established', 'crd/mqttclusters.shoal.dev', '--timeout=30s']);
  await kubectl(['create', 'namespace', NS]);
  // The admin's kubeconfig (make e2e-k8s sets KUBECONFIG), this namespace only, no Lease.
  operator = OperatorProcess.start({ SHOAL_WATCH_NAMESPACE: NS, SHOAL_LEADER_ELECT: 'false', SHOAL_HTTP_PORT: '0', SHOAL_OPERATOR_ID: 'ring-watch-e2e' });
  const manifest = { apiVersion: 'shoal.dev/v1alpha1', kind: 'MqttCluster', metadata: { name: CLUSTER }, spec: { shards: { count: 3 } } };
  expect((await apply(JSON.stringify(manifest), NS)).code).toBe(0);
  await eventually(async () => ((await ringVersion()) === 1 ? true : undefined), 'ring version 1');
  for (const i of [0, 1, 2]) await markShardReady(i);
  await eventually(() => get('rolebinding', `${CLUSTER}-proxy`), `RoleBinding ${CLUSTER}-proxy`);
  const httpPort = await freePort();
  metricsUrl = `http://127.0.0.1:${httpPort}/metrics`;
  const configFile = await proxyConfigFile(httpPort);
  proxy = await startProcess({
    name: 'proxy (ring from the API server)',
    command: process.execPath,
    args: [join(process.cwd(), 'proxy', 'dist', 'main.js')],
    env: { ...process.env, SHOAL_PROXY_CONFIG: configFile },
    logFile: proxyLogFile(),
    ready: httpReady(`http://127.0.0.1:${httpPort}/healthz`),
    stopTimeoutMs: 10_000,
  });
});

afterAll(async () => {
  const exit = await proxy?.stop();
  await operator?.stop();
  await kubectl(['delete', 'namespace', NS, '--wait=false']).catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
  expect(exit?.signal ?? null).toBeNull();
});

describe('a proxy watching the ring through the API server', () => {
  it('loads the ring the operator published, as the proxies ServiceAccount, and is not ready only for want of shards', async () => {
    expect(await eventually(proxyRingVersion, 'the proxy ring version')).toBe(1);
    const ready = await httpGet(metricsUrl.replace('/metrics', '/readyz'));
    expect(ready.status).toBe(503);
    expect(ready.body).toContain('not connected to every shard');
    expect(proxyLog('proxy started')[0]).toMatchObject({ ring: 1, ringSource: expect.stringContaining(`ConfigMap ${NS}/${CLUSTER}-ring key ring.json via https://127.0.0.1:`) });
  });

  it('ignores an invalid edit of the ConfigMap and keeps its ring', async () => {
    const original = await ringText();
    const invalid = JSON.stringify({ version: 'two', shards: [] });
    await kubectl(['patch', 'configmap', `${CLUSTER}-ring`, '-n', NS, '--type=merge', '-p', JSON.stringify({ data: { 'ring.json': invalid } })]);
    const ignored = await eventually(() => Promise.resolve(proxyLog('invalid ring document ignored')[0]), 'the proxy to log the invalid document', FOLLOW_BOUND_MS);
    expect(ignored.err.message).toContain('invalid ring document');
    expect(await proxyRingVersion()).toBe(1);
    // Put it back as it was (the operator refuses to overwrite a ring it cannot read: Degraded/RingUnreadable).
    await kubectl(['patch', 'configmap', `${CLUSTER}-ring`, '-n', NS, '--type=merge', '-p', JSON.stringify({ data: { 'ring.json': original } })]);
  });

  it('follows the ring transition the operator publishes when the shard count grows 3 → 4, without a restart', async () => {
    const watcher = watchRingVersions();
    try {
      await eventually(() => Promise.resolve(watcher.firstSeen.get(1)), 'kubectl get -w to see ring version 1');
      await kubectl(['patch', 'mqc', CLUSTER, '-n', NS, '--type=merge', '-p', '{"spec":{"shards":{"count":4}}}']);
      await markShardReady(3);
      const triggered = Date.now();
      await eventually(async () => ((await proxyRingVersion()) === 2 ? true : undefined), 'the proxy to report ring version 2', 20_000);
      const polled = Date.now();
      const inApi = await eventually(() => Promise.resolve(watcher.firstSeen.get(2)), 'kubectl get -w to see ring version 2');
      const applied = proxyLog('ring applied').find((line) => line.version === 2);
      expect(applied).toMatchObject({ version: 2, shards: 4, transition: true });
      const lagMs = Date.parse(applied.time) - inApi;
      process.stdout.write(
        `proxy-ring-watch: ring v2 reached a kubectl watch ${inApi - triggered} ms after the new shard was ready; ` +
          `the proxy applied it ${lagMs} ms after that (its log), /metrics showed it ${polled - triggered} ms after the trigger (polled)\n`,
      );
      expect(lagMs).toBeLessThan(FOLLOW_BOUND_MS);
      expect(proxyLog('proxy started')).toHaveLength(1);
      expect(proxy?.isRunning()).toBe(true);
    } finally {
      watcher.stop();
    }
  });
});
