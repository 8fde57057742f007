import { connect as tlsConnect } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { encodeControl, encodeRecord, formatMac, MAX_CONTROL_PAYLOAD, MAX_RECORD_PAYLOAD, parseControl, RecordType, type ControlMessage } from '@elink/protocol';
import { WS_PATH, WS_SUBPROTOCOL, WsRecordConn } from '@elink/transport';
import WebSocket from 'ws';
import { waitUntil } from '../testing/test-client.js';
import { BROADCAST, ethFrame, mac } from '../testing/test-frames.js';
import { useSwitchHarness, type TestNode } from '../testing/test-node.js';
import { lastForwarded } from './ws-upgrade.js';

const { fx, node, clients } = useSwitchHarness();

/** An EL client over WebSocket on the node's TLS port. */
async function wsClient(t: TestNode, alpn: string[] = ['http/1.1']) {
  const conn = await WsRecordConn.connect(`wss://127.0.0.1:${t.node.address().port}${WS_PATH}`, { ca: fx.caPem, servername: 'localhost', ALPNProtocols: alpn });
  const controls: ControlMessage[] = [];
  const frames: Buffer[] = [];
  let closed = false;
  conn.accept(RecordType.CONTROL, MAX_CONTROL_PAYLOAD);
  conn.accept(RecordType.FRAME, MAX_RECORD_PAYLOAD);
  conn.start({
    onRecord: (type, payload) => {
      if (type === RecordType.FRAME) return void frames.push(Buffer.from(payload));
      const msg = parseControl(payload);
      controls.push(msg);
      if (msg.type === 'ping') conn.write(encodeControl({ type: 'pong', id: msg.id }));
    },
    onError: () => {},
    onClose: () => (closed = true),
  });
  const c = {
    conn,
    controls,
    frames,
    get closed() {
      return closed;
    },
    async join(ticket: string, m: number) {
      conn.write(encodeControl({ type: 'hello', version: 1, ticket, mac: formatMac(m) }));
      await waitUntil(() => controls.some((x) => x.type === 'welcome' || x.type === 'error') || closed, 'welcome');
      return controls.find((x) => x.type === 'welcome' || x.type === 'error')!;
    },
    destroy: () => conn.destroy(),
  };
  clients.push(c as never);
  return c;
}

/** Status line of what the node answers to `request` over TLS with ALPN http/1.1. */
function httpExchange(t: TestNode, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = tlsConnect({ host: '127.0.0.1', port: t.node.address().port, ca: fx.caPem, servername: 'localhost', ALPNProtocols: ['http/1.1'] }, () => s.write(request));
    let got = '';
    s.on('data', (d: Buffer) => (got += d.toString()));
    s.on('error', reject);
    s.on('close', () => resolve(got.split('\r\n')[0] ?? ''));
  });
}

