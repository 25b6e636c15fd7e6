// The proxy's configuration contract. Imports only zod: the operator renders this document into the
// `X-proxy-config` ConfigMap, and `make up` writes it for each local proxy.
import { z } from 'zod';
import { AuthConfig, ChainName, securityLimits } from './auth-schema.js';

const Host = z.string().min(1);
const Port = z.int().min(0).max(65535);

const TcpListener = z.strictObject({
  host: Host.default('0.0.0.0'),
  port: Port.default(1883),
  /** The authentication chain (auth.chains) of this listener; absent: every client is accepted. */
  auth: ChainName.optional(),
});

/**
 * Certificate, key and optional client CA from files (a mounted Secret), re-read when they change. The same
 * fields on every TLS listener: each names its files (usually the same Secret), so none depends on another.
 */
const tlsFields = {
  /** PEM server certificate (chain). */
  certFile: z.string().min(1),
  /** PEM private key of `certFile`. */
  keyFile: z.string().min(1),
  /** PEM CA bundle for client certificates: when set, clients are asked for one and it is verified. */
  caFile: z.string().min(1).optional(),
  /** Refuse the handshake of a client without a certificate signed by `caFile`. */
  requireClientCert: z.boolean().default(false),
  minVersion: z.enum(['TLSv1.2', 'TLSv1.3']).default('TLSv1.2'),
  /** Time a client has to complete the TLS handshake; the CONNECT timeout starts after it. */
  handshakeTimeoutMs: z.int().min(100).max(60_000).default(10_000),
};
const clientCaRequired = {
  check: (t: { requireClientCert: boolean; caFile?: string | undefined }): boolean => !t.requireClientCert || t.caFile !== undefined,
  params: { error: 'requireClientCert needs caFile', path: ['requireClientCert'] },
};

const TlsSettings = z.strictObject(tlsFields).refine(clientCaRequired.check, clientCaRequired.params);

/** MQTT over TLS (8883). */
const TlsListener = z
  .strictObject({ host: Host.default('0.0.0.0'), port: Port.default(8883), auth: ChainName.optional(), ...tlsFields })
  .refine(clientCaRequired.check, clientCaRequired.params);

const WebSocketListener = z.strictObject({
  host: Host.default('0.0.0.0'),
  port: Port.default(8083),
  /** HTTP path that upgrades to MQTT over WebSocket. */
  path: z.string().startsWith('/').default('/mqtt'),
  /** Serve wss:// (HTTPS) instead of ws://. */
  tls: TlsSettings.optional(),
  auth: ChainName.optional(),
});

const HttpServer = z.strictObject({
  host: Host.default('0.0.0.0'),
  port: Port.default(9100),
});

const Path = z.string().min(1);

/** The ring from a file: a mounted ConfigMap or the file `make up` writes; reloaded when it changes. */
const RingFromFile = z.strictObject({
  /** Path of `ring.json`. */
  file: Path,
});

/** How to reach the Kubernetes API server. Files are re-read at every (re)connection: tokens rotate. */
const ApiServer = z
  .strictObject({
    /** `https://host:port` (or `http://` for `kubectl proxy`). */
    url: z.url({ protocol: /^https?$/ }),
    /** PEM CA bundle that signed the server's certificate; the system CAs when absent. */
    caFile: Path.optional(),
    /** Bearer token (a ServiceAccount token). */
    tokenFile: Path.optional(),
    /** PEM client certificate and key (both or neither). */
    certFile: Path.optional(),
    keyFile: Path.optional(),
  })
  .refine((a) => (a.certFile === undefined) === (a.keyFile === undefined), {
    error: 'certFile and keyFile go together',
    path: ['certFile'],
  });

/** The ring from its ConfigMap, read and watched through the API server. */
const RingFromConfigMap = z.strictObject({
  configMap: z.strictObject({
    /** Namespace of the ConfigMap; in a pod, its own namespace when absent. */
    namespace: z.string().min(1).max(63).optional(),
    name: z.string().min(1).max(253),
    key: z.string().min(1).default('ring.json'),
  }),
  /** Absent: the pod's in-cluster credentials (ServiceAccount token, KUBERNETES_SERVICE_HOST/PORT). */
  apiServer: ApiServer.optional(),
  /**
   * The same ConfigMap mounted as a file. Followed instead when the pod has no API credentials (no token
   * mounted), and read once when the API server does not answer at start (the watch keeps trying).
   */
  fallbackFile: Path.optional(),
});

/** Where the ring document comes from: `{ file }` or `{ configMap, apiServer?, fallbackFile? }`. */
const RingSource = z.union([RingFromFile, RingFromConfigMap], {
  error: 'ring is either {"file": path} or {"configMap": {"name", "namespace"?, "key"?}, "apiServer"?, "fallbackFile"?}',
});

