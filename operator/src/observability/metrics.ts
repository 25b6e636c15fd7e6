// Every metric the operator exports (`shoal_operator_*`), in its own registry (no global default registry).
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export class OperatorMetrics {
  readonly registry = new Registry();
  /** Reconcile passes by result (`success`, `error`). */
  readonly reconcileTotal = new Counter({ name: 'shoal_operator_reconcile_total', help: 'Reconcile passes by result.', labelNames: ['result'], registers: [this.registry] });
  /** Duration of a reconcile pass. */
  readonly reconcileSeconds = new Histogram({
    name: 'shoal_operator_reconcile_duration_seconds',
    help: 'Duration of a reconcile pass.',
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  /** Keys waiting in the work queue. */
  readonly queueDepth = new Gauge({ name: 'shoal_operator_workqueue_depth', help: 'MqttCluster keys waiting to be reconciled.', registers: [this.registry] });
  /** 1 while this replica holds the leader Lease. */
  readonly leader = new Gauge({ name: 'shoal_operator_leader', help: '1 while this replica is the leader.', registers: [this.registry] });
  /** Watches restarted after an error, by kind. */
  readonly watchRestartsTotal = new Counter({ name: 'shoal_operator_watch_restarts_total', help: 'Watches restarted after an error, by kind.', labelNames: ['kind'], registers: [this.registry] });

  constructor(options: { readonly processMetrics?: boolean } = {}) {
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix: 'shoal_operator_' });
  }
}
