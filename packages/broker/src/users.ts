/**
 * Who may log in and to which segments. The broker only reads users through
 * `UserDirectory`, so a file, Redis or LDAP directory can replace the memory one.
 */
import { ElError } from '@elink/protocol';
import { parsePasswordHash } from './password.js';
import type { BrokerStore } from './store/store.js';

export interface UserRecord {
  name: string;
  /** A hash from `hashPassword` ($scrypt$…). */
  passwordHash: string;
  /** Segments the user may join; the first is the default. */
  segments: string[];
  /** Source MACs this user's sessions may use (a bridge with a LAN behind it); default: the segment's macsPerSession. */
  macs?: number;
  /** LAN ranges this user's bridge sessions may claim in ARP and ND; default: the segment's bridgeRanges. */
  lan?: string[];
  /** Clear secret for DTCP-style challenge–response (challenge.ts); absent = that login is off for the user. */
  digestSecret?: string;
  /** An administrator disabled the user: every login is refused (EL_ERR_DISABLED). */
  disabled?: boolean;
  /** The user may sign in to the web console with its password (docs/console.md). */
  admin?: boolean;
}

export interface UserDirectory {
  get(name: string): Promise<UserRecord | undefined>;
  /** Resolves when the directory can answer; `/readyz` calls it when present. */
  ping?(): Promise<void>;
}

export class MemoryUserDirectory implements UserDirectory {
  #users = new Map<string, UserRecord>();

  /** Throws ElError EL_ERR_CONFIG on a duplicate name or a malformed hash, so a bad config fails at start, not at login. */
  constructor(users: readonly UserRecord[]) {
    this.setUsers(users);
  }

  /**
   * Replaces every user at once (a config reload): the next login sees the new set.
   * Checks all of them first and throws EL_ERR_CONFIG like the constructor, keeping
   * the old set, so a bad reload never leaves half the users in place.
   */
  setUsers(users: readonly UserRecord[]): void {
    const next = new Map<string, UserRecord>();
    for (const user of users) {
      if (next.has(user.name)) throw new ElError('EL_ERR_CONFIG', `user "${user.name}" is defined twice`);
      try {
        parsePasswordHash(user.passwordHash);
      } catch (err) {
        throw new ElError('EL_ERR_CONFIG', `user "${user.name}": ${(err as Error).message}`, { cause: err });
      }
      next.set(user.name, { ...user, segments: [...user.segments] });
    }
    this.#users = next;
  }

  async get(name: string): Promise<UserRecord | undefined> {
    return this.#users.get(name);
  }

  async ping(): Promise<void> {}

  list(): UserRecord[] {
    return [...this.#users.values()];
  }
}

/**
 * Users from the store (managed through the admin API, shared by every broker) in
 * front of users from configuration: a name in the store shadows the same name in
 * the file.
 */
export class StoreUserDirectory implements UserDirectory {
  readonly #store: Pick<BrokerStore, 'getUser' | 'ping'>;
  readonly #config: MemoryUserDirectory;

  constructor(store: Pick<BrokerStore, 'getUser' | 'ping'>, config: MemoryUserDirectory = new MemoryUserDirectory([])) {
    this.#store = store;
    this.#config = config;
  }

  async get(name: string): Promise<UserRecord | undefined> {
    return (await this.#store.getUser(name)) ?? (await this.#config.get(name));
  }

  /** The users from configuration (read-only through the admin API). */
  configUsers(): UserRecord[] {
    return this.#config.list();
  }

  async ping(): Promise<void> {
    await this.#store.ping();
  }
}
