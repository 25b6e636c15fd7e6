// Step CopyRetained on its own, with a fake RetainedCopier: when it copies (once the proxies had time to switch,
// during the transition only), with which rings and URLs, and what it reports.
import { describe, expect, it } from '@jest/globals';
import type { RingDocument } from '@shoal/proxy';
import { pino } from 'pino';
import { mqttCluster, resolvedCluster } from '../../test-support/clusters.js';
import { FakeKubeClient } from '../../test-support/fake-kube-client.js';
import { FakeStreamEnsurer } from '../../test-support/fake-stream-ensurer.js';
import type { ReconcileContext } from '../reconcile-context.js';
import type { RetainedCopier, RetainedCopyReport, RetainedCopyRequest } from '../retained-copier.js';
import { copyRetained, PROPAGATION_MS } from './retained.js';

const PUBLISHED = Date.parse('2030-01-01T00:00:00Z');
const shard = (i: number): RingDocument['shards'][number] => ({ id: `shard-${i}`, urls: [`nats://shard-${i}:4222`], weight: 1 });
const previous = { version: 1, vnodes: 64, shardKeyLevels: 0, shards: [shard(0), shard(1), shard(2)] };
const ring: RingDocument = { ...previous, version: 2, shards: [...previous.shards, shard(3)], previous, transitionUntil: new Date(PUBLISHED + 600_000).toISOString() };

class FakeCopier implements RetainedCopier {
  readonly calls: { key: string; request: RetainedCopyRequest }[] = [];
  copyOnce(key: string, request: RetainedCopyRequest): Promise<RetainedCopyReport | undefined> {
    const first = !this.calls.some((c) => c.key === key);
    this.calls.push({ key, request });
    return Promise.resolve(first ? { scanned: 10, moved: 3, copied: 2, kept: 1 } : undefined);
  }
}

function context(now: number, copier: RetainedCopier, document: RingDocument | undefined = ring): ReconcileContext {
  return {
    kube: new FakeKubeClient(),
    log: pino({ level: 'silent' }),
    streams: new FakeStreamEnsurer(),
    retained: copier,
    shardUrlOverrides: new Map([['mqtt/demo/shard-3', 'nats://127.0.0.1:4333']]),
    cluster: mqttCluster(),
    resolved: resolvedCluster(),
    now,
    ring: document,
    ringHold: undefined,
    shards: [],
    proxy: undefined,
    applied: new Set(),
    events: [],
    requeueAfterMs: undefined,
  };
}

describe('CopyRetained', () => {
  it('waits until the proxies had time to switch, then copies once per ring version', async () => {
    const copier = new FakeCopier();
    const early = context(PUBLISHED + 1_000, copier);
    await copyRetained.run(early);
    expect(copier.calls).toHaveLength(0);
    expect(early.requeueAfterMs).toBe(PROPAGATION_MS - 1_000);

    const due = context(PUBLISHED + PROPAGATION_MS, copier);
    await copyRetained.run(due);
    expect(copier.calls.map((c) => c.key)).toEqual(['mqtt/demo@2']);
    expect(copier.calls[0]?.request.previous).toEqual(previous);
    expect(copier.calls[0]?.request.urlsOf('shard-3')).toEqual(['nats://127.0.0.1:4333']);
    expect(copier.calls[0]?.request.urlsOf('shard-0')).toEqual(['nats://shard-0:4222']);
    expect(due.events).toEqual([
      { type: 'Normal', reason: 'RetainedCopied', message: 'Ring version 2: 3 retained messages moved, 2 copied, 1 newer on the new owner' },
    ]);

    const again = context(PUBLISHED + PROPAGATION_MS + 5_000, copier);
    await copyRetained.run(again);
    expect(again.events).toEqual([]);
  });

  it('does nothing outside a transition', async () => {
    const copier = new FakeCopier();
    await copyRetained.run(context(PUBLISHED + 700_000, copier));
    await copyRetained.run(context(PUBLISHED + PROPAGATION_MS, copier, previous));
    expect(copier.calls).toHaveLength(0);
  });
});
