// The public entry point of @shoal/proxy.
export { ShoalProxy } from './proxy.js';
export type { BoundPorts, ProxyDeps } from './proxy.js';
export { ProxyConfig } from './config/schema.js';
export type { ProxyConfigInput } from './config/schema.js';
export { parseProxyConfig, loadProxyConfig } from './config/load.js';
export { createLogger, silentLogger } from './observability/logger.js';
export { RingDocumentSchema, parseRingDocument } from './routing/ring-document.js';
export type { RingDocument, RingDocumentInput, ShardSpec } from './routing/ring-document.js';
export { OpsServer } from './observability/http-server.js';
export type { OpsServerOptions } from './observability/http-server.js';
