// The MqttCluster `.spec`, validated once at the edge with zod. The defaults here are the CRD's defaults
// (crds/shoal.dev_mqttclusters.yaml; a unit test keeps the two in step), so a spec read from a server
// that skipped defaulting still resolves to the same values.
import { z } from 'zod';
import { DURATION_PATTERN, QUANTITY_PATTERN } from './quantity.js';

const Quantity = z.union([z.int().min(0), z.string().regex(QUANTITY_PATTERN, 'a quantity such as 512Mi or 500m')]).transform(String);
const ResourceList = z.record(z.string(), Quantity);

/** Container resources (requests and limits), as in a Pod. */
const Resources = z.strictObject({
  requests: ResourceList.optional(),
  limits: ResourceList.optional(),
});

/** Kubernetes objects passed through to the pod spec unchanged (validated by the API server there). */
const Passthrough = z.record(z.string(), z.unknown());

/** Where pods may run; copied into the pod template. */
const Placement = z.strictObject({
  nodeSelector: z.record(z.string(), z.string()).optional(),
  tolerations: z.array(Passthrough).optional(),
  affinity: Passthrough.optional(),
  topologySpreadConstraints: z.array(Passthrough).optional(),
});

const Autoscaling = z
  .strictObject({
    enabled: z.boolean().default(false),
    minReplicas: z.int().min(1).default(2),
    maxReplicas: z.int().min(1).default(10),
    /** Average open MQTT connections per proxy pod the HPA aims for. */
    targetConnectionsPerPod: z.int().min(1).default(50_000),
  })
  .refine((a) => a.minReplicas <= a.maxReplicas, { error: 'minReplicas must be <= maxReplicas', path: ['minReplicas'] });

const Service = z
  .strictObject({
    type: z.enum(['LoadBalancer', 'NodePort', 'ClusterIP']).default('LoadBalancer'),
    annotations: z.record(z.string(), z.string()).optional(),
    externalTrafficPolicy: z.enum(['Cluster', 'Local']).default('Cluster'),
    loadBalancerSourceRanges: z.array(z.string()).optional(),
  })
  .refine((s) => s.type === 'LoadBalancer' || s.loadBalancerSourceRanges === undefined, {
    error: 'loadBalancerSourceRanges needs type LoadBalancer',
    path: ['loadBalancerSourceRanges'],
  })
  .refine((s) => s.type !== 'ClusterIP' || s.externalTrafficPolicy === 'Cluster', {
    error: 'externalTrafficPolicy Local needs type LoadBalancer or NodePort',
    path: ['externalTrafficPolicy'],
  });

const Port = z.int().min(1).max(65_535);

const Listeners = z
  .strictObject({
    mqtt: z.strictObject({ enabled: z.boolean().default(true), port: Port.default(1883) }).prefault({}),
    websocket: z
      .strictObject({ enabled: z.boolean().default(false), port: Port.default(8083), path: z.string().startsWith('/').default('/mqtt') })
      .prefault({}),
    tls: z
      .strictObject({ enabled: z.boolean().default(false), port: Port.default(8883), secretName: z.string().min(1).optional() })
      .refine((t) => !t.enabled || t.secretName !== undefined, { error: 'tls.secretName is required when tls is enabled', path: ['secretName'] })
      .prefault({}),
  })
  .refine((l) => l.mqtt.enabled || l.websocket.enabled || l.tls.enabled, { error: 'at least one listener must be enabled' });

const Drain = z.strictObject({
  /** Seconds a stopping proxy stays up not-ready before it closes its listeners (endpoints leave the Service). */
  notReadyDelaySeconds: z.int().min(0).max(600).default(5),
  /** Clients disconnected per second when a proxy stops. */
  disconnectRatePerSecond: z.int().min(1).default(1000),
  /** Longest a stopping proxy drains before it closes what is left. */
  timeoutSeconds: z.int().min(0).max(3600).default(300),
  /** When set, MQTT 5 clients are disconnected with 0x9C Use Another Server and this Server Reference. */
  serverReference: z.string().min(1).max(1024).optional(),
});

const Proxy = z.strictObject({
  replicas: z.int().min(0).default(2),
  /** Proxy image; the operator's default (matching its version) when absent. */
  image: z.string().min(1).optional(),
  resources: Resources.prefault({ requests: { cpu: '500m', memory: '512Mi' } }),
  autoscaling: Autoscaling.prefault({}),
  service: Service.prefault({}),
  listeners: Listeners.prefault({}),
  drain: Drain.prefault({}),
  /** Most proxies unavailable at once during voluntary disruptions (PodDisruptionBudget). */
  maxUnavailable: z.int().min(0).default(1),
  placement: Placement.prefault({}),
});

