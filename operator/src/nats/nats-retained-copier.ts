// The RetainedCopier on NATS: the proxy package's copier (the same ring hash, subject mapping and retained
// encoding as the proxies), run once per ring version; the versions done are remembered in memory (after an
// operator restart a copy runs again and finds nothing left to move: it purges what it copied).
import { copyMovedRetained, type RetainedCopyReport } from '@shoal/proxy/internal';
import type { RetainedCopier, RetainedCopyRequest } from '../controller/retained-copier.js';

export class NatsRetainedCopier implements RetainedCopier {
  private readonly done = new Set<string>();

  constructor(private readonly timeoutMs = 60_000) {}

  async copyOnce(key: string, request: RetainedCopyRequest): Promise<RetainedCopyReport | undefined> {
    if (this.done.has(key)) return undefined;
    const report = await copyMovedRetained({
      previous: request.previous,
      current: request.current,
      timeoutMs: this.timeoutMs,
      name: 'shoal-operator',
      urlsOf: (shard) => request.urlsOf(shard.id),
    });
    this.done.add(key);
    return report;
  }
}
