/**
 * Failure detection through the real app (fastify inject, a MemoryStore): a peer's heartbeat
 * reports its trunk to a node down; logins (password and device key) rank that node last
 * until it heartbeats again; a login's EL-Lost-Node header ranks the named node last for it
 * only, and an odd header is ignored; the metrics, the admin view and the log say so.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import * as prom from 'prom-client';
import { generateTicketKeyPair, rawDeviceKey, segmentSchema, signDeviceLogin, type ReportTrunk } from '@elink/protocol';
import { createBrokerApp } from './app.js';
import { KeyRing } from './keyring.js';
import { hashPassword } from './password.js';
import { MemoryStore } from './store/memory-store.js';

const SECRET = 'cluster-secret-0123456789abcdef';
const ADMIN = 'admin-token-0123456789abcdef';
const report = (trunks: ReportTrunk[]) => ({ traffic: { rxBytes: 0, txBytes: 0, rxFrames: 0, txFrames: 0 }, drops: {}, segments: {}, sessions: [], table: [], trunks });
const down = (peer: string, since: number): ReportTrunk => ({ peer, state: 'down', since, segments: [], framesIn: 0, bytesIn: 0, framesOut: 0, bytesOut: 0, drops: {}, announced: 0, learned: 0 });

describe('a node its trunk peer lost, through the broker app', () => {
  it('is ranked last at once for password and device logins, until its own heartbeat; the lost-node header ranks for its caller only', async () => {
    const clock = { t: Date.now() };
    const store = new MemoryStore({ now: () => clock.t });
    await store.putUser({ name: 'amy', passwordHash: await hashPassword('amy-pw-123', { ln: 10, r: 8, p: 1 }), segments: ['lan'] });
    const key = generateKeyPairSync('ed25519');
    await store.putDeviceKey('amy', 'phone', rawDeviceKey(key.publicKey), 3600);
    const lines: Array<Record<string, unknown>> = [];
    const registry = new prom.Registry();
    const app = await createBrokerApp({
      segments: [segmentSchema.parse({ name: 'lan', ipv4: { pool: '198.19.0.0/24' } })],
      store,
      keys: new KeyRing(generateTicketKeyPair().privateKey),
      logger: pino({ level: 'info' }, new Writable({ write: (c, _e, done) => void (lines.push(JSON.parse(String(c)) as Record<string, unknown>), done()) })),
      clusterSecret: SECRET,
      adminToken: ADMIN,
      registry,
      now: () => clock.t,
    });
    const beat = (node: string, sessions: number, extra: Record<string, unknown> = {}) =>
      app.inject({ method: 'POST', url: '/v1/nodes/heartbeat', headers: { authorization: `Bearer ${SECRET}` }, payload: { node, hosts: [`${node}.example`], port: 4443, capacity: 100, sessions, segments: ['lan'], active: ['lan'], segmentSessions: { lan: sessions }, draining: false, ...extra } });
    const password = async (headers: Record<string, string> = {}) => {
      const r = await app.inject({ method: 'POST', url: '/v1/login', headers, payload: { user: 'amy', password: 'amy-pw-123', device: 'laptop' } });
      expect(r.statusCode, r.body).toBe(200);
      return (r.json() as { servers: Array<{ node: string }> }).servers.map((s) => s.node);
    };
    const device = async (headers: Record<string, string> = {}) => {
      const fields = { user: 'amy', device: 'phone', time: Math.floor(clock.t / 1000), nonce: randomBytes(16).toString('base64url') };
      const r = await app.inject({ method: 'POST', url: '/v1/login/device', headers, payload: { ...fields, signature: signDeviceLogin(key.privateKey, fields) } });
      expect(r.statusCode, r.body).toBe(200);
      return (r.json() as { servers: Array<{ node: string }> }).servers.map((s) => s.node);
    };
    const metric = async (name: string) => (await registry.getSingleMetricAsString(name)).split('\n').filter((l) => !l.startsWith('#'));
    try {
      for (const [n, s] of [['victim', 30], ['a', 10], ['b', 0]] as const) expect((await beat(n, s)).statusCode).toBe(200);
      expect(await password()).toEqual(['victim', 'a', 'b']);

      // The victim is killed; a's trunk to it drops and a's early heartbeat says so.
      clock.t += 200;
      const lostAt = clock.t - 5;
      expect((await beat('a', 10, { report: report([down('victim', lostAt)]) })).statusCode).toBe(200);
      expect(await password()).toEqual(['a', 'b', 'victim']);
      expect(await device()).toEqual(['a', 'b', 'victim']);
      expect(await metric('el_broker_nodes_suspect')).toEqual(['el_broker_nodes_suspect 1']);
      expect(await metric('el_broker_node_suspicions_total')).toEqual(['el_broker_node_suspicions_total{reason="trunk_down"} 1']);
      expect(lines.filter((l) => String(l.msg).startsWith('node suspect'))).toEqual([expect.objectContaining({ level: 30, node: 'victim', reporter: 'a', downSince: new Date(lostAt).toISOString() })]);
      const admin = await app.inject({ method: 'GET', url: '/v1/admin/nodes', headers: { authorization: `Bearer ${ADMIN}` } });
      const nodes = (admin.json() as { nodes: Array<{ node: string; healthy: boolean; suspectSince?: string }> }).nodes;
      expect(nodes.find((n) => n.node === 'victim')).toMatchObject({ healthy: true, suspectSince: new Date(clock.t).toISOString() });
      expect(nodes.find((n) => n.node === 'a')).not.toHaveProperty('suspectSince');

      // A client that lost a names it: a goes last for it, after the suspect; others are not moved.
      expect(await password({ 'EL-Lost-Node': 'a' })).toEqual(['b', 'victim', 'a']);
      expect(await device({ 'el-lost-node': 'b' })).toEqual(['a', 'victim', 'b']);
      expect(await password()).toEqual(['a', 'b', 'victim']);
      // Unknown or malformed: ignored, counted, never refused.
      expect(await password({ 'EL-Lost-Node': 'nobody' })).toEqual(['a', 'b', 'victim']);
      expect(await password({ 'EL-Lost-Node': 'x'.repeat(65) })).toEqual(['a', 'b', 'victim']);
      expect(await metric('el_broker_lost_node_logins_total')).toEqual(['el_broker_lost_node_logins_total{result="ranked_last"} 2', 'el_broker_lost_node_logins_total{result="unknown"} 1', 'el_broker_lost_node_logins_total{result="invalid"} 1']);
      expect(lines.filter((l) => l.msg === 'login ok' && l.lostNode === 'a')).toEqual([expect.objectContaining({ lostNodeResult: 'ranked_last' })]);

      // It was alive (a partition between a and it): its heartbeat ends the suspicion, and a's
      // heartbeats repeating the same loss do not bring it back.
      clock.t += 1000;
      await beat('victim', 30);
      clock.t += 1000;
      await beat('a', 10, { report: report([down('victim', lostAt)]) });
      expect(await password()).toEqual(['victim', 'a', 'b']);
      expect(await metric('el_broker_nodes_suspect')).toEqual(['el_broker_nodes_suspect 0']);
    } finally {
      await app.close();
    }
  });
});
