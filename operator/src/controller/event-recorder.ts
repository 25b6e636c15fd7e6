// Kubernetes Events on the MqttCluster ("Created Deployment demo-proxy", "Ring transition started").
import type { Logger } from 'pino';
import type { MqttCluster } from '../api/v1alpha1/mqttcluster.js';
import type { Clock } from '../clock.js';
import type { KubeClient } from '../kube/kube-client.js';

/** One event: Normal or Warning, a PascalCase reason and a sentence. */
export interface ClusterEvent {
  readonly type: 'Normal' | 'Warning';
  readonly reason: string;
  readonly message: string;
}

export interface EventRecorder {
  record(cluster: MqttCluster, event: ClusterEvent): Promise<void>;
}

/**
 * Writes core/v1 Events. A Warning repeated with the same reason and message for the same cluster is
 * written once (a retrying failure would otherwise add one Event per retry). Failures are logged, never thrown.
 */
export class KubeEventRecorder implements EventRecorder {
  private readonly lastWarning = new Map<string, string>();
  private sequence = 0;

  constructor(private readonly deps: { readonly kube: KubeClient; readonly clock: Clock; readonly log: Logger; readonly component: string }) {}

  async record(cluster: MqttCluster, event: ClusterEvent): Promise<void> {
    const key = cluster.metadata.uid;
    const signature = `${event.reason}\n${event.message}`;
    if (event.type === 'Warning') {
      if (this.lastWarning.get(key) === signature) return;
      this.lastWarning.set(key, signature);
    } else {
      this.lastWarning.delete(key);
    }
    const now = new Date(this.deps.clock.now()).toISOString();
    this.sequence += 1;
    try {
      await this.deps.kube.create({
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name: `${cluster.metadata.name}.${this.deps.clock.now().toString(16)}${this.sequence.toString(16)}`, namespace: cluster.metadata.namespace },
        involvedObject: {
          apiVersion: cluster.apiVersion,
          kind: cluster.kind,
          name: cluster.metadata.name,
          namespace: cluster.metadata.namespace,
          uid: cluster.metadata.uid,
        },
        type: event.type,
        reason: event.reason,
        message: event.message,
        source: { component: this.deps.component },
        firstTimestamp: now,
        lastTimestamp: now,
        count: 1,
      });
    } catch (err: unknown) {
      this.deps.log.warn({ err, reason: event.reason }, 'Failed to record Event');
    }
  }
}
