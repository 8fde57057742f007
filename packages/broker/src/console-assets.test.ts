import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { fastify, type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONSOLE_CSP, MAX_FILES, registerConsoleAssets } from './console-assets.js';

/** A build as Vite lays it out: index.html, hashed assets/, a public file, and a source map (not served). */
function fakeBuild(): string {
  const dir = mkdtempSync(join(tmpdir(), 'elink-console-'));
  mkdirSync(join(dir, 'assets'));
  writeFileSync(join(dir, 'index.html'), `<!doctype html><title>console</title><script type="module" src="/console/assets/index-AbC123.js"></script>${' '.repeat(600)}`);
  writeFileSync(join(dir, 'assets/index-AbC123.js'), `console.log(${JSON.stringify('x'.repeat(4000))});`);
  writeFileSync(join(dir, 'assets/index-DeF456.css'), 'body{margin:0}');
  writeFileSync(join(dir, 'assets/index-AbC123.js.map'), '{}');
  writeFileSync(join(dir, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
  return dir;
}

async function appWith(dir: string | undefined): Promise<FastifyInstance> {
  const app = fastify();
  app.setNotFoundHandler((req, reply) => reply.code(404).send({ error: 'EL_ERR_INVALID', message: `no route ${req.method} ${req.url}` }));
  registerConsoleAssets(app, { dir });
  await app.ready();
  return app;
}

describe('console assets at /console', () => {
  let dir: string;
  let app: FastifyInstance;
  beforeAll(async () => {
    dir = fakeBuild();
    app = await appWith(dir);
  });
  afterAll(async () => {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('redirects /console to /console/ and serves index.html there, revalidated, with the CSP and no inline allowance', async () => {
    const r = await app.inject({ url: '/console?x=1' });
    expect(r.statusCode).toBe(308);
    expect(r.headers.location).toBe('/console/?x=1');
    const page = await app.inject({ url: '/console/' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['cache-control']).toBe('no-cache');
    expect(page.headers['content-security-policy']).toBe(CONSOLE_CSP);
    expect(CONSOLE_CSP).not.toMatch(/unsafe-inline|unsafe-eval|\*|https?:/);
    expect(CONSOLE_CSP).toMatch(/default-src 'none'/);
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    expect(page.headers['x-frame-options']).toBe('DENY');
    expect(page.body).toContain('<title>console</title>');
  });

  it('serves hashed assets with their type, cached for a year; others revalidated; HEAD too', async () => {
    const js = await app.inject({ url: '/console/assets/index-AbC123.js' });
    expect(js.statusCode).toBe(200);
    expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(js.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    const css = await app.inject({ url: '/console/assets/index-DeF456.css' });
    expect([css.headers['content-type'], css.body]).toEqual(['text/css; charset=utf-8', 'body{margin:0}']);
    const svg = await app.inject({ url: '/console/favicon.svg' });
    expect([svg.headers['content-type'], svg.headers['cache-control']]).toEqual(['image/svg+xml', 'no-cache']);
    const head = await app.inject({ method: 'HEAD', url: '/console/assets/index-AbC123.js' });
    expect([head.statusCode, head.body]).toEqual([200, '']);
  });

  it('answers 304 to a matching If-None-Match, and gzip to a client that accepts it (not to q=0)', async () => {
    const first = await app.inject({ url: '/console/assets/index-AbC123.js' });
    const etag = first.headers.etag as string;
    expect(etag).toMatch(/^"[\w-]{22}"$/);
    const again = await app.inject({ url: '/console/assets/index-AbC123.js', headers: { 'if-none-match': `W/"other", ${etag}` } });
    expect([again.statusCode, again.body]).toEqual([304, '']);
    const zipped = await app.inject({ url: '/console/assets/index-AbC123.js', headers: { 'accept-encoding': 'br, gzip' } });
    expect(zipped.headers['content-encoding']).toBe('gzip');
    expect(zipped.headers.vary).toBe('accept-encoding');
    expect(gunzipSync(zipped.rawPayload).toString()).toBe(first.body);
    const refused = await app.inject({ url: '/console/assets/index-AbC123.js', headers: { 'accept-encoding': 'gzip;q=0' } });
    expect(refused.headers['content-encoding']).toBeUndefined();
    expect(refused.body).toBe(first.body);
  });

  it('has no route to anything else: unknown files, source maps, paths out of the build', async () => {
    for (const url of ['/console/nope.js', '/console/assets/index-AbC123.js.map', '/console/../package.json', '/console/..%2f..%2fpackage.json', '/console/assets/']) {
      const r = await app.inject({ url });
      expect(r.statusCode, url).toBe(404);
      expect(r.json().error, url).toBe('EL_ERR_INVALID');
    }
  });
});

describe('console assets, not built', () => {
  it('answers 503 EL_ERR_UNAVAILABLE naming the build command, and the broker still starts', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'elink-console-'));
    const app = await appWith(empty);
    try {
      const r = await app.inject({ url: '/console/' });
      expect(r.statusCode).toBe(503);
      expect(r.json()).toEqual({ error: 'EL_ERR_UNAVAILABLE', message: expect.stringMatching(/not built.*make build/) });
    } finally {
      await app.close();
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('refuses a build with more files than it loads', async () => {
    const big = fakeBuild();
    for (let i = 0; i < MAX_FILES; i++) writeFileSync(join(big, 'assets', `f${i}.js`), '');
    const app = await appWith(big);
    try {
      const r = await app.inject({ url: '/console/' });
      expect(r.statusCode).toBe(503);
      expect(r.json().message).toMatch(/more than 256/);
    } finally {
      await app.close();
      rmSync(big, { recursive: true, force: true });
    }
  });
});
