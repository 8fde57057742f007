import { readFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { FETCH_BLOCKED_PORTS, freePort } from './test-free-port.js';

describe('freePort', () => {
  it('hands out distinct bindable ports below the kernel source-port range, skipping one in use', async () => {
    const ephemeral = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    const a = await freePort();
    // Something listening on the next port of the block: it is skipped.
    const squatter = createServer().listen(a + 1, '127.0.0.1');
    await new Promise((r) => squatter.once('listening', r));
    try {
      const b = await freePort();
      expect(b).not.toBe(a);
      expect(b).not.toBe(a + 1);
      if (ephemeral > 11_000) {
        expect(a).toBeLessThan(ephemeral);
        expect(b).toBeLessThan(ephemeral);
      }
      // Bindable: a server takes it and a client reaches it.
      const srv = createServer((s) => s.end('ok')).listen(b, '127.0.0.1');
      await new Promise((r) => srv.once('listening', r));
      const got = await new Promise<string>((resolve, reject) => {
        const c = connect(b, '127.0.0.1');
        let text = '';
        c.on('data', (d) => (text += d));
        c.on('end', () => resolve(text));
        c.on('error', reject);
      });
      srv.close();
      expect(got).toBe('ok');
    } finally {
      squatter.close();
    }
  });

  it('never hands out a port fetch() refuses (10080 is in the first block)', async () => {
    // The list is fetch's own: each port of it refused without a connection.
    for (const port of [...FETCH_BLOCKED_PORTS].filter((p) => p >= 10_000)) {
      await expect(fetch(`http://127.0.0.1:${port}/`)).rejects.toMatchObject({ cause: { message: 'bad port' } });
    }
    // A whole block's worth: every port of this worker's block is offered once.
    const ports = new Set<number>();
    for (let i = 0; i < 1000; i++) ports.add(await freePort());
    expect([...ports].filter((p) => FETCH_BLOCKED_PORTS.has(p))).toEqual([]);
  });
});
