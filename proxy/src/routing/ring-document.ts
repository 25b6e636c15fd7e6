// The ring document `ring.json` that the operator publishes in ConfigMap `X-ring` and every proxy
// watches. Validated once here; docs/ring.md specifies it for other languages.
import { z } from 'zod';
import { ConfigError } from '../errors.js';
import { pointCount } from './hash-ring.js';

/** Virtual nodes per unit of weight when the document does not say; see docs/ring.md for the figures. */
export const DEFAULT_VNODES = 4096;

/** Most points one ring may hold (16 MiB of Uint32Array); bounds vnodes × total weight. */
export const MAX_RING_POINTS = 4_194_304;

const ShardId = z
  .string()
  .max(63)
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'a shard id is a DNS label: lower-case letters, digits and inner dashes');

const NatsUrl = z
  .string()
  .regex(/^nats:\/\/[^\s/:@]+(:\d{1,5})?$/, 'a shard URL looks like nats://host:port');

const Shard = z.strictObject({
  /** Stable name of the shard; hashed into its ring points, so renaming a shard moves its topics. */
  id: ShardId,
  /** NATS URLs of the shard's servers (one per replica). */
  urls: z.array(NatsUrl).min(1),
  /** Relative capacity: the shard gets floor(vnodes × weight + 0.5) points, at least one. */
  weight: z.number().positive().default(1),
});

const coreShape = {
  /** Increases with every change the operator publishes. */
  version: z.int().min(1),
  /** Points per unit of weight on the ring. */
  vnodes: z.int().min(1).max(65_536).default(DEFAULT_VNODES),
  /** 0: route by the whole topic; N: route by its first N levels. */
  shardKeyLevels: z.int().min(0).max(32).default(0),
  /** The shards; ids are unique. */
  shards: z
    .array(Shard)
    .min(1)
    .superRefine((shards, ctx) => {
      const seen = new Set<string>();
      shards.forEach((shard, index) => {
        if (seen.has(shard.id)) {
          ctx.addIssue({ code: 'custom', message: `duplicate shard id '${shard.id}'`, path: [index, 'id'] });
        }
        seen.add(shard.id);
      });
    }),
};

type CoreOutput = z.infer<z.ZodObject<typeof coreShape>>;

/** Every shard needs at least one point, and the ring as a whole must stay bounded. */
function checkPoints(core: CoreOutput, ctx: z.RefinementCtx): void {
  if (!Number.isInteger(core.vnodes) || core.vnodes < 1) return; // already reported; zod refines on
  let total = 0;
  core.shards.forEach((shard, index) => {
    const points = pointCount(core.vnodes, shard.weight);
    if (points < 1 && shard.weight > 0) {
      ctx.addIssue({ code: 'custom', message: 'weight too small: the shard would get no point', path: ['shards', index, 'weight'] });
    }
    total += points;
  });
  if (total > MAX_RING_POINTS) {
    ctx.addIssue({ code: 'custom', message: `vnodes × total weight gives ${total} points, more than ${MAX_RING_POINTS}`, path: ['vnodes'] });
  }
}

const Core = z.strictObject(coreShape).superRefine((core, ctx) => checkPoints(core, ctx));

const Document = z
  .strictObject({
    ...coreShape,
    /** The ring before the change being rolled out; present only during a transition. */
    previous: Core.optional(),
    /** End of the transition (ISO 8601 with offset); required exactly when `previous` is present. */
    transitionUntil: z.iso.datetime({ offset: true }).optional(),
  })
  .superRefine((doc, ctx) => {
    checkPoints(doc, ctx);
    if ((doc.previous === undefined) !== (doc.transitionUntil === undefined)) {
      ctx.addIssue({
        code: 'custom',
        message: 'previous and transitionUntil must be given together',
        path: [doc.previous === undefined ? 'previous' : 'transitionUntil'],
      });
    }
    if (doc.previous !== undefined && doc.previous.version >= doc.version) {
      ctx.addIssue({ code: 'custom', message: 'previous.version must be lower than version', path: ['previous', 'version'] });
    }
  });

/** The zod schema of `ring.json` (exported for the operator, which renders the same document). */
export const RingDocumentSchema = Document;
/** A validated ring document, defaults applied. */
export type RingDocument = z.infer<typeof Document>;
/** The ring itself: version, vnodes, shardKeyLevels and shards (a document without its transition). */
export type RingCore = z.infer<typeof Core>;
/** One shard of the ring. */
export type ShardSpec = { id: string; urls: string[]; weight: number };
/** `ring.json` as written, before defaults are applied. */
export type RingDocumentInput = z.input<typeof Document>;

/** Validates a parsed `ring.json`; throws ConfigError with every problem spelled out. */
export function parseRingDocument(json: unknown): RingDocument {
  const result = Document.safeParse(json);
  if (!result.success) {
    throw new ConfigError(`invalid ring document:\n${z.prettifyError(result.error)}`);
  }
  return result.data;
}
