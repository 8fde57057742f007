import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { createBrokerApp } from '@elink/broker';
import { generateTicketKeyPair, keyId, segmentSchema, type SegmentDef } from '@elink/protocol';
import { BrokerLink, type BrokerLinkOptions } from './broker-link.js';

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

describe('BrokerLink metrics', () => {
  it('counts heartbeats sent and failed with their latency on the node, and heartbeats received on the broker', async () => {
    const { Registry } = await import('prom-client');
    const keys = generateTicketKeyPair();
    const brokerRegistry = new Registry();
    const app = await createBrokerApp({ segments: [segmentSchema.parse({ name: 'lan', ipv4: { pool: '198.19.0.0/24' } })], signingKey: keys.privateKey, logger: pino({ level: 'silent' }), clusterSecret: SECRET, registry: brokerRegistry });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    const registry = new Registry();
    const make = (brokers: string[], clusterSecret: string, reg?: BrokerLinkOptions['registry']) =>
      new BrokerLink({ brokers, clusterSecret, nodeId: 'sw-m', hosts: ['127.0.0.1'], port: 4443, capacity: 10, state: () => ({ sessions: 0, segments: [], active: [], draining: false }), addSegment: () => {}, logger: pino({ level: 'silent' }), registry: reg });
    const link = make(['http://127.0.0.1:1', url], SECRET, registry);
    const wrong = make([url], 'not-the-cluster-secret-at-all');
    const value = async (reg: InstanceType<typeof Registry>, name: string, labels: Record<string, string> = {}) => {
      const m = (await reg.getSingleMetric(name)!.get()).values.find((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x) && (v as { metricName?: string }).metricName !== `${name}_bucket`);
      return m?.value;
    };
    try {
      expect(await value(registry, 'el_switch_heartbeat_last_success_seconds')).toBe(0);
      // Round 1: the first broker refuses the connection (failed), the second answers (ok).
      expect(await link.beat()).toBe(true);
      expect(await link.beat()).toBe(true);
      expect(await wrong.beat()).toBe(false);
      expect(await value(registry, 'el_switch_heartbeats_total', { result: 'failed' })).toBe(1);
      expect(await value(registry, 'el_switch_heartbeats_total', { result: 'ok' })).toBe(2);
      const latency = (await registry.getSingleMetric('el_switch_heartbeat_duration_seconds')!.get()).values.find((v) => (v as { metricName?: string }).metricName === 'el_switch_heartbeat_duration_seconds_count');
      expect(latency?.value).toBe(2);
      expect(await value(registry, 'el_switch_heartbeat_last_success_seconds')).toBeGreaterThan(Date.now() / 1000 - 60);
      expect(await value(brokerRegistry, 'el_broker_heartbeats_total', { result: 'ok' })).toBe(2);
      expect(await value(brokerRegistry, 'el_broker_heartbeats_total', { result: 'bad_secret' })).toBe(1);
      expect(await value(brokerRegistry, 'el_broker_heartbeats_total', { result: 'disabled' })).toBe(0);
    } finally {
      link.stop();
      wrong.stop();
      await app.close();
    }
  });
});
