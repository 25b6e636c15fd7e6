// RingConfigMapSource against a scripted API server on 127.0.0.1 (node:http): the paths the real API server
// in the k8s e2e rarely takes (410 Gone, a dropped watch, no API server at all) on demand.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { pino, type Logger } from 'pino';
import { ConfigError } from '../errors.js';
import type { RingDocument } from '../routing/ring-document.js';
import { RingConfigMapSource, RingUnavailableError } from './ring-configmap-source.js';

const ringText = (version: number): string => JSON.stringify({ version, shards: [{ id: 'shard-0', urls: ['nats://s0:4222'] }] });
const configMap = (text: string | undefined, resourceVersion: string, annotations: Record<string, string> = {}): object => ({
  kind: 'ConfigMap',
  metadata: { name: 'demo-ring', namespace: 'mqtt', resourceVersion, annotations },
  ...(text === undefined ? {} : { data: { 'ring.json': text } }),
});

/** A watch request the fake server holds open. */
interface Watch {
  readonly url: URL;
  readonly res: ServerResponse;
  send(event: object): void;
}

/** Answers lists from `configMap` and `resourceVersion`; holds watches for the test to drive. */
class FakeApiServer {
  readonly requests: URL[] = [];
  configMap: object | undefined;
  resourceVersion = '10';
  private readonly server: Server;
  private readonly pending: Watch[] = [];
  private waiters: ((watch: Watch) => void)[] = [];

