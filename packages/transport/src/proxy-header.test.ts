import { describe, it, expect, afterEach } from 'vitest';
import { once } from 'node:events';
import { createServer as createTcpServer, connect, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, connect as tlsConnect, type TLSSocket } from 'node:tls';
import { createCertificateAuthority, issueServerCertificate } from '@elink/pki';
import { parseProxyHeader, readProxyHeader, setProxiedRemote, inheritRemote, TrustedSources, looksLikeProxyHeader, PROXY_V1_MAX, type ProxyReadResult } from './proxy-header.js';

const SIG = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);

function v2(cmd: number, fam: number, body: Buffer): Buffer {
  const h = Buffer.alloc(16);
  SIG.copy(h);
  h[12] = 0x20 | cmd;
  h[13] = fam;
  h.writeUInt16BE(body.length, 14);
  return Buffer.concat([h, body]);
}
function v2tcp4(src: number[], sport: number, tlv = 0): Buffer {
  const b = Buffer.alloc(12 + tlv);
  b.set(src, 0);
  b.set([127, 0, 0, 1], 4);
  b.writeUInt16BE(sport, 8);
  b.writeUInt16BE(443, 10);
  return v2(1, 0x11, b);
}

describe('parseProxyHeader', () => {
  it('v1 TCP4 and TCP6 give the source and the header length', () => {
    const line = Buffer.from('PROXY TCP4 127.0.0.77 127.0.0.1 40000 4443\r\nrest');
    expect(parseProxyHeader(line)).toEqual({ kind: 'header', version: 1, length: line.length - 4, source: { address: '127.0.0.77', port: 40000, family: 'IPv4' } });
    const six = Buffer.from('PROXY TCP6 2001:db8::1 ::1 1 2\r\n');
    expect(parseProxyHeader(six)).toMatchObject({ kind: 'header', source: { address: '2001:db8::1', port: 1, family: 'IPv6' } });
  });
  it('v1 UNKNOWN keeps the load balancer address (no source)', () => {
    expect(parseProxyHeader(Buffer.from('PROXY UNKNOWN\r\n'))).toEqual({ kind: 'header', version: 1, length: 15, source: undefined });
    expect(parseProxyHeader(Buffer.from('PROXY UNKNOWN ff 1 2 3\r\n'))).toMatchObject({ kind: 'header', source: undefined });
  });
  it('v1 malformed lines are invalid', () => {
    for (const bad of ['PROXY TCP4 1.2.3.4 1.2.3.4 1 \r\n', 'PROXY TCP4 ::1 ::1 1 2\r\n', 'PROXY TCP6 1.2.3.4 1.2.3.4 1 2\r\n', 'PROXY UDP4 1.2.3.4 1.2.3.4 1 2\r\n', 'PROXY TCP4 1.2.3.4 1.2.3.4 65536 2\r\n', 'PROXY TCP4 1.2.3.4 1.2.3.4 01 2\r\n', 'PROXY TCP4  1.2.3.4 1.2.3.4 1 2\r\n']) {
      expect(parseProxyHeader(Buffer.from(bad)), bad).toEqual({ kind: 'invalid', reason: 'malformed' });
    }
  });
  it('v1 without CRLF within 107 bytes is too large; truncated is more', () => {
    expect(parseProxyHeader(Buffer.from('PROXY TCP4 1.2.3.4'))).toEqual({ kind: 'more' });
    expect(parseProxyHeader(Buffer.from('PRO'))).toEqual({ kind: 'more' });
    expect(parseProxyHeader(Buffer.from(`PROXY UNKNOWN ${'x'.repeat(PROXY_V1_MAX)}`))).toEqual({ kind: 'invalid', reason: 'too_large' });
    expect(parseProxyHeader(Buffer.from(`PROXY UNKNOWN ${'x'.repeat(PROXY_V1_MAX)}\r\n`))).toEqual({ kind: 'invalid', reason: 'too_large' });
  });
  it('v2 PROXY TCP4 and TCP6, LOCAL and UNSPEC', () => {
    const h = v2tcp4([127, 0, 0, 77], 5555);
    expect(parseProxyHeader(Buffer.concat([h, Buffer.from([0x16, 3, 1])]))).toEqual({ kind: 'header', version: 2, length: 28, source: { address: '127.0.0.77', port: 5555, family: 'IPv4' } });
    const b6 = Buffer.alloc(36);
    b6.writeUInt16BE(0x2001, 0);
    b6.writeUInt16BE(0x0db8, 2);
    b6.writeUInt16BE(7, 14);
    b6.writeUInt16BE(9000, 32);
    expect(parseProxyHeader(v2(1, 0x21, b6))).toMatchObject({ kind: 'header', source: { address: '2001:db8::7', port: 9000, family: 'IPv6' } });
    expect(parseProxyHeader(v2(0, 0x00, Buffer.alloc(0)))).toEqual({ kind: 'header', version: 2, length: 16, source: undefined });
    expect(parseProxyHeader(v2(0, 0x11, Buffer.alloc(12)))).toMatchObject({ kind: 'header', source: undefined });
  });
  it('v2 TLVs within the cap pass, beyond it are too large', () => {
    expect(parseProxyHeader(v2tcp4([10, 0, 0, 1], 1, 512))).toMatchObject({ kind: 'header', length: 16 + 12 + 512 });
    expect(parseProxyHeader(v2tcp4([10, 0, 0, 1], 1, 513))).toEqual({ kind: 'invalid', reason: 'too_large' });
    // Known too large from the 16-byte prefix alone: refused before the body arrives.
    expect(parseProxyHeader(v2tcp4([10, 0, 0, 1], 1, 60000).subarray(0, 16))).toEqual({ kind: 'invalid', reason: 'too_large' });
  });
  it('v2 bad version, command, family or short address block is malformed; truncated is more', () => {
    const h = v2tcp4([10, 0, 0, 1], 1);
    const badVer = Buffer.from(h);
    badVer[12] = 0x11;
    const badCmd = Buffer.from(h);
    badCmd[12] = 0x22;
    const badFam = Buffer.from(h);
    badFam[13] = 0x31;
    expect(parseProxyHeader(badVer)).toEqual({ kind: 'invalid', reason: 'malformed' });
    expect(parseProxyHeader(badCmd)).toEqual({ kind: 'invalid', reason: 'malformed' });
    expect(parseProxyHeader(badFam)).toEqual({ kind: 'invalid', reason: 'malformed' });
    expect(parseProxyHeader(v2(1, 0x11, Buffer.alloc(8)))).toEqual({ kind: 'invalid', reason: 'malformed' });
    for (let n = 1; n < h.length; n++) expect(parseProxyHeader(h.subarray(0, n)), `${n} bytes`).toEqual({ kind: 'more' });
  });
  it('a TLS ClientHello or HTTP request is not a header', () => {
    expect(parseProxyHeader(Buffer.from([0x16, 3, 1, 0, 5]))).toEqual({ kind: 'none' });
    expect(parseProxyHeader(Buffer.from('GET / HTTP/1.1\r\n'))).toEqual({ kind: 'none' });
    expect(looksLikeProxyHeader(Buffer.from([0x16, 3, 1]))).toBe(false);
    expect(looksLikeProxyHeader(Buffer.from('PROXY TCP4'))).toBe(true);
    expect(looksLikeProxyHeader(SIG.subarray(0, 3))).toBe(true);
  });
});

