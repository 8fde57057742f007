import { pino, type Logger } from 'pino';
import { stdoutLog } from './log-output.js';

/** JSON logs to stdout (12-factor), never blocking the process (log-output.ts); the level
 * from config, env or flags; `bufferBytes`: the bound of what may wait for a slow reader. */
export function createLogger(level = 'info', name = 'elink', bufferBytes?: number): Logger {
  const out = stdoutLog(bufferBytes);
  const logger = pino({ name, level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime }, out.stream);
  out.attach(logger);
  return logger;
}
