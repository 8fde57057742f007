/**
 * postJson against real servers on loopback: HTTPS with a CA of our own (trusted and
 * not), plain HTTP, a server that never answers, one that answers too much.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createCertificateAuthority, issueServerCertificate, type CertificateAuthority } from '@elink/pki';
import { parseRetryAfter, postJson } from './json-post.js';

interface Seen {
  method?: string;
  contentType?: string;
  authorization?: string;
  body: string;
}

describe('postJson', () => {
  let ca: CertificateAuthority;
  let other: CertificateAuthority;
  let https: HttpsServer;
  let http: HttpServer;
  const seen: Seen[] = [];
  /** Each request is answered by the next of these. */
  const answers: ((res: ServerResponse) => void)[] = [];

  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({ method: req.method, contentType: req.headers['content-type'], authorization: req.headers.authorization, body: Buffer.concat(chunks).toString('utf8') });
      const answer = answers.shift();
      if (answer) answer(res);
      // No answer queued: say nothing (the caller's deadline ends it).
    });
  };
  const url = (s: HttpsServer | HttpServer, scheme: string) => new URL(`${scheme}://127.0.0.1:${(s.address() as AddressInfo).port}/v1/x`);

  beforeAll(async () => {
    ca = await createCertificateAuthority('Json Post CA');
    other = await createCertificateAuthority('Other CA');
    const leaf = await issueServerCertificate(ca, ['127.0.0.1']);
    https = createHttpsServer({ cert: leaf.certPem, key: leaf.keyPem }, handler);
    http = createHttpServer(handler);
    await Promise.all([https, http].map((s) => new Promise<void>((r) => s.listen(0, '127.0.0.1', r))));
  });
  afterAll(async () => {
    for (const s of [https, http]) s.closeAllConnections();
    await Promise.all([https, http].map((s) => new Promise((r) => s.close(r))));
  });

  it('POSTs JSON with the extra headers over HTTPS trusting the CA given, and answers status, parsed body and Retry-After', async () => {
    answers.push((res) => {
      res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '30' });
      res.end(JSON.stringify({ error: 'EL_ERR_RATE_LIMITED', message: 'slow down' }));
    });
    const a = await postJson(url(https, 'https'), { user: 'alice', n: 1 }, { ca: ca.certPem, headers: { authorization: 'Bearer s3cret' } });
    expect(a).toEqual({ status: 429, json: { error: 'EL_ERR_RATE_LIMITED', message: 'slow down' }, text: '{"error":"EL_ERR_RATE_LIMITED","message":"slow down"}', retryAfter: '30' });
    expect(seen.at(-1)).toEqual({ method: 'POST', contentType: 'application/json', authorization: 'Bearer s3cret', body: '{"user":"alice","n":1}' });
  });

  it('answers a body that is not JSON as text, json undefined, over plain HTTP', async () => {
    answers.push((res) => {
      res.writeHead(502, { 'content-type': 'text/html' });
      res.end('<html>bad gateway</html>');
    });
    const a = await postJson(url(http, 'http'), {});
    expect(a).toEqual({ status: 502, json: undefined, text: '<html>bad gateway</html>' });
  });

  it("rejects with node's certificate error when the server's CA is not the one given", async () => {
    const err = (await postJson(url(https, 'https'), {}, { ca: other.certPem }).catch((e: unknown) => e)) as NodeJS.ErrnoException;
    expect(err).toBeInstanceOf(Error);
    expect(err.code).toBe('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
  });

  it('rejects a server that does not answer in time, and a reply larger than the limit', async () => {
    await expect(postJson(url(http, 'http'), {}, { timeoutMs: 200 })).rejects.toThrow('no answer within 200 ms');
    answers.push((res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ pad: 'x'.repeat(4096) }));
    });
    await expect(postJson(url(http, 'http'), {}, { maxReplyBytes: 1024 })).rejects.toThrow('reply larger than 1024 bytes');
  });

  it('parseRetryAfter reads delay-seconds and HTTP dates, and nothing else', () => {
    expect(parseRetryAfter('120')).toBe(120);
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:01:30 GMT', now)).toBe(90);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter(undefined)).toBeUndefined();
  });
});