describe('TrustedSources', () => {
  it('matches IPv4, IPv4-mapped IPv6 and IPv6 ranges; refuses bad CIDRs', () => {
    const t = new TrustedSources(['127.0.0.0/8', '10.1.0.0/16', 'fd00::/8', '192.0.2.9']);
    expect(t.has('127.0.0.1')).toBe(true);
    expect(t.has('::ffff:10.1.2.3')).toBe(true);
    expect(t.has('10.2.0.1')).toBe(false);
    expect(t.has('fd12::1')).toBe(true);
    expect(t.has('192.0.2.9')).toBe(true);
    expect(t.has('192.0.2.10')).toBe(false);
    expect(t.has(undefined)).toBe(false);
    expect(() => new TrustedSources(['10.0.0.0/33'])).toThrow(/CIDR/);
    expect(() => new TrustedSources(['nope/8'])).toThrow(/CIDR/);
  });
});

describe('readProxyHeader on a socket', () => {
  const closers: (() => void)[] = [];
  afterEach(() => {
    for (const c of closers.splice(0)) c();
  });

  /** A listener whose first connection is read with readProxyHeader; the client socket is returned. */
  async function accept(timeoutMs: number): Promise<{ client: Socket; result: Promise<{ r: ProxyReadResult; raw: Socket }> }> {
    let resolve!: (v: { r: ProxyReadResult; raw: Socket }) => void;
    const result = new Promise<{ r: ProxyReadResult; raw: Socket }>((res) => (resolve = res));
    const server: Server = createTcpServer((raw) => void readProxyHeader(raw, { timeoutMs }).then((r) => resolve({ r, raw })));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const client = connect((server.address() as { port: number }).port, '127.0.0.1');
    client.on('error', () => {});
    await once(client, 'connect');
    closers.push(() => {
      client.destroy();
      server.close();
    });
    return { client, result };
  }

  it('a header in pieces, then the rest stays readable', async () => {
    const { client, result } = await accept(5000);
    const line = Buffer.from('PROXY TCP4 127.0.0.77 127.0.0.1 40000 4443\r\nhello');
    client.write(line.subarray(0, 10));
    await new Promise((r) => setTimeout(r, 20));
    client.write(line.subarray(10));
    const { r, raw } = await result;
    expect(r).toEqual({ ok: true, version: 1, source: { address: '127.0.0.77', port: 40000, family: 'IPv4' } });
    const [rest] = (await once(raw.resume(), 'data')) as [Buffer];
    expect(rest.toString()).toBe('hello');
    raw.destroy();
  });
  it('no header is missing; a slow header times out; a closed stream is closed', async () => {
    const a = await accept(5000);
    a.client.write(Buffer.from([0x16, 3, 1, 0, 1, 1]));
    expect((await a.result).r).toEqual({ ok: false, reason: 'missing' });
    const b = await accept(100);
    b.client.write('PROXY TCP4 ');
    expect((await b.result).r).toEqual({ ok: false, reason: 'timeout' });
    const c = await accept(5000);
    c.client.end('PROXY');
    expect((await c.result).r).toEqual({ ok: false, reason: 'closed' });
    const d = await accept(5000);
    d.client.write(v2tcp4([1, 2, 3, 4], 1, 4096));
    expect((await d.result).r).toEqual({ ok: false, reason: 'too_large' });
  });
  it('hands over to TLS after the header: the handshake completes and the TLS socket reports the real source', async () => {
    const ca = await createCertificateAuthority('proxy test CA');
    const { keyPem: key, certPem: cert } = await issueServerCertificate(ca, ['127.0.0.1']);
    const seen: string[] = [];
    const tls = createTlsServer({ key, cert }, (s: TLSSocket) => {
      inheritRemote(s);
      seen.push(`${s.remoteAddress}:${s.remotePort}`);
      s.end('ok');
    });
    const tcp = createTcpServer((raw) => {
      void readProxyHeader(raw, { timeoutMs: 5000 }).then((r) => {
        if (!r.ok) return raw.destroy();
        if (r.source) setProxiedRemote(raw, r.source);
        tls.emit('connection', raw);
      });
    });
    tcp.listen(0, '127.0.0.1');
    await once(tcp, 'listening');
    closers.push(() => tcp.close());
    const plain = connect((tcp.address() as { port: number }).port, '127.0.0.1');
    await once(plain, 'connect');
    plain.write(v2tcp4([127, 0, 0, 77], 6000));
    const client = tlsConnect({ socket: plain, rejectUnauthorized: false });
    const [data] = (await once(client, 'data')) as [Buffer];
    expect(data.toString()).toBe('ok');
    expect(seen).toEqual(['127.0.0.77:6000']);
    client.destroy();
  });
});
