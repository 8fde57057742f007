import { afterEach, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:net';
import { configSchema } from './config.js';
import { listenError } from './listen-error.js';

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

/** The error a real bind gets. */
async function bindError(host: string, port: number): Promise<Error> {
  const s = createServer();
  servers.push(s);
  return new Promise((resolve) => {
    s.once('error', resolve);
    s.listen(port, host, () => resolve(new Error('bound')));
  });
}

const config = (over: object = {}) => configSchema.parse({ segments: [{ name: 'lab', ipv4: { pool: '198.19.0.0/16' } }], ...over });

describe('listenError', () => {
  it('names the flag, variable and key of the listener whose port is taken', async () => {
    const holder = createServer();
    servers.push(holder);
    await new Promise<void>((r) => holder.listen(0, '127.0.0.1', r));
    const port = (holder.address() as { port: number }).port;
    const err = await bindError('127.0.0.1', port);
    expect((err as NodeJS.ErrnoException).code).toBe('EADDRINUSE');
    const e = listenError(err, config({ broker: { listen: { host: '127.0.0.1', port } } }), ['switch', 'broker', 'admin'], '/etc/elink.yaml');
    expect(e?.code).toBe('EL_ERR_LISTEN');
    expect(e?.message).toBe(`cannot listen on 127.0.0.1:${port} for the broker (HTTPS) listener (EADDRINUSE): another process holds the port. Stop it, or choose another port with --broker-port, ELINK_BROKER_PORT or broker.listen.port (config file /etc/elink.yaml).`);
    // Wrapped (as SwitchNode.start does) it is found through the cause.
    const wrapped = new Error('cannot listen', { cause: err });
    expect(listenError(wrapped, config({ admin: { port } }), ['admin'], 'f')?.message).toContain('--admin-port, ELINK_ADMIN_PORT or admin.port');
  });

  it('names the listen host for an address that is not on this host', async () => {
    const err = await bindError('192.0.2.1', 0);
    expect((err as NodeJS.ErrnoException).code).toBe('EADDRNOTAVAIL');
    const e = listenError(err, config(), ['switch', 'broker', 'admin'], 'f');
    expect(e?.message).toMatch(/^cannot listen on 192\.0\.2\.1(:0)? for the .* \(EADDRNOTAVAIL\): the address is not on this host\. .*--listen-host, ELINK_LISTEN_HOST/);
  });

  it('leaves other errors alone', () => {
    expect(listenError(new Error('boom'), config(), ['admin'], 'f')).toBeUndefined();
  });
});