  constructor() {
    this.server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://fake');
      this.requests.push(url);
      if (url.searchParams.get('watch') !== '1') {
        res.setHeader('Content-Type', 'application/json');
        res.end(JSON.stringify({ kind: 'ConfigMapList', metadata: { resourceVersion: this.resourceVersion }, items: this.configMap === undefined ? [] : [this.configMap] }));
        return;
      }
      res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' });
      res.flushHeaders();
      const watch: Watch = { url, res, send: (event) => res.write(`${JSON.stringify(event)}\n`) };
      const waiter = this.waiters.shift();
      if (waiter === undefined) this.pending.push(watch);
      else waiter(watch);
    });
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    const address = this.server.address();
    return `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`;
  }

  /** The next watch request (already made, or the next one to arrive). */
  nextWatch(): Promise<Watch> {
    const ready = this.pending.shift();
    return ready !== undefined ? Promise.resolve(ready) : new Promise((resolve) => this.waiters.push(resolve));
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

/** Rings the source delivered, awaitable one by one. */
class Rings {
  readonly seen: RingDocument[] = [];
  private waiter: (() => void) | undefined;
  readonly onRing = (ring: RingDocument): void => {
    this.seen.push(ring);
    this.waiter?.();
  };
  async count(n: number): Promise<number[]> {
    while (this.seen.length < n) await new Promise<void>((resolve) => (this.waiter = resolve));
    return this.seen.map((r) => r.version);
  }
}

let api: FakeApiServer;
let url: string;
let logs: { level: number; msg: string }[];
let sources: RingConfigMapSource[];
const log = (): Logger => pino({ level: 'info' }, { write: (line: string) => logs.push(JSON.parse(line)) });

function source(rings: Rings, options: { url?: string; fallbackFile?: string } = {}): RingConfigMapSource {
  const s = new RingConfigMapSource({
    apiServer: { url: options.url ?? url },
    namespace: 'mqtt',
    name: 'demo-ring',
    key: 'ring.json',
    log: log(),
    onRing: rings.onRing,
    random: () => 0,
    ...(options.fallbackFile === undefined ? {} : { fallbackFile: options.fallbackFile }),
  });
  sources.push(s);
  return s;
}

beforeEach(async () => {
  api = new FakeApiServer();
  url = await api.listen();
  logs = [];
  sources = [];
});
afterEach(async () => {
  for (const s of sources) s.close();
  await api.close();
});

describe('RingConfigMapSource', () => {
  it('lists, then watches from the list resourceVersion and delivers each new document, ignoring invalid ones and metadata changes', async () => {
    api.configMap = configMap(ringText(1), '10');
    const rings = new Rings();
    expect((await source(rings).start()).version).toBe(1);
    const watch = await api.nextWatch();
    expect(api.requests[0]?.pathname).toBe('/api/v1/namespaces/mqtt/configmaps');
    expect(api.requests[0]?.searchParams.get('fieldSelector')).toBe('metadata.name=demo-ring');
    expect(Object.fromEntries(watch.url.searchParams)).toMatchObject({ fieldSelector: 'metadata.name=demo-ring', watch: '1', resourceVersion: '10', allowWatchBookmarks: 'true' });
    watch.send({ type: 'MODIFIED', object: configMap(ringText(2), '11') });
    expect(await rings.count(1)).toEqual([2]);
    watch.send({ type: 'MODIFIED', object: configMap('{"version": "oops"}', '12') });
    watch.send({ type: 'MODIFIED', object: configMap('{"version": "oops"}', '13', { nudge: '1' }) });
    watch.send({ type: 'MODIFIED', object: configMap(ringText(2), '14', { nudge: '2' }) }); // back to the ring in use: nothing new
    watch.send({ type: 'MODIFIED', object: configMap(ringText(3), '15') });
    expect(await rings.count(2)).toEqual([2, 3]);
    expect(logs.filter((l) => l.msg === 'invalid ring document ignored')).toHaveLength(2);
  });

  it('lists again after 410 Gone and watches from the new resourceVersion', async () => {
    api.configMap = configMap(ringText(1), '10');
    const rings = new Rings();
    await source(rings).start();
    const first = await api.nextWatch();
    first.send({ type: 'BOOKMARK', object: { kind: 'ConfigMap', metadata: { resourceVersion: '20' } } });
    api.configMap = configMap(ringText(2), '30');
    api.resourceVersion = '31';
    first.send({ type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired', message: 'too old resource version: 20 (25)' } });
    expect(await rings.count(1)).toEqual([2]); // from the new list
    const second = await api.nextWatch();
    expect(second.url.searchParams.get('resourceVersion')).toBe('31');
    expect(api.requests.filter((r) => r.searchParams.get('watch') !== '1')).toHaveLength(2);
  });

  it('reconnects after a dropped watch, from the last resourceVersion it saw', async () => {
    api.configMap = configMap(ringText(1), '10');
    const rings = new Rings();
    await source(rings).start();
    const first = await api.nextWatch();
    first.send({ type: 'BOOKMARK', object: { kind: 'ConfigMap', metadata: { resourceVersion: '17' } } });
    await new Promise((resolve) => first.res.write('', resolve));
    first.res.destroy();
    const second = await api.nextWatch();
    expect(second.url.searchParams.get('resourceVersion')).toBe('17');
    expect(logs.some((l) => l.msg === 'ring ConfigMap watch failed; retrying')).toBe(true);
    second.send({ type: 'MODIFIED', object: configMap(ringText(4), '18') });
    expect(await rings.count(1)).toEqual([4]);
  });

  it('rejects start while there is no ring (no ConfigMap, or an invalid one), so that the proxy retries', async () => {
    const rings = new Rings();
    await expect(source(rings).start()).rejects.toThrow(RingUnavailableError);
    api.configMap = configMap('{"version": 0}', '11');
    await expect(source(rings).start()).rejects.toThrow(expect.objectContaining({ name: 'RingUnavailableError', cause: expect.any(ConfigError) }));
    // The API server's answer is authoritative: no fallback to the file when it answers.
    await expect(source(rings, { fallbackFile: '/nonexistent/ring.json' }).start()).rejects.toThrow(RingUnavailableError);
    expect(api.requests.every((r) => r.searchParams.get('watch') !== '1')).toBe(true);
  });

  it('starts from the fallback file when the API server does not answer, and keeps trying to watch', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'shoal-ring-'));
    try {
      const file = join(dir, 'ring.json');
      writeFileSync(file, ringText(5));
      const rings = new Rings();
      const closed = new FakeApiServer();
      const deadUrl = await closed.listen();
      await closed.close(); // nothing listens there now
      expect((await source(rings, { url: deadUrl, fallbackFile: file }).start()).version).toBe(5);
      expect(logs.some((l) => l.msg.startsWith('API server unavailable; ring read from the fallback file'))).toBe(true);
      await expect(source(rings, { url: deadUrl }).start()).rejects.toThrow(/ECONNREFUSED/);
      await expect(source(rings, { url: deadUrl, fallbackFile: join(dir, 'none.json') }).start()).rejects.toThrow(AggregateError);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('close() ends the watch request', async () => {
    api.configMap = configMap(ringText(1), '10');
    const s = source(new Rings());
    await s.start();
    const watch = await api.nextWatch();
    const ended = new Promise((resolve) => watch.res.once('close', resolve));
    s.close();
    await ended;
  });
});
