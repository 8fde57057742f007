/**
 * Who may use /v1/admin: the admin token as `Authorization: Bearer …` (scripts, `elink`),
 * or a console session cookie (`el_console`, from POST /v1/console/login). With the cookie,
 * every request but GET and HEAD must carry the session's CSRF token in `x-el-csrf`
 * (EL_ERR_CSRF otherwise): SameSite=Strict already keeps other sites' requests from
 * carrying the cookie, the header makes that hold for older browsers too.
 *
 * Sign-in (this module's routes):
 *   POST /v1/console/login    {token} | {user, password} (a user with `admin: true`)
 *   POST /v1/console/logout   cookie + CSRF
 *   GET  /v1/console/session  {who, csrf} of the cookie's session
 * Wrong credentials count like logins: tokens per source (rate limit `admin`), users per
 * user and source (the login limits).
 */
import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { consoleLoginRequestSchema, consoleSessionReplySchema, ElError, type ConsoleLoginRequest, type ConsoleSessionReply } from '@elink/protocol';
import { requireBearer, secretMatches } from '../bearer.js';
import type { AdminAuthResult } from '../metrics.js';
import { hashPassword, verifyPassword } from '../password.js';
import type { RateLimiter } from '../rate-limit.js';
import type { UserDirectory } from '../users.js';
import { bodyOf, replies } from '../wire.js';
import type { AuditLog } from './audit.js';
import type { ConsoleLoginResult } from './metrics.js';
import { CONSOLE_COOKIE, CSRF_HEADER } from './defaults.js';
import { cookieValue, csrfMatches, type ConsoleSessions } from './sessions.js';

/** Who made an admin request: `token`, or `user:<name>` for an admin user's console session. */
const whoByRequest = new WeakMap<FastifyRequest, string>();

/** Who made the request, once the token or cookie was checked (undefined before, or when it failed). */
export function whoOf(request: FastifyRequest): string | undefined {
  return whoByRequest.get(request);
}

export interface AdminAuthOptions {
  adminToken?: string;
  limiter?: RateLimiter;
  onAuth?: (result: AdminAuthResult) => void;
  sessions: ConsoleSessions;
}

const SAFE_METHODS = new Set(['GET', 'HEAD']);

/** The onRequest hook of /v1/admin: bearer token or console cookie (+ CSRF). */
export function adminAuthHook(opts: AdminAuthOptions): (request: FastifyRequest) => Promise<void> {
  return async (request) => {
    const cookie = request.headers.authorization === undefined ? cookieValue(request.headers.cookie, CONSOLE_COOKIE) : undefined;
    if (cookie !== undefined) {
      const s = opts.sessions.get(cookie);
      if (!s) throw new ElError('EL_ERR_AUTH', 'the console session is unknown or expired: sign in again');
      // Known before the CSRF check, so a refused action is audited with who tried it.
      whoByRequest.set(request, s.who);
      if (!SAFE_METHODS.has(request.method) && !csrfMatches(request.headers[CSRF_HEADER], s.csrf)) throw new ElError('EL_ERR_CSRF', `missing or wrong ${CSRF_HEADER} header: send the csrf value of POST /v1/console/login or GET /v1/console/session`);
      return;
    }
    if (opts.adminToken === undefined) throw new ElError('EL_ERR_FORBIDDEN', 'the admin API is off: set broker.adminToken (or sign in to the console as an admin user)');
    const check = () => requireBearer(request.headers.authorization, opts.adminToken!, 'admin token');
    if (opts.limiter) await opts.limiter.guardSecret('admin', request.ip, check, opts.onAuth);
    else check();
    whoByRequest.set(request, 'token');
  };
}

export interface ConsoleAuthRouteOptions extends AdminAuthOptions {
  users: UserDirectory;
  audit: AuditLog;
  /** Cookie Max-Age (s): the session's lifetime. */
  lifetimeSeconds: number;
  /** Each sign-in's outcome (el_broker_console_logins_total). */
  onLogin?: (result: ConsoleLoginResult) => void;
}

