/**
 * What a serving process does before it serves (issue 14): warm the frame path
 * (warm-up.ts) and collect start-up's garbage once (gc-tuning.ts), between the warm-up's
 * two parts. `elink connect`
 * starts it next to its login and awaits `ready()` before the interface gets its
 * addresses; `elink up` / `elink switch` await it before the switch listens.
 */
import type { Logger } from 'pino';
import { collectGarbage } from './gc-tuning.js';
import { startWarmUp, type WarmUp, type WarmUpOptions, type WarmUpReport } from './warm-up.js';

export interface StartupTuningOptions extends WarmUpOptions {
  /** Push throwaway frames through the frame path (--no-warm-up turns it off). */
  warmUp: boolean;
  /** One full collection in ready() (--no-gc-tuning turns it off). */
  gc: boolean;
  /** The collection (default collectGarbage; tests see when it runs). */
  collect?: () => void;
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
  const failed = (err: unknown): undefined => {
    o.logger.warn({ err: (err as Error)?.message ?? String(err) }, 'frame path warm-up failed; serving cold');
    return undefined;
  };
  // Most of the warm-up runs at once (beside a client's login, a node's set-up); its last
  // round trips run in ready(), after the collection (warm-up.ts, WarmUp).
  const warming: Promise<WarmUp | undefined> = o.warmUp ? startWarmUp(o).catch(failed) : Promise.resolve(undefined);
  return {
    get report() {
      return report;
    },
    ready: async () => {
      const warm = await warming;
      if (o.gc) {
        const t = performance.now();
        (o.collect ?? collectGarbage)();
        o.logger.info({ ms: Math.round(performance.now() - t) }, 'start-up garbage collected');
      }
      if (!warm) return;
      report = await warm.finish().catch(failed);
      if (report) o.logger.info({ ...report }, 'frame path warmed up');
    },
  };
}
