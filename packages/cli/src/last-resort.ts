/**
 * The process's last line: an exception thrown from a timer or an I/O callback (or a
 * promise nobody awaited) that every local catch missed. Node's default is to end the
 * process, which for `elink up` drops every session of every user and the broker with
 * them; one failed callback is a smaller harm than that. So it is logged at `fatal`
 * with its stack, counted in el_process_uncaught_errors_total (alert on it: it is a bug
 * to fix), and the process serves on. Installed only once startup has finished: a
 * failure while starting still ends the process with its error code.
 */
import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';

export function installLastResort(logger: Logger, registry: Registry): () => void {
  const counter = new Counter({ name: 'el_process_uncaught_errors_total', help: 'Exceptions and rejections no handler caught (logged at fatal; the process carries on)', labelNames: ['kind'], registers: [registry] });
  const report = (kind: 'exception' | 'rejection') => (err: unknown) => {
    counter.inc({ kind });
    try {
      logger.fatal({ err, kind }, 'uncaught error: the process carries on; please report this as a bug');
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
