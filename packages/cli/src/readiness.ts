/**
 * What "ready" means, the same on every port that answers /readyz (the admin port and
 * the broker's API port): every listener of the process accepts connections, the
 * broker's store answers (within READY_TIMEOUT_MS), and the switch node is not draining.
 * A not-ready process should get no new clients; it is still alive (/healthz).
 */
export interface ReadinessParts {
  /** Listeners by name ("broker", "switch", "admin"); read at each probe (they may start later). */
  listeners: () => Array<{ name: string; listening: boolean }>;
  /** The broker's store, when this process runs a broker. */
  store?: { ping(): Promise<void> };
  /** The switch node's drain state, when this process runs a switch. */
  draining?: () => boolean;
}

export const READY_TIMEOUT_MS = 2000;

/** Resolves to the reasons the process is not ready; empty = ready. */
export function readiness(parts: ReadinessParts): () => Promise<string[]> {
  return async () => {
    const reasons: string[] = [];
    for (const l of parts.listeners()) if (!l.listening) reasons.push(`the ${l.name} listener is not accepting connections`);
    if (parts.draining?.()) reasons.push('the switch node is draining (shutting down)');
    if (parts.store) {
      const store = parts.store;
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer in ${READY_TIMEOUT_MS} ms`)), READY_TIMEOUT_MS);
      });
      try {
        await Promise.race([store.ping(), timeout]);
      } catch (err) {
        reasons.push(`the broker's store does not answer: ${(err as Error).message}`);
      } finally {
        clearTimeout(timer);
      }
    }
    return reasons;
  };
}
