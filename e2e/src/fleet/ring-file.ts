// The fleet's `ring.json`: the ring document the operator would publish in the `X-ring` ConfigMap, as a file the
// local proxies watch. Written atomically so that a proxy never reads half a ring.
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { FleetConfig } from './fleet-config.js';
import { shardUrls } from './shard-group.js';

/** One shard of `ring.json` (see proxy/src/routing/ring-document.ts and docs/ring.md). */
export interface RingShard {
  readonly id: string;
  readonly urls: readonly string[];
  readonly weight: number;
}

/** The ring document as written to `ring.json`; `previous` and `transitionUntil` only during a change. */
export interface RingFileDocument {
  readonly version: number;
  readonly vnodes: number;
  readonly shardKeyLevels: number;
  readonly shards: readonly RingShard[];
  readonly previous?: Omit<RingFileDocument, 'previous' | 'transitionUntil'>;
  readonly transitionUntil?: string;
}

/** The ring `make up` writes: shard `i` is `shard-<i>` at `nats://127.0.0.1:<SHOAL_NATS_PORT + i>`. */
export function buildFleetRing(config: FleetConfig, version: number): RingFileDocument {
  return {
    version,
    vnodes: 1024,
    shardKeyLevels: 0,
    shards: Array.from({ length: config.shards }, (_, i) => ({
      id: `shard-${i}`,
      urls: shardUrls(config, i),
      weight: 1,
    })),
  };
}

/** Writes a file so that readers see the old or the new content, never a part. */
export function writeFileAtomic(file: string, content: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, content);
  renameSync(tmp, file);
}

function readRing(file: string): RingFileDocument | undefined {
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as RingFileDocument;
  } catch {
    return undefined;
  }
}

/** Keeps the ring of a previous start when it still describes this fleet; else writes a newer version. */
export function ensureRing(config: FleetConfig, file: string): void {
  const existing = readRing(file);
  const version = typeof existing?.version === 'number' ? existing.version : 0;
  const wanted = buildFleetRing(config, Math.max(version, 1));
  if (existing !== undefined && JSON.stringify({ ...existing, version: wanted.version }) === JSON.stringify(wanted)) {
    return;
  }
  writeFileAtomic(file, `${JSON.stringify({ ...wanted, version: version + 1 }, null, 2)}\n`);
}
