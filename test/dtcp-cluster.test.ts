/**
 * DTCP in a split deployment of real processes: two `elink broker` over one Redis, two
 * `elink switch` nodes with `switch.dtcp`, each opening its own 6in4 plane (raw socket)
 * and asking the brokers over HTTPS with the cluster secret. A DTCP user set up through the
 * admin API keeps its address across nodes and brokers, and the nodes count what failed.
 * (The 6in4 traffic itself: the data plane's netns tests.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { request } from 'node:https';
import { readFileSync } from 'node:fs';
import { redisOrSkip } from '../packages/broker/src/store/test-redis.js';
import { LineClient } from '../packages/switch/src/testing/dtcp-client.js';
import { Cluster } from './lib/cluster.js';
import { requireNetnsOrSkip } from './lib/netns.js';
import { freePort, stopAll } from './lib/processes.js';
import { ADMIN_TOKEN } from './lib/server.js';

// The cluster fixture puts HAProxy in front (unused here: DTCP goes to each node directly).
const haveHaproxy = spawnSync('haproxy', ['-v']).status === 0;
if (!haveHaproxy && process.env.CI === 'true') throw new Error('CI=true but haproxy is missing (make test-deps installs it)');
const enabled = requireNetnsOrSkip() && redisOrSkip() && haveHaproxy;
const V6 = { name: 'v6', mode: 'l3', ipv6: { pool: 'fd00:e1:70::/64' }, delegation: { ipv6: { pool: 'fd00:e1:7100::/40', length: 48 } } };
const SECRET = 'phone-secret-0001';

function put(c: Cluster, path: string, body: unknown): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(`${`https://127.0.0.1:${c.brokers[0]!.port}`}${path}`, { method: 'PUT', ca: readFileSync(c.caFile), timeout: 5000, headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

describe.skipIf(!enabled)('DTCP on switch nodes of a cluster (brokers over HTTPS with the cluster secret, Redis)', () => {
  let c: Cluster;
  let port: number;
  const clients: LineClient[] = [];
  const dial = async (node: number) => {
    const l = await LineClient.connect(port, { host: `127.0.1.${node + 1}` });
    clients.push(l);
    return l;
  };

  beforeAll(async () => {
    port = await freePort();
    c = await Cluster.start({
      segments: [V6],
      users: [{ name: 'phone', segment: 'v6' }],
      nodes: 2,
      brokers: 2,
      switchConfig: (i) => ({ dtcp: { listen: { host: `127.0.1.${i + 1}`, port }, segment: 'v6' } }),
    });
    expect(await put(c, '/v1/admin/users/phone/digest', { secret: SECRET })).toBe(200);
  }, 120_000);

  afterAll(async () => {
    for (const l of clients) l.destroy();
    await stopAll();
    await c?.destroy();
  });

  it('host and network tunnels on either node, sticky across nodes and brokers; failures counted by reason', async () => {
    const a = await dial(0);
    const first = await a.tunnel('phone', SECRET, 'host');
    const m = /^\+OK 127\.0\.0\.1 127\.0\.1\.1 (fd00:e1:70:[0-9a-f:]+) fd00:e1:70::1$/.exec(first);
    expect(m, first).not.toBeNull();
    expect(await a.ask('quit')).toBe('+OK see you soon.');
    await a.closedWithin();

    // The other node (its own DTCP listener and plane), a digest in upper case: the same address.
    const b = await dial(1);
    expect(await b.tunnel('phone', SECRET, 'host', { upper: true })).toBe(`+OK 127.0.0.1 127.0.1.2 ${m![1]} fd00:e1:70::1`);
    expect(await c.nodeMetric(1, 'el_dtcp_tunnels', { type: 'host' })).toBe(1);
    expect(await c.nodeMetric(1, 'el_switch_6in4_tunnels')).toBe(1);

    // A second tunnel on the connection replaces the first: the prefix of the delegation pool.
    const net = await b.tunnel('phone', SECRET, 'network');
    expect(net).toMatch(/^\+OK 127\.0\.0\.1 127\.0\.1\.2 fd00:e1:71[0-9a-f]{2}::\/48$/);
    expect(await c.nodeMetric(1, 'el_dtcp_tunnels', { type: 'host' })).toBe(0);
    expect(await c.nodeMetric(1, 'el_dtcp_tunnels', { type: 'network' })).toBe(1);

    const w = await dial(0);
    expect(await w.tunnel('phone', 'not-the-secret', 'host')).toBe('-ERR authentication failed.');
    expect(await w.tunnel('stranger', SECRET, 'host')).toBe('-ERR authentication failed.');
    expect(await w.tunnel('phone', SECRET, 'ipip')).toBe('-ERR unsupported tunnel type ipip');
    expect(await c.nodeMetric(0, 'el_dtcp_failures_total', { reason: 'auth' })).toBe(2);
    expect(await c.nodeMetric(0, 'el_dtcp_failures_total', { reason: 'unsupported_type' })).toBe(1);

    // EOF ends the tunnel on the node at once.
    b.socket.end();
    await b.closedWithin();
    await c.until('the tunnel gone', async () => ((await c.nodeMetric(1, 'el_switch_6in4_tunnels')) === 0 ? true : undefined), 5000);
  });
});
