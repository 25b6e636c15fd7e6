// The only module that reads process.env. Loads the JSON configuration document named by
// SHOAL_PROXY_CONFIG and validates it once.
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { z } from 'zod';
import { ConfigError } from '../errors.js';
import { ProxyConfig } from './schema.js';

/** Validates a configuration document; throws ConfigError with every problem spelled out. */
export function parseProxyConfig(document: unknown): ProxyConfig {
  const result = ProxyConfig.safeParse(document);
  if (!result.success) {
    throw new ConfigError(`invalid proxy configuration:\n${z.prettifyError(result.error)}`);
  }
  return result.data;
}

/**
 * Reads the configuration named by the environment: SHOAL_PROXY_CONFIG (file); SHOAL_PROXY_ID and
 * SHOAL_LOG_LEVEL override the file's `proxyId` and `logLevel`.
 */
export function loadProxyConfig(env: NodeJS.ProcessEnv = process.env): ProxyConfig {
  const path = env['SHOAL_PROXY_CONFIG'];
  if (path === undefined || path === '') {
    throw new ConfigError('SHOAL_PROXY_CONFIG must name the proxy configuration file (JSON)');
  }
  let document: unknown;
  try {
    document = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err: unknown) {
    throw new ConfigError(`cannot read proxy configuration ${path}`, { cause: err });
  }
  if (typeof document !== 'object' || document === null || Array.isArray(document)) {
    throw new ConfigError(`proxy configuration ${path} must hold a JSON object`);
  }
  const withId = { proxyId: env['SHOAL_PROXY_ID'] ?? hostname(), ...document } as Record<string, unknown>;
  if (env['SHOAL_PROXY_ID'] !== undefined) withId['proxyId'] = env['SHOAL_PROXY_ID'];
  if (env['SHOAL_LOG_LEVEL'] !== undefined) withId['logLevel'] = env['SHOAL_LOG_LEVEL'];
  return parseProxyConfig(withId);
}
