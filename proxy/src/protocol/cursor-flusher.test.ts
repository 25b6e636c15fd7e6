import { describe, expect, it } from '@jest/globals';
import { silentLogger } from '../observability/logger.js';
import { StaleSessionError } from '../sessions/session-errors.js';
import type { SessionCursors, SessionStore } from '../sessions/session-store.js';
import { CursorFlusher, type CursorSource } from './cursor-flusher.js';

/** A store that records cursor writes (the only call the flusher makes), failing for `stale` client ids. */
function recordingStore(stale: ReadonlySet<string> = new Set()) {
  const writes: { clientId: string; epoch: number; cursors: SessionCursors }[] = [];
  const store = {
    updateCursors: (clientId: string, epoch: number, cursors: SessionCursors): Promise<void> => {
      if (stale.has(clientId)) return Promise.reject(new StaleSessionError(clientId, epoch, epoch + 1));
      writes.push({ clientId, epoch, cursors });
      return Promise.resolve();
    },
  } as unknown as SessionStore;
  return { store, writes };
}

function source(clientId: string, epoch: number | undefined, initial: SessionCursors) {
  let cursors: SessionCursors | undefined = initial;
  const src: CursorSource & { set(next: SessionCursors | undefined): void } = {
    clientId,
    epoch,
    currentCursors: () => cursors,
    set: (next) => (cursors = next),
  };
  return src;
}

describe('CursorFlusher', () => {
  it('writes the cursors of tracked sessions, and again only when they moved', async () => {
    const { store, writes } = recordingStore();
    const flusher = new CursorFlusher(store, 60_000, silentLogger());
    const a = source('a', 7, { s1: 10 });
    flusher.track(a);
    await flusher.flush();
    await flusher.flush();
    expect(writes).toEqual([{ clientId: 'a', epoch: 7, cursors: { s1: 10 } }]);
    a.set({ s1: 12 });
    await flusher.flush();
    expect(writes.map((w) => w.cursors)).toEqual([{ s1: 10 }, { s1: 12 }]);
    flusher.stop();
  });

  it('skips sessions without cursors or epoch, and forgets untracked ones', async () => {
    const { store, writes } = recordingStore();
    const flusher = new CursorFlusher(store, 60_000, silentLogger());
    const empty = source('empty', 1, {});
    const noEpoch = source('no-epoch', undefined, { s1: 1 });
    const gone = source('gone', 2, { s1: 5 });
    for (const s of [empty, noEpoch, gone]) flusher.track(s);
    flusher.untrack(gone);
    await flusher.flush();
    expect(writes).toEqual([]);
    flusher.stop();
  });

  it('a session taken over elsewhere (stale epoch) is not an error, and is tried again only if it moves', async () => {
    const { store, writes } = recordingStore(new Set(['taken']));
    const flusher = new CursorFlusher(store, 60_000, silentLogger());
    flusher.track(source('taken', 3, { s1: 9 }));
    flusher.track(source('ok', 4, { s1: 1 }));
    await flusher.flush();
    expect(writes.map((w) => w.clientId)).toEqual(['ok']);
    flusher.stop();
  });

  it('an interval of 0 tracks nothing (cursors are written only when the connection leaves)', async () => {
    const { store, writes } = recordingStore();
    const flusher = new CursorFlusher(store, 0, silentLogger());
    flusher.track(source('a', 1, { s1: 1 }));
    await flusher.flush();
    expect(writes).toEqual([]);
  });
});
