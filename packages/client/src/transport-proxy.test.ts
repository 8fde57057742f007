/**
 * SwitchLink over both transports, direct and through a real HTTP proxy (Debian's
 * tinyproxy with Basic authentication), against a real SwitchNode; and the broker login
 * through the same proxy. The switch side of the WebSocket is the node's own (ws-upgrade.ts).
 */
import { generateKeyPairSync } from 'node:crypto';
import { once } from 'node:events';
import { createServer as createHttpsServer, type Server } from 'node:https';
import { pino } from 'pino';
import { rawDeviceKey } from '@elink/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTinyproxy, type Tinyproxy } from '../../../test/lib/tinyproxy.js';
import { waitUntil } from '../../switch/src/testing/test-client.js';
import { ethFrame, mac } from '../../switch/src/testing/test-frames.js';
import { useSwitchHarness } from '../../switch/src/testing/test-node.js';
import { login } from './login.js';
import { parseProxyUrl, proxyFor, proxySettings } from './proxy-config.js';
import { isCarrierFailure, SwitchLink, wsUrl } from './switch-link.js';
import { freePort } from '../../transport/src/test-free-port.js';

const logger = pino({ level: 'silent' });
const { fx, node, clients } = useSwitchHarness();
let proxy: Tinyproxy;


beforeAll(async () => {
  proxy = await startTinyproxy({ port: await freePort() });
});
afterAll(async () => {
  await proxy?.stop();
});

describe('SwitchLink transports, direct and through an HTTP CONNECT proxy', () => {
  for (const transport of ['tls', 'ws'] as const) {
    for (const via of ['direct', 'proxy'] as const) {
      it(`${transport} ${via}: welcome, and frames both ways with a raw TLS session`, async () => {
        const t = await node();
        const port = t.node.address().port;
        const link = await SwitchLink.connect({
          server: { node: 'sw-test', host: '127.0.0.1', port },
          ticket: fx.ticket({ sub: 'link' }),
          mac: '02:00:00:00:00:01',
          ca: fx.caPem,
          transport,
          ...(via === 'proxy' ? { proxy: parseProxyUrl(proxy.url, 'test') } : {}),
          logger,
        });
        try {
          expect(link.welcome.segment).toBe('lan');
          expect(link.transport).toBe(transport);
          const other = await t.connect();
          clients.push(other);
          await other.join(fx.ticket({ sub: 'other' }), mac(2));
          const got: string[] = [];
          link.on('frame', (f: Buffer) => got.push(f.subarray(14).toString()));
          link.sendFrames([ethFrame(mac(2), mac(1), `over ${transport}`)]);
          other.sendFrames([ethFrame(mac(1), mac(2), 'back')]);
          await waitUntil(() => other.frames.length === 1 && got.length === 1, 'a frame each way');
          expect(other.payloads()).toEqual([`over ${transport}`]);
          expect(got).toEqual(['back']);
          const opened = t.logs.find((l) => l.msg === 'session opened' && l.user === 'link');
          expect(opened).toBeDefined();
          if (via === 'proxy') expect(proxy.log()).toContain(`CONNECT 127.0.0.1:${port} `);
          if (transport === 'ws') expect(await t.registry.getSingleMetricAsString('el_switch_websocket_upgrades_total')).toContain('result="ok"} 1');
        } finally {
          link.close();
        }
      });
    }
  }

  it('a ticket bound to a device key is admitted over the WebSocket, direct and through the proxy (the proof signs the TLS under it)', async () => {
    const t = await node();
    const key = generateKeyPairSync('ed25519').privateKey;
    for (const via of ['direct', 'proxy'] as const) {
      const link = await SwitchLink.connect({
        server: { node: 'sw-test', host: '127.0.0.1', port: t.node.address().port },
        ticket: fx.ticket({ sub: `bound-${via}`, dk: rawDeviceKey(key) }),
        ca: fx.caPem,
        transport: 'ws',
        deviceKey: key,
        ...(via === 'proxy' ? { proxy: parseProxyUrl(proxy.url, 'test') } : {}),
        logger,
      });
      expect(link.welcome.segment).toBe('lan');
      link.close();
    }
    // Without the proof the same kind of ticket is refused: the proof is what admitted it.
    const err = await SwitchLink.connect({ server: { node: 'sw-test', host: '127.0.0.1', port: t.node.address().port }, ticket: fx.ticket({ sub: 'no-proof', dk: rawDeviceKey(key) }), ca: fx.caPem, transport: 'ws', logger }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: expect.stringMatching(/^EL_ERR_(BAD_TICKET|PROTOCOL)$/) });
  });

  it('a wrong proxy password is EL_ERR_PROXY_AUTH before hello (the ticket is unspent)', async () => {
    const t = await node();
    for (const transport of ['tls', 'ws'] as const) {
      const err = await SwitchLink.connect({ server: { node: 'sw-test', host: '127.0.0.1', port: t.node.address().port }, ticket: fx.ticket(), ca: fx.caPem, transport, proxy: parseProxyUrl(proxy.badUrl, 'test'), logger }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'EL_ERR_PROXY_AUTH' });
      expect(isCarrierFailure(err)).toBe(true);
    }
    expect(t.node.stats.opened).toBe(0);
  });

  it('a node that refuses the WebSocket path fails before hello with the HTTP status', async () => {
    // A plain HTTPS server stands for a balancer that does not pass the upgrade.
    const https: Server = createHttpsServer({ key: fx.keyPem, cert: fx.certPem }, (_req, res) => res.writeHead(403).end());
    https.listen(0, '127.0.0.1');
    await once(https, 'listening');
    try {
      const { port } = https.address() as { port: number };
      const err = await SwitchLink.connect({ server: { node: 'lb', host: '127.0.0.1', port }, ticket: fx.ticket(), ca: fx.caPem, transport: 'ws', logger }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'EL_ERR_PROTOCOL', message: expect.stringContaining('HTTP 403') });
      expect(isCarrierFailure(err)).toBe(true);
    } finally {
      https.close();
    }
  });

  it("goes to the entry's ws URL (an ingress) and checks that certificate by name, not the node's fingerprint", async () => {
    const t = await node();
    const link = await SwitchLink.connect({
      // The node's own address is unreachable and its fingerprint wrong: only the ws URL works.
      server: { node: 'sw-test', host: '192.0.2.1', port: 9, fingerprint: 'AA:BB', ws: `wss://localhost:${t.node.address().port}/v1/el` },
      ticket: fx.ticket({ sub: 'ingress' }),
      ca: fx.caPem,
      transport: 'ws',
      logger,
    });
    expect(link.welcome.segment).toBe('lan');
    link.close();
    expect(t.logs.some((l) => l.msg === 'session opened' && l.user === 'ingress')).toBe(true);
  });

  it('wsUrl: the node host and port with /v1/el, IPv6 in brackets', () => {
    expect(wsUrl('198.18.0.1', 4443)).toBe('wss://198.18.0.1:4443/v1/el');
    expect(wsUrl('fd00:e1::1', 4443)).toBe('wss://[fd00:e1::1]:4443/v1/el');
    expect(wsUrl('sw.example', 443)).toBe('wss://sw.example:443/v1/el');
  });
});

