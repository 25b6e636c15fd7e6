// Connect admission: at most `maxConcurrent` CONNECTs open their session at once on this proxy (each open is a
// Redis script, a takeover check and the re-subscription of a resumed session), the next `maxWaiting` wait in
// FIFO order for at most `maxWaitMs`, and the rest get CONNACK 0x89 Server Busy (v3: 3) at once. When a proxy
// dies, its clients all reconnect to the others within a second; this turns that storm into a queue that
// Redis and the shards can serve, instead of thousands of session opens timing out together.
import type { ConnectAdmissionConfig } from '../config/schema.js';

/** A slot to open one session; release it when the CONNECT is answered (or failed). */
export interface AdmissionPermit {
  release(): void;
}

/** What the admission reports (implemented with prom-client in observability/). */
export interface ConnectAdmissionMetrics {
  admissionState(active: number, waiting: number): void;
  /** A CONNECT got its slot after `seconds` in the queue (0 when one was free). */
  admissionWaited(seconds: number): void;
}

interface Waiter {
  readonly since: number;
  readonly grant: (permit: AdmissionPermit | undefined) => void;
  timer: NodeJS.Timeout | undefined;
}

/** Bounded concurrent session opens with a bounded FIFO wait. */
export class ConnectAdmission {
  private active = 0;
  private readonly queue: Waiter[] = [];

  constructor(
    private readonly settings: ConnectAdmissionConfig,
    private readonly metrics?: ConnectAdmissionMetrics,
  ) {}

  /** A permit, at once or after waiting; undefined when the queue is full or the wait timed out (Server Busy). */
  acquire(): Promise<AdmissionPermit | undefined> {
    if (this.active < this.settings.maxConcurrent && this.queue.length === 0) {
      this.active += 1;
      this.report();
      this.metrics?.admissionWaited(0);
      return Promise.resolve(this.permit());
    }
    if (this.queue.length >= this.settings.maxWaiting) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const waiter: Waiter = { since: Date.now(), grant: resolve, timer: undefined };
      waiter.timer = setTimeout(() => {
        const index = this.queue.indexOf(waiter);
        if (index >= 0) this.queue.splice(index, 1);
        this.report();
        resolve(undefined);
      }, this.settings.maxWaitMs);
      waiter.timer.unref();
      this.queue.push(waiter);
      this.report();
    });
  }

  /** Session opens running now. */
  get running(): number {
    return this.active;
  }

  /** CONNECTs waiting for a slot. */
  get waiting(): number {
    return this.queue.length;
  }

  private permit(): AdmissionPermit {
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        this.handOver();
      },
    };
  }

  /** A slot came free: the longest waiter takes it, or the count goes down. */
  private handOver(): void {
    const next = this.queue.shift();
    if (next === undefined) {
      this.active -= 1;
    } else {
      clearTimeout(next.timer);
      this.metrics?.admissionWaited((Date.now() - next.since) / 1000);
      next.grant(this.permit());
    }
    this.report();
  }

  private report(): void {
    this.metrics?.admissionState(this.active, this.queue.length);
  }
}
