/**
 * Who may log in and to which segments. The broker only reads users through
 * `UserDirectory`, so a file, Redis or LDAP directory can replace the memory one.
 */
import { ElError } from '@elink/protocol';
import { parsePasswordHash } from './password.js';

export interface UserRecord {
  name: string;
  /** A hash from `hashPassword` ($scrypt$…). */
  passwordHash: string;
  /** Segments the user may join; the first is the default. */
  segments: string[];
  /** Source MACs this user's sessions may use (a bridge with a LAN behind it); default: the segment's macsPerSession. */
  macs?: number;
}

export interface UserDirectory {
  get(name: string): Promise<UserRecord | undefined>;
  /** Resolves when the directory can answer; `/readyz` calls it when present. */
  ping?(): Promise<void>;
}

export class MemoryUserDirectory implements UserDirectory {
  readonly #users = new Map<string, UserRecord>();

  /** Throws ElError EL_ERR_CONFIG on a duplicate name or a malformed hash, so a bad config fails at start, not at login. */
  constructor(users: readonly UserRecord[]) {
    for (const user of users) {
      if (this.#users.has(user.name)) throw new ElError('EL_ERR_CONFIG', `user "${user.name}" is defined twice`);
      try {
        parsePasswordHash(user.passwordHash);
      } catch (err) {
        throw new ElError('EL_ERR_CONFIG', `user "${user.name}": ${(err as Error).message}`, { cause: err });
      }
      this.#users.set(user.name, { name: user.name, passwordHash: user.passwordHash, segments: [...user.segments], ...(user.macs ? { macs: user.macs } : {}) });
    }
  }

  async get(name: string): Promise<UserRecord | undefined> {
    return this.#users.get(name);
  }

  async ping(): Promise<void> {}
}
