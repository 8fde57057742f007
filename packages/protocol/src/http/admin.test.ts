import { describe, expect, it } from 'vitest';
import { adminStatusReplySchema, adminUserCreateRequestSchema, adminUsersReplySchema } from './admin.js';
import { errorBodySchema } from './error-body.js';
import { healthOkSchema, healthUnavailableSchema } from './health.js';

const node = { node: 'sw-1', hosts: ['127.0.0.1'], port: 4443, capacity: 100, sessions: 2, segments: ['lan'], active: ['lan'], draining: false, healthy: true, seenAt: '2026-11-29T18:00:00.000Z' };

describe('admin API contracts', () => {
  it('status: nodes with their health, sessions, leases per segment, keys, store', () => {
    const status = { nodes: [node], sessions: 2, leases: { lan: 3 }, keys: 1, store: 'memory' };
    expect(adminStatusReplySchema.parse(status)).toEqual(status);
    expect(adminStatusReplySchema.safeParse({ ...status, nodes: [{ ...node, seenAt: 1764439200000 }] }).error?.issues[0]?.path).toEqual(['nodes', 0, 'seenAt']);
    expect(adminStatusReplySchema.safeParse({ ...status, leases: { lan: -1 } }).error?.issues[0]?.path).toEqual(['leases', 'lan']);
  });

  it('users: a source of store or config, never a hash', () => {
    const users = { users: [{ name: 'alice', segments: ['lan'], digest: false, enabled: true, admin: false, source: 'store', passwordHash: '$scrypt$…' }] };
    expect(adminUsersReplySchema.parse(users).users[0]).not.toHaveProperty('passwordHash');
    expect(adminUsersReplySchema.safeParse({ users: [{ ...users.users[0], source: 'ldap' }] }).success).toBe(false);
  });

  it('creating a user: strict, names and segments checked', () => {
    expect(adminUserCreateRequestSchema.parse({ name: 'carol', password: 'carol-pw1', segments: ['lan'], macs: 4, lan: ['192.168.1.0/24'] })).toMatchObject({ name: 'carol', macs: 4 });
    expect(adminUserCreateRequestSchema.safeParse({ name: 'carol', password: 'short', segments: ['lan'] }).error?.issues[0]?.path).toEqual(['password']);
    expect(adminUserCreateRequestSchema.safeParse({ name: 'car ol', password: 'carol-pw1', segments: ['lan'] }).error?.issues[0]?.path).toEqual(['name']);
    expect(adminUserCreateRequestSchema.safeParse({ name: 'carol', password: 'carol-pw1', segments: [] }).error?.issues[0]?.path).toEqual(['segments']);
    expect(adminUserCreateRequestSchema.safeParse({ name: 'carol', password: 'carol-pw1', segments: ['lan'], role: 'admin' }).error?.issues[0]?.code).toBe('unrecognized_keys');
    expect(adminUserCreateRequestSchema.parse({ name: 'ops', password: 'ops-pw-123', segments: ['lan'], admin: true }).admin).toBe(true);
  });

  it('error bodies and health replies', () => {
    expect(errorBodySchema.parse({ error: 'EL_ERR_AUTH', message: 'wrong user name or password' })).toEqual({ error: 'EL_ERR_AUTH', message: 'wrong user name or password' });
    expect(errorBodySchema.safeParse({ code: 'EL_ERR_AUTH', message: 'x' }).success).toBe(false);
    expect(errorBodySchema.safeParse({ error: 'Bad Gateway', message: 'x' }).success).toBe(false);
    expect(healthOkSchema.safeParse({ status: 'ok' }).success).toBe(true);
    expect(healthUnavailableSchema.safeParse({ status: 'unavailable', error: 'EL_ERR_UNAVAILABLE', message: 'store down' }).success).toBe(true);
    expect(healthUnavailableSchema.safeParse({ status: 'unavailable' }).success).toBe(false);
  });
});
