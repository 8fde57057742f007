/**
 * The HTTP deadlines the broker and the admin port apply (httpServerOptions), on a real
 * fastify server and real sockets: an idle connection, headers that trickle in, and a
 * body that trickles in are each closed by the server; a normal request still answers.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { connect, type Socket } from 'node:net';
import { fastify, type FastifyInstance } from 'fastify';
import { httpServerOptions } from './http-limits.js';

const limits = { headersTimeoutMs: 600, requestTimeoutMs: 900, idleTimeoutMs: 400 };
let app: FastifyInstance | undefined;
const sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await app?.close();
});

async function serve(): Promise<number> {
  const { http, connectionTimeout, keepAliveTimeout, requestTimeout } = httpServerOptions(limits);
  app = fastify({ http, connectionTimeout, keepAliveTimeout, requestTimeout });
  app.post('/echo', async (req) => req.body);
  app.get('/ok', async () => ({ ok: true }));
  // Slower than every deadline: the handler's time is not the client's.
  app.get('/slow', async () => new Promise((r) => setTimeout(() => r({ slow: true }), limits.requestTimeoutMs + 500)));
  await app.listen({ host: '127.0.0.1', port: 0 });
  return (app.server.address() as { port: number }).port;
}

/** Opens a connection, runs `drip` every 150 ms (which keeps it from being idle) and resolves with the ms until the server closed it. */
function closedAfter(port: number, first: string, drip?: () => string): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const s = connect(port, '127.0.0.1');
    sockets.push(s);
    let timer: NodeJS.Timeout | undefined;
    s.on('connect', () => {
      if (first) s.write(first);
      if (drip) timer = setInterval(() => !s.destroyed && s.write(drip()), 150);
    });
    s.on('error', () => {});
    s.on('data', () => {});
    s.on('close', () => {
      clearInterval(timer);
      resolve(Date.now() - t0);
    });
    setTimeout(() => reject(new Error('the server kept the connection for 10 s')), 10_000).unref();
  });
}

describe('httpServerOptions deadlines', () => {
  it('closes a connection that sends nothing (header deadline)', async () => {
    const port = await serve();
    expect(await closedAfter(port, '')).toBeGreaterThanOrEqual(limits.headersTimeoutMs - 50);
  });

  it('closes a keep-alive connection that sends no next request, and not a request the handler is still working on', async () => {
    const port = await serve();
    // A handler slower than every deadline still answers.
    const r = await fetch(`http://127.0.0.1:${port}/slow`);
    expect(await r.json()).toEqual({ slow: true });
    const t = await closedAfter(port, 'GET /ok HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(t).toBeGreaterThanOrEqual(limits.idleTimeoutMs - 50);
  });

  it('closes a connection whose headers trickle in (slowloris)', async () => {
    const port = await serve();
    let i = 0;
    expect(await closedAfter(port, 'GET /ok HTTP/1.1\r\nHost: x\r\n', () => `X-Slow-${i++}: y\r\n`)).toBeGreaterThanOrEqual(limits.headersTimeoutMs - 50);
  });

  it('closes a request whose body trickles in', async () => {
    const port = await serve();
    expect(await closedAfter(port, 'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 1000\r\n\r\n', () => 'a')).toBeGreaterThanOrEqual(limits.requestTimeoutMs - 50);
  });

  it('still answers a normal request', async () => {
    const port = await serve();
    const r = await fetch(`http://127.0.0.1:${port}/ok`);
    expect(await r.json()).toEqual({ ok: true });
  });
});
