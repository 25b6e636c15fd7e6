import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';

/** The log lines a watched file writes (a pino Logger fits). */
export interface FileLog {
  info(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

export interface WatchedFileOptions<T> {
  readonly file: string;
  /** What the file means: `what` names it in log lines. */
  readonly what: string;
  /** Turns the file's text into a value; throws (any error) when the text is not valid. */
  readonly parse: (text: string) => T;
  readonly log: FileLog;
  /** Re-read interval, a safety net for missed file events. Default 10 s. */
  readonly pollIntervalMs?: number;
}

/**
 * A file parsed once at start (an invalid file fails the start) and again whenever it changes. The directory is
 * watched (a mounted Secret swaps a symlink) and polled; an invalid new version is logged and the value in use is
 * kept, so a half-written file never locks every client out.
 */
export class WatchedFile<T> {
  private watcher: FSWatcher | undefined;
  private poller: NodeJS.Timeout | undefined;
  private settle: NodeJS.Timeout | undefined;
  private closed = false;

  private constructor(
    private readonly options: WatchedFileOptions<T>,
    private value: T,
    private text: string,
  ) {}

  /** Reads and parses the file (rejects when it is unreadable or invalid) and starts following it. */
  static async load<T>(options: WatchedFileOptions<T>): Promise<WatchedFile<T>> {
    const text = await readFile(options.file, 'utf8');
    const watched = new WatchedFile(options, options.parse(text), text);
    watched.follow();
    return watched;
  }

  get current(): T {
    return this.value;
  }

  /** Re-reads the file now; resolves true when a new valid version was applied. */
  async reload(): Promise<boolean> {
    if (this.closed) return false;
    const { file, what, parse, log } = this.options;
    try {
      const text = await readFile(file, 'utf8');
      if (text === this.text) return false;
      const value = parse(text);
      this.value = value;
      this.text = text;
      log.info({ file }, `${what} reloaded`);
      return true;
    } catch (err: unknown) {
      log.error({ err, file }, `invalid ${what} ignored; keeping the one in use`);
      return false;
    }
  }

  close(): void {
    this.closed = true;
    this.watcher?.close();
    clearInterval(this.poller);
    clearTimeout(this.settle);
  }

  private follow(): void {
    const name = basename(this.options.file);
    try {
      this.watcher = watch(dirname(this.options.file), (_event, changed) => {
        if (changed === null || changed === name || changed.startsWith('..')) this.scheduleReload();
      });
      this.watcher.on('error', () => this.watcher?.close());
    } catch {
      // polling only
    }
    this.poller = setInterval(() => void this.reload(), this.options.pollIntervalMs ?? 10_000);
    this.poller.unref();
  }

  private scheduleReload(): void {
    clearTimeout(this.settle);
    this.settle = setTimeout(() => void this.reload(), 100);
    this.settle.unref();
  }
}
