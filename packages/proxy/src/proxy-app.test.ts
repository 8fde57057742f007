/**
 * `elink proxy`'s application over node:net as the NetLike, with real sockets on
 * 127.0.0.1/::1 and the real curl binary as the client: the HTTP proxy (plain requests,
 * keep-alive, CONNECT to a TLS server, 502/504, 400/407/431/503), SOCKS5 (names, IPv4,
 * IPv6, authentication, reply codes, malformed input), -L/-R forwards moving data
 * byte-exact with half-close, and a client that never reads holding bounded memory.
 * Two apps are shared by the cases: A (no auth, short idle timeout) and B (auth, at most
 * two connections, small header limit, short handshake timeout).
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingHttpHeaders, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCertificateAuthority, issueServerCertificate } from '@elink/pki';
import type { NetLike } from '@elink/protocol';
import { ProxyApp, type BoundListener } from './proxy-app.js';
import { encodeRequest, AddressType, Command } from './socks5-codec.js';
import { closedPort, curl, echoServer, exchange, listening, rawClient, sha256 } from './test-support.js';

// node:net is the NetLike of these tests: this line fails to compile if it stops fitting.
const segment: NetLike = net;
const logger = pino({ level: 'silent' });

let dir: string;
let origin: HttpServer & { port: number };
let origin6: HttpServer & { port: number };
let tlsOrigin: HttpServer & { port: number };
let echo: net.Server & { port: number };
let flood: net.Server & { port: number };
let floodWritten = 0;
let floodStalledSince = 0;
let originConnections = 0;
const seen: { url: string; headers: IncomingHttpHeaders; raw: string[] }[] = [];
let A: ProxyApp;
let B: ProxyApp;
const a: Record<string, BoundListener> = {};
const b: Record<string, BoundListener> = {};
let refused: number;

function originHandler(req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) {
  seen.push({ url: req.url ?? '', headers: req.headers, raw: req.rawHeaders });
  if (req.url === '/never') return; // never answers: the proxy's 504
  if (req.url === '/echo') {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      res.writeHead(200, { 'x-sha256': sha256(body), connection: 'keep-alive, X-Drop', 'keep-alive': 'timeout=77', 'x-drop': 'me' }).end(body);
    });
    return;
  }
  res.writeHead(200, { 'content-type': 'text/plain', connection: 'x-drop', 'x-drop': 'me' }).end(`hello ${req.url}`);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'elink-proxy-test-'));
  const ca = await createCertificateAuthority('proxy test CA');
  const cert = await issueServerCertificate(ca, ['localhost', '127.0.0.1']);
  writeFileSync(join(dir, 'ca.pem'), ca.certPem);
  writeFileSync(join(dir, 'auth'), 'alice:s3cret pass\n');
  origin = await listening(createHttpServer(originHandler));
  origin.on('connection', () => originConnections++);
  origin6 = await listening(createHttpServer(originHandler), '::1');
  tlsOrigin = await listening(createHttpsServer({ cert: cert.certPem, key: cert.keyPem }, (_req, res) => res.end('tls ok')));
  echo = await listening(echoServer());
  flood = await listening(
    net.createServer((s) => {
      s.on('error', () => undefined);
      const chunk = Buffer.alloc(65536, 7);
      const pump = () => {
        while (!s.destroyed && s.write(chunk)) floodWritten += chunk.length;
        floodWritten += chunk.length;
        floodStalledSince = Date.now();
        s.once('drain', pump);
      };
      pump();
    }),
  );
  A = new ProxyApp({
    net: segment,
    http: { host: '127.0.0.1', port: 0 },
    socks: { host: '127.0.0.1', port: 0 },
    local: [{ bind: '127.0.0.1', port: 0, host: '127.0.0.1', hostPort: echo.port }, { port: 0, host: '127.0.0.1', hostPort: await closedPort() }],
    remote: [{ bind: '127.0.0.1', port: 0, host: '127.0.0.1', hostPort: echo.port }],
    limits: { idleTimeout: 1 },
    logger,
  });
  const la = await A.start();
  a.http = la.find((l) => l.kind === 'http')!;
  a.socks = la.find((l) => l.kind === 'socks')!;
  [a.L, a.Lclosed] = la.filter((l) => l.kind === '-L') as [BoundListener, BoundListener];
  a.R = la.find((l) => l.kind === '-R')!;
  B = new ProxyApp({
    net: segment,
    http: { host: '127.0.0.1', port: 0 },
    socks: { host: '127.0.0.1', port: 0 },
    auth: { user: 'alice', password: 's3cret pass' },
    limits: { maxConnections: 2, maxHeaderSize: 2048, handshakeTimeout: 1 },
    logger,
  });
  const lb = await B.start();
  b.http = lb.find((l) => l.kind === 'http')!;
  b.socks = lb.find((l) => l.kind === 'socks')!;
  refused = await closedPort();
});

afterAll(async () => {
  await A?.close();
  await B?.close();
  for (const s of [origin, origin6, tlsOrigin]) s?.closeAllConnections();
  for (const s of [origin, origin6, tlsOrigin, echo, flood]) s?.close();
  rmSync(dir, { recursive: true, force: true });
});

const httpProxy = () => `http://127.0.0.1:${a.http!.port}`;

/** Polls `cond` every 10 ms for up to 5 s (a loaded machine accepts and closes late). */
async function until(cond: () => boolean): Promise<void> {
  const end = Date.now() + 5000;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
}

