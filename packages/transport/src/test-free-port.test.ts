import { readFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { freePort } from './test-free-port.js';

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
});
