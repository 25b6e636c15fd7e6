#!/usr/bin/env node
// The proxy's composition root: configuration, logger, proxy; SIGTERM/SIGINT drain it.
import { loadProxyConfig } from './config/load.js';
import { createLogger } from './observability/logger.js';
import { ShoalProxy } from './proxy.js';

async function main(): Promise<void> {
  const config = loadProxyConfig();
  const log = createLogger(config.logLevel, config.proxyId);
  const proxy = await ShoalProxy.start({ config, log });
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'draining');
    proxy
      .close()
      .then(() => log.info('stopped'))
      .catch((err: unknown) => log.error({ err }, 'shutdown failed'))
      .finally(() => {
        process.exitCode = 0;
        setTimeout(() => process.exit(), 100).unref();
      });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('unhandledRejection', (reason) => log.error({ err: reason }, 'unhandled rejection'));
}

main().catch((err: unknown) => {
  process.stderr.write(`shoal-proxy: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
