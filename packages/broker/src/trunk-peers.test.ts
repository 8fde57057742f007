/**
 * Trunk discovery through the broker: a node that reports a trunk listener in its
 * heartbeat gets the other healthy nodes with trunks that share one of its segments.
 */
import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { generateTicketKeyPair, heartbeatReplySchema, segmentSchema } from '@elink/protocol';
import { createBrokerApp } from './app.js';
import { trunkPeers } from './node-registry.js';
import { MemoryStore } from './store/memory-store.js';
import { MemoryUserDirectory } from './users.js';
import type { NodeRecord } from './store/store.js';

const SECRET = 'cluster-secret-0123456789';

const rec = (node: string, segments: string[], over: Partial<NodeRecord> = {}): NodeRecord => ({
  node,
  hosts: [`${node}.example`],
  port: 4443,
  capacity: 10,
  sessions: 0,
  segments,
  active: [],
  draining: false,
  seenAt: 1_000_000,
  trunk: { hosts: [`${node}.trunk`], port: 4444 },
  ...over,
});

describe('trunkPeers', () => {
  it('names the other fresh, not draining nodes with trunks that share a segment, with the shared segments', () => {
    const records = [
      rec('a', ['lan', 'ops']),
      rec('b', ['lan', 'dev']),
      rec('c', ['dev']),
      rec('d', ['lan'], { draining: true }),
      rec('e', ['lan'], { seenAt: 0 }),
      rec('f', ['lan'], { trunk: undefined }),
    ];
    expect(trunkPeers(records, 'a', ['lan', 'ops'], 1_000_000)).toEqual([{ node: 'b', hosts: ['b.trunk'], port: 4444, segments: ['lan'] }]);
    expect(trunkPeers(records, 'c', ['dev'], 1_000_000).map((p) => p.node)).toEqual(['b']);
  });
});

describe('POST /v1/nodes/heartbeat with a trunk', () => {
  it('replies with the peers of a node that has trunks, and none to a node without', async () => {
    const app = await createBrokerApp({
      segments: [segmentSchema.parse({ name: 'lan' })],
      users: new MemoryUserDirectory([]),
      store: new MemoryStore(),
      signingKey: generateTicketKeyPair().privateKey,
      nodes: () => [],
      logger: pino({ level: 'silent' }),
      clusterSecret: SECRET,
    });
    const beat = (node: string, trunk?: { hosts: string[]; port: number }) =>
      app.inject({ method: 'POST', url: '/v1/nodes/heartbeat', headers: { authorization: `Bearer ${SECRET}` }, payload: { node, hosts: ['127.0.0.1'], port: 4443, capacity: 10, sessions: 0, segments: ['lan'], active: [], draining: false, ...(trunk ? { trunk } : {}) } });
    try {
      expect((await beat('n1', { hosts: ['10.0.0.1'], port: 4444 })).json().peers).toEqual([]);
      const r = await beat('n2', { hosts: ['10.0.0.2'], port: 4445 });
      expect(r.statusCode, r.body).toBe(200);
      expect(heartbeatReplySchema.parse(r.json()).peers).toEqual([{ node: 'n1', hosts: ['10.0.0.1'], port: 4444, segments: ['lan'] }]);
      expect((await beat('n3')).json().peers).toBeUndefined();
      expect((await beat('n1', { hosts: ['10.0.0.1'], port: 4444 })).json().peers.map((p: { node: string }) => p.node)).toEqual(['n2']);
    } finally {
      await app.close();
    }
  });
});
