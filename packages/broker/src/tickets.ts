/**
 * Ticket issuing: claims + a fresh jti + iat/exp, signed with the broker's Ed25519 key.
 * Short-lived on purpose (default 60 s): a ticket only has to last until the client
 * has said `hello` to a switch node, which remembers the jti until `exp`.
 */
import { randomBytes, type KeyObject } from 'node:crypto';
import { ElError, signTicket, type TicketClaims } from '@elink/protocol';

export const DEFAULT_TICKET_TTL_SECONDS = 60;

export type TicketSubject = Omit<TicketClaims, 'v' | 'kid' | 'jti' | 'iat' | 'exp'>;

export interface IssuedTicket {
  ticket: string;
  expiresAt: Date;
  jti: string;
}

export class TicketIssuer {
  readonly #key: () => KeyObject;
  readonly #ttl: number;
  readonly #now: () => number;

  /** `now` is milliseconds since the epoch (a parameter so tests need no fake clock).
   * `signingKey` may be a function (a KeyRing's current key) so keys can rotate. */
  constructor(signingKey: KeyObject | (() => KeyObject), ttlSeconds = DEFAULT_TICKET_TTL_SECONDS, now: () => number = Date.now) {
    const current = typeof signingKey === 'function' ? signingKey : () => signingKey;
    this.#check(current());
    if (!Number.isInteger(ttlSeconds) || ttlSeconds < 1 || ttlSeconds > 3600) {
      throw new ElError('EL_ERR_CONFIG', `ticket TTL must be a whole number of seconds from 1 to 3600, got ${ttlSeconds}`);
    }
    this.#key = current;
    this.#ttl = ttlSeconds;
    this.#now = now;
  }

  #check(key: KeyObject): void {
    if (key.type !== 'private' || key.asymmetricKeyType !== 'ed25519') {
      throw new ElError('EL_ERR_CONFIG', `ticket signing key must be an Ed25519 private key, got ${key.type} ${key.asymmetricKeyType ?? ''}`.trim());
    }
  }

  issue(subject: TicketSubject): IssuedTicket {
    const iat = Math.floor(this.#now() / 1000);
    const exp = iat + this.#ttl;
    const jti = randomBytes(16).toString('base64url');
    const ticket = signTicket({ ...subject, jti, iat, exp }, this.#key());
    return { ticket, expiresAt: new Date(exp * 1000), jti };
  }
}
