/**
 * Properties of the hand-written parsers besides SOCKS5's (socks5-codec.test.ts), and the
 * listeners under arbitrary bytes: any input, split anywhere, never takes the process down
 * or leaks a counted connection, and a well-formed client is still served afterwards.
 */
import * as net from 'node:net';
import fc from 'fast-check';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatAuthority, parseAuthority } from './authority.js';
import { parseForwardSpec } from './forward-spec.js';
import { endToEndHeaders } from './hop-by-hop.js';
import { ProxyApp, type BoundListener } from './proxy-app.js';
import { AddressType, Command, encodeRequest } from './socks5-codec.js';
import { echoServer, exchange, listening } from './test-support.js';

const RUNS = { numRuns: 300 };
const host = fc.oneof(fc.ipV4(), fc.ipV6(), fc.domain().filter((d) => d.length <= 253));
const port = fc.integer({ min: 1, max: 65535 });

describe('authority and forward specs (fast-check)', () => {
  it('formatAuthority → parseAuthority is the identity (IPv6 in brackets)', () => {
    fc.assert(
      fc.property(host, port, (h, p) => {
        expect(parseAuthority(formatAuthority(h, p))).toEqual({ host: h, port: p });
      }),
      RUNS,
    );
  });

  it('a spec built from any bind/port/host/hostport parses back to them', () => {
    const bracket = (h: string) => (h.includes(':') ? `[${h}]` : h);
    fc.assert(
      fc.property(fc.option(host, { nil: undefined }), fc.integer({ min: 0, max: 65535 }), host, port, (bind, p, h, hp) => {
        const spec = `${bind !== undefined ? `${bracket(bind)}:` : ''}${p}:${bracket(h)}:${hp}`;
        expect(parseForwardSpec('-L', spec)).toEqual({ ...(bind !== undefined ? { bind } : {}), port: p, host: h, hostPort: hp });
      }),
      RUNS,
    );
  });

  it('any string: a spec or EL_ERR_INVALID, never another exception', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), (s) => {
        try {
          const r = parseForwardSpec('-R', s);
          expect(r.hostPort).toBeGreaterThan(0);
        } catch (e) {
          expect((e as { code?: string }).code).toBe('EL_ERR_INVALID');
        }
        const a = parseAuthority(s);
        if (a) expect(a.port).toBeGreaterThan(0);
      }),
      RUNS,
    );
  });

  it('endToEndHeaders: keeps exactly the end-to-end pairs, in order', () => {
    const hop = ['connection', 'keep-alive', 'proxy-connection', 'proxy-authorization', 'proxy-authenticate', 'te', 'trailer', 'transfer-encoding', 'upgrade'];
    const name = fc.oneof(fc.constantFrom(...hop, 'Connection', 'TE', 'X-A', 'x-b', 'Host', 'Cookie'), fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,12}$/));
    fc.assert(
      fc.property(fc.array(fc.tuple(name, fc.string({ maxLength: 20 })), { maxLength: 12 }), (pairs) => {
        const raw = pairs.flat();
        const named = new Set(pairs.filter(([n]) => n.toLowerCase() === 'connection').flatMap(([, v]) => v.split(',').map((t) => t.trim().toLowerCase())));
        const want = pairs.filter(([n]) => !hop.includes(n.toLowerCase()) && !named.has(n.toLowerCase())).flat();
        expect(endToEndHeaders(raw)).toEqual(want);
      }),
      RUNS,
    );
  });
});

describe('listeners under arbitrary bytes (fast-check, real sockets)', () => {
  let app: ProxyApp;
  let echo: net.Server & { port: number };
  let http: BoundListener;
  let socks: BoundListener;
  beforeAll(async () => {
    echo = await listening(echoServer());
    app = new ProxyApp({ net, http: { host: '127.0.0.1', port: 0 }, socks: { host: '127.0.0.1', port: 0 }, limits: { maxConnections: 8, handshakeTimeout: 1, idleTimeout: 1 }, logger: pino({ level: 'silent' }) });
    [http, socks] = (await app.start()) as [BoundListener, BoundListener];
  });
  afterAll(async () => {
    await app.close();
    echo.close();
  });

  /** Sends `chunks` one write each, then closes; resolves when the socket is gone. */
  const spray = (p: number, chunks: Uint8Array[]) =>
    new Promise<void>((resolve) => {
      const s = net.connect(p, '127.0.0.1');
      s.on('error', () => undefined);
      s.on('data', () => undefined);
      s.on('close', () => resolve());
      s.on('connect', async () => {
        for (const c of chunks) {
          s.write(c);
          await new Promise((r) => setImmediate(r));
        }
        setTimeout(() => s.destroy(), 20);
      });
    });

  it('SOCKS5 and HTTP listeners: any bytes in any pieces, then a valid client is still served', async () => {
    // Bytes that begin like the protocol reach deeper states than pure noise.
    const socksish = fc.tuple(fc.constantFrom(Buffer.from([5, 1, 0]), Buffer.from([5, 2, 0, 2]), Buffer.alloc(0)), fc.uint8Array({ maxLength: 700 })).map(([a, b]) => Buffer.concat([a, b]));
    const httpish = fc.tuple(fc.constantFrom('GET http://127.0.0.1:1/ HTTP/1.1\r\n', 'CONNECT 127.0.0.1:1 HTTP/1.1\r\n', ''), fc.uint8Array({ maxLength: 700 })).map(([a, b]) => Buffer.concat([Buffer.from(a), b]));
    const pieces = (bytes: Buffer, cuts: number[]) => {
      const at = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((x, y) => x - y);
      return [...at, bytes.length].map((end, i) => bytes.subarray(i ? at[i - 1] : 0, end));
    };
    await fc.assert(
      fc.asyncProperty(socksish, httpish, fc.array(fc.nat(), { maxLength: 4 }), async (sb, hb, cuts) => {
        await Promise.all([spray(socks.port, pieces(sb, cuts)), spray(http.port, pieces(hb, cuts))]);
      }),
      { numRuns: 40 },
    );
    const deadline = Date.now() + 5000;
    while (app.connections > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(app.connections).toBe(0);
    const r = await exchange(socks.port, Buffer.concat([Buffer.from([5, 1, 0]), encodeRequest({ command: Command.CONNECT, addressType: AddressType.IPV4, host: '127.0.0.1', port: echo.port }), Buffer.from('still here')]), 1500);
    expect(r.data.subarray(12).toString()).toBe('still here');
  });
});
