/**
 * The audit log of administrative actions (who, when, what, result): a bounded list in the
 * store, so every broker sees every broker's entries. Each entry is also logged (pino),
 * so a store that fails does not lose the trail.
 */
import type { Logger } from 'pino';
import { ElError, type AuditEntry } from '@elink/protocol';
import type { BrokerStore } from '../store/store.js';
import { AUDIT_TTL_SECONDS } from './defaults.js';

const LIST = 'audit';

export class AuditLog {
  readonly #store: BrokerStore;
  readonly #max: number;
  readonly #logger: Logger;
  readonly #now: () => number;

  constructor(store: BrokerStore, max: number, logger: Logger, now: () => number = Date.now) {
    this.#store = store;
    this.#max = max;
    this.#logger = logger;
    this.#now = now;
  }

  async record(who: string, action: string, target: string, result: string): Promise<void> {
    const entry: AuditEntry = { t: new Date(this.#now()).toISOString(), who, action, target: target.slice(0, 256), result };
    this.#logger.info({ audit: entry }, 'admin action');
    try {
      await this.#store.pushList(LIST, JSON.stringify(entry), this.#max, AUDIT_TTL_SECONDS);
    } catch (err) {
      this.#logger.error({ err: (err as Error).message, audit: entry }, 'audit entry not stored (it is in this log)');
    }
  }

  /**
   * Runs `action` and records its outcome: `ok`, or the error's code (the error is rethrown).
   */
  async run<T>(who: string, action: string, target: string, fn: () => Promise<T>): Promise<T> {
    try {
      const out = await fn();
      await this.record(who, action, target, 'ok');
      return out;
    } catch (err) {
      await this.record(who, action, target, err instanceof ElError ? err.code : 'EL_ERR_INTERNAL');
      throw err;
    }
  }

  async list(limit: number): Promise<AuditEntry[]> {
    const raw = await this.#store.readList(LIST, Math.min(limit, this.#max));
    return raw.map((r) => JSON.parse(r) as AuditEntry);
  }
}
