// Internals that the e2e workspace (integration tests, local fleet) imports as `@shoal/proxy/internal`.
export { BackendUnavailableError } from './errors.js';
export { NatsBackend } from './backend/nats/nats-backend.js';
export type { NatsBackendMetrics, NatsBackendOptions, PublishOutcome } from './backend/nats/nats-backend.js';
export { ShardPool } from './backend/nats/shard-pool.js';
export type { NatsLog, ShardLink, ShardPoolOptions, ShardState, ShardStateChange } from './backend/nats/shard-pool.js';
export { ensureStreams, messagesStreamConfig, retainedStreamConfig } from './backend/nats/streams.js';
export type { StreamOptions } from './backend/nats/streams.js';
export * as natsNames from './backend/nats/nats-names.js';
export { RoutingTable } from './routing/routing-table.js';
export { parseRingDocument } from './routing/ring-document.js';
export type { RingDocument, RingDocumentInput, ShardSpec } from './routing/ring-document.js';
export type { DeliveredMessage, Message, QoS } from './backend/message.js';
export type { DeliveryHandler, InterestKey, MessageBackend, PublishOptions } from './backend/message-backend.js';
export { filterToSubjects, subjectToTopic, topicToSubject } from './routing/subject-mapping.js';
export { copyMovedRetained, movedFraction } from './ring-transition/retained-copier.js';
export type { RetainedCopyOptions, RetainedCopyReport } from './ring-transition/retained-copier.js';