/** Offline delivery of persistent sessions (cursors in the session store, replay from the shards' streams). */
const Offline = z.strictObject({
  /** Stored messages read per batch when a resumed session replays (bounded by half the outbound queue). */
  replayBatchSize: z.int().min(1).max(10_000).default(256),
  /** Live messages held per shard while a session replays it; beyond, the replay reads them from the stream. */
  replayBufferMax: z.int().min(1).max(1_000_000).default(10_000),
  /** How often a connected persistent session's cursors are written to the store; 0: only when it leaves. */
  cursorFlushIntervalMs: z.int().min(0).max(3_600_000).default(1_000),
  /** Wait before reading again from a shard that could not be read. */
  replayRetryMs: z.int().min(10).max(60_000).default(1_000),
});

/** Where sessions live: this proxy's memory (a single proxy), or Redis shared by the whole fleet. */
const Sessions = z.discriminatedUnion('store', [
  z.strictObject({ store: z.literal('memory') }),
  z.strictObject({
    store: z.literal('redis'),
    /** `redis://[user:password@]host:port[/db]` (or `rediss://`) of a standalone server. */
    url: z.string().regex(/^rediss?:\/\/[^/]/, 'a redis:// or rediss:// URL'),
    /** A Redis command not answered in this time fails (a CONNECT then gets Server Unavailable). */
    commandTimeoutMs: z.int().min(10).max(60_000).optional(),
    /** Expiry index buckets; part of the key scheme: the same on every proxy of a fleet. */
    expiryBuckets: z.int().min(1).max(65_536).optional(),
  }),
]);

/** The shared expiry index (delayed wills, session expiry): how often this proxy claims what is due. */
const Expiry = z.strictObject({
  /** Mean time between polls (jittered ±10 %); a delayed will fires up to this late. */
  pollIntervalMs: z.int().min(50).max(60_000).default(1_000),
  /** Entries claimed per poll; a full batch is followed by another at once. */
  batchLimit: z.int().min(1).max(10_000).default(200),
  /**
   * Each poll is the proxy's heartbeat; a proxy not heard from for this long is taken for dead by another, which
   * orphans its connected sessions (expiry starts, wills fire after their delay). Keep it several poll intervals.
   */
  proxyLivenessMs: z.int().min(500).max(600_000).default(15_000),
});

/** Protocol limits; see docs/security.md for how they compare with EMQX and Mosquitto. */
const Limits = z.strictObject({
  /** Time a new connection has to send CONNECT. */
  connectTimeoutMs: z.int().min(100).max(60_000).default(10_000),
  /** Largest packet accepted from a client, announced as Maximum Packet Size. */
  maxPacketSizeBytes: z.int().min(64).max(268_435_455).default(1_048_576),
  /** Receive Maximum announced to clients: QoS 1/2 PUBLISHes a client may have unacknowledged. */
  receiveMaximum: z.int().min(1).max(65_535).default(128),
  /** Outbound QoS 1/2 messages in flight per connection, when the client announces no smaller maximum. */
  maxInflightOut: z.int().min(1).max(65_535).default(128),
  /** Messages queued per connection beyond the in-flight window; QoS 0 is dropped first. */
  maxQueuedMessages: z.int().min(0).max(1_000_000).default(1_000),
  /** Topic Alias Maximum announced to clients (0 disables inbound aliases). */
  topicAliasMaximum: z.int().min(0).max(65_535).default(64),
  /** Upper bound for a client's keepalive; announced as Server Keep Alive when exceeded (0 = no bound). */
  maxKeepaliveSeconds: z.int().min(0).max(65_535).default(0),
  /** Longest topic name or filter, in UTF-8 bytes. */
  maxTopicLengthBytes: z.int().min(1).max(65_535).default(1_024),
  /** Most levels in a topic name or filter. */
  maxTopicLevels: z.int().min(1).max(1_024).default(32),
  /** Most subscriptions one session may hold. */
  maxSubscriptionsPerSession: z.int().min(1).max(100_000).default(100),
  /** Connections this proxy accepts; later CONNECTs get Server Busy / Quota Exceeded. */
  maxConnections: z.int().min(1).default(100_000),
  ...securityLimits,
});

