import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import type { Logger } from 'pino';
import { parseRingDocument, type RingDocument } from '../routing/ring-document.js';

export interface RingFileSourceOptions {
  readonly path: string;
  readonly log: Logger;
  /** Called with each new ring document (a different version or content). */
  readonly onRing: (ring: RingDocument) => void;
  /** Re-read interval as a safety net for missed file events. Default 5 s. */
  readonly pollIntervalMs?: number;
}

/**
 * Follows `ring.json` on disk: a file `make up` rewrites atomically, or a mounted ConfigMap (whose updates
 * swap a symlink in the directory, so the directory is watched, not the file). An invalid document is logged
 * and ignored: the proxy keeps routing with the ring it has.
 */
export class RingFileSource {
  private watcher: FSWatcher | undefined;
  private poller: NodeJS.Timeout | undefined;
  private lastText = '';
  private reading: Promise<void> = Promise.resolve();

  constructor(private readonly options: RingFileSourceOptions) {}

  /** Where the ring comes from (for logs). */
  get description(): string {
    return `file ${this.options.path}`;
  }

  /** Loads the ring once (rejects when there is none yet, or it is invalid) and starts watching. */
  async start(): Promise<RingDocument> {
    const text = await readFile(this.options.path, 'utf8');
    const ring = parseRingDocument(JSON.parse(text) as unknown);
    this.lastText = text;
    const name = basename(this.options.path);
    this.watcher = watch(dirname(this.options.path), (_event, file) => {
      if (file === null || file === name || file.startsWith('..')) void this.reload();
    });
    this.watcher.on('error', (err) => this.options.log.warn({ err }, 'ring file watch failed; polling only'));
    this.poller = setInterval(() => void this.reload(), this.options.pollIntervalMs ?? 5_000);
    this.poller.unref();
    return ring;
  }

  /** Re-reads the file now (also used by tests). Resolves when the read finished. */
  reload(): Promise<void> {
    this.reading = this.reading.then(() => this.read());
    return this.reading;
  }

  close(): void {
    this.watcher?.close();
    clearInterval(this.poller);
  }

  private async read(): Promise<void> {
    let text: string;
    try {
      text = await readFile(this.options.path, 'utf8');
    } catch (err: unknown) {
      this.options.log.warn({ err, path: this.options.path }, 'ring file unreadable; keeping the current ring');
      return;
    }
    if (text === this.lastText) return;
    try {
      const ring = parseRingDocument(JSON.parse(text) as unknown);
      this.lastText = text;
      this.options.onRing(ring);
    } catch (err: unknown) {
      this.options.log.error({ err, path: this.options.path }, 'invalid ring document ignored');
    }
  }
}
