import { pino, type Logger } from 'pino';

/** The operator's structured JSON logger (stdout). */
export function createLogger(level: string, identity: string): Logger {
  return pino({ level, base: { operator: identity }, timestamp: pino.stdTimeFunctions.isoTime });
}
