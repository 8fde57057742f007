/**
 * Failure detection through the real app (fastify inject, a MemoryStore): a peer's heartbeat
 * reports its trunk to a node down; logins (password and device key) rank that node last
 * until it heartbeats again; a login's EL-Lost-Node header ranks the named node last for it
 * only, and an odd header is ignored; the metrics, the admin view and the log say so. A
 * reporter's times are read on the broker's clock by its EL-Node-Time, and a trunk back up
 * withdraws that reporter's loss (another reporter's stands).
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

/** A broker app on a MemoryStore with user amy (segment lan), a clock the test moves, and its log lines. */
async function brokerUnderTest() {
  const clock = { t: Date.now() };
  const store = new MemoryStore({ now: () => clock.t });
  await store.putUser({ name: 'amy', passwordHash: await hashPassword('amy-pw-123', { ln: 10, r: 8, p: 1 }), segments: ['lan'] });
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
  return { clock, store, lines, registry, app };
}

describe('a node its trunk peer lost, through the broker app', () => {
  it('is ranked last at once for password and device logins, until its own heartbeat; the lost-node header ranks for its caller only', async () => {
    const { clock, store, lines, registry, app } = await brokerUnderTest();
    const key = generateKeyPairSync('ed25519');
    await store.putDeviceKey('amy', 'phone', rawDeviceKey(key.publicKey), 3600);
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

  it("reads a reporter's times by its EL-Node-Time (a clock a minute behind), and a trunk back up withdraws its loss", async () => {
    const { clock, store, lines, registry, app } = await brokerUnderTest();
    // a's clock is 60 s behind the broker's; b's agrees (and b sends no header: an older node).
    const SKEW = -60_000;
    const aNow = () => clock.t + SKEW;
    const beat = (node: string, sessions: number, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}) =>
      app.inject({ method: 'POST', url: '/v1/nodes/heartbeat', headers: { authorization: `Bearer ${SECRET}`, ...headers }, payload: { node, hosts: [`${node}.example`], port: 4443, capacity: 100, sessions, segments: ['lan'], active: ['lan'], segmentSessions: { lan: sessions }, draining: false, ...extra } });
    const beatA = (trunks: ReportTrunk[]) => beat('a', 10, { report: report(trunks) }, { 'EL-Node-Time': String(aNow()) });
    const password = async () => {
      const r = await app.inject({ method: 'POST', url: '/v1/login', payload: { user: 'amy', password: 'amy-pw-123', device: 'laptop' } });
      expect(r.statusCode, r.body).toBe(200);
      return (r.json() as { servers: Array<{ node: string }> }).servers.map((s) => s.node);
    };
    const metric = async (name: string) => (await registry.getSingleMetricAsString(name)).split('\n').filter((l) => !l.startsWith('#'));
    const up = (peer: string, since: number): ReportTrunk => ({ ...down(peer, since), state: 'up', segments: ['lan'] });
    try {
      for (const [n, s] of [['peer', 30], ['a', 10], ['b', 0]] as const) expect((await beat(n, s)).statusCode).toBe(200);
      expect(await password()).toEqual(['peer', 'a', 'b']);

      // a's trunk to peer drops; its times are a minute behind ours. Without the header that is
      // old news and ignored; with it, the loss 5 ms ago is news.
      clock.t += 200;
      const lostAt = aNow() - 5;
      expect((await beat('a', 10, { report: report([down('peer', lostAt)]) })).statusCode).toBe(200);
      expect(await password()).toEqual(['peer', 'a', 'b']);
      expect((await beatA([down('peer', lostAt)])).statusCode).toBe(200);
      expect(await password()).toEqual(['a', 'b', 'peer']);
      expect(lines.filter((l) => String(l.msg).startsWith('node suspect'))).toEqual([expect.objectContaining({ node: 'peer', reporter: 'a', downSince: new Date(clock.t - 5).toISOString() })]);
      // The console shows a's times on the broker's clock too.
      const trunks = (await app.inject({ method: 'GET', url: '/v1/admin/trunks', headers: { authorization: `Bearer ${ADMIN}` } })).json() as { trunks: Array<{ node: string; peer: string; since: string }> };
      expect(trunks.trunks).toEqual([expect.objectContaining({ node: 'a', peer: 'peer', since: new Date(clock.t - 5).toISOString() })]);
      // An old loss (20 s ago on a's clock) is no news, however its clock reads.
      expect((await beatA([down('peer', lostAt), down('b', aNow() - 20_000)])).statusCode).toBe(200);
      expect(await metric('el_broker_node_suspicions_total')).toEqual(['el_broker_node_suspicions_total{reason="trunk_down"} 1']);

      // b lost peer too; then a's trunk comes back: a's loss is withdrawn, b's still stands.
      clock.t += 100;
      expect((await beat('b', 0, { report: report([down('peer', clock.t - 3)]) })).statusCode).toBe(200);
      clock.t += 300;
      expect((await beatA([up('peer', aNow() - 20)])).statusCode).toBe(200);
      expect(lines.filter((l) => String(l.msg).startsWith('trunk peer back'))).toEqual([expect.objectContaining({ level: 30, node: 'peer', reporter: 'a' })]);
      expect(await metric('el_broker_trunk_losses_withdrawn_total')).toEqual(['el_broker_trunk_losses_withdrawn_total 1']);
      expect(await password()).toEqual(['a', 'b', 'peer']);
      // b's trunk back as well: peer is in service again before its own next heartbeat.
      clock.t += 100;
      expect((await beat('b', 0, { report: report([up('peer', clock.t - 10)]) })).statusCode).toBe(200);
      expect(await password()).toEqual(['peer', 'a', 'b']);
      expect(await metric('el_broker_nodes_suspect')).toEqual(['el_broker_nodes_suspect 0']);
      expect(await metric('el_broker_trunk_losses_withdrawn_total')).toEqual(['el_broker_trunk_losses_withdrawn_total 2']);
      // An odd header is ignored: read as before (a minute-old loss is old news), never refused.
      clock.t += 100;
      expect((await beat('a', 10, { report: report([down('peer', aNow())]) }, { 'EL-Node-Time': 'soon' })).statusCode).toBe(200);
      expect(await password()).toEqual(['peer', 'a', 'b']);
    } finally {
      await app.close();
    }
  });
});
