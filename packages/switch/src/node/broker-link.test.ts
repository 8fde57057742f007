import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:http';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { createBrokerApp, hashPassword, MemoryStore } from '@elink/broker';
import { generateTicketKeyPair, heartbeatRequestSchema, keyId, NODE_TIME_HEADER, parseNodeTimeHeader, publicKeyToPem, segmentSchema, type SegmentDef, type TrunkPeerEntry } from '@elink/protocol';
import { BrokerLink, MAX_REPORTED_SEGMENTS, segmentLoad, type BrokerLinkOptions } from './broker-link.js';
import { oldBroker } from '../testing/test-old-broker.js';

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

  it('sends its trunk listener and hands the peers of the reply (the other nodes of its segments) to the trunks', async () => {
    const keys = generateTicketKeyPair();
    const app = await createBrokerApp({ segments: [segmentSchema.parse({ name: 'lan' })], signingKey: keys.privateKey, logger: pino({ level: 'silent' }), clusterSecret: SECRET });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    const heard: Record<string, TrunkPeerEntry[][]> = { a: [], b: [] };
    const link = (node: 'a' | 'b', port: number) =>
      new BrokerLink({
        brokers: [url],
        clusterSecret: SECRET,
        nodeId: node,
        hosts: ['127.0.0.1'],
        port: 4443,
        capacity: 10,
        state: () => ({ sessions: 0, segments: ['lan'], active: [], draining: false }),
        addSegment: () => {},
        trunk: () => ({ hosts: [`${node}.trunk`], port }),
        peers: (p) => heard[node].push(p),
        logger: pino({ level: 'silent' }),
      });
    const [a, b] = [link('a', 5001), link('b', 5002)];
    try {
      expect(await a.beat()).toBe(true);
      expect(await b.beat()).toBe(true);
      expect(await a.beat()).toBe(true);
      expect(heard.a).toEqual([[], [{ node: 'b', hosts: ['b.trunk'], port: 5002, segments: ['lan'] }]]);
      expect(heard.b).toEqual([[{ node: 'a', hosts: ['a.trunk'], port: 5001, segments: ['lan'] }]]);
    } finally {
      a.stop();
      b.stop();
      await app.close();
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

describe('BrokerLink and EL over WebSocket behind an ingress', () => {
  it("sends the node's public WebSocket URL, which the broker keeps and lists", async () => {
    const keys = generateTicketKeyPair();
    const ADMIN = 'admin-token-0123456789abcdef';
    const app = await createBrokerApp({ segments: [segmentSchema.parse({ name: 'lan', ipv4: { pool: '198.19.0.0/24' } })], signingKey: keys.privateKey, logger: pino({ level: 'silent' }), clusterSecret: SECRET, adminToken: ADMIN });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    const link = new BrokerLink({ brokers: [url], clusterSecret: SECRET, nodeId: 'sw-w', hosts: ['127.0.0.1'], port: 4443, websocket: 'wss://vpn.example/v1/el', capacity: 10, state: () => ({ sessions: 0, segments: ['lan'], active: [], draining: false }), addSegment: () => {}, logger: pino({ level: 'silent' }) });
    try {
      expect(await link.beat()).toBe(true);
      const nodes = (await app.inject({ method: 'GET', url: '/v1/admin/nodes', headers: { authorization: `Bearer ${ADMIN}` } })).json().nodes as Array<{ node: string; websocket?: string }>;
      expect(nodes).toMatchObject([{ node: 'sw-w', websocket: 'wss://vpn.example/v1/el' }]);
    } finally {
      link.stop();
      await app.close();
    }
  });
});

describe('segment affinity by count', () => {
  it('segmentLoad reports the segments with sessions and their counts, the busiest kept past the bound', () => {
    expect(segmentLoad({ lan: { sessions: 3 }, idle: { sessions: 0 }, wan: { sessions: 1 } })).toEqual({ active: ['lan', 'wan'], segmentSessions: { lan: 3, wan: 1 } });
    const many: Record<string, { sessions: number }> = {};
    for (let i = 0; i < MAX_REPORTED_SEGMENTS + 10; i++) many[`s${i}`] = { sessions: i + 1 };
    const load = segmentLoad(many);
    expect(load.active).toHaveLength(MAX_REPORTED_SEGMENTS);
    expect(load.active).not.toContain('s0');
    expect(load.segmentSessions[`s${MAX_REPORTED_SEGMENTS + 9}`]).toBe(MAX_REPORTED_SEGMENTS + 10);
  });

  it('a real broker offers a login the node that reported most of the segment, not the least loaded one', async () => {
    const keys = generateTicketKeyPair();
    const store = new MemoryStore();
    await store.putUser({ name: 'alice', passwordHash: await hashPassword('alice-pw1'), segments: ['lan'] });
    const app = await createBrokerApp({ segments: [segmentSchema.parse({ name: 'lan', ipv4: { pool: '198.19.0.0/24' } })], signingKey: keys.privateKey, logger: pino({ level: 'silent' }), clusterSecret: SECRET, store });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    const node = (nodeId: string, host: string, segments: Record<string, { sessions: number }>) =>
      new BrokerLink({
        brokers: [url],
        clusterSecret: SECRET,
        nodeId,
        hosts: [host],
        port: 4443,
        capacity: 100,
        state: () => ({ sessions: Object.values(segments).reduce((n, v) => n + v.sessions, 0), segments: ['lan', 'other'], ...segmentLoad(segments), draining: false }),
        addSegment: () => {},
        logger: pino({ level: 'silent' }),
      });
    // sw-a: 2 of lan among 60; sw-b: 5 of lan among 5; sw-c: empty. Old `active` alone would rank a and b by load only.
    const links = [node('sw-a', '198.18.0.1', { lan: { sessions: 2 }, other: { sessions: 58 } }), node('sw-b', '198.18.0.2', { lan: { sessions: 5 } }), node('sw-c', '198.18.0.3', {})];
    try {
      for (const l of links) expect(await l.beat()).toBe(true);
      const reply = await app.inject({ method: 'POST', url: '/v1/login', payload: { user: 'alice', password: 'alice-pw1' } });
      expect(reply.statusCode).toBe(200);
      expect(reply.json().servers.map((s: { node: string }) => s.node)).toEqual(['sw-b', 'sw-a', 'sw-c']);
    } finally {
      for (const l of links) l.stop();
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

  it('refuses a reply that does not match the contract (EL_ERR_PROTOCOL naming the field) and keeps what it had; each heartbeat carries its clock', async () => {
    const { publicKey } = generateTicketKeyPair();
    const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const replies: unknown[] = [{ keys: [], segments: [], heartbeatSeconds: 5 }, { keys: [pem], segments: [{ mode: 'l2' }], heartbeatSeconds: 5 }, { keys: [pem], segments: [] }];
    const times: unknown[] = [];
    const stand = createServer((req, res) => {
      times.push(req.headers[NODE_TIME_HEADER]);
      req.resume();
      req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(replies.shift())));
    });
    await new Promise<void>((r) => stand.listen(0, '127.0.0.1', r));
    const lines: { code?: string; err?: string }[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const line of chunk.toString('utf8').split('\n')) if (line) lines.push(JSON.parse(line) as { code?: string; err?: string });
        done();
      },
    });
    const added: SegmentDef[] = [];
    const link = new BrokerLink({
      brokers: [`http://127.0.0.1:${(stand.address() as AddressInfo).port}`],
      clusterSecret: SECRET,
      nodeId: 'sw-p',
      hosts: ['127.0.0.1'],
      port: 4443,
      capacity: 10,
      state: () => ({ sessions: 0, segments: [], active: [], draining: false }),
      addSegment: (d) => added.push(d),
      logger: pino({ level: 'warn' }, sink),
    });
    try {
      const before = Date.now();
      for (let i = 0; i < 3; i++) expect(await link.beat()).toBe(false);
      // Each heartbeat said what the node's clock read when it went (EL-Node-Time).
      expect(times).toHaveLength(3);
      for (const t of times) {
        expect(t).toMatch(/^[0-9]+$/);
        const ms = parseNodeTimeHeader(t as string)!;
        expect(ms).toBeGreaterThanOrEqual(before);
        expect(ms).toBeLessThanOrEqual(Date.now());
      }
      expect(lines.map((l) => [l.code, /field "[^"]+"/.exec(l.err ?? '')?.[0]])).toEqual([
        ['EL_ERR_PROTOCOL', 'field "keys"'],
        ['EL_ERR_PROTOCOL', 'field "segments.0.name"'],
        ['EL_ERR_PROTOCOL', 'field "heartbeatSeconds"'],
      ]);
      expect(link.keys()).toEqual([]);
      expect(added).toEqual([]);
    } finally {
      link.stop();
      await new Promise((r) => stand.close(r));
    }
  });
});

describe('BrokerLink revocations', () => {
  it("hands the broker's live revocations to the node with each heartbeat", async () => {
    const keys = generateTicketKeyPair();
    const ADMIN = 'admin-token-0123456789abcdef';
    const app = await createBrokerApp({ segments: [segmentSchema.parse({ name: 'lan' })], signingKey: keys.privateKey, logger: pino({ level: 'silent' }), clusterSecret: SECRET, adminToken: ADMIN });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    const heard: [unknown[], number][] = [];
    const link = new BrokerLink({ brokers: [url], clusterSecret: SECRET, nodeId: 'sw-r', hosts: ['127.0.0.1'], port: 4443, capacity: 10, state: () => ({ sessions: 0, segments: [], active: [], draining: false }), addSegment: () => {}, revoked: (list, heartbeat) => heard.push([[...list], heartbeat]), logger: pino({ level: 'silent' }) });
    try {
      expect(await link.beat()).toBe(true);
      expect(heard).toEqual([]); // none yet: the field is left out
      const r = await app.inject({ method: 'POST', url: '/v1/admin/revocations', headers: { authorization: `Bearer ${ADMIN}` }, payload: { user: 'amy', device: 'laptop' } });
      expect(r.statusCode).toBe(200);
      expect(await link.beat()).toBe(true);
      // Brought by the second answered heartbeat, and handed over again with the third.
      const amy = [{ user: 'amy', device: 'laptop', at: expect.any(Number), until: expect.any(Number) }];
      expect(heard).toEqual([[amy, 2]]);
      expect(await link.beat()).toBe(true);
      expect(heard).toEqual([[amy, 2], [amy, 3]]);
    } finally {
      link.stop();
      await app.close();
    }
  });
});

describe('BrokerLink console report', () => {
  const report = (rx: number) => ({ traffic: { rxBytes: rx, txBytes: 0, rxFrames: 0, txFrames: 0 }, drops: {}, segments: {}, sessions: [{ id: 's-1', user: 'amy', segment: 'lan', addresses: [], since: 0, rxBytes: rx, txBytes: 0 }], table: [] });

  it('sends its report with each heartbeat and hands the reply\'s commands to the node', async () => {
    const keys = generateTicketKeyPair();
    const ADMIN = 'admin-token-0123456789abcdef';
    const app = await createBrokerApp({ segments: [segmentSchema.parse({ name: 'lan' })], signingKey: keys.privateKey, logger: pino({ level: 'silent' }), clusterSecret: SECRET, adminToken: ADMIN });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    const commands: unknown[] = [];
    const link = new BrokerLink({ brokers: [url], clusterSecret: SECRET, nodeId: 'sw-c', hosts: ['127.0.0.1'], port: 4443, capacity: 10, state: () => ({ sessions: 1, segments: ['lan'], active: ['lan'], draining: false }), addSegment: () => {}, report: () => report(100), commands: (list) => commands.push(...list), logger: pino({ level: 'silent' }) });
    const admin = (method: 'GET' | 'POST', path: string) => app.inject({ method, url: path, headers: { authorization: `Bearer ${ADMIN}` } });
    try {
      expect(await link.beat()).toBe(true);
      expect((await admin('GET', '/v1/admin/segments/lan/sessions')).json().sessions).toEqual([expect.objectContaining({ id: 's-1', user: 'amy', node: 'sw-c', rxBytes: 100 })]);
      expect((await admin('POST', '/v1/admin/sessions/s-1/disconnect')).statusCode).toBe(200);
      expect(commands).toEqual([]);
      expect(await link.beat()).toBe(true);
      expect(commands).toEqual([{ type: 'kick', session: 's-1', reason: 'disconnected by an administrator' }]);
    } finally {
      link.stop();
      await app.close();
    }
  });

  it('beats without the report to a broker from before the console (its strict contract refuses the field)', async () => {
    // The heartbeat contract as brokers had it before `report`: the same fields, strict.
    const previous = heartbeatRequestSchema.omit({ report: true });
    const keys = generateTicketKeyPair();
    const old = await oldBroker((body) => {
      const parsed = previous.safeParse(body);
      return parsed.success
        ? { status: 200, json: { keys: [publicKeyToPem(keys.publicKey)], segments: [], heartbeatSeconds: 5 } }
        : { status: 400, json: { error: 'EL_ERR_INVALID', message: `invalid request: ${parsed.error.issues.map((i) => `${i.path.join('.')} ${i.message} ${'keys' in i ? (i.keys as string[]).join(',') : ''}`).join('; ')}` } };
    });
    const { url, bodies } = old;
    const link = new BrokerLink({ brokers: [url], clusterSecret: SECRET, nodeId: 'sw-o', hosts: ['127.0.0.1'], port: 4443, capacity: 10, state: () => ({ sessions: 0, segments: [], active: [], draining: false }), addSegment: () => {}, report: () => report(1), logger: pino({ level: 'silent' }) });
    try {
      expect(await link.beat()).toBe(true);
      expect(link.keys().map(keyId)).toEqual([keyId(keys.publicKey)]);
      expect(bodies.map((b) => 'report' in b)).toEqual([true, false]);
      // The next beats leave it out from the start.
      expect(await link.beat()).toBe(true);
      expect(bodies.map((b) => 'report' in b)).toEqual([true, false, false]);
    } finally {
      link.stop();
      await old.close();
    }
  });
});