const Nats = z.strictObject({
  /** How long a QoS ≥ 1 publish waits for the JetStream acknowledgement. */
  publishTimeoutMs: z.int().min(100).max(60_000).default(5_000),
  /** Create SHOAL_MSGS and SHOAL_RETAINED on each shard at start (until the operator owns them). */
  ensureStreams: z.boolean().default(true),
  /** Offline retention: oldest message kept, seconds. */
  messageMaxAgeSeconds: z.int().min(1).default(86_400),
  /** Offline retention: bytes kept per shard. */
  messageMaxBytes: z.int().min(1_048_576).default(1_073_741_824),
  /** JetStream replicas of the streams (1, or 3 for a clustered shard). */
  streamReplicas: z.union([z.literal(1), z.literal(3)]).default(1),
  /** JetStream duplicate window for `Nats-Msg-Id`, seconds. */
  duplicateWindowSeconds: z.int().min(1).max(86_400).default(120),
});

/** How a stopping proxy (SIGTERM) hands its clients back; see docs/operations.md#shutdown. */
const Drain = z.strictObject({
  /** Time between turning not-ready and closing the listeners (the load balancer stops sending new clients). */
  notReadyDelayMs: z.int().min(0).max(600_000).default(0),
  /** Clients disconnected per second. */
  disconnectRatePerSecond: z.int().min(1).max(1_000_000).default(1_000),
  /** Longest the paced disconnects take; what is left then goes at once. */
  timeoutMs: z.int().min(0).max(3_600_000).default(300_000),
  /** When set, v5 clients are disconnected with 0x9C Use Another Server and this Server Reference. */
  serverReference: z.string().min(1).max(1_024).optional(),
});

/** Concurrent CONNECTs opening their session, and the FIFO wait beyond them (reconnect storms). */
const ConnectAdmission = z.strictObject({
  /** Session opens running at once. */
  maxConcurrent: z.int().min(1).max(100_000).default(256),
  /** CONNECTs waiting for a slot; beyond it CONNACK 0x89 Server Busy (v3: 3). */
  maxWaiting: z.int().min(0).max(1_000_000).default(20_000),
  /** Longest a CONNECT waits for a slot before it gets Server Busy. */
  maxWaitMs: z.int().min(1).max(60_000).default(10_000),
});

/**
 * The proxy keeps `controller.kubernetes.io/pod-deletion-cost` of its own pod at its connection count, so a
 * scale-down removes the emptiest proxy first (docs/autoscaling.md). Needs `patch` on pods (the operator's Role).
 */
const PodDeletionCost = z.strictObject({
  /** How often the count is compared with the annotation (written only when it changed by ≥ 10%). */
  intervalMs: z.int().min(500).max(3_600_000).default(30_000),
  /** The pod's name; the proxy id (the operator sets it from metadata.name) when absent. */
  podName: z.string().min(1).max(253).optional(),
  /** The pod's namespace; the ring ConfigMap's when absent. */
  namespace: z.string().min(1).max(63).optional(),
  /** The API server; the ring's (in a pod: its ServiceAccount) when absent. */
  apiServer: ApiServer.optional(),
});

export const ProxyConfig = z.strictObject({
  /** Identity of this proxy in logs, metrics and session ownership; defaults to the host name. */
  proxyId: z.string().min(1).max(253),
  listeners: z.strictObject({
    mqtt: TcpListener.optional(),
    websocket: WebSocketListener.optional(),
    tls: TlsListener.optional(),
  }),
  http: HttpServer.prefault({}),
  ring: RingSource,
  sessions: Sessions.prefault({ store: 'memory' }),
  offline: Offline.prefault({}),
  expiry: Expiry.prefault({}),
  limits: Limits.prefault({}),
  nats: Nats.prefault({}),
  drain: Drain.prefault({}),
  connectAdmission: ConnectAdmission.prefault({}),
  podDeletionCost: PodDeletionCost.optional(),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Authentication chains and ACLs that listeners name (docs/security.md). */
  auth: AuthConfig.optional(),
});
export type ProxyConfig = z.infer<typeof ProxyConfig>;
/** The configuration document before defaults are applied (what a file or ConfigMap holds). */
export type ProxyConfigInput = z.input<typeof ProxyConfig>;
export type ProxyLimits = ProxyConfig['limits'];
/** Offline delivery settings, defaults applied. */
export type OfflineSettings = ProxyConfig['offline'];
/** Drain settings, defaults applied. */
export type DrainConfig = ProxyConfig['drain'];
/** Connect admission settings, defaults applied. */
export type ConnectAdmissionConfig = ProxyConfig['connectAdmission'];
/** TLS files and client-certificate policy of one listener, defaults applied. */
export type TlsSettings = z.infer<typeof TlsSettings>;
/** The ring source, defaults applied. */
export type RingSourceConfig = ProxyConfig['ring'];
/** The ring from its ConfigMap through the API server. */
export type RingConfigMapConfig = z.infer<typeof RingFromConfigMap>;
/** How to reach the API server. */
export type ApiServerConfig = z.infer<typeof ApiServer>;
