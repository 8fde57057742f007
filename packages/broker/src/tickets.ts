/**
 * Ticket issuing: claims + a fresh jti + iat/exp, signed with the broker's Ed25519 key.
 * Short-lived on purpose (default 60 s): a ticket only has to last until the client
 * has said `hello` to a switch node, which remembers the jti until `exp`.
 */
import { randomBytes, type KeyObject } from 'node:crypto';
import { ElError, signTicket, type TicketClaims } from '@elink/protocol';

export const DEFAULT_TICKET_TTL_SECONDS = 60;
/** Tickets bound to a device key may be used again (with a fresh proof each time), so a
 * device that lost its node reconnects without the broker for this long. */
export const DEFAULT_DEVICE_TICKET_TTL_SECONDS = 600;

export type TicketSubject = Omit<TicketClaims, 'v' | 'kid' | 'jti' | 'iat' | 'exp'>;

export interface IssuedTicket {
  ticket: string;
  expiresAt: Date;
  jti: string;
}

export class TicketIssuer {
  readonly #key: () => KeyObject;
  readonly #ttl: number;
  readonly #deviceTtl: number;
  readonly #now: () => number;

  /** `now` is milliseconds since the epoch (a parameter so tests need no fake clock).
   * `signingKey` may be a function (a KeyRing's current key) so keys can rotate.
   * `deviceTtlSeconds`: the lifetime of tickets bound to a device key (claim `dk`). */
  constructor(signingKey: KeyObject | (() => KeyObject), ttlSeconds = DEFAULT_TICKET_TTL_SECONDS, now: () => number = Date.now, deviceTtlSeconds = DEFAULT_DEVICE_TICKET_TTL_SECONDS) {
    const current = typeof signingKey === 'function' ? signingKey : () => signingKey;
    this.#check(current());
    if (!Number.isInteger(ttlSeconds) || ttlSeconds < 1 || ttlSeconds > 3600) {
      throw new ElError('EL_ERR_CONFIG', `ticket TTL must be a whole number of seconds from 1 to 3600, got ${ttlSeconds}`);
    }
    if (!Number.isInteger(deviceTtlSeconds) || deviceTtlSeconds < 1 || deviceTtlSeconds > 86400) {
      throw new ElError('EL_ERR_CONFIG', `device ticket TTL must be a whole number of seconds from 1 to 86400, got ${deviceTtlSeconds}`);
    }
    this.#key = current;
    this.#ttl = ttlSeconds;
    this.#deviceTtl = deviceTtlSeconds;
    this.#now = now;
  }

  /** The longest a ticket issued now may live: how long a revocation must be remembered. */
  get maxLifetimeSeconds(): number {
    return Math.max(this.#ttl, this.#deviceTtl);
  }

  #check(key: KeyObject): void {
    if (key.type !== 'private' || key.asymmetricKeyType !== 'ed25519') {
      throw new ElError('EL_ERR_CONFIG', `ticket signing key must be an Ed25519 private key, got ${key.type} ${key.asymmetricKeyType ?? ''}`.trim());
    }
  }

  issue(subject: TicketSubject): IssuedTicket {
    const iat = Math.floor(this.#now() / 1000);
    const exp = iat + (subject.dk !== undefined ? this.#deviceTtl : this.#ttl);
    const jti = randomBytes(16).toString('base64url');
    const ticket = signTicket({ ...subject, jti, iat, exp }, this.#key());
    return { ticket, expiresAt: new Date(exp * 1000), jti };
  }
}
