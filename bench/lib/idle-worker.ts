// A load-generator process of the connection-scale benchmark (forked by bench/connection-scale.ts with an IPC
// channel): opens its share of idle connections with an IdlePool, reports its counts every second, and closes
// them when told to, when the parent goes away, or after the bound it was given. One process holds fewer than
// 20,000 sockets (the machine's file-descriptor limit), so the benchmark forks several.
import { IdlePool, type IdlePoolCounts, type IdlePoolOptions } from './idle-pool.js';

/** The pool's options (it is built from them), and how many connections to hold for how long. */
export interface IdleWorkerTask extends Omit<IdlePoolOptions, 'connectTimeoutMs'> {
  readonly connections: number;
  /** The worker closes its connections and exits after this long, whatever the parent does. */
  readonly maxSeconds: number;
}

export type IdleWorkerMessage =
  | { readonly type: 'progress'; readonly counts: IdlePoolCounts; readonly rssMiB: number }
  | { readonly type: 'opened'; readonly counts: IdlePoolCounts; readonly seconds: number; readonly rssMiB: number }
  | { readonly type: 'closed'; readonly counts: IdlePoolCounts };

const send = (message: IdleWorkerMessage): void => {
  if (process.connected) process.send?.(message);
};
const rssMiB = (): number => Math.round(process.memoryUsage.rss() / 2 ** 20);

async function run(task: IdleWorkerTask): Promise<void> {
  const pool = new IdlePool(task);
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      clearInterval(progress);
      await pool.close();
      send({ type: 'closed', counts: pool.counts });
      process.disconnect();
    })();
    return closing;
  };
  const progress = setInterval(() => send({ type: 'progress', counts: pool.counts, rssMiB: rssMiB() }), 1_000);
  const bound = setTimeout(() => void close(), task.maxSeconds * 1000);
  bound.unref();
  process.on('disconnect', () => void close());
  process.on('message', (message: unknown) => {
    if (message === 'close') void close();
  });
  const started = performance.now();
  await pool.open(task.connections);
  send({ type: 'opened', counts: pool.counts, seconds: (performance.now() - started) / 1000, rssMiB: rssMiB() });
}

process.once('message', (task: IdleWorkerTask) => {
  void run(task);
});