function cookie(id: string, maxAge: number): string {
  return `${CONSOLE_COOKIE}=${id}; HttpOnly; Secure; SameSite=Strict; Path=/; Max-Age=${maxAge}`;
}

export function registerConsoleAuthRoutes(app: FastifyInstance, opts: ConsoleAuthRouteOptions): void {
  // A hash to compare against when the user does not exist, so the reply time says nothing.
  let dummy: Promise<string> | undefined;
  const session = replies(consoleSessionReplySchema);

  const checkUser = async (request: FastifyRequest, user: string, password: string): Promise<string> => {
    const held = await opts.limiter?.reserveLogin(user, request.ip, false);
    let ok = false;
    try {
      const record = await opts.users.get(user);
      dummy ??= hashPassword(randomBytes(16).toString('base64url'));
      const match = await verifyPassword(password, record?.passwordHash ?? (await dummy));
      ok = record !== undefined && match && record.admin === true && !record.disabled;
    } catch (err) {
      if (held) await opts.limiter!.abandoned(held).catch(() => {});
      throw err;
    }
    if (!ok) {
      if (held) await opts.limiter!.failed(held);
      throw new ElError('EL_ERR_AUTH', 'wrong user name or password, or the user is not a console administrator (admin: true)');
    }
    if (held) await opts.limiter!.succeeded(held);
    return `user:${user}`;
  };

  app.post<{ Body: ConsoleLoginRequest }>('/v1/console/login', { schema: { response: session }, preValidation: bodyOf(consoleLoginRequestSchema) }, async (request, reply): Promise<ConsoleSessionReply> => {
    const body = request.body;
    const claimed = 'token' in body ? 'token' : `user:${body.user}`;
    let who: string;
    try {
      if ('token' in body) {
        if (opts.adminToken === undefined) throw new ElError('EL_ERR_AUTH', 'this broker has no admin token (broker.adminToken): sign in as an admin user');
        const check = () => {
          if (!secretMatches(body.token, opts.adminToken!)) throw new ElError('EL_ERR_AUTH', 'wrong admin token');
        };
        if (opts.limiter) await opts.limiter.guardSecret('admin', request.ip, check, opts.onAuth);
        else check();
        who = 'token';
      } else {
        who = await checkUser(request, body.user, body.password);
      }
    } catch (err) {
      const code = err instanceof ElError ? err.code : 'EL_ERR_INTERNAL';
      opts.onLogin?.(code === 'EL_ERR_AUTH' ? 'refused' : code === 'EL_ERR_RATE_LIMITED' ? 'rate_limited' : 'error');
      await opts.audit.record(claimed, 'console.login', request.ip, code);
      throw err;
    }
    opts.onLogin?.('ok');
    const s = opts.sessions.create(who);
    reply.header('set-cookie', cookie(s.id, opts.lifetimeSeconds));
    reply.header('cache-control', 'no-store');
    await opts.audit.record(who, 'console.login', request.ip, 'ok');
    return { who, csrf: s.csrf };
  });

  const current = (request: FastifyRequest) => {
    const s = opts.sessions.get(cookieValue(request.headers.cookie, CONSOLE_COOKIE));
    if (!s) throw new ElError('EL_ERR_AUTH', 'not signed in to the console (or the session expired)');
    return s;
  };

  app.get('/v1/console/session', { schema: { response: session } }, async (request, reply): Promise<ConsoleSessionReply> => {
    const s = current(request);
    reply.header('cache-control', 'no-store');
    return { who: s.who, csrf: s.csrf };
  });

  app.post('/v1/console/logout', async (request, reply: FastifyReply) => {
    const s = current(request);
    if (!csrfMatches(request.headers[CSRF_HEADER], s.csrf)) throw new ElError('EL_ERR_CSRF', `missing or wrong ${CSRF_HEADER} header`);
    opts.sessions.delete(s.id);
    reply.header('set-cookie', cookie('', 0));
    await opts.audit.record(s.who, 'console.logout', request.ip, 'ok');
    return { ok: true };
  });
}
