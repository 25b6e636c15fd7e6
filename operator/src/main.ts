#!/usr/bin/env node
// The operator's composition root: configuration → logger, API client, metrics, health server → leader
// election → watches, work queue and reconciler. SIGTERM/SIGINT close everything in reverse order.
import { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { API_VERSION, KIND } from './api/v1alpha1/group-version.js';
import { systemClock } from './clock.js';
import { loadOperatorConfig, type OperatorConfig } from './config/load.js';
import { Controller, type WatchSource } from './controller/controller.js';
import { KubeEventRecorder } from './controller/event-recorder.js';
import { LeaderElector } from './controller/leader-election.js';
import { MqttClusterReconciler } from './controller/mqttcluster-reconciler.js';
import { clusterKey, ownerKeyOf } from './controller/owner-key.js';
import { realSchedule, WorkQueue } from './controller/work-queue.js';
import { ClientNodeKubeClient } from './kube/client-node-kube-client.js';
import { InformerWatch } from './kube/client-node-watch.js';
import { createLogger } from './observability/logger.js';
import { NatsRetainedCopier } from './nats/nats-retained-copier.js';
import { NatsStreamEnsurer } from './nats/nats-stream-ensurer.js';
import { OperatorMetrics } from './observability/metrics.js';
import { OWNED_KINDS } from './resources/desired-state.js';
import { MANAGED_BY, LABEL_MANAGED_BY } from './resources/labels.js';
import { OpsServer } from '@shoal/proxy';

function kubeConfig(config: OperatorConfig): KubeConfig {
  const kc = new KubeConfig();
  if (config.kubeconfig === undefined) kc.loadFromCluster();
  else kc.loadFromFile(config.kubeconfig);
  return kc;
}

/** The MqttCluster watch plus one watch per owned kind (only objects the operator labelled). */
function watches(kc: KubeConfig, client: ClientNodeKubeClient, config: OperatorConfig, log: Logger, metrics: OperatorMetrics): WatchSource[] {
  const common = { config: kc, client, namespace: config.watchNamespace, log };
  const restarted = (kind: string) => () => metrics.watchRestartsTotal.inc({ kind });
  return [
    new InformerWatch({ ...common, type: { apiVersion: API_VERSION, kind: KIND }, toKey: clusterKey, onRestart: restarted(KIND) }),
    // ServiceMonitor is optional (its CRD may be missing); its objects are re-read on every pass anyway.
    ...OWNED_KINDS.filter((type) => type.kind !== 'ServiceMonitor').map(
      (type) =>
        new InformerWatch({ ...common, type, labelSelector: `${LABEL_MANAGED_BY}=${MANAGED_BY}`, toKey: ownerKeyOf, onRestart: restarted(type.kind) }),
    ),
  ];
}

async function main(): Promise<void> {
  // eslint-disable-next-line no-restricted-properties -- the composition root hands the environment to config/load.ts, its one reader
  const config = loadOperatorConfig(process.env);
  const log = createLogger(config.logLevel, config.identity);
  const kc = kubeConfig(config);
  const kube = new ClientNodeKubeClient(kc);
  const metrics = new OperatorMetrics();
  const queue = new WorkQueue({ onDepth: (depth) => metrics.queueDepth.set(depth) });
  const reconciler = new MqttClusterReconciler({
    kube,
    clock: systemClock,
    log,
    events: new KubeEventRecorder({ kube, clock: systemClock, log, component: 'shoal-operator' }),
    images: config.images,
    streams: new NatsStreamEnsurer(),
    retained: new NatsRetainedCopier(),
    shardUrlOverrides: config.shardUrlOverrides,
  });
  const controller = new Controller({
    queue,
    reconcile: (key) => reconciler.reconcile(key),
    sources: watches(kc, kube, config, log, metrics),
    workers: config.workers,
    log,
    metrics,
  });
  const elector = config.leaderElect
    ? new LeaderElector({ kube, clock: systemClock, log, schedule: realSchedule, namespace: config.operatorNamespace, name: config.leaseName, identity: config.identity })
    : undefined;
  const health = new OpsServer({
    host: config.http.host,
    port: config.http.port,
    registry: metrics.registry,
    notReadyReason: () => (elector !== undefined && !elector.isLeader ? undefined : controller.isStarted ? undefined : 'watches not started'),
  });
  const port = await health.listen();
  if (config.shardUrlOverrides.size > 0) log.warn({ shardUrlOverrides: Object.fromEntries(config.shardUrlOverrides) }, 'Dialling shards at overridden URLs (development aid)');
  log.info({ port, watchNamespace: config.watchNamespace === '' ? '(all)' : config.watchNamespace }, 'Started shoal-operator');

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'Stopping');
    metrics.leader.set(0);
    controller
      .close()
      .then(() => elector?.close())
      .then(() => health.close())
      .then(() => log.info('Stopped'))
      .catch((err: unknown) => log.error({ err }, 'Failed to stop cleanly'))
      .finally(() => {
        process.exitCode = 0;
        setTimeout(() => process.exit(), 100).unref();
      });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('unhandledRejection', (reason) => log.error({ err: reason }, 'Unhandled rejection'));

  const lead = (): void => {
    metrics.leader.set(1);
    controller.start().catch((err: unknown) => {
      log.fatal({ err }, 'Failed to start the controller');
      stop('startup failure');
      process.exitCode = 1;
    });
  };
  if (elector === undefined) {
    lead();
    return;
  }
  elector.start({
    onStarted: lead,
    // Like controller-runtime: a replica that lost the lease exits and restarts as a standby.
    onStopped: () => {
      log.error('Lost the leader Lease; exiting');
      process.exitCode = 1;
      stop('lost leadership');
    },
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`shoal-operator: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
