/**
 * A segment's `dns` reaches its clients in welcome, over real TLS, parsed by the
 * protocol's schema on the client side (TestClient reads records with parseControl):
 * servers and search domains when set, no field at all when not (what older clients
 * saw before), and a reload's new servers for new sessions.
 */
import { describe, expect, it } from 'vitest';
import { segment, useSwitchHarness } from '../testing/test-node.js';

const { fx, clients, node } = useSwitchHarness();

describe('welcome carries the segment dns (real TLS)', () => {
  it('L2 and L3: servers (IPv4 and IPv6) and search domains; none pushed → no dns field', async () => {
    const t = await node({
      segments: [
        segment({ name: 'lan', dns: { servers: ['198.19.0.53', 'fd00:e1::53'], search: ['corp.example', 'lab'] } }),
        segment({ name: 'routed', mode: 'l3', ipv4: { pool: '198.19.8.0/24' }, dns: { servers: ['198.19.8.53'] } }),
        segment({ name: 'other' }),
      ],
    });
    const a = await t.connect();
    const b = await t.connect();
    const c = await t.connect();
    clients.push(a, b, c);
    expect((await a.join(fx.ticket({ sub: 'a' }), 1)).dns).toEqual({ servers: ['198.19.0.53', 'fd00:e1::53'], search: ['corp.example', 'lab'] });
    expect((await b.join(fx.ticket({ sub: 'b', seg: 'routed', mode: 'l3', ipv4: '198.19.8.10/24' }))).dns).toEqual({ servers: ['198.19.8.53'] });
    const other = await c.join(fx.ticket({ sub: 'c', seg: 'other' }), 3);
    expect(other.segment).toBe('other');
    expect('dns' in other).toBe(false);
  });

  it('a reload adds dns to a segment hosted without it', async () => {
    const t = await node({ segments: [segment({ name: 'lan' })] });
    expect(t.node.updateSegment(segment({ name: 'lan', dns: { servers: ['fd00:e1::53'] } }))).toEqual(['dns']);
    const a = await t.connect();
    clients.push(a);
    expect((await a.join(fx.ticket({ sub: 'a' }), 1)).dns).toEqual({ servers: ['fd00:e1::53'] });
  });

  it('a reload that changes dns is live: new sessions get the new servers, the old session keeps its welcome', async () => {
    const t = await node({ segments: [segment({ name: 'lan', dns: { servers: ['198.19.0.53'] } })] });
    const a = await t.connect();
    clients.push(a);
    expect((await a.join(fx.ticket({ sub: 'a' }), 1)).dns).toEqual({ servers: ['198.19.0.53'] });
    expect(t.node.updateSegment(segment({ name: 'lan', dns: { servers: ['198.19.0.54', '198.19.0.55'], search: ['corp.example'] } }))).toEqual(['dns']);
    const b = await t.connect();
    clients.push(b);
    expect((await b.join(fx.ticket({ sub: 'b' }), 2)).dns).toEqual({ servers: ['198.19.0.54', '198.19.0.55'], search: ['corp.example'] });
    expect(t.node.updateSegment(segment({ name: 'lan' }))).toEqual(['dns']);
    const c = await t.connect();
    clients.push(c);
    expect((await c.join(fx.ticket({ sub: 'c' }), 3)).dns).toBeUndefined();
    expect(a.closed).toBe(false);
  });
});
