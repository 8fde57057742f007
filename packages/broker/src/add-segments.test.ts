/**
 * Segments added to a running broker (a config reload): logins, heartbeat replies and
 * the admin API know them at once; a bad or duplicate one changes nothing.
 */
import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import * as prom from 'prom-client';
import { generateTicketKeyPair, segmentSchema } from '@elink/protocol';
import { createBrokerApp } from './app.js';
import { hashPassword } from './password.js';
import { MemoryStore } from './store/memory-store.js';
import { MemoryUserDirectory } from './users.js';

const SECRET = 'cluster-secret-0123456789';
const TOKEN = 'admin-token-0123456789';

describe('BrokerApp.addSegments', () => {
  it('adds segments live: logins, heartbeat replies, lease metrics and the admin API see them; duplicates and bad pools are refused whole', async () => {
    const registry = new prom.Registry();
    const users = new MemoryUserDirectory([{ name: 'alice', passwordHash: await hashPassword('alice-pw1'), segments: ['lab', 'ops'] }]);
    const app = await createBrokerApp({
      segments: [segmentSchema.parse({ name: 'lab', ipv4: { pool: '198.19.0.0/24' } })],
      users,
      store: new MemoryStore(),
      signingKey: generateTicketKeyPair().privateKey,
      nodes: () => [{ node: 'n1', host: '127.0.0.1', port: 4443 }],
      logger: pino({ level: 'silent' }),
      registry,
      clusterSecret: SECRET,
      adminToken: TOKEN,
    });
    const login = (segment: string) => app.inject({ method: 'POST', url: '/v1/login', payload: { user: 'alice', password: 'alice-pw1', segment } });
    const beat = () =>
      app.inject({ method: 'POST', url: '/v1/nodes/heartbeat', headers: { authorization: `Bearer ${SECRET}` }, payload: { node: 'n1', hosts: ['127.0.0.1'], port: 4443, capacity: 10, sessions: 0, segments: ['lab'], active: [], draining: false } });
    try {
      expect((await login('ops')).json().error).toBe('EL_ERR_NO_SEGMENT');

      app.addSegments([segmentSchema.parse({ name: 'ops', mode: 'l3', ipv4: { pool: '198.19.1.0/24' } })]);
      const ok = await login('ops');
      expect(ok.statusCode, ok.body).toBe(200);
      expect(ok.json()).toMatchObject({ segment: 'ops', mode: 'l3', ipv4: expect.stringMatching(/^198\.19\.1\./) });
      expect((await beat()).json().segments.map((s: { name: string }) => s.name)).toEqual(['lab', 'ops']);
      expect(await registry.getSingleMetricAsString('el_broker_leases')).toContain('el_broker_leases{segment="ops"} 1');
      const put = await app.inject({ method: 'POST', url: '/v1/admin/users', headers: { authorization: `Bearer ${TOKEN}` }, payload: { name: 'bob', password: 'bob-pw-123', segments: ['ops'] } });
      expect(put.statusCode, put.body).toBe(200);

      // A known name, or one bad pool in the batch: nothing is added.
      expect(() => app.addSegments([segmentSchema.parse({ name: 'lab' })])).toThrow(expect.objectContaining({ code: 'EL_ERR_CONFIG' }));
      const bad = segmentSchema.parse({ name: 'dmz', ipv4: { pool: '198.19.2.0/24', gateway: '10.0.0.1' } });
      expect(() => app.addSegments([segmentSchema.parse({ name: 'dev' }), bad])).toThrow(expect.objectContaining({ code: 'EL_ERR_CONFIG' }));
      expect((await beat()).json().segments.map((s: { name: string }) => s.name)).toEqual(['lab', 'ops']);
    } finally {
      await app.close();
    }
  });
});
