/**
 * The client against a real broker (HTTP on loopback) that rate-limits it: the
 * Connector waits at least the 429's Retry-After before its next login instead of its
 * short backoff, and sends the remember token of its last login with the next ones.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import type { FastifyInstance } from 'fastify';
import { createBrokerApp, hashPassword, MemoryStore } from '@elink/broker';
import { Connector } from '@elink/client';
import { generateTicketKeyPair, segmentSchema } from '@elink/protocol';
import { freePort } from './lib/processes.js';

interface Seen {
  at: number;
  status?: number;
  remember?: string;
  issued?: string;
  retryAfter?: number;
}

describe('client honours Retry-After', () => {
  let app: FastifyInstance;
  let url: string;
  const seen: Seen[] = [];

  beforeAll(async () => {
    const store = new MemoryStore();
    await store.putUser({ name: 'alice', passwordHash: await hashPassword('alice-pw1'), segments: ['lan'] });
    // Nothing listens there: every login is followed by a failed connect and a new login.
    const deadPort = await freePort();
    app = await createBrokerApp({
      segments: [segmentSchema.parse({ name: 'lan', ipv4: { pool: '198.19.0.0/24' } })],
      store,
      signingKey: generateTicketKeyPair().privateKey,
      nodes: () => [{ node: 'sw-1', host: '127.0.0.1', port: deadPort }],
      logger: pino({ level: 'silent' }),
      rateLimits: { perUser: 1, windowSeconds: 3 },
    });
    app.addHook('preHandler', async (request) => {
      if (request.url === '/v1/login') seen.push({ at: performance.now(), remember: (request.body as { remember?: string }).remember });
    });
    app.addHook('onSend', async (request, reply, payload) => {
      const last = seen.at(-1);
      if (request.url === '/v1/login' && last) {
        last.status = reply.statusCode;
        if (reply.getHeader('retry-after') !== undefined) last.retryAfter = Number(reply.getHeader('retry-after'));
        if (reply.statusCode === 200) last.issued = (JSON.parse(String(payload)) as { remember?: string }).remember;
      }
      return payload;
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await app?.close();
  });

  it('waits the Retry-After of a 429 (not its 50 ms backoff), then logs in and sends its remember token', async () => {
    // A wrong password from this address fills the (user, address) limit for 3 s.
    const wrong = await app.inject({ method: 'POST', url: '/v1/login', payload: { user: 'alice', password: 'wrong' }, remoteAddress: '127.0.0.1' });
    expect(wrong.statusCode).toBe(401);
    seen.length = 0;
    const connector = new Connector({ broker: url, credentials: { user: 'alice', password: 'alice-pw1', device: 'laptop' }, backoff: { baseMs: 50, capMs: 100 }, logger: pino({ level: 'silent' }) });
    connector.on('fatal', () => {});
    connector.start();
    try {
      const deadline = Date.now() + 15_000;
      while (seen.filter((s) => s.status === 200).length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    } finally {
      await connector.stop();
    }
    expect(seen[0]?.status).toBe(429);
    const ok = seen.findIndex((s) => s.status === 200);
    expect(ok).toBe(1);
    // Retry-After is the rest of the 3 s window, rounded up; no login came sooner.
    const retryAfter = seen[0]!.retryAfter!;
    expect(retryAfter).toBeGreaterThanOrEqual(2);
    expect(seen[1]!.at - seen[0]!.at).toBeGreaterThanOrEqual(retryAfter * 1000 - 20);
    if (process.env.ELINK_MEASURE) console.log(`Retry-After ${retryAfter} s: next login after ${(seen[1]!.at - seen[0]!.at).toFixed(0)} ms`);
    expect(seen[0]!.remember).toBeUndefined();
    expect(seen[1]!.issued).toMatch(/^elr1\./);
    expect(seen[2]?.status).toBe(200);
    expect(seen[2]!.remember).toBe(seen[1]!.issued);
  });
});
