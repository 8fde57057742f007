/** L3 sessions over real TLS: admission, welcome contents, routing between sessions. */
import { describe, expect, it } from 'vitest';
import { waitUntil, type Fixture, type TestClient } from '../../testing/test-client.js';
import { segment, startNode, type TestNode, useSwitchHarness } from '../../testing/test-node.js';
import { endpoints, udp4, udp6 } from '../../testing/test-packets.js';

const { fx, running, clients } = useSwitchHarness();

async function l3node(): Promise<TestNode> {
  const t = await startNode(fx, {
    segments: [
      segment({
        name: 'phones',
        mode: 'l3',
        ipv4: { pool: '198.19.1.0/24' },
        ipv6: { pool: 'fd00:e1:1::/64' },
        delegation: { ipv6: { pool: 'fd00:e1:100::/48', length: 56 } },
        reach: ['servers'],
      }),
      segment({ name: 'servers', mode: 'l3', ipv4: { pool: '198.19.2.0/24' }, reach: ['phones'] }),
    ],
  });
  running.push(t);
  return t;
}

async function join(t: TestNode, claims: Parameters<Fixture['ticket']>[0]): Promise<TestClient> {
  const c = await t.connect();
  clients.push(c);
  await c.join(fx.ticket({ mode: 'l3', seg: 'phones', ...claims }));
  return c;
}

describe('L3 sessions over real TLS', () => {
  it('welcomes with addresses, the delegated prefix and the routes to reachable segments', async () => {
    const t = await l3node();
    const c = await join(t, { dev: 'iad', ipv4: '198.19.1.5/24', ipv6: 'fd00:e1:1::5/64', prefix: 'fd00:e1:100:200::/56' });
    expect(c.welcome).toMatchObject({ mode: 'l3', ipv4: { address: '198.19.1.5/24' }, prefix: 'fd00:e1:100:200::/56' });
    expect(c.welcome!.routes!.map((r) => r.to).sort()).toEqual(['198.19.2.0/24', 'fd00:e1:100::/48']);
    expect(t.node.stats.segments.phones).toMatchObject({ mode: 'l3', routes: 3 });
  });

  it('routes between sessions, to a delegated prefix, and across segments allowed by reach', async () => {
    const t = await l3node();
    const a = await join(t, { sub: 'a', dev: 'a', ipv4: '198.19.1.5/24', ipv6: 'fd00:e1:1::5/64', prefix: 'fd00:e1:100:200::/56' });
    const b = await join(t, { sub: 'b', dev: 'b', ipv4: '198.19.1.6/24', ipv6: 'fd00:e1:1::6/64' });
    const s = await join(t, { sub: 's', dev: 's', seg: 'servers', ipv4: '198.19.2.9/24' });
    b.sendFrames([udp4('198.19.1.6', '198.19.1.5'), udp6('fd00:e1:1::6', 'fd00:e1:100:201::77'), udp4('198.19.1.6', '198.19.2.9')]);
    await waitUntil(() => a.frames.length === 2 && s.frames.length === 1, 'routed packets');
    expect(endpoints(a.frames[1]).dst).toBe('fd00:e1:100:201:0:0:0:77');
    expect(a.frames[0][8]).toBe(63);
  });

  it('refuses an address routed to another user with EL_ERR_ADDRESS_IN_USE; the same device supersedes', async () => {
    const t = await l3node();
    const first = await join(t, { sub: 'a', dev: 'a', ipv4: '198.19.1.5/24' });
    const other = await t.connect();
    clients.push(other);
    await expect(other.join(fx.ticket({ mode: 'l3', seg: 'phones', sub: 'z', dev: 'z', ipv4: '198.19.1.5/24' }))).rejects.toThrow(/EL_ERR_ADDRESS_IN_USE/);
    await join(t, { sub: 'a', dev: 'a', ipv4: '198.19.1.5/24' });
    await waitUntil(() => first.closed, 'superseded session closed');
  });
});
