/**
 * The broker for real deployments, end to end with the built `elink`:
 *
 * - three `elink broker` processes share one real redis-server: 200 concurrent logins
 *   spread over them get 200 distinct addresses, and a device keeps its address across
 *   a broker restart;
 * - Redis goes away under a live tunnel (`elink broker` + `elink switch` heartbeating to
 *   it + two `elink connect` hosts in network namespaces): logins answer 503 and /readyz
 *   fails while the hosts keep pinging each other; when Redis returns, everything
 *   recovers by itself.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { redisOrSkip, startTestRedis, type TestRedis } from '../packages/broker/src/store/test-redis.js';
import { connectHost } from './lib/connected-hosts.js';
import { createUnderlay, requireNetnsOrSkip, sh, type Underlay } from './lib/netns.js';
import { assertBuilt, CLI, elink, freePort, startElink, stopAll, type Proc } from './lib/processes.js';
import { ADMIN_TOKEN, CLUSTER_SECRET, connectArgs, initState, PASSWORD, setSplitConfig } from './lib/server.js';
import { until } from './lib/until.js';
import { pingEach } from './lib/ping.js';

const haveRedis = redisOrSkip();

interface Reply {
  status: number;
  body: Record<string, any>;
  headers: Record<string, string | string[] | undefined>;
}

function call(url: string, method: string, body: unknown, ca: Buffer | undefined, headers: Record<string, string> = {}, localAddress?: string): Promise<Reply> {
  const u = new URL(url);
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const send = u.protocol === 'http:' ? httpRequest : httpsRequest;
  return new Promise((resolve, reject) => {
    const req = send(u, { method, ca, localAddress, timeout: 15_000, headers: { ...headers, ...(payload ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload)) } : {}) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        try {
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(text), headers: res.headers });
        } catch {
          reject(new Error(`non-JSON reply ${res.statusCode}: ${text}`));
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    req.end(payload);
  });
}

/** A state directory made by `elink init`, with one user (in the config file: the Redis store
 * is set after `elink user add`, which would otherwise add the user to the store). */
function makeState(redisUrl: string, edit: (doc: ReturnType<typeof parseDocument>) => void): string {
  const state = initState('elink-broker-e2e-', [{ name: 'alice' }]);
  const file = join(state, 'elink.yaml');
  const doc = parseDocument(readFileSync(file, 'utf8'));
  doc.setIn(['broker', 'store'], doc.createNode({ type: 'redis', url: redisUrl }));
  doc.setIn(['broker', 'clusterSecret'], CLUSTER_SECRET);
  doc.setIn(['broker', 'adminToken'], ADMIN_TOKEN);
  doc.setIn(['admin', 'host'], '127.0.0.1');
  edit(doc);
  writeFileSync(file, doc.toString());
  return state;
}

