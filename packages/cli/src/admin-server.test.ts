import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { Counter, Registry } from 'prom-client';
import { createAdminServer } from './admin-server.js';

describe('admin server', () => {
  it('serves Prometheus text on /metrics and reports health and readiness over real HTTP', async () => {
    const registry = new Registry();
    new Counter({ name: 'el_test_total', help: 'test', registers: [registry] }).inc(3);
    let ready = false;
    const app = createAdminServer({ registry, logger: pino({ level: 'silent' }), ready: () => ready });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = app.server.address() as { port: number };
    const base = `http://127.0.0.1:${port}`;
    try {
      const metrics = await fetch(`${base}/metrics`);
      expect(metrics.headers.get('content-type')).toContain('text/plain');
      expect(await metrics.text()).toContain('el_test_total 3');
      expect(await (await fetch(`${base}/healthz`)).json()).toEqual({ status: 'ok' });
      const notReady = await fetch(`${base}/readyz`);
      expect(notReady.status).toBe(503);
      ready = true;
      const isReady = await fetch(`${base}/readyz`);
      expect(isReady.status).toBe(200);
      expect(await isReady.json()).toEqual({ status: 'ok' });
    } finally {
      await app.close();
    }
  });
});
