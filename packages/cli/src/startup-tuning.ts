/**
 * What a serving process does before it serves (issue 14): warm the frame path
 * (warm-up.ts) and collect start-up's garbage once (gc-tuning.ts). `elink connect`
 * starts it next to its login and awaits `ready()` before the interface gets its
 * addresses; `elink up` / `elink switch` await it before the switch listens.
 */
import type { Logger } from 'pino';
import { collectGarbage } from './gc-tuning.js';
import { warmUpFramePath, type WarmUpOptions, type WarmUpReport } from './warm-up.js';

export interface StartupTuningOptions extends WarmUpOptions {
  /** Push throwaway frames through the frame path (--no-warm-up turns it off). */
  warmUp: boolean;
  /** One full collection in ready() (--no-gc-tuning turns it off). */
  gc: boolean;
  logger: Logger;
}

export interface StartupTuning {
  /** Resolves once the warm-up is over (it never rejects: a failed warm-up is logged) and
   * the collection ran. Call it once. */
  ready(): Promise<void>;
  /** The warm-up's report, once it ended (undefined when off or failed). */
  readonly report: WarmUpReport | undefined;
}

export function startupTuning(o: StartupTuningOptions): StartupTuning {
  let report: WarmUpReport | undefined;
  const warming = o.warmUp
    ? warmUpFramePath(o).then(
        (r) => {
          report = r;
          o.logger.info({ ...r }, 'frame path warmed up');
        },
        (err: unknown) => o.logger.warn({ err: (err as Error)?.message ?? String(err) }, 'frame path warm-up failed; serving cold'),
      )
    : Promise.resolve();
  return {
    get report() {
      return report;
    },
    ready: async () => {
      await warming;
      if (!o.gc) return;
      const t = performance.now();
      collectGarbage();
      o.logger.info({ ms: Math.round(performance.now() - t) }, 'start-up garbage collected');
    },
  };
}
