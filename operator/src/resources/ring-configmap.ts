// `X-ring`: the ring document in a ConfigMap (key `ring.json`), validated with the proxy's ring schema.
import type { V1ConfigMap } from './kube-types.js';
import { RingDocumentSchema, type RingDocument, type RingDocumentInput } from '@shoal/proxy';
import { z } from 'zod';
import { RenderError } from './errors.js';
import { RING_KEY, ringName } from './names.js';
import { childMeta, type ResolvedCluster } from './resolved-cluster.js';

/** The ring ConfigMap holds no valid ring document (edited by hand, or written by another version). */
export class RingUnreadableError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'RingUnreadableError';
  }
}

/** The ConfigMap `X-ring` holding `document`; throws RenderError if the document fails the proxy's schema. */
export function buildRingConfigMap(cluster: ResolvedCluster, document: RingDocumentInput): V1ConfigMap {
  const checked = RingDocumentSchema.safeParse(document);
  if (!checked.success) throw new RenderError(`rendered ring document is invalid:\n${z.prettifyError(checked.error)}`);
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: childMeta(cluster, ringName(cluster.name), 'ring'),
    data: { [RING_KEY]: `${JSON.stringify(document, null, 2)}\n` },
  };
}

/** The ring document of a `X-ring` ConfigMap's data; undefined when there is none yet. */
export function readRingDocument(data: Readonly<Record<string, string>> | undefined): RingDocument | undefined {
  const text = data?.[RING_KEY];
  if (text === undefined) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err: unknown) {
    throw new RingUnreadableError(`${RING_KEY} is not JSON`, { cause: err });
  }
  const parsed = RingDocumentSchema.safeParse(json);
  if (!parsed.success) throw new RingUnreadableError(`${RING_KEY} is not a ring document:\n${z.prettifyError(parsed.error)}`);
  return parsed.data;
}
