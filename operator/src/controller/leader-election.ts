// Leader election on a coordination.k8s.io/v1 Lease (client-go's leaderelection): one replica reconciles,
// the others wait. Writes use the Lease's resourceVersion, so two candidates cannot both win.
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import { isConflict } from '../kube/errors.js';
import type { KubeClient } from '../kube/kube-client.js';
import type { KubeObject } from '../kube/kube-object.js';
import type { Schedule } from './work-queue.js';

/** The Lease spec fields leader election uses. */
export interface LeaseSpec {
  readonly holderIdentity?: string;
  readonly leaseDurationSeconds?: number;
  readonly acquireTime?: string;
  readonly renewTime?: string;
  readonly leaseTransitions?: number;
}

/** Whether `identity` may take or keep the lease at `now` (it holds it, nobody does, or it expired). */
export function mayHold(spec: LeaseSpec | undefined, identity: string, now: number): boolean {
  if (spec?.holderIdentity === undefined || spec.holderIdentity === '' || spec.holderIdentity === identity) return true;
  const renewed = spec.renewTime === undefined ? Number.NaN : Date.parse(spec.renewTime);
  return Number.isNaN(renewed) || renewed + (spec.leaseDurationSeconds ?? 0) * 1000 < now;
}

/** A Lease MicroTime: RFC 3339 with microseconds. */
export const microTime = (ms: number): string => new Date(ms).toISOString().replace(/Z$/, '000Z');

export interface LeaderElectorOptions {
  readonly kube: KubeClient;
  readonly clock: Clock;
  readonly log: Logger;
  readonly schedule: Schedule;
  readonly namespace: string;
  readonly name: string;
  readonly identity: string;
  /** @default 15_000 */
  readonly leaseDurationMs?: number;
  /** A leader that could not renew for this long steps down. @default 10_000 */
  readonly renewDeadlineMs?: number;
  /** @default 2_000 */
  readonly retryPeriodMs?: number;
}

export class LeaderElector {
  private leading = false;
  private lastRenew = 0;
  private cancel: (() => void) | undefined;
  private closed = false;

  constructor(private readonly options: LeaderElectorOptions) {}

  get isLeader(): boolean {
    return this.leading;
  }

  /** Tries every retry period; calls `onStarted` when the lease is won and `onStopped` when it is lost. */
  start(callbacks: { readonly onStarted: () => void; readonly onStopped: () => void }): void {
    const tick = (): void => {
      if (this.closed) return;
      this.tryAcquireOrRenew()
        .then((held) => {
          const now = this.options.clock.now();
          if (held) this.lastRenew = now;
          if (held && !this.leading) {
            this.leading = true;
            this.options.log.info({ lease: this.options.name }, 'Became leader');
            callbacks.onStarted();
          } else if (!held && this.leading && now - this.lastRenew > (this.options.renewDeadlineMs ?? 10_000)) {
            this.leading = false;
            this.options.log.warn({ lease: this.options.name }, 'Lost leadership');
            callbacks.onStopped();
          }
        })
        .catch((err: unknown) => this.options.log.warn({ err }, 'Failed to update leader Lease'))
        .finally(() => {
          if (!this.closed) this.cancel = this.options.schedule(tick, this.options.retryPeriodMs ?? 2_000);
        });
    };
    tick();
  }

  /** One attempt; true when this candidate holds the lease afterwards. */
  async tryAcquireOrRenew(): Promise<boolean> {
    const { kube, namespace, name, identity, clock } = this.options;
    const now = clock.now();
    const current = await kube.get({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', namespace, name });
    const spec = current?.['spec'] as LeaseSpec | undefined;
    if (!mayHold(spec, identity, now)) return false;
    const taking = spec?.holderIdentity !== identity;
    const next: LeaseSpec = {
      holderIdentity: identity,
      leaseDurationSeconds: Math.ceil((this.options.leaseDurationMs ?? 15_000) / 1000),
      acquireTime: taking ? microTime(now) : (spec.acquireTime ?? microTime(now)),
      renewTime: microTime(now),
      leaseTransitions: (spec?.leaseTransitions ?? 0) + (taking && current !== undefined ? 1 : 0),
    };
    try {
      if (current === undefined) {
        await kube.create(lease(namespace, name, next));
      } else {
        await kube.replace({ ...current, spec: next });
      }
      return true;
    } catch (err: unknown) {
      if (isConflict(err)) return false; // another candidate wrote first
      throw err;
    }
  }

  /** Stops trying and, when leading, releases the lease so a standby takes over at once. */
  async close(): Promise<void> {
    this.closed = true;
    this.cancel?.();
    if (!this.leading) return;
    this.leading = false;
    const { kube, namespace, name } = this.options;
    const current = await kube.get({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', namespace, name });
    if ((current?.['spec'] as LeaseSpec | undefined)?.holderIdentity !== this.options.identity || current === undefined) return;
    await kube.replace({ ...current, spec: { ...(current['spec'] as LeaseSpec), holderIdentity: '', leaseDurationSeconds: 1 } }).catch((err: unknown) => {
      this.options.log.warn({ err }, 'Failed to release leader Lease');
    });
  }
}

function lease(namespace: string, name: string, spec: LeaseSpec): KubeObject {
  return { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, namespace }, spec };
}
