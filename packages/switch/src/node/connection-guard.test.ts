import { createServer, connect, type Server, type Socket } from 'node:net';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { ConnectionGuard, sourceOf } from './connection-guard.js';
import { FdBudget, readFdLimit } from './fd-budget.js';
import { waitUntil } from '../testing/test-client.js';

const servers: Server[] = [];
const sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
});

function logSink(): { logs: Array<{ level: number; msg: string }>; logger: pino.Logger } {
  const logs: Array<{ level: number; msg: string }> = [];
  const sink = new Writable({
    write(chunk: Buffer, _e, cb) {
      for (const l of chunk.toString().split('\n')) if (l) logs.push(JSON.parse(l));
      cb();
    },
  });
  return { logs, logger: pino({ level: 'debug' }, sink) };
}

async function listen(guard: ConnectionGuard): Promise<{ port: number; held: Socket[] }> {
  const held: Socket[] = [];
  const server = createServer((s) => {
    if (!s.destroyed) held.push(s);
  });
  guard.attach(server);
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as { port: number }).port, held };
}

function open(port: number, n: number, localAddress?: string): Promise<void> {
  return Promise.all(
    Array.from({ length: n }, () =>
      new Promise<void>((resolve) => {
        const s = connect({ port, host: '127.0.0.1', localAddress });
        sockets.push(s);
        s.on('connect', () => resolve());
        s.on('error', () => resolve());
      }),
    ),
  ).then(() => undefined);
}

describe('sourceOf', () => {
  it('keys IPv4 by address, IPv4-mapped IPv6 as IPv4, and IPv6 by its /64', () => {
    expect(sourceOf('198.51.100.7')).toBe('198.51.100.7');
    expect(sourceOf('::ffff:198.51.100.7')).toBe('198.51.100.7');
    expect(sourceOf('2001:db8:1:2:aaaa::1')).toBe(sourceOf('2001:db8:1:2:bbbb:cccc:dddd:eeee'));
    expect(sourceOf('2001:db8:1:2::1')).not.toBe(sourceOf('2001:db8:1:3::1'));
    expect(sourceOf(undefined)).toBe('?');
  });
});

describe('ConnectionGuard', () => {
  it('near the descriptor limit sheds new connections, logs once, and keeps the ones it has', async () => {
    expect(readFdLimit()).toBeGreaterThan(0);
    const { logs, logger } = logSink();
    // A budget with room for exactly 5 more connections (each costs one descriptor here).
    const probe = new FdBudget({ reserve: 0 });
    const fds = new FdBudget({ reserve: 0, limit: probe.inUse + 5, sampleMs: 60_000 });
    // Sampled now, before the test's own client sockets exist (they share this process's table).
    expect(fds.low).toBe(false);
    const guard = new ConnectionGuard({ listener: 'test', fds, logger, limits: { pendingPerSource: 1000, acceptRatePerSource: 1000 } });
    const { port, held } = await listen(guard);
    await open(port, 20);
    await waitUntil(() => guard.admitted + guard.refused.fd_limit === 20, 'all 20 accepted or refused');
    expect(guard.admitted).toBe(5);
    expect(guard.refused.fd_limit).toBe(15);
    expect(held.filter((s) => !s.destroyed)).toHaveLength(5);
    expect(logs.filter((l) => l.msg.startsWith('file descriptors nearly exhausted'))).toHaveLength(1);
    // One admitted connection closes: the next one is admitted again, and that is logged once too.
    held[0]!.destroy();
    await waitUntil(() => guard.open === 4, 'one closed');
    await open(port, 1);
    await waitUntil(() => guard.admitted === 6, 'admitted again');
    expect(logs.filter((l) => l.msg.startsWith('file descriptors available again'))).toHaveLength(1);
    guard.stop();
  });

  it('caps pending connections per source and in all; authenticated ones no longer count', async () => {
    const { logger } = logSink();
    const guard = new ConnectionGuard({ listener: 'test', logger, limits: { pendingPerSource: 3, pending: 5, acceptRatePerSource: 1000, acceptRate: 1000 } });
    const { port, held } = await listen(guard);
    await open(port, 6, '127.0.0.2');
    await waitUntil(() => guard.admitted + guard.refused.pending_per_source === 6, 'first source');
    expect(guard.admitted).toBe(3);
    await open(port, 4, '127.0.0.3');
    await waitUntil(() => guard.admitted + guard.refused.pending === 7, 'second source');
    expect(guard.pending).toBe(5);
    expect(guard.refused.pending).toBe(2);
    // Authenticating one of the first source frees its place.
    guard.authenticated(held[0]!.remoteAddress, held[0]!.remotePort);
    expect(guard.pending).toBe(4);
    await open(port, 1, '127.0.0.2');
    await waitUntil(() => guard.admitted === 6, 'admitted after authentication');
    guard.stop();
  });

  it('limits the accept rate per source without spending the listener budget', async () => {
    const { logger } = logSink();
    const guard = new ConnectionGuard({ listener: 'test', logger, limits: { acceptRatePerSource: 5, acceptRate: 8, pendingPerSource: 1000 } });
    const { port } = await listen(guard);
    await open(port, 30, '127.0.0.4');
    await waitUntil(() => guard.admitted + guard.refused.accept_rate_per_source === 30, 'burst accepted or refused');
    // About one second's worth (5) gets in; the rest is refused per source.
    expect(guard.admitted).toBeLessThanOrEqual(7);
    expect(guard.refused.accept_rate).toBe(0);
    // Another source still has the listener's tokens.
    await open(port, 3, '127.0.0.5');
    await waitUntil(() => guard.admitted + guard.refused.accept_rate_per_source + guard.refused.accept_rate === 33, 'second source');
    expect(guard.refused.accept_rate).toBe(0);
    guard.stop();
  });
});

