import { pino, type Logger } from 'pino';

/** The proxy's structured JSON logger (stdout), with the proxy id on every line. */
export function createLogger(level: string, proxyId: string): Logger {
  return pino({ level, base: { proxy: proxyId }, timestamp: pino.stdTimeFunctions.isoTime });
}

/** A logger that writes nothing, for tests. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