describe.skipIf(!haveRedis)('brokers sharing one Redis', () => {
  let redis: TestRedis;
  let state: string;
  let ca: Buffer;
  const brokers: Array<{ proc: Proc; port: number; admin: number }> = [];

  async function startBroker(i: number): Promise<void> {
    const port = brokers[i]?.port ?? (await freePort());
    const admin = brokers[i]?.admin ?? (await freePort());
    const proc = elink(['broker', '--state', state, '--broker-port', String(port), '--admin-port', String(admin), '--listen-host', '127.0.0.1', '--log-level', 'warn']);
    brokers[i] = { proc, port, admin };
    await until(`broker ${i} ready`, async () => ((await call(`http://127.0.0.1:${admin}/readyz`, 'GET', undefined, undefined)).status === 200 ? true : undefined));
  }

  beforeAll(async () => {
    assertBuilt();
    redis = await startTestRedis();
    state = makeState(redis.url, (doc) => {
      // A static node, so logins need no switch here.
      doc.setIn(['broker', 'nodes'], doc.createNode([{ node: 'sw-static', host: '127.0.0.1', port: 4443, segments: ['lab'] }]));
      // Room for many devices of one user; a guesser is stopped after 5 failures from its address.
      doc.setIn(['broker', 'maxDevicesPerUser'], 1000);
      doc.setIn(['broker', 'rateLimit'], doc.createNode({ perUser: 5, perAddress: 1000, perUserTotal: 1000, window: 60 }));
    });
    ca = readFileSync(join(state, 'ca.pem'));
    await Promise.all([0, 1, 2].map(startBroker));
  });

  afterAll(async () => {
    await stopAll();
    await redis?.destroy();
    if (state) rmSync(state, { recursive: true, force: true });
  });

  const login = (i: number, body: Record<string, unknown>, from?: string) => call(`https://127.0.0.1:${brokers[i]!.port}/v1/login`, 'POST', { user: 'alice', password: PASSWORD, ...body }, ca, {}, from);

  it('gives 200 concurrent logins over 3 brokers 200 distinct addresses', async () => {
    // Each device from its own loopback address: attempts in flight count against the
    // per-source limits like failures do (rate-limit.ts), and 200 at once from one
    // address is not what this test is about.
    const replies = await Promise.all(Array.from({ length: 200 }, (_, i) => login(i % 3, { device: `d${i}` }, `127.0.1.${i + 1}`)));
    expect(replies.map((r) => r.status)).toEqual(Array(200).fill(200));
    expect(new Set(replies.map((r) => r.body.ipv4)).size).toBe(200);
    expect(new Set(replies.map((r) => r.body.ipv6)).size).toBe(200);
    const status = await call(`https://127.0.0.1:${brokers[1]!.port}/v1/admin/status`, 'GET', undefined, ca, { authorization: `Bearer ${ADMIN_TOKEN}` });
    expect(status.status).toBe(200);
    expect(status.body.leases.lab).toBe(200);
    expect(status.body.store).toBe('redis');
  }, 60_000); // 200 scrypt hashes on two cores: seconds on a quiet machine, far more beside other work

  it('keeps a device on its address across a broker restart, whichever broker it asks', async () => {
    const first = await login(0, { device: 'sticky' });
    expect(first.status).toBe(200);
    await brokers[0]!.proc.stop();
    await startBroker(0);
    for (const i of [0, 1, 2]) {
      const again = await login(i, { device: 'sticky' });
      expect(again.body.ipv4).toBe(first.body.ipv4);
      expect(again.body.ipv6).toBe(first.body.ipv6);
    }
  });

  it('shares failed-login counters between brokers: 429 with Retry-After on every broker', async () => {
    for (let i = 0; i < 5; i++) expect((await call(`https://127.0.0.1:${brokers[i % 3]!.port}/v1/login`, 'POST', { user: 'mallory', password: 'wrong-password' }, ca)).status).toBe(401);
    for (const i of [0, 1, 2]) {
      const r = await call(`https://127.0.0.1:${brokers[i]!.port}/v1/login`, 'POST', { user: 'mallory', password: 'wrong-password' }, ca);
      expect(r.status).toBe(429);
      expect(r.body.error).toBe('EL_ERR_RATE_LIMITED');
      expect(Number(r.headers['retry-after'])).toBeGreaterThan(0);
    }
  });

  it('prints nodes, sessions and leases with elink status', () => {
    const r = spawnSync(process.execPath, [CLI, 'status', '--state', state, '--broker', `https://127.0.0.1:${brokers[2]!.port}`], { encoding: 'utf8', env: { ...process.env, ELINK_ADMIN_TOKEN: ADMIN_TOKEN } });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('store: redis');
    expect(r.stdout).toMatch(/^lab\t201$/m);
  });

  it('elink user add|list|passwd|del act on the Redis store, say so, and every broker sees it without a restart', async () => {
    const user = (...args: string[]) => spawnSync(process.execPath, [CLI, 'user', ...args, '--state', state], { encoding: 'utf8' });
    const loginAs = (i: number, name: string, password: string) => call(`https://127.0.0.1:${brokers[i]!.port}/v1/login`, 'POST', { user: name, password, device: 'cli-test' }, ca);
    const configFile = join(state, 'elink.yaml');
    writeFileSync(join(state, 'pw2'), 'another good password\n');

    const add = user('add', 'bob', '--segment', 'lab', '--password-file', join(state, 'pw'));
    expect(add.status, add.stderr).toBe(0);
    expect(add.stdout).toMatch(/added user bob \(segments: lab\) to the Redis store \(redis:\/\/127\.0\.0\.1:\d+\)/);
    expect(readFileSync(configFile, 'utf8')).not.toContain('bob');
    for (const i of [0, 1, 2]) expect((await loginAs(i, 'bob', PASSWORD)).status).toBe(200);
    // A name taken in the file or the store is refused.
    expect(user('add', 'alice', '--password-file', join(state, 'pw')).status).not.toBe(0);
    expect(user('add', 'bob', '--password-file', join(state, 'pw')).status).not.toBe(0);

    const list = user('list');
    expect(list.status, list.stderr).toBe(0);
    expect(list.stdout).toMatch(/^bob\tlab\tstore$/m);
    expect(list.stdout).toMatch(/^alice\tlab\tconfig$/m);

    const passwd = user('passwd', 'bob', '--password-file', join(state, 'pw2'));
    expect(passwd.status, passwd.stderr).toBe(0);
    expect(passwd.stdout).toContain('changed the password of bob in the Redis store');
    expect((await loginAs(1, 'bob', PASSWORD)).status).toBe(401);
    expect((await loginAs(2, 'bob', 'another good password')).status).toBe(200);
    // A user of the config file is still edited in the file, and the output says so.
    const passwdAlice = user('passwd', 'alice', '--password-file', join(state, 'pw'));
    expect(passwdAlice.status, passwdAlice.stderr).toBe(0);
    expect(passwdAlice.stdout).toContain(`changed the password of alice in ${configFile}`);

    const del = user('del', 'bob');
    expect(del.status, del.stderr).toBe(0);
    expect(del.stdout).toContain('deleted user bob from the Redis store');
    expect((await loginAs(0, 'bob', 'another good password')).status).toBe(401);
    expect(user('list').stdout).not.toMatch(/^bob\t/m);
    expect(user('del', 'bob').status).not.toBe(0);
  });
});