describe('readmit (PROXY protocol: the real source behind a load balancer)', () => {
  it('moves a pending connection to the real source, caps that source, and authenticated() takes the real address', async () => {
    const { logger } = logSink();
    const guard = new ConnectionGuard({ listener: 't', logger, limits: { pendingPerSource: 2, acceptRatePerSource: 1000, pending: 100, acceptRate: 1000 } });
    const { port, held } = await listen(guard);
    await open(port, 3);
    // Two from the balancer (127.0.0.1) are pending; a third was refused on its address
    // (waited for too: under load the listener may take it after the two are held).
    await waitUntil(() => held.length === 2 && guard.refused.pending_per_source === 1, 'two admitted, the third refused');
    expect(guard.readmit(held[0]!, '198.51.100.7', 1111)).toBe(true);
    expect(guard.readmit(held[1]!, '198.51.100.7', 2222)).toBe(true);
    expect(guard.pending).toBe(2);
    // The balancer's address is free again; the real source now holds both.
    await open(port, 1);
    await waitUntil(() => held.length === 3, 'a third admitted');
    expect(guard.readmit(held[2]!, '198.51.100.7', 3333)).toBe(false);
    expect(held[2]!.destroyed).toBe(true);
    expect(guard.refused.pending_per_source).toBe(2);
    await waitUntil(() => guard.pending === 2, 'the refused one released');
    guard.authenticated('198.51.100.7', 1111);
    expect(guard.pending).toBe(1);
    held[1]!.destroy();
    await waitUntil(() => guard.pending === 0, 'all released');
  });

  it('two connections named by one real address and port (one client port to two balancer addresses) each leave the count once; the gauge follows', async () => {
    const { logger } = logSink();
    const registry = new Registry();
    const guard = new ConnectionGuard({ listener: 't', logger, registry, limits: { pendingPerSource: 10, acceptRatePerSource: 1000, pending: 100, acceptRate: 1000 } });
    const gauge = async (): Promise<number> => (await registry.getSingleMetric('el_listener_pending_connections')!.get()).values[0]!.value;
    const { port, held } = await listen(guard);
    await open(port, 2);
    await waitUntil(() => held.length === 2, 'two admitted');
    expect(guard.readmit(held[0]!, '198.51.100.7', 1111)).toBe(true);
    expect(guard.readmit(held[1]!, '198.51.100.7', 1111)).toBe(true);
    expect(guard.pending).toBe(2);
    expect(await gauge()).toBe(2);
    // The newer one is welcomed; the older closes before authenticating.
    guard.authenticated('198.51.100.7', 1111);
    expect(guard.pending).toBe(1);
    held[0]!.destroy();
    await waitUntil(() => guard.pending === 0, 'the older released');
    expect(await gauge()).toBe(0);
    held[1]!.destroy();
    await new Promise((r) => setTimeout(r, 20));
    expect(guard.pending).toBe(0);
    expect(await gauge()).toBe(0);
  });
});