describe('broker login through the proxy', () => {
  let broker: Server;
  let brokerUrl: string;
  beforeAll(async () => {
    broker = createHttpsServer({ key: fx.keyPem, cert: fx.certPem }, (req, res) => {
      req.resume();
      res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'EL_ERR_AUTH', message: 'wrong user name or password' }));
    });
    broker.listen(0, '127.0.0.1');
    await once(broker, 'listening');
    brokerUrl = `https://127.0.0.1:${(broker.address() as { port: number }).port}`;
  });
  afterAll(() => broker?.close());

  it("reaches the broker through the proxy (its own answer comes back) and the proxy logs the CONNECT", async () => {
    const settings = proxySettings(undefined, { HTTPS_PROXY: proxy.url });
    const p = proxyFor(settings, '127.0.0.1', Number(new URL(brokerUrl).port))!;
    await expect(login(brokerUrl, { user: 'u', password: 'p' }, { ca: fx.caPem, proxy: p })).rejects.toMatchObject({ code: 'EL_ERR_AUTH' });
    expect(proxy.log()).toContain(`CONNECT 127.0.0.1:${new URL(brokerUrl).port} `);
  });

  it('a wrong proxy password is EL_ERR_PROXY_AUTH, not the broker refusing the user', async () => {
    await expect(login(brokerUrl, { user: 'u', password: 'p' }, { ca: fx.caPem, proxy: parseProxyUrl(proxy.badUrl, 'test') })).rejects.toMatchObject({ code: 'EL_ERR_PROXY_AUTH' });
  });

  it('no proxy listening is EL_ERR_PROXY_UNREACHABLE', async () => {
    await expect(login(brokerUrl, { user: 'u', password: 'p' }, { ca: fx.caPem, proxy: parseProxyUrl(`http://127.0.0.1:${await freePort()}`, 'test') })).rejects.toMatchObject({ code: 'EL_ERR_PROXY_UNREACHABLE' });
  });
});
