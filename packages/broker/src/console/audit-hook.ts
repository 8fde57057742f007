/**
 * Every state-changing /v1/admin request of a known administrator goes into the audit log
 * with its outcome (the reply's error code, or ok), whichever route it took: one hook, so
 * no action can forget to be audited.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AuditLog } from './audit.js';
import { whoOf } from './auth.js';

type Params = Record<string, string | undefined>;
type Body = Record<string, unknown> | undefined;

/** Route (method and path under /v1/admin) → the action's name and target. */
const ACTIONS: Record<string, (p: Params, b: Body) => { action: string; target: string }> = {
  // A request refused before its body was read (token, CSRF) has no body here: no target.
  'POST /users': (_, b) => ({ action: b?.admin === true ? 'user.add (admin)' : 'user.add', target: String(b?.name ?? '') }),
  'DELETE /users/:name': (p) => ({ action: 'user.delete', target: p.name ?? '' }),
  'PUT /users/:name/password': (p) => ({ action: 'user.password', target: p.name ?? '' }),
  'PUT /users/:name/digest': (p) => ({ action: 'user.digest.set', target: p.name ?? '' }),
  'DELETE /users/:name/digest': (p) => ({ action: 'user.digest.clear', target: p.name ?? '' }),
  'PUT /users/:name/enabled': (p, b) => ({ action: b?.enabled === false ? 'user.disable' : b?.enabled === true ? 'user.enable' : 'user.enabled', target: p.name ?? '' }),
  'POST /sessions/:id/disconnect': (p) => ({ action: 'session.disconnect', target: p.id ?? '' }),
  'POST /nodes/:node/drain': (p) => ({ action: 'node.drain', target: p.node ?? '' }),
  'DELETE /nodes/:node': (p) => ({ action: 'node.forget', target: p.node ?? '' }),
  'DELETE /leases/:segment/:user/:device': (p) => ({ action: 'lease.release', target: `${p.segment}/${p.user}/${p.device}` }),
  'POST /revocations': (_, b) => ({ action: 'device.revoke', target: `${String(b?.user ?? '')}${b?.device !== undefined ? '/' + String(b.device) : ''}` }),
};

function describe(request: FastifyRequest): { action: string; target: string } {
  const route = (request.routeOptions.url ?? request.url.split('?')[0]!).replace(/^\/v1\/admin/, '');
  const key = `${request.method} ${route}`;
  const known = ACTIONS[key];
  return known ? known((request.params ?? {}) as Params, request.body as Body) : { action: key, target: '' };
}

function errorCode(payload: unknown): string {
  if (typeof payload !== 'string') return 'error';
  try {
    const code = (JSON.parse(payload) as { error?: unknown }).error;
    return typeof code === 'string' ? code : 'error';
  } catch {
    return 'error';
  }
}

export function registerAuditHook(admin: FastifyInstance, audit: AuditLog): void {
  admin.addHook('onSend', async (request, reply, payload) => {
    if (request.method === 'GET' || request.method === 'HEAD') return payload;
    const who = whoOf(request);
    if (who === undefined) return payload;
    const { action, target } = describe(request);
    await audit.record(who, action, target, reply.statusCode < 400 ? 'ok' : errorCode(payload));
    return payload;
  });
}
