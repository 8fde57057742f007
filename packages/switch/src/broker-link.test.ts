import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { createBrokerApp } from '@elink/broker';
import { generateTicketKeyPair, keyId, segmentSchema, type SegmentDef } from '@elink/protocol';
import { BrokerLink } from './broker-link.js';

const SECRET = 'cluster-secret-0123456789abcdef';

describe('BrokerLink', () => {
  it('takes keys and segments from a real broker, and keeps the last-known keys when every broker is away', async () => {
    const keys = generateTicketKeyPair();
    const app = await createBrokerApp({ segments: [segmentSchema.parse({ name: 'lan', ipv4: { pool: '198.19.0.0/24' } })], signingKey: keys.privateKey, logger: pino({ level: 'silent' }), clusterSecret: SECRET });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    const dir = mkdtempSync(join(tmpdir(), 'elink-link-'));
    const added: SegmentDef[] = [];
    const make = (brokers: string[]) =>
      new BrokerLink({
        brokers,
        clusterSecret: SECRET,
        nodeId: 'sw-t',
        hosts: ['127.0.0.1'],
        port: () => 4443,
        capacity: 10,
        state: () => ({ sessions: 2, segments: added.map((s) => s.name), active: [], draining: false }),
        addSegment: (d) => added.push(d),
        keysFile: join(dir, 'keys.json'),
        logger: pino({ level: 'silent' }),
      });
    const link = make(['http://127.0.0.1:1', url]);
    try {
      expect(await link.beat()).toBe(true);
      expect(link.keys().map(keyId)).toEqual([keyId(keys.publicKey)]);
      expect(added.map((s) => s.name)).toEqual(['lan']);
      await app.close();
      expect(await link.beat()).toBe(false);
      expect(link.keys().map(keyId)).toEqual([keyId(keys.publicKey)]);
      // A restarted node with no broker reachable starts with the saved keys.
      const restarted = make(['http://127.0.0.1:1']);
      expect(restarted.keys().map(keyId)).toEqual([keyId(keys.publicKey)]);
    } finally {
      link.stop();
      await app.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reports a draining node to the broker, which lists it as draining and stops choosing it', async () => {
    const keys = generateTicketKeyPair();
    const ADMIN = 'admin-token-0123456789abcdef';
    const app = await createBrokerApp({ segments: [segmentSchema.parse({ name: 'lan', ipv4: { pool: '198.19.0.0/24' } })], signingKey: keys.privateKey, logger: pino({ level: 'silent' }), clusterSecret: SECRET, adminToken: ADMIN });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    let draining = false;
    const link = new BrokerLink({
      brokers: [url],
      clusterSecret: SECRET,
      nodeId: 'sw-d',
      hosts: ['127.0.0.1'],
      port: 4443,
      capacity: 10,
      state: () => ({ sessions: 0, segments: ['lan'], active: [], draining }),
      addSegment: () => {},
      logger: pino({ level: 'silent' }),
    });
    const nodes = async () => (await app.inject({ method: 'GET', url: '/v1/admin/nodes', headers: { authorization: `Bearer ${ADMIN}` } })).json().nodes as Array<{ node: string; draining: boolean }>;
    try {
      expect(await link.beat()).toBe(true);
      expect(await nodes()).toMatchObject([{ node: 'sw-d', draining: false }]);
      draining = true;
      expect(await link.beat()).toBe(true);
      expect(await nodes()).toMatchObject([{ node: 'sw-d', draining: true }]);
    } finally {
      link.stop();
      await app.close();
    }
  });
});
