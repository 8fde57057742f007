/**
 * The admin API as the console uses it (docs/console.md has the contract). Same origin: the
 * session cookie `el_console` goes along by itself; every request that changes something
 * carries the CSRF token of the session in `x-el-csrf`, which the broker checks.
 */

// The contract's types, from @elink/protocol (type-only: nothing of it is bundled), so a change
// to the API that the console does not follow fails its type check.
import type {
  AdminUsersReply,
  AuditEntry,
  ConsoleNode,
  ConsoleOverviewReply,
  ConsoleSession,
  ConsoleSessionDetail,
  ConsoleSessionReply,
  ConsoleStatsEvent,
  ConsoleTableReply,
  ConsoleTrunk,
} from '@elink/protocol';

export type { AuditEntry };
export type NodeView = ConsoleNode;
export type Overview = ConsoleOverviewReply;
export type SegmentView = Overview['segments'][number];
export type Totals = Overview['totals'];
export type SessionView = ConsoleSession;
export type SessionDetail = ConsoleSessionDetail;
export type SegmentTable = ConsoleTableReply;
export type TableEntry = SegmentTable['entries'][number];
export type TrunkView = ConsoleTrunk;
export type UserView = AdminUsersReply['users'][number];
/** One `event: stats` of GET /v1/admin/events (bytes and frames per second). */
export type StatsEvent = ConsoleStatsEvent;
export type Who = ConsoleSessionReply;

/** An answer other than 2xx: the broker's `{error|code, message}` when it sent one. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export type NewUser = { name: string; password: string; segments: string[]; admin?: boolean };

export type Credentials = { token: string } | { user: string; password: string };

/** What the pages need; tests give them a recording implementation of this. */
export interface Api {
  readonly who: string | undefined;
  login(c: Credentials): Promise<Who>;
  resume(): Promise<Who | undefined>;
  logout(): Promise<void>;
  overview(): Promise<Overview>;
  sessions(segment: string): Promise<SessionView[]>;
  table(segment: string): Promise<SegmentTable>;
  session(id: string): Promise<SessionDetail>;
  disconnect(id: string): Promise<void>;
  drain(node: string): Promise<void>;
  users(): Promise<UserView[]>;
  addUser(u: NewUser): Promise<void>;
  deleteUser(name: string): Promise<void>;
  setEnabled(name: string, enabled: boolean): Promise<void>;
  setPassword(name: string, password: string): Promise<void>;
  setDigest(name: string, secret: string): Promise<void>;
  audit(limit: number): Promise<AuditEntry[]>;
  trunks(): Promise<TrunkView[]>;
}

const seg = encodeURIComponent;

/** The Api over fetch, against `base` (the page's origin by default). */
export class HttpApi implements Api {
  private csrf: string | undefined;
  who: string | undefined;
  /** Called when the broker answers 401 to a signed-in request (session expired, signed out elsewhere). */
  onSignedOut: (() => void) | undefined;

  constructor(private readonly base = '') {}

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (method !== 'GET' && method !== 'HEAD' && this.csrf) headers['x-el-csrf'] = this.csrf;
    const res = await fetch(this.base + path, { method, headers, credentials: 'same-origin', ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    if (!res.ok) {
      const e = (json ?? {}) as { error?: string; code?: string; message?: string };
      const err = new ApiError(res.status, e.code ?? e.error ?? `HTTP_${res.status}`, e.message ?? `${method} ${path}: HTTP ${res.status}`);
      if (res.status === 401 && this.who !== undefined && !path.startsWith('/v1/console/')) {
        this.forget();
        this.onSignedOut?.();
      }
      throw err;
    }
    return json as T;
  }

  private remember(w: Who): Who {
    this.who = w.who;
    this.csrf = w.csrf;
    return w;
  }

  private forget(): void {
    this.who = undefined;
    this.csrf = undefined;
  }

  async login(c: Credentials): Promise<Who> {
    return this.remember(await this.call<Who>('POST', '/v1/console/login', c));
  }

  /** The session of an earlier sign-in (the cookie), if it still holds. */
  async resume(): Promise<Who | undefined> {
    try {
      return this.remember(await this.call<Who>('GET', '/v1/console/session'));
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) return undefined;
      throw err;
    }
  }

  async logout(): Promise<void> {
    try {
      await this.call('POST', '/v1/console/logout');
    } finally {
      this.forget();
    }
  }

  overview = () => this.call<Overview>('GET', '/v1/admin/overview');
  sessions = async (segment: string) => (await this.call<{ sessions: SessionView[] }>('GET', `/v1/admin/segments/${seg(segment)}/sessions`)).sessions;
  table = (segment: string) => this.call<SegmentTable>('GET', `/v1/admin/segments/${seg(segment)}/table`);
  session = (id: string) => this.call<SessionDetail>('GET', `/v1/admin/sessions/${seg(id)}`);
  disconnect = async (id: string) => void (await this.call('POST', `/v1/admin/sessions/${seg(id)}/disconnect`));
  drain = async (node: string) => void (await this.call('POST', `/v1/admin/nodes/${seg(node)}/drain`));
  users = async () => (await this.call<{ users: UserView[] }>('GET', '/v1/admin/users')).users;
  addUser = async (u: NewUser) => void (await this.call('POST', '/v1/admin/users', u));
  deleteUser = async (name: string) => void (await this.call('DELETE', `/v1/admin/users/${seg(name)}`));
  setEnabled = async (name: string, enabled: boolean) => void (await this.call('PUT', `/v1/admin/users/${seg(name)}/enabled`, { enabled }));
  setPassword = async (name: string, password: string) => void (await this.call('PUT', `/v1/admin/users/${seg(name)}/password`, { password }));
  setDigest = async (name: string, secret: string) => void (await this.call('PUT', `/v1/admin/users/${seg(name)}/digest`, { secret }));
  trunks = async () => (await this.call<{ trunks: TrunkView[] }>('GET', '/v1/admin/trunks')).trunks;
  audit = async (limit: number) => (await this.call<{ entries: AuditEntry[] }>('GET', `/v1/admin/audit?limit=${limit}`)).entries;
}