describe('HTTP proxy: plain requests', () => {
  it('GET with an absolute URI reaches the origin with Host from the URI and no hop-by-hop headers', async () => {
    seen.length = 0;
    const r = await curl(['-x', httpProxy(), '-H', 'Connection: X-Hop', '-H', 'X-Hop: 1', '-H', 'X-Keep: 2', '-i', `http://127.0.0.1:${origin.port}/a?b=c`]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^HTTP\/1\.1 200 /);
    expect(r.stdout).toMatch(/hello \/a\?b=c$/);
    expect(r.stdout.toLowerCase()).not.toContain('x-drop'); // named by the origin's Connection header
    expect(seen).toHaveLength(1);
    const h = seen[0]!.headers;
    expect(h.host).toBe(`127.0.0.1:${origin.port}`);
    expect(h['x-keep']).toBe('2');
    expect(h['x-hop']).toBeUndefined();
    expect(h['proxy-connection']).toBeUndefined();
    // node:http adds its own Connection for the upstream hop; the client's is not passed on.
    expect(h.connection).not.toMatch(/x-hop/i);
  });

  it('keep-alive: two requests on one client connection, and one upstream connection reused', async () => {
    const before = originConnections;
    const r = await curl(['-v', '-x', httpProxy(), `http://127.0.0.1:${origin.port}/one`, `http://127.0.0.1:${origin.port}/two`]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('hello /onehello /two');
    expect(r.stderr).toMatch(/Re-using existing connection/);
    expect(originConnections - before).toBeLessThanOrEqual(1);
  });

  it('a 1 MiB chunked upload and its echo arrive byte-exact', async () => {
    const body = randomBytes(1 << 20);
    const file = join(dir, 'upload');
    writeFileSync(file, body);
    const r = await curl(['-x', httpProxy(), '-H', 'Transfer-Encoding: chunked', '--data-binary', `@${file}`, '-D', join(dir, 'h'), `http://127.0.0.1:${origin.port}/echo`, '-o', join(dir, 'down')]);
    expect(r.code, r.stderr).toBe(0);
    const { readFileSync } = await import('node:fs');
    expect(sha256(readFileSync(join(dir, 'down')))).toBe(sha256(body));
    const head = readFileSync(join(dir, 'h'), 'utf8').toLowerCase();
    expect(head).toContain(`x-sha256: ${sha256(body)}`);
    // The origin's hop-by-hop headers stay on its hop (the proxy has its own Keep-Alive).
    expect(head).not.toContain('timeout=77');
    expect(head).not.toContain('x-drop');
  });

  it('an IPv6 origin by its bracketed address', async () => {
    const r = await curl(['-g', '-x', httpProxy(), `http://[::1]:${origin6.port}/v6`]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('hello /v6');
  });

  it('upstream refused: 502 with the reason; no response in time: 504', async () => {
    const r = await curl(['-x', httpProxy(), '-w', '%{http_code}', '-o', join(dir, 'body'), `http://127.0.0.1:${refused}/`]);
    expect(r.stdout).toBe('502');
    const { readFileSync } = await import('node:fs');
    expect(readFileSync(join(dir, 'body'), 'utf8')).toMatch(/cannot reach 127\.0\.0\.1:\d+.*ECONNREFUSED/);
    const t = await curl(['-x', httpProxy(), '-w', '%{http_code}', '-o', '/dev/null', `http://127.0.0.1:${origin.port}/never`]);
    expect(t.stdout).toBe('504');
  });

  it('an origin-form request (not a proxy request) gets 400; bytes that are not HTTP get 400', async () => {
    const c = await rawClient(a.http!.port);
    c.socket.write('GET /x HTTP/1.1\r\nHost: a\r\n\r\n');
    expect((await c.until((d) => d.includes('absolute'))).toString()).toMatch(/^HTTP\/1\.1 400 [^]*absolute http:\/\/ URL/);
    c.socket.destroy();
    const g = await exchange(a.http!.port, Buffer.from('\x16\x03\x01\x02\x00garbage\r\n\r\n'), 3000);
    expect(g.data.toString()).toMatch(/^HTTP\/1\.1 400 /);
    expect(g.ended).toBe(true);
  });
});

describe('HTTP proxy: CONNECT', () => {
  it('tunnels curl to a TLS server (certificate checked end to end)', async () => {
    const r = await curl(['-x', httpProxy(), '--cacert', join(dir, 'ca.pem'), `https://localhost:${tlsOrigin.port}/`]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('tls ok');
  });

  it('a refused tunnel answers 502; a bad authority 400', async () => {
    const r = await curl(['-x', httpProxy(), '-w', '%{http_connect}', '-o', '/dev/null', `https://127.0.0.1:${refused}/`]);
    expect(r.stdout).toBe('502');
    const c = await exchange(a.http!.port, Buffer.from('CONNECT nohost HTTP/1.1\r\nHost: x\r\n\r\n'), 3000);
    expect(c.data.toString()).toMatch(/^HTTP\/1\.1 400 /);
  });

  it('bytes sent right behind the CONNECT head reach the target', async () => {
    const c = await exchange(a.http!.port, Buffer.from(`CONNECT 127.0.0.1:${echo.port} HTTP/1.1\r\nHost: x\r\n\r\nearly bytes`), 1500);
    expect(c.data.toString()).toBe('HTTP/1.1 200 Connection Established\r\n\r\nearly bytes');
  });

  it('a client that never reads: the far side is stopped by back-pressure, memory stays bounded', async () => {
    floodWritten = 0;
    const s = await rawClient(a.http!.port);
    s.socket.write(`CONNECT 127.0.0.1:${flood.port} HTTP/1.1\r\nHost: x\r\n\r\n`);
    await s.until((d) => d.includes('\r\n\r\n'));
    s.socket.pause();
    // Without back-pressure the flood would never stall and the proxy would buffer it all.
    const limit = 64 << 20;
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline && floodWritten < limit && !(floodStalledSince && Date.now() - floodStalledSince > 1000)) await new Promise((r) => setTimeout(r, 100));
    expect(floodWritten).toBeGreaterThan(0);
    expect(floodWritten).toBeLessThan(limit);
    expect(Date.now() - floodStalledSince).toBeGreaterThan(1000);
    s.socket.destroy();
  });
});

describe('HTTP proxy: authentication and limits (app B)', () => {
  const proxyB = () => `http://127.0.0.1:${b.http!.port}`;

  it('407 without credentials, through with them', async () => {
    const no = await curl(['-x', proxyB(), '-w', '%{http_code}', '-o', '/dev/null', `http://127.0.0.1:${origin.port}/`]);
    expect(no.stdout).toBe('407');
    const ok = await curl(['-x', proxyB(), '--proxy-user', 'alice:s3cret pass', `http://127.0.0.1:${origin.port}/auth`]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toBe('hello /auth');
    const bad = await curl(['-x', proxyB(), '--proxy-user', 'alice:wrong', '-w', '%{http_connect}', '-o', '/dev/null', `https://127.0.0.1:${tlsOrigin.port}/`]);
    expect(bad.stdout).toBe('407');
  });

  it('a request head not finished within the handshake timeout: 408', async () => {
    const c = await rawClient(b.http!.port);
    c.socket.write('GET http://127.0.0.1/ HTTP/1.1\r\nHost: x\r\n');
    const got = await c.until((d) => d.includes('\r\n\r\n'), 8000);
    expect(got.toString()).toMatch(/^HTTP\/1\.1 408 /);
    c.socket.destroy();
  });

  it('a request head over --max-header-size: 431', async () => {
    const r = await curl(['-x', proxyB(), '--proxy-user', 'alice:s3cret pass', '-H', `X-Big: ${'a'.repeat(4000)}`, '-w', '%{http_code}', '-o', '/dev/null', `http://127.0.0.1:${origin.port}/`]);
    expect(r.stdout).toBe('431');
  });

  it('over --max-connections: HTTP gets 503, SOCKS5 is closed, and a freed slot is taken again', async () => {
    const held = [await rawClient(b.http!.port), await rawClient(b.http!.port)];
    await until(() => B.connections === 2);
    expect(B.connections).toBe(2);
    const third = await exchange(b.http!.port, undefined, 3000);
    expect(third.data.toString()).toMatch(/^HTTP\/1\.1 503 [^]*too many connections/);
    const socks = await exchange(b.socks!.port, Buffer.from([5, 1, 2]), 3000);
    expect(socks.data.length).toBe(0);
    held[0]!.socket.destroy();
    await until(() => B.connections === 1);
    const ok = await curl(['-x', proxyB(), '--proxy-user', 'alice:s3cret pass', `http://127.0.0.1:${origin.port}/again`]);
    expect(ok.stdout).toBe('hello /again');
    held[1]!.socket.destroy();
    // Counted at their listeners: the two held, the 503 and the one after it on HTTP; the closed one on SOCKS.
    const st = B.stats;
    expect(st.refused).toEqual({ http: 1, socks: 1, local: 0, remote: 0 });
    expect(st.accepted.http).toBeGreaterThanOrEqual(3);
    expect(st.accepted.socks).toBe(0);
  });
});

describe('SOCKS5', () => {
  const socks = () => `127.0.0.1:${a.socks!.port}`;

  it('curl --socks5-hostname: the name travels to the proxy (address type 3)', async () => {
    const r = await curl(['--socks5-hostname', socks(), `http://localhost:${origin.port}/name`]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('hello /name');
  });

  it('curl --socks5 with IPv4 and IPv6 addresses (types 1 and 4), and TLS through it', async () => {
    const v4 = await curl(['--socks5', socks(), `http://127.0.0.1:${origin.port}/v4`]);
    expect(v4.stdout, v4.stderr).toBe('hello /v4');
    const v6 = await curl(['-g', '--socks5', socks(), `http://[::1]:${origin6.port}/v6`]);
    expect(v6.stdout, v6.stderr).toBe('hello /v6');
    const tls = await curl(['--socks5-hostname', socks(), '--cacert', join(dir, 'ca.pem'), `https://localhost:${tlsOrigin.port}/`]);
    expect(tls.stdout, tls.stderr).toBe('tls ok');
  });

  it('username/password (RFC 1929): right ones pass, wrong ones get status 1', async () => {
    const ok = await curl(['-x', `socks5h://alice:s3cret%20pass@127.0.0.1:${b.socks!.port}`, `http://localhost:${origin.port}/s`]);
    expect(ok.stdout, ok.stderr).toBe('hello /s');
    const greet = Buffer.from([5, 1, 2]);
    const wrong = Buffer.concat([greet, Buffer.from([1, 5, ...Buffer.from('alice'), 3, ...Buffer.from('bad')])]);
    const r = await exchange(b.socks!.port, wrong, 3000);
    expect([...r.data]).toEqual([5, 2, 1, 1]);
    const noAuthOffered = await exchange(b.socks!.port, Buffer.from([5, 1, 0]), 3000);
    expect([...noAuthOffered.data]).toEqual([5, 0xff]);
  });

  const greetAndAsk = (req: Buffer) => Buffer.concat([Buffer.from([5, 1, 0]), req]);

  it('reply codes: refused 5, BIND 7, unknown address type 8, empty name 4, success with the bound address', async () => {
    const refusedR = await exchange(a.socks!.port, greetAndAsk(encodeRequest({ command: Command.CONNECT, addressType: AddressType.IPV4, host: '127.0.0.1', port: refused })), 3000);
    expect([...refusedR.data.subarray(0, 4)]).toEqual([5, 0, 5, 5]);
    const bind = await exchange(a.socks!.port, greetAndAsk(encodeRequest({ command: Command.BIND, addressType: AddressType.IPV4, host: '127.0.0.1', port: 80 })), 3000);
    expect([...bind.data.subarray(0, 4)]).toEqual([5, 0, 5, 7]);
    const atyp = await exchange(a.socks!.port, greetAndAsk(Buffer.from([5, 1, 0, 9, 1, 2])), 3000);
    expect([...atyp.data.subarray(0, 4)]).toEqual([5, 0, 5, 8]);
    const empty = await exchange(a.socks!.port, greetAndAsk(Buffer.from([5, 1, 0, 3, 0, 0, 80])), 3000);
    expect([...empty.data.subarray(0, 4)]).toEqual([5, 0, 5, 4]);
    // Success, with data sent right behind the request (before the reply): it reaches the echo server.
    const s = await rawClient(a.socks!.port);
    s.socket.write(Buffer.concat([greetAndAsk(encodeRequest({ command: Command.CONNECT, addressType: AddressType.IPV4, host: '127.0.0.1', port: echo.port })), Buffer.from('ping')]));
    const got = await s.until((d) => d.length >= 2 + 10 + 4);
    expect([...got.subarray(0, 4)]).toEqual([5, 0, 5, 0]);
    expect(got[5]).toBe(AddressType.IPV4);
    expect([...got.subarray(6, 10)]).toEqual([127, 0, 0, 1]); // BND.ADDR: the proxy's end of the connection
    expect(got.subarray(12).toString()).toBe('ping');
    s.socket.destroy();
  });

  it('malformed input: SOCKS4 or junk closed without a reply; a stalled handshake closed after handshakeTimeout', async () => {
    const v4 = await exchange(a.socks!.port, Buffer.from([4, 1, 0, 80, 127, 0, 0, 1, 0]), 3000);
    expect(v4.data.length).toBe(0);
    const junk = await exchange(a.socks!.port, Buffer.from('GET / HTTP/1.1\r\n\r\n'), 3000);
    expect(junk.data.length).toBe(0);
    const noMethods = await exchange(a.socks!.port, Buffer.from([5, 0]), 3000);
    expect(noMethods.data.length).toBe(0);
    const stalled = await rawClient(b.socks!.port);
    stalled.socket.write(Buffer.from([5, 1]));
    await stalled.until(() => false, 5000);
    expect(stalled.closed).toBe(true);
  });
});

describe('connect deadline (a segment whose resolver never answers)', () => {
  it('HTTP CONNECT and plain requests get 504, SOCKS5 reply 4, within --connect-timeout', async () => {
    const silent: NetLike = { connect: (o, cb) => net.connect(o, cb), createServer: (cb) => net.createServer(cb), lookup: () => new Promise(() => undefined) };
    const C = new ProxyApp({ net: silent, http: { host: '127.0.0.1', port: 0 }, socks: { host: '127.0.0.1', port: 0 }, limits: { connectTimeout: 0.3 }, logger });
    const [h, so] = await C.start();
    try {
      const tunnel = await curl(['-x', `http://127.0.0.1:${h!.port}`, '-w', '%{http_connect}', '-o', '/dev/null', 'https://slow.lab/']);
      expect(tunnel.stdout).toBe('504');
      const plain = await curl(['-x', `http://127.0.0.1:${h!.port}`, '-w', '%{http_code}', '-o', '/dev/null', 'http://slow.lab/']);
      expect(plain.stdout).toBe('504');
      const socks = await exchange(so!.port, Buffer.concat([Buffer.from([5, 1, 0]), encodeRequest({ command: Command.CONNECT, addressType: AddressType.DOMAIN, host: 'slow.lab', port: 80 })]), 3000);
      expect([...socks.data.subarray(0, 4)]).toEqual([5, 0, 5, 4]);
    } finally {
      await C.close();
    }
  });
});

describe('port forwards', () => {
  it('-L: 4 MiB byte-exact through the segment and back; the client half-closes, the echo ends back', async () => {
    const data = randomBytes(4 << 20);
    const r = await exchange(a.L!.port, data, 15_000, true);
    expect(r.ended).toBe(true);
    expect(r.data.length).toBe(data.length);
    expect(sha256(r.data)).toBe(sha256(data));
  });

  it('-R: the same through a listener on the segment to a server on this host', async () => {
    const data = randomBytes(4 << 20);
    const r = await exchange(a.R!.port, data, 15_000, true);
    expect(r.ended).toBe(true);
    expect(sha256(r.data)).toBe(sha256(data));
  });

  it('-L to a port nothing listens on: the local connection is closed, nothing sent', async () => {
    const r = await exchange(a.Lclosed!.port, Buffer.from('x'), 5000);
    expect(r.data.length).toBe(0);
    expect(A.connections).toBeLessThanOrEqual(1);
  });

  it('a listener that cannot bind: EL_ERR_LISTEN naming the flag, and nothing left listening', async () => {
    const socksPort = await closedPort();
    const app = new ProxyApp({ net: segment, socks: { host: '127.0.0.1', port: socksPort }, local: [{ bind: '127.0.0.1', port: a.http!.port, host: 'x', hostPort: 1 }], logger });
    await expect(app.start()).rejects.toMatchObject({ code: 'EL_ERR_LISTEN', message: expect.stringMatching(/for -L \(EADDRINUSE\)/) });
    const probe = net.connect({ host: '127.0.0.1', port: socksPort });
    const [err] = (await once(probe, 'error')) as [NodeJS.ErrnoException];
    expect(err.code).toBe('ECONNREFUSED');
  });
});
