/**
 * /readyz means the same on the admin port and the broker's API port: every listener of
 * the process accepts, the broker's store answers, the switch is not draining.
 * Real services (startServices) on 127.0.0.1, real TLS, a Redis URL where nothing listens.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { loadConfig } from './config.js';
import { startServices, type Services } from './services.js';
import { initState } from './state.js';
import { VERSION } from './version.js';
import { freePort } from '../../transport/src/test-free-port.js';


const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

async function start(extra = '', which = { broker: true, switch: true }): Promise<{ services: Services; ca: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'elink-ready-'));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  await initState(dir);
  const file = join(dir, 'elink.yaml');
  const listen = `broker: { listen: { host: 127.0.0.1, port: 0 }${extra} }\nswitch: { listen: { host: 127.0.0.1, port: 0 }, drainSeconds: 1 }\nadmin: { host: 127.0.0.1, port: 0 }\n`;
  writeFileSync(file, readFileSync(file, 'utf8').replace(/^(broker|switch|admin):.*\n(  .*\n)*/gm, '') + listen);
  const services = await startServices(loadConfig(file), which, pino({ level: 'silent' }));
  cleanup.push(() => services.stop('test'));
  return { services, ca: readFileSync(join(dir, 'ca.pem'), 'utf8') };
}

async function adminGet(s: Services, path: string): Promise<{ status: number; body: string }> {
  const r = await fetch(`http://127.0.0.1:${s.endpoints.admin.port}${path}`);
  return { status: r.status, body: await r.text() };
}

function brokerGet(s: Services, ca: string, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: s.endpoints.broker!.port, path, ca, servername: 'localhost' }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('/readyz', () => {
  it('answers the same on the admin and the broker port, and turns 503 on both once the switch drains', async () => {
    const { services, ca } = await start();
    expect(await adminGet(services, '/readyz')).toEqual({ status: 200, body: '{"status":"ok"}' });
    expect(await brokerGet(services, ca, '/readyz')).toEqual({ status: 200, body: '{"status":"ok"}' });
    await services.switchNode!.drain('drain', { timeoutMs: 100 });
    const admin = await adminGet(services, '/readyz');
    const broker = await brokerGet(services, ca, '/readyz');
    expect(admin.status).toBe(503);
    expect(broker).toEqual(admin);
    expect(JSON.parse(admin.body)).toEqual({ status: 'unavailable', error: 'EL_ERR_UNAVAILABLE', message: 'the switch node is draining (shutting down)' });
  });

  it('is 503 on both ports while the broker’s store does not answer', async () => {
    const port = await freePort();
    const { services, ca } = await start(`, store: { type: redis, url: "redis://127.0.0.1:${port}" }`, { broker: true, switch: false });
    const admin = await adminGet(services, '/readyz');
    expect(admin.status).toBe(503);
    expect(JSON.parse(admin.body).message).toMatch(/^the broker's store does not answer: /);
    // The same meaning and shape; the driver's error text may differ between two pings.
    const broker = await brokerGet(services, ca, '/readyz');
    expect(broker.status).toBe(503);
    expect(JSON.parse(broker.body)).toMatchObject({ status: 'unavailable', error: 'EL_ERR_UNAVAILABLE', message: expect.stringMatching(/^the broker's store does not answer: /) });
  }, 15_000);

  it('exports el_build_info with the version and Node.js', async () => {
    const { services } = await start('', { broker: true, switch: false });
    const metrics = (await adminGet(services, '/metrics')).body;
    expect(metrics).toContain(`el_build_info{version="${VERSION}",node="${process.version}"} 1`);
    expect(VERSION).toBe(JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version);
  });
});
