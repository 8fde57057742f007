/**
 * Console sign-ins of this broker: a random id (the `el_console` cookie) with who signed in
 * and a CSRF token. Bounded (a new sign-in beyond `max` ends the oldest) and expiring (idle
 * and absolute lifetime). Kept in this broker's memory: behind several brokers, the load
 * balancer must send one browser to the same broker (docs/console.md).
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';

export interface ConsoleSession {
  id: string;
  who: string;
  csrf: string;
  created: number;
  lastSeen: number;
}

export interface ConsoleSessionOptions {
  max: number;
  idleSeconds: number;
  lifetimeSeconds: number;
  now?: () => number;
}

export class ConsoleSessions {
  /** Insertion order is sign-in order: the oldest is first. */
  readonly #byId = new Map<string, ConsoleSession>();
  readonly #opts: ConsoleSessionOptions;
  readonly #now: () => number;

  constructor(opts: ConsoleSessionOptions) {
    this.#opts = opts;
    this.#now = opts.now ?? Date.now;
  }

  get size(): number {
    return this.#byId.size;
  }

  create(who: string): ConsoleSession {
    this.#sweep();
    while (this.#byId.size >= this.#opts.max) this.#byId.delete(this.#byId.keys().next().value!);
    const now = this.#now();
    const s: ConsoleSession = { id: randomBytes(32).toString('base64url'), who, csrf: randomBytes(24).toString('base64url'), created: now, lastSeen: now };
    this.#byId.set(s.id, s);
    return s;
  }

  /** The live session of this cookie value (its idle time restarts), or undefined. */
  get(id: string | undefined): ConsoleSession | undefined {
    if (!id) return undefined;
    const s = this.#byId.get(id);
    if (!s) return undefined;
    const now = this.#now();
    if (this.#expired(s, now)) {
      this.#byId.delete(id);
      return undefined;
    }
    s.lastSeen = now;
    return s;
  }

  delete(id: string): boolean {
    return this.#byId.delete(id);
  }

  /** Ends every session of `who` (an admin user deleted or disabled). */
  endAllOf(who: string): number {
    let n = 0;
    for (const [id, s] of this.#byId) if (s.who === who && this.#byId.delete(id)) n++;
    return n;
  }

  #expired(s: ConsoleSession, now: number): boolean {
    return now - s.lastSeen >= this.#opts.idleSeconds * 1000 || now - s.created >= this.#opts.lifetimeSeconds * 1000;
  }

  #sweep(): void {
    const now = this.#now();
    for (const [id, s] of this.#byId) if (this.#expired(s, now)) this.#byId.delete(id);
  }
}

/** Constant-time comparison of a CSRF header with the session's token. */
export function csrfMatches(given: string | string[] | undefined, expected: string): boolean {
  if (typeof given !== 'string') return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The value of cookie `name` in a Cookie header. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