const Shards = z.strictObject({
  count: z.int().min(1).max(256).default(3),
  /** nats-server replicas per shard: 1, or 3 for a JetStream cluster with R3 streams. */
  replicas: z.union([z.literal(1), z.literal(3)]).default(1),
  /** nats-server image; the operator's default when absent. */
  image: z.string().min(1).optional(),
  storage: z
    .strictObject({
      size: Quantity.default('10Gi'),
      storageClassName: z.string().min(1).optional(),
    })
    .prefault({}),
  resources: Resources.prefault({ requests: { cpu: '500m', memory: '1Gi' } }),
  placement: Placement.prefault({}),
});

const Routing = z.strictObject({
  vnodes: z.int().min(1).max(65_536).default(4096),
  shardKeyLevels: z.int().min(0).max(32).default(0),
  /** How long a ring change keeps the previous ring alive (proxies subscribe on both owners). */
  transitionSeconds: z.int().min(10).max(86_400).default(600),
});

const SecretKeyRef = z.strictObject({ name: z.string().min(1), key: z.string().min(1).default('url') });

const Sessions = z.strictObject({
  redis: z
    .strictObject({
      url: z.string().min(1).optional(),
      secretRef: SecretKeyRef.optional(),
      mode: z.enum(['standalone', 'cluster', 'sentinel']).default('standalone'),
    })
    .refine((r) => (r.url === undefined) !== (r.secretRef === undefined), { error: 'give exactly one of url and secretRef' })
    .optional(),
});

const Retention = z.strictObject({
  /** Oldest offline message kept, as a duration (`24h`, `7d`). */
  offlineMaxAge: z.string().regex(DURATION_PATTERN, 'a duration such as 24h or 7d').default('24h'),
  /** Bytes of messages kept per shard. */
  maxBytesPerShard: Quantity.default('1Gi'),
});

const Monitoring = z.strictObject({
  serviceMonitor: z
    .strictObject({
      enabled: z.boolean().default(false),
      interval: z.string().regex(DURATION_PATTERN).default('30s'),
      labels: z.record(z.string(), z.string()).optional(),
    })
    .prefault({}),
});

/**
 * Authentication of the proxies' listeners from a Secret mounted at /etc/shoal/auth: a users file (`shoal-passwd`
 * lines) and/or a JWKS for device JWTs, tried JWT first; anonymous clients only when `anonymous` is set.
 */
const Auth = z.strictObject({
  secretName: z.string().min(1),
  usersFileKey: z.string().min(1).optional(),
  jwksKey: z.string().min(1).optional(),
  jwt: z
    .strictObject({
      issuer: z.string().min(1).optional(),
      audience: z.string().min(1).optional(),
      usernameClaim: z.string().min(1).optional(),
      clientIdClaim: z.string().min(1).optional(),
      aclClaim: z.string().min(1).optional(),
    })
    .optional(),
  anonymous: z.boolean().default(false),
});

/** A NetworkPolicy that lets only this cluster's proxies (and shards) and the operator reach the shards. */
const NetworkPolicy = z.strictObject({
  enabled: z.boolean().default(false),
  /** Namespace of the operator's pods; any namespace when absent. */
  operatorNamespace: z.string().min(1).optional(),
});

/** The `.spec` of an MqttCluster, defaults applied. */
export const MqttClusterSpecSchema = z.strictObject({
  proxy: Proxy.prefault({}),
  shards: Shards.prefault({}),
  routing: Routing.prefault({}),
  sessions: Sessions.prefault({}),
  retention: Retention.prefault({}),
  /** Secret with the authentication data (mounted read-only into the proxies). */
  auth: Auth.optional(),
  /** ConfigMap with the ACL rules, a JSON list under `key` (mounted read-only into the proxies). */
  acl: z.strictObject({ configMapName: z.string().min(1), key: z.string().min(1).default('acl.json') }).optional(),
  networkPolicy: NetworkPolicy.optional(),
  monitoring: Monitoring.prefault({}),
});

/** A resolved spec: every default applied. */
export type MqttClusterSpec = z.infer<typeof MqttClusterSpecSchema>;
/** A spec as written by a user. */
export type MqttClusterSpecInput = z.input<typeof MqttClusterSpecSchema>;

/** The spec did not validate; `message` lists every problem with its path. */
export class InvalidSpecError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'InvalidSpecError';
  }
}

/** Validates an MqttCluster `.spec` (undefined counts as `{}`); throws InvalidSpecError. */
export function parseMqttClusterSpec(spec: unknown): MqttClusterSpec {
  const result = MqttClusterSpecSchema.safeParse(spec ?? {});
  if (!result.success) throw new InvalidSpecError(z.prettifyError(result.error));
  return result.data;
}
