import { pino, type Logger } from 'pino';

/** JSON logs to stdout (12-factor); the level from config, env or flags. */
export function createLogger(level = 'info', name = 'elink'): Logger {
  return pino({ name, level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime });
}
