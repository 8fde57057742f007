/**
 * A split deployment: the DTCP listener on a switch node asks real brokers over HTTPS
 * (real TLS, the cluster secret) to check digests and lease addresses; two brokers share
 * one store, so a client keeps its address whichever broker answers.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { createBrokerApp, hashPassword, MemoryStore, MemoryUserDirectory, StoreUserDirectory, type BrokerApp, type RateLimits } from '@elink/broker';
import { generateTicketKeyPair } from '@elink/protocol';
import { segment, useSwitchHarness } from '../testing/test-node.js';
import { LineClient, RecordingPlane } from '../testing/dtcp-client.js';
import { BrokerDtcpAuthority } from './dtcp-authority.js';

const CLUSTER = 'cluster-secret-0123456789abcdef';
const V6 = segment({ name: 'v6', mode: 'l3', ipv6: { pool: 'fd00:e1::/64' }, delegation: { ipv6: { pool: 'fd00:e1:100::/40', length: 48 } } });
const SECRET = 'phone-secret-1';

const h = useSwitchHarness();
const brokers: BrokerApp[] = [];
const clients: LineClient[] = [];
let passwordHash: string;
beforeAll(async () => {
  passwordHash = await hashPassword('unused-password');
});
afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  for (const b of brokers.splice(0)) await b.close();
});

async function broker(store: MemoryStore, rateLimits?: Partial<RateLimits>, registry = new Registry()): Promise<string> {
  const app = await createBrokerApp({
    segments: [V6],
    store,
    users: new StoreUserDirectory(store, new MemoryUserDirectory([
      { name: 'phone', passwordHash, segments: ['v6'], digestSecret: SECRET },
      { name: 'site', passwordHash, segments: ['v6'], digestSecret: SECRET, lan: ['fd00:e1:300::/48', '192.0.2.0/24'] },
      { name: 'greedy', passwordHash, segments: ['v6'], digestSecret: SECRET, lan: ['fd00:e1:100:ff00::/56'] },
    ])),
    signingKey: generateTicketKeyPair().privateKey,
    clusterSecret: CLUSTER,
    https: { cert: h.fx.certPem, key: h.fx.keyPem },
    logger: pino({ level: 'silent' }),
    registry,
    ...(rateLimits ? { rateLimits } : {}),
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  brokers.push(app);
  return `https://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
}

async function node(urls: () => string[], secret = CLUSTER) {
  const plane = new RecordingPlane();
  const authority = new BrokerDtcpAuthority({ brokers: urls, clusterSecret: secret, ca: () => h.fx.caPem, logger: pino({ level: 'silent' }) });
  const t = await h.node({ segments: [V6], dtcp: { listen: { host: '127.0.0.1', port: 0 }, segment: 'v6', authority, plane, closeGraceMs: 200 } });
  const port = t.node.dtcp!.address().port;
  return {
    t,
    plane,
    connect: async () => {
      const c = await LineClient.connect(port);
      clients.push(c);
      return c;
    },
  };
}

describe('DTCP through brokers over HTTPS (split deployment)', () => {
  it('grants leases through a broker; the address sticks across reconnects and across brokers sharing the store', async () => {
    const store = new MemoryStore();
    const first = await broker(store);
    const second = await broker(store);
    let urls = [first];
    const n = await node(() => urls);
    const a = await n.connect();
    const reply = await a.tunnel('phone', SECRET, 'host');
    expect(reply).toMatch(/^\+OK 127\.0\.0\.1 127\.0\.0\.1 fd00:e1::[0-9a-f:]+ fd00:e1::1$/);
    expect(await a.ask('quit')).toBe('+OK see you soon.');
    // The first broker is unreachable now: the node asks the second, which shares the store.
    urls = ['https://127.0.0.1:1', second];
    const b = await n.connect();
    expect(await b.tunnel('phone', SECRET, 'host', { upper: true })).toBe(reply);
    const c = await n.connect();
    expect(await c.tunnel('phone', 'wrong-secret', 'host')).toBe('-ERR authentication failed.');
  });

  it("tunnelonly's static lan ranges cross the broker's HTTP reply; an overlapping one is the broker's -ERR, counted on the node", async () => {
    const url = await broker(new MemoryStore());
    const n = await node(() => [url]);
    const c = await n.connect();
    expect(await c.tunnel('site', SECRET, 'tunnelonly')).toBe('+OK 127.0.0.1 127.0.0.1');
    expect([...n.plane.live.values()][0]).toMatchObject({ user: 'site', sources: ['fd00:e1:300::/48'], routes: ['fd00:e1:300::/48'] });
    const d = await n.connect();
    expect(await d.tunnel('greedy', SECRET, 'tunnelonly')).toBe('-ERR lan range fd00:e1:100:ff00::/56 of user "greedy" overlaps its IPv6 delegation pool fd00:e1:100::/40 in segment "v6"; give the user a range outside the segment\'s pools and routes');
    const failures = await n.t.registry.getSingleMetric('el_dtcp_failures_total')!.get();
    expect(failures.values.find((v) => v.labels.reason === 'address_in_use')?.value).toBe(1);
  });

  it('the rate limit holds through the broker (reserved before the hash), counted on both sides', async () => {
    const registry = new Registry();
    const url = await broker(new MemoryStore(), { perUser: 2 }, registry);
    const n = await node(() => [url]);
    const c = await n.connect();
    expect(await c.tunnel('phone', 'guess-1', 'host')).toBe('-ERR authentication failed.');
    expect(await c.tunnel('phone', 'guess-2', 'host')).toBe('-ERR authentication failed.');
    expect(await c.tunnel('phone', SECRET, 'host')).toMatch(/^-ERR too many failed logins for this user from this address; try again in \d+ s$/);
    const limited = await registry.getSingleMetric('el_broker_rate_limited_total')!.get();
    expect(limited.values.find((v) => v.labels.limit === 'user_source')?.value).toBe(1);
    const checks = await registry.getSingleMetric('el_broker_credential_checks_total')!.get();
    expect(checks.values.find((v) => v.labels.method === 'digest')?.value).toBe(2);
    const failures = await n.t.registry.getSingleMetric('el_dtcp_failures_total')!.get();
    expect(Object.fromEntries(failures.values.map((v) => [v.labels.reason, v.value]))).toMatchObject({ auth: 2, rate_limited: 1 });
  });

  it('a node with the wrong cluster secret gets no tunnels: the client hears the broker is unavailable', async () => {
    const url = await broker(new MemoryStore());
    const n = await node(() => [url], 'not-the-cluster-secret-0000');
    const c = await n.connect();
    expect(await c.tunnel('phone', SECRET, 'host')).toBe('-ERR the tunnel broker is unavailable; try again later');
    expect(n.plane.size).toBe(0);
  });
});
