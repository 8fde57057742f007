/** SwitchNode.drain over real TLS: announce first, then redirect every session, refuse new ones. */
import { describe, expect, it } from 'vitest';
import { waitUntil, type TestClient } from '../testing/test-client.js';
import { startNode, type TestNode, useSwitchHarness } from '../testing/test-node.js';
import { mac } from '../testing/test-frames.js';

const { fx, running, clients } = useSwitchHarness();

describe('SwitchNode.drain', () => {
  it('announces the drain, then sends every session redirect and resolves when they are gone', async () => {
    const t = await startNode(fx);
    running.push(t);
    const a = await t.connect();
    const b = await t.connect();
    clients.push(a, b);
    await a.join(fx.ticket(), mac(1));
    await b.join(fx.ticket(), mac(2));
    const order: string[] = [];
    let drainingWhenAnnounced = false;
    await t.node.drain('drain', {
      timeoutMs: 3000,
      announce: async () => {
        drainingWhenAnnounced = t.node.draining;
        order.push(`announce with ${a.controls.filter((c) => c.type === 'redirect').length} redirects`);
      },
    });
    expect(drainingWhenAnnounced).toBe(true);
    expect(order).toEqual(['announce with 0 redirects']);
    await waitUntil(() => a.closed && b.closed, 'clients closed');
    expect(a.controls.at(-1)).toEqual({ type: 'redirect', reason: 'drain' });
    expect(b.controls.at(-1)).toEqual({ type: 'redirect', reason: 'drain' });
    expect(t.node.stats.sessions).toBe(0);
    expect(t.node.stats.closed.redirect).toBe(2);
    expect(t.logs.some((l) => l.msg === 'draining' && l.sessions === 2)).toBe(true);
  });

  it('refuses new sessions with EL_ERR_UNAVAILABLE while draining', async () => {
    const t = await startNode(fx);
    running.push(t);
    await t.node.drain('drain', { timeoutMs: 100 });
    const c = await t.connect();
    clients.push(c);
    c.hello(fx.ticket(), mac(3));
    const err = await c.expectError();
    expect(err.code).toBe('EL_ERR_UNAVAILABLE');
    expect(c.welcome).toBeUndefined();
    expect(t.node.listening).toBe(true);
  });

  it('does not wait for an announce that hangs longer than 2 s', async () => {
    const t = await startNode(fx);
    running.push(t);
    const a = await t.connect();
    clients.push(a);
    await a.join(fx.ticket(), mac(1));
    const started = Date.now();
    await t.node.drain('drain', { timeoutMs: 3000, announce: () => new Promise(() => {}) });
    await waitUntil(() => a.closed, 'client closed');
    expect(a.controls.at(-1)).toEqual({ type: 'redirect', reason: 'drain' });
    // Bounded, not a performance assertion: it must not hang on the announce.
    expect(Date.now() - started).toBeLessThan(6000);
  });
});
