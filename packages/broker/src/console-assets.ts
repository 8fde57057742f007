/**
 * The web console's static files (the built @elink/console, a Vite build), served at
 * /console on the broker's own listener: same origin as the admin API, so the session
 * cookie (SameSite=Strict) and the CSRF token work without CORS.
 *
 * The files are read once at start into memory (about 100 KiB; bounded by MAX_FILES and
 * MAX_BYTES), each with its ETag and a gzip copy when that is smaller: no file system access
 * per request, no path ever joined from a URL (a lookup in a map), no extra dependency.
 * Hashed files under assets/ are cached for a year (`immutable`); index.html and the rest
 * are revalidated (`no-cache` + ETag), so a new build is picked up at the next load after a
 * restart. Every answer carries a Content-Security-Policy without 'unsafe-inline' (the build
 * inlines nothing) that allows nothing from another origin.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, extname, join, relative, sep } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ErrorBody } from '@elink/protocol';

export const CONSOLE_PATH = '/console';
/** At most this many files and bytes are loaded; a build beyond is refused (logged). */
export const MAX_FILES = 256;
export const MAX_BYTES = 16 << 20;

export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy': CONSOLE_CSP,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.webp': 'image/webp',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};
const COMPRESSIBLE = new Set(['.html', '.js', '.mjs', '.css', '.json', '.svg', '.txt']);

interface Asset {
  body: Buffer;
  gzip?: Buffer;
  type: string;
  etag: string;
  cache: string;
}

export interface ConsoleAssets {
  /** Where the files came from; undefined when the console is not built. */
  dir: string | undefined;
  files: Map<string, Asset>;
  /** Why nothing is served, when nothing is. */
  problem?: string;
}

/** The built console of the installed @elink/console package (its dist/), if there is one. */
export function defaultConsoleDir(): string | undefined {
  try {
    return join(dirname(createRequire(import.meta.url).resolve('@elink/console/package.json')), 'dist');
  } catch {
    return undefined;
  }
}

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : e.isFile() ? [join(dir, e.name)] : []));
}

/** Reads the build in `dir` (index.html at its top). Never throws: a problem is reported in the result. */
export function loadConsoleAssets(dir: string | undefined): ConsoleAssets {
  const files = new Map<string, Asset>();
  if (dir === undefined || !existsSync(join(dir, 'index.html'))) {
    return { dir: undefined, files, problem: `the console is not built (no ${dir ? join(dir, 'index.html') : '@elink/console package'}): run \`make build\`, or \`npm run build -w packages/console\`` };
  }
  const paths = walk(dir);
  if (paths.length > MAX_FILES) return { dir, files, problem: `the console build in ${dir} has ${paths.length} files, more than ${MAX_FILES}` };
  let total = 0;
  for (const p of paths) {
    const ext = extname(p).toLowerCase();
    const type = TYPES[ext];
    if (!type) continue; // source maps, licences and the like are not served
    total += statSync(p).size;
    if (total > MAX_BYTES) return { dir, files: new Map(), problem: `the console build in ${dir} is larger than ${MAX_BYTES} bytes` };
    const rel = relative(dir, p).split(sep).join('/');
    const body = readFileSync(p);
    const zipped = COMPRESSIBLE.has(ext) && body.length > 512 ? gzipSync(body, { level: 9 }) : undefined;
    files.set(rel, {
      body,
      ...(zipped && zipped.length < body.length ? { gzip: zipped } : {}),
      type,
      etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`,
      // Vite names everything under assets/ by its content hash: it never changes under that name.
      cache: rel.startsWith('assets/') ? 'public, max-age=31536000, immutable' : 'no-cache',
    });
  }
  return { dir, files };
}

function acceptsGzip(request: FastifyRequest): boolean {
  const ae = request.headers['accept-encoding'];
  if (typeof ae !== 'string') return false;
  return ae.split(',').some((part) => {
    const [name, ...params] = part.trim().toLowerCase().split(';');
    const q = params.map((x) => /^\s*q=([\d.]+)\s*$/.exec(x)).find(Boolean);
    return (name === 'gzip' || name === '*') && (q ? Number(q[1]) > 0 : true);
  });
}

function send(request: FastifyRequest, reply: FastifyReply, a: Asset): FastifyReply {
  reply.headers(SECURITY_HEADERS).header('content-type', a.type).header('cache-control', a.cache).header('etag', a.etag);
  if (a.gzip) reply.header('vary', 'accept-encoding');
  const inm = request.headers['if-none-match'];
  if (typeof inm === 'string' && inm.split(',').some((t) => t.trim().replace(/^W\//, '') === a.etag)) return reply.code(304).send();
  if (a.gzip && acceptsGzip(request)) return reply.header('content-encoding', 'gzip').send(a.gzip);
  return reply.send(a.body);
}

/**
 * GET (and HEAD) /console → /console/, /console/ → index.html, /console/<file> → that file;
 * an unknown file is the broker's usual 404. Not built: 503 EL_ERR_UNAVAILABLE naming the fix.
 */
export function registerConsoleAssets(app: FastifyInstance, opts: { dir?: string } = {}): ConsoleAssets {
  const assets = loadConsoleAssets('dir' in opts ? opts.dir : defaultConsoleDir());
  if (assets.problem) app.log.warn({ problem: assets.problem }, `web console not served at ${CONSOLE_PATH}/`);
  const unavailable = (reply: FastifyReply) => reply.code(503).headers(SECURITY_HEADERS).send({ error: 'EL_ERR_UNAVAILABLE', message: assets.problem! } satisfies ErrorBody);

  app.get(CONSOLE_PATH, async (request, reply) => {
    const q = request.url.indexOf('?');
    return reply.redirect(`${CONSOLE_PATH}/${q >= 0 ? request.url.slice(q) : ''}`, 308);
  });
  app.get<{ Params: { '*': string } }>(`${CONSOLE_PATH}/*`, async (request, reply) => {
    if (assets.problem) return unavailable(reply);
    const asset = assets.files.get(request.params['*'] || 'index.html');
    if (!asset) return reply.callNotFound();
    return send(request, reply, asset);
  });
  return assets;
}
