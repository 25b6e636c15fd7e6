// The operator's configuration, read once from the environment and validated with zod. The only module
// that reads process.env (main.ts passes it in).
import { hostname } from 'node:os';
import { z } from 'zod';

/** `{"<namespace>/<cluster>/<shardId>": "nats://host:port"}` */
const OVERRIDE_KEY = /^[^/]+\/[^/]+\/shard-[0-9]+$/;
const ShardUrlOverrides = z.record(z.string(), z.string().regex(/^(nats|tls):\/\/\S+$/, 'values are nats://host:port URLs'));

const Bool = z.enum(['true', 'false']).transform((v) => v === 'true');

/** Environment variables, their defaults and meaning (docs/operator.md "Configuration"). */
const Env = z.object({
  /** Namespace to watch; empty for all namespaces. */
  SHOAL_WATCH_NAMESPACE: z.string().default(''),
  /** Namespace of the leader Lease (the operator's own). */
  SHOAL_OPERATOR_NAMESPACE: z.string().min(1).default('default'),
  /** This replica's identity in the Lease; the pod name in a cluster. */
  SHOAL_OPERATOR_ID: z.string().min(1).optional(),
  SHOAL_LEADER_ELECT: Bool.default(true),
  SHOAL_LEASE_NAME: z.string().min(1).default('shoal-operator'),
  SHOAL_HTTP_HOST: z.string().min(1).default('0.0.0.0'),
  SHOAL_HTTP_PORT: z.coerce.number().int().min(0).max(65_535).default(8080),
  SHOAL_WORKERS: z.coerce.number().int().min(1).max(64).default(2),
  /** Proxy image used when an MqttCluster names none. */
  SHOAL_PROXY_IMAGE: z.string().min(1).default('ghcr.io/shoal-mqtt/shoal-proxy:0.1.0'),
  /** nats-server image used when an MqttCluster names none. */
  SHOAL_NATS_IMAGE: z.string().min(1).default('nats:2.11.9-alpine'),
  SHOAL_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /**
   * Development aid: JSON object `{"<namespace>/<cluster>/<shardId>": "nats://host:port"}`, the URL the
   * operator dials for that shard's streams instead of its in-cluster DNS names.
   */
  SHOAL_SHARD_URL_OVERRIDES: z
    .string()
    .optional()
    .transform((text, ctx) => {
      if (text === undefined || text.trim() === '') return new Map<string, string>();
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch {
        ctx.addIssue({ code: 'custom', message: 'not JSON' });
        return z.NEVER;
      }
      const parsed = ShardUrlOverrides.safeParse(value);
      if (!parsed.success) {
        ctx.addIssue({ code: 'custom', message: z.prettifyError(parsed.error) });
        return z.NEVER;
      }
      const badKeys = Object.keys(parsed.data).filter((key) => !OVERRIDE_KEY.test(key));
      if (badKeys.length > 0) {
        ctx.addIssue({ code: 'custom', message: `keys are <namespace>/<cluster>/shard-<i>, not ${badKeys.map((k) => `'${k}'`).join(', ')}` });
        return z.NEVER;
      }
      return new Map(Object.entries(parsed.data));
    }),
  /** A kubeconfig file; without it the in-cluster service account is used. */
  KUBECONFIG: z.string().min(1).optional(),
});

export interface OperatorConfig {
  readonly watchNamespace: string;
  readonly operatorNamespace: string;
  readonly identity: string;
  readonly leaderElect: boolean;
  readonly leaseName: string;
  readonly http: { readonly host: string; readonly port: number };
  readonly workers: number;
  readonly images: { readonly proxy: string; readonly nats: string };
  readonly logLevel: string;
  readonly kubeconfig: string | undefined;
  /** `<namespace>/<cluster>/<shardId>` → NATS URL (SHOAL_SHARD_URL_OVERRIDES); empty in a cluster. */
  readonly shardUrlOverrides: ReadonlyMap<string, string>;
}

/** Invalid operator configuration, with every problem spelled out. */
export class OperatorConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OperatorConfigError';
  }
}

/** Validates the environment (only the variables above are read). */
export function loadOperatorConfig(env: Readonly<Record<string, string | undefined>>): OperatorConfig {
  const parsed = Env.safeParse(env);
  if (!parsed.success) throw new OperatorConfigError(`invalid operator configuration:\n${z.prettifyError(parsed.error)}`);
  const e = parsed.data;
  return {
    watchNamespace: e.SHOAL_WATCH_NAMESPACE,
    operatorNamespace: e.SHOAL_OPERATOR_NAMESPACE,
    identity: e.SHOAL_OPERATOR_ID ?? hostname(),
    leaderElect: e.SHOAL_LEADER_ELECT,
    leaseName: e.SHOAL_LEASE_NAME,
    http: { host: e.SHOAL_HTTP_HOST, port: e.SHOAL_HTTP_PORT },
    workers: e.SHOAL_WORKERS,
    images: { proxy: e.SHOAL_PROXY_IMAGE, nats: e.SHOAL_NATS_IMAGE },
    logLevel: e.SHOAL_LOG_LEVEL,
    kubeconfig: e.KUBECONFIG,
    shardUrlOverrides: e.SHOAL_SHARD_URL_OVERRIDES,
  };
}
