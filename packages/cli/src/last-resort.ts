/**
 * The process's last line: an exception thrown from a timer or an I/O callback (or a
 * promise nobody awaited) that every local catch missed. Node's default is to end the
 * process, which for `elink up` drops every session of every user and the broker with
 * them; one failed callback is a smaller harm than that. So it is logged at `fatal`
 * with its stack, counted in el_process_uncaught_errors_total (alert on it: it is a bug
 * to fix), and the process serves on. At most LAST_RESORT_LOGS_PER_MINUTE such lines a
 * minute; the counter has every one. Installed only once startup has finished: a
 * failure while starting still ends the process with its error code.
 */
import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';

/** Fatal lines per minute at most: a bug a peer can trigger at will must not let it set the log volume. */
export const LAST_RESORT_LOGS_PER_MINUTE = 10;

export function installLastResort(logger: Logger, registry: Registry, now: () => number = Date.now): () => void {
  const counter = new Counter({ name: 'el_process_uncaught_errors_total', help: 'Exceptions and rejections no handler caught (logged at fatal; the process carries on)', labelNames: ['kind'], registers: [registry] });
  let windowStart = -Infinity;
  let logged = 0;
  let suppressed = 0;
  const report = (kind: 'exception' | 'rejection') => (err: unknown) => {
    counter.inc({ kind });
    const t = now();
    if (t - windowStart >= 60_000) {
      windowStart = t;
      logged = 0;
    }
    if (logged >= LAST_RESORT_LOGS_PER_MINUTE) {
      suppressed++;
      return;
    }
    logged++;
    try {
      // The first line of a new minute says how many the last one held back (the counter has them all).
      logger.fatal({ err, kind, ...(suppressed ? { suppressed } : {}) }, 'uncaught error: the process carries on; please report this as a bug');
      suppressed = 0;
    } catch {
      /* logging itself failed (stdout gone): nothing more to do */
    }
  };
  const onException = report('exception');
  const onRejection = report('rejection');
  process.on('uncaughtException', onException);
  process.on('unhandledRejection', onRejection);
  return () => {
    process.off('uncaughtException', onException);
    process.off('unhandledRejection', onRejection);
  };
}
