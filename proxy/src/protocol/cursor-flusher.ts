import type { Logger } from 'pino';
import { StaleSessionError } from '../sessions/session-errors.js';
import type { SessionCursors, SessionStore } from '../sessions/session-store.js';

/** A connected persistent session whose cursors are written now and then. */
export interface CursorSource {
  readonly clientId: string;
  readonly epoch: number | undefined;
  currentCursors(): SessionCursors | undefined;
}

/**
 * Writes the offline cursors of connected persistent sessions to the store every interval (only those that moved),
 * so a session whose proxy dies resumes elsewhere close to where it was: the cursor written last is never ahead of
 * what the client acknowledged, so a crash costs duplicates, never losses. One timer for the whole proxy.
 */
export class CursorFlusher {
  private readonly sources = new Map<CursorSource, string>();
  private timer: NodeJS.Timeout | undefined;
  private flushing = false;

  constructor(
    private readonly store: SessionStore,
    private readonly intervalMs: number,
    private readonly log: Logger,
  ) {}

  track(source: CursorSource): void {
    if (this.intervalMs <= 0) return;
    this.sources.set(source, '');
    if (this.timer === undefined) {
      this.timer = setInterval(() => void this.flush(), this.intervalMs);
      this.timer.unref();
    }
  }

  untrack(source: CursorSource): void {
    this.sources.delete(source);
    if (this.sources.size === 0) this.stop();
  }

  /** Writes every cursor set that changed since it was last written; resolves when the writes are done. */
  async flush(): Promise<void> {
    if (this.flushing) return;
    this.flushing = true;
    try {
      const writes: Promise<void>[] = [];
      for (const [source, written] of this.sources) {
        const cursors = source.currentCursors();
        const epoch = source.epoch;
        if (cursors === undefined || epoch === undefined) continue;
        const text = JSON.stringify(cursors);
        if (text === written || text === '{}') continue;
        writes.push(this.write(source, epoch, cursors, text));
      }
      await Promise.all(writes);
    } finally {
      this.flushing = false;
    }
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private async write(source: CursorSource, epoch: number, cursors: SessionCursors, text: string): Promise<void> {
    try {
      await this.store.updateCursors(source.clientId, epoch, cursors);
      if (this.sources.has(source)) this.sources.set(source, text);
    } catch (err: unknown) {
      // taken over: the newer connection writes its own; unreachable: the next round tries again
      if (!(err instanceof StaleSessionError)) this.log.debug({ err, clientId: source.clientId }, 'cursors not written');
    }
  }
}