describe('EL over WebSocket on the switch port', () => {
  it('welcomes WebSocket sessions (ALPN http/1.1 and none) and switches frames between them and a raw TLS session', async () => {
    const t = await node();
    const a = await wsClient(t);
    const b = await wsClient(t, []);
    const c = await t.connect();
    clients.push(c);
    expect(await a.join(fx.ticket({ sub: 'a' }), mac(1))).toMatchObject({ type: 'welcome', segment: 'lan' });
    expect(await b.join(fx.ticket({ sub: 'b' }), mac(2))).toMatchObject({ type: 'welcome', segment: 'lan' });
    await c.join(fx.ticket({ sub: 'c' }), mac(3));
    expect(t.node.stats.established).toBe(3);
    expect(t.node.guard.pending).toBe(0); // the welcome released the WebSocket sessions as it does TLS ones

    a.conn.write(encodeRecord(RecordType.FRAME, ethFrame(BROADCAST, mac(1), 'bcast from ws a')));
    await waitUntil(() => b.frames.length === 1 && c.frames.length === 1, 'broadcast at b and c');
    a.conn.write(Buffer.concat([encodeRecord(RecordType.FRAME, ethFrame(mac(2), mac(1), 'a to b')), encodeRecord(RecordType.FRAME, ethFrame(mac(3), mac(1), 'a to c'))]));
    c.sendFrames([ethFrame(mac(1), mac(3), 'c to a')]);
    await waitUntil(() => b.frames.length === 2 && c.frames.length === 2 && a.frames.length === 1, 'unicast');
    expect(b.frames.map((f) => f.subarray(14).toString())).toEqual(['bcast from ws a', 'a to b']);
    expect(c.payloads()).toEqual(['bcast from ws a', 'a to c']);
    expect(a.frames[0]!.subarray(14).toString()).toBe('c to a');
    expect(t.logs.some((l) => l.msg === 'session opened' && l.user === 'a' && typeof l.peer === 'string' && (l.peer as string).startsWith('127.0.0.1:'))).toBe(true);
    expect(await t.registry.getSingleMetricAsString('el_switch_websocket_upgrades_total')).toContain('el_switch_websocket_upgrades_total{result="ok"} 2');
  });

  it('refuses a ticket over WebSocket exactly as over TLS', async () => {
    const t = await node();
    const a = await wsClient(t);
    const reply = await a.join(fx.ticket({ seg: 'nowhere' }), mac(1));
    expect(reply.type).toBe('error');
    await waitUntil(() => a.closed, 'close');
  });

  it('answers anything but the upgrade at /v1/el with a status and closes; refuses a missing subprotocol', async () => {
    const t = await node();
    expect(await httpExchange(t, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n')).toBe('HTTP/1.1 404 Not Found');
    expect(await httpExchange(t, `GET ${WS_PATH} HTTP/1.1\r\nHost: x\r\n\r\n`)).toBe('HTTP/1.1 426 Upgrade Required');
    expect(await httpExchange(t, 'garbage\r\n\r\n')).toBe('HTTP/1.1 400 Bad Request');
    await expect(WsRecordConn.connect(`wss://127.0.0.1:${t.node.address().port}/v1/other`, { ca: fx.caPem, servername: 'localhost' })).rejects.toMatchObject({ code: 'EL_ERR_PROTOCOL', message: expect.stringContaining('HTTP 404') });
    const noProtocol = new WebSocket(`wss://127.0.0.1:${t.node.address().port}${WS_PATH}`, [], { ca: fx.caPem, servername: 'localhost' } as WebSocket.ClientOptions);
    const status = await new Promise<number>((resolve) => {
      noProtocol.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      noProtocol.on('open', () => resolve(101));
      noProtocol.on('error', () => {});
    });
    noProtocol.terminate();
    expect(status).toBe(400);
    const refused = await t.registry.getSingleMetricAsString('el_switch_websocket_upgrades_total');
    for (const r of ['not_found', 'no_upgrade', 'bad_request', 'bad_subprotocol']) expect(refused).toContain(`result="${r}"`);
    expect(refused).not.toContain('result="ok"');
    expect(t.node.stats.sessions).toBe(0);
    expect(WS_SUBPROTOCOL).toBe('el.v1');
  });

  it('closes an HTTP connection that sends no upgrade within the handshake timeout', async () => {
    const t = await node({ handshakeTimeoutMs: 300 });
    const started = Date.now();
    expect(await httpExchange(t, '')).toBe('');
    expect(Date.now() - started).toBeLessThan(4000);
    expect(await t.registry.getSingleMetricAsString('el_switch_websocket_upgrades_total')).toContain('result="timeout"} 1');
  });
});

describe('EL over WebSocket on the plain-HTTP listener (an ingress that terminates TLS)', () => {
  /** A session over ws:// to the plain listener from `localAddress`, with an X-Forwarded-For header. */
  async function plainSession(t: TestNode, localAddress: string, forwardedFor: string | undefined, sub: string, m: number) {
    const port = t.node.websocketAddress()!.port;
    const conn = await WsRecordConn.connect(`ws://127.0.0.1:${port}${WS_PATH}`, { localAddress, ...(forwardedFor ? { headers: { 'x-forwarded-for': forwardedFor } } : {}) } as never);
    const controls: ControlMessage[] = [];
    conn.accept(RecordType.CONTROL, MAX_CONTROL_PAYLOAD);
    conn.start({ onRecord: (_t, p) => void controls.push(parseControl(p)), onError: () => {}, onClose: () => {} });
    clients.push({ destroy: () => conn.destroy() } as never);
    conn.write(encodeControl({ type: 'hello', version: 1, ticket: fx.ticket({ sub }), mac: formatMac(mac(m)) }));
    await waitUntil(() => controls.length > 0, 'welcome');
    expect(controls[0]!.type).toBe('welcome');
    return t.logs.find((l) => l.msg === 'session opened' && l.user === sub)!;
  }

  it('believes X-Forwarded-For only from the trusted ingress range, and releases the pending connection at welcome', async () => {
    const t = await node({ websocket: { listen: { host: '127.0.0.1', port: 0 }, trusted: ['127.0.0.2/32'] } });
    expect(t.node.websocketAddress()?.port).toBeGreaterThan(0);
    const fromIngress = await plainSession(t, '127.0.0.2', '203.0.113.7, 198.51.100.9', 'via-ingress', 1);
    expect(String(fromIngress.peer)).toMatch(/^198\.51\.100\.9:\d+$/);
    const forged = await plainSession(t, '127.0.0.3', '203.0.113.66', 'forger', 2);
    expect(String(forged.peer)).toMatch(/^127\.0\.0\.3:\d+$/);
    const plain = await plainSession(t, '127.0.0.2', undefined, 'no-header', 3);
    expect(String(plain.peer)).toMatch(/^127\.0\.0\.2:\d+$/);
    expect(t.node.stats.established).toBe(3);
    expect(t.node.guard.pending).toBe(0);
  });

  it('lastForwarded: the last entry, only if it is an address', () => {
    expect(lastForwarded('203.0.113.7, 198.51.100.9')).toBe('198.51.100.9');
    expect(lastForwarded(['1.2.3.4', '5.6.7.8, [fd00::1]'])).toBe('fd00::1');
    expect(lastForwarded('unknown')).toBeUndefined();
    expect(lastForwarded(undefined)).toBeUndefined();
  });
});