const netns = haveRedis && requireNetnsOrSkip();

describe.skipIf(!netns)('Redis outage under a live tunnel (network namespaces)', () => {
  let redis: TestRedis;
  let underlay: Underlay;
  let state: string;
  let ca: Buffer;
  let brokerUrl: string;
  let adminPort: number;
  const hosts: Array<{ ns: string; v4: string; client?: Proc }> = [];

  beforeAll(async () => {
    assertBuilt();
    redis = await startTestRedis();
    underlay = createUnderlay();
    const brokerPort = await freePort();
    const switchPort = await freePort();
    adminPort = await freePort();
    const switchAdmin = await freePort();
    brokerUrl = `https://${underlay.gateway}:${brokerPort}`;
    state = makeState(redis.url, (doc) => setSplitConfig(doc, { gateway: underlay.gateway, brokerPort, switchPort }));
    ca = readFileSync(join(state, 'ca.pem'));
    await startElink(['broker', '--state', state, '--admin-port', String(adminPort)], 'broker start');
    // The switch gets its keys and segments from the broker's heartbeat replies only.
    await startElink(['switch', '--state', state, '--admin-port', String(switchAdmin), '--node-id', 'sw-e2e'], 'switch start');
    for (const name of ['h1', 'h2']) {
      const { ns, v4, client } = await connectHost(underlay, name, connectArgs(state, brokerUrl, 'alice'));
      hosts.push({ ns, v4, client });
    }
  });

  afterAll(async () => {
    await stopAll();
    underlay?.destroy();
    await redis?.destroy();
    if (state) rmSync(state, { recursive: true, force: true });
  });

  const ping = () => pingEach(hosts[0]!.ns, hosts[1]!.v4, 3);
  const readyz = async () => (await call(`http://127.0.0.1:${adminPort}/readyz`, 'GET', undefined, undefined)).status;
  const login = () => call(`${brokerUrl}/v1/login`, 'POST', { user: 'alice', password: PASSWORD, device: 'probe' }, ca);

  it('answers logins 503, fails /readyz and keeps the tunnel up while Redis is away, then recovers by itself', async () => {
    expect(await ping()).toEqual({ transmitted: 3, received: 3, unanswered: [] });
    expect(await readyz()).toBe(200);
    expect((await login()).status).toBe(200);

    await redis.stop();
    const refused = await login();
    expect(refused.status).toBe(503);
    expect(refused.body.error).toBe('EL_ERR_UNAVAILABLE');
    expect(refused.body.message).toMatch(/store \(Redis\) is unreachable/);
    expect(await readyz()).toBe(503);
    const broker = await call(`${brokerUrl}/readyz`, 'GET', undefined, ca);
    expect(broker.status).toBe(503);
    // The data plane does not need the broker, let alone Redis.
    expect(await ping()).toEqual({ transmitted: 3, received: 3, unanswered: [] });

    await redis.start();
    await until('/readyz 200 after Redis returned', async () => ((await readyz()) === 200 ? true : undefined));
    const back = await until('a login after Redis returned', async () => {
      const r = await login();
      return r.status === 200 ? r : undefined;
    });
    expect(back.body.servers[0].node).toBe('sw-e2e');
    expect(await ping()).toEqual({ transmitted: 3, received: 3, unanswered: [] });
  });
});
