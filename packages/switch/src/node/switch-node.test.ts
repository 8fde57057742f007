import { describe, it, expect } from 'vitest';
import { connect as netConnect } from 'node:net';
import { SwitchNode } from './switch-node.js';
import { DEFAULT_HELLO_TIMEOUT_MS } from './defaults.js';
import { waitUntil, type TestClient } from '../testing/test-client.js';
import { startNode, segment, type TestNode, useSwitchHarness } from '../testing/test-node.js';
import { BROADCAST, ethFrame, mac } from '../testing/test-frames.js';
import { pino } from 'pino';

const { fx, running, clients, node } = useSwitchHarness();

async function client(t: TestNode, opts?: { alpn?: string[]; autoPong?: boolean }): Promise<TestClient> {
  const c = await t.connect(opts);
  clients.push(c);
  return c;
}

describe('SwitchNode over real TLS', () => {
  it('welcomes a session with its addresses, MTU and keepalive', async () => {
    const t = await node({
      segments: [segment({ name: 'lan', mtu: 1400, ipv4: { pool: '198.19.0.0/16', gateway: '198.19.0.1' }, keepalive: { interval: 20, timeout: 60 } })],
    });
    const a = await client(t);
    const w = await a.join(fx.ticket({ ipv4: '198.19.0.17/16', ipv6: 'fd00:e1::17/64' }), mac(1));
    expect(w).toMatchObject({
      type: 'welcome',
      node: 'sw-test',
      segment: 'lan',
      mode: 'l2',
      mtu: 1400,
      ipv4: { address: '198.19.0.17/16', gateway: '198.19.0.1' },
      ipv6: { address: 'fd00:e1::17/64' },
      keepalive: { interval: 20, timeout: 60 },
    });
    expect(w.session).toMatch(/^s-/);
    expect(w.ipv6).not.toHaveProperty('gateway');
    expect(t.node.stats.established).toBe(1);
    expect(t.logs.some((l) => l.msg === 'session opened' && l.user === 'alice' && l.segment === 'lan' && l.session === w.session)).toBe(true);
  });

  it('lets two sessions of a segment exchange unicast and broadcast; another segment hears nothing', async () => {
    const t = await node();
    const a = await client(t);
    const b = await client(t);
    const x = await client(t);
    await a.join(fx.ticket({ sub: 'a' }), mac(1));
    await b.join(fx.ticket({ sub: 'b' }), mac(2));
    await x.join(fx.ticket({ sub: 'x', seg: 'other' }), mac(3));

    a.sendFrames([ethFrame(BROADCAST, mac(1), 'bcast from a')]);
    await waitUntil(() => b.frames.length === 1, 'broadcast at b');
    a.sendFrames([ethFrame(mac(2), mac(1), 'a to b 1'), ethFrame(mac(2), mac(1), 'a to b 2')]);
    b.sendFrames([ethFrame(mac(1), mac(2), 'b to a')]);
    b.sendFrames([ethFrame(0x333300000001, mac(2), 'mcast from b')]);
    await waitUntil(() => b.frames.length === 3 && a.frames.length === 2, 'unicast both ways');
    expect(b.payloads()).toEqual(['bcast from a', 'a to b 1', 'a to b 2']);
    expect(a.payloads()).toEqual(['b to a', 'mcast from b']);

    // Give stray frames a chance to arrive before asserting absence.
    await new Promise((r) => setTimeout(r, 50));
    expect(x.frames).toEqual([]);
    const s = t.node.stats;
    expect(s.traffic.framesIn).toBe(5);
    expect(s.traffic.framesOut).toBe(5);
  });

  it('supersedes the old session of the same user and device holding the MAC', async () => {
    const t = await node();
    const old = await client(t);
    await old.join(fx.ticket({ sub: 'a', dev: 'phone' }), mac(1));
    const fresh = await client(t);
    await fresh.join(fx.ticket({ sub: 'a', dev: 'phone' }), mac(1));
    await waitUntil(() => old.closed, 'old session closed');
    expect(old.controls.at(-1)).toEqual({ type: 'bye', reason: 'superseded' });
    const other = await client(t);
    other.hello(fx.ticket({ sub: 'mallory', dev: 'phone' }), mac(1));
    expect((await other.expectError()).code).toBe('EL_ERR_MAC_IN_USE');
    await waitUntil(() => t.node.stats.closed.superseded === 1, 'close counted');
  });

  it('refuses sessions beyond maxSessions with EL_ERR_UNAVAILABLE', async () => {
    const t = await node({ maxSessions: 1 });
    const a = await client(t);
    await a.join(fx.ticket(), mac(1));
    const b = await client(t);
    expect((await b.expectError()).code).toBe('EL_ERR_UNAVAILABLE');
    expect(a.closed).toBe(false);
  });

  it('closes a TLS connection that offered only protocols other than el/1 and http/1.1', async () => {
    const t = await node();
    // (No ALPN at all is HTTP: EL over WebSocket, ws-upgrade.test.ts.)
    await expect(client(t, { alpn: ['h2'] })).rejects.toThrow(/no application protocol/i);
    expect(t.node.stats.sessions).toBe(0);
  });

  it('survives a plain-TCP garbage client and a silent one (handshake timeout)', async () => {
    const t = await node({ handshakeTimeoutMs: 300 });
    const good = await client(t);
    await good.join(fx.ticket(), mac(1));
    const closedSockets = await Promise.all(
      [Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'), Buffer.alloc(0)].map(
        (bytes) =>
          new Promise<boolean>((resolve) => {
            const s = netConnect(t.node.address().port, '127.0.0.1', () => s.write(bytes));
            s.on('error', () => {});
            s.on('close', () => resolve(true));
            setTimeout(() => resolve(false), 3000).unref();
            s.resume();
          }),
      ),
    );
    expect(closedSockets).toEqual([true, true]);
    good.send({ type: 'ping', id: 42 });
    await waitUntil(() => good.controls.some((c) => c.type === 'pong' && c.id === 42), 'pong');
  });

  it('sends bye to every session on stop() and resolves when the sockets are gone', async () => {
    const t = await startNode(fx);
    const a = await t.connect();
    const b = await t.connect();
    await a.join(fx.ticket(), mac(1));
    await b.join(fx.ticket(), mac(2));
    await t.node.stop('maintenance');
    await waitUntil(() => a.closed && b.closed, 'clients closed');
    expect(a.controls.at(-1)).toEqual({ type: 'bye', reason: 'maintenance' });
    expect(b.controls.at(-1)).toEqual({ type: 'bye', reason: 'maintenance' });
    expect(t.node.stats.sessions).toBe(0);
    expect(t.node.stats.closed.maintenance).toBe(2);
    const closes = t.logs.filter((l) => l.msg === 'session closed');
    expect(closes).toHaveLength(2);
    expect(closes[0]).toMatchObject({ level: 30, user: 'alice', segment: 'lan', reason: 'maintenance', bytesIn: 0 });
    expect(closes[0]).toHaveProperty('durationMs');
    expect(closes[0]).toHaveProperty('peer');
  });

  it('exposes the metrics by their names', async () => {
    const t = await node();
    const a = await client(t);
    const b = await client(t);
    await a.join(fx.ticket(), mac(1));
    await b.join(fx.ticket(), mac(2));
    a.sendFrames([ethFrame(BROADCAST, mac(1), 'x'), ethFrame(BROADCAST, mac(9), 'spoof')]);
    await waitUntil(() => b.frames.length === 1 && t.node.stats.drops.src_mismatch === 1, 'frame and drop');
    const text = await t.registry.metrics();
    expect(text).toContain('el_switch_sessions{segment="lan"} 2');
    expect(text).toContain('el_switch_sessions_opened_total 2');
    expect(text).toContain('el_switch_frames_total{direction="in"} 2');
    expect(text).toContain('el_switch_frames_total{direction="out"} 1');
    expect(text).toContain('el_switch_bytes_total{direction="out"} 15');
    expect(text).toContain('el_switch_frames_dropped_total{reason="src_mismatch"} 1');
    expect(text).toContain('el_switch_mac_table_entries{segment="lan"} 0');
    expect(text).toContain('el_switch_mac_table_evictions_total{segment="lan"} 0');
    expect(text).toContain('el_switch_mac_table_moves_total{segment="lan"} 0');
    a.destroy();
    await waitUntil(() => t.node.stats.established === 1, 'close seen');
    const after = await t.registry.metrics();
    expect(after).toContain('el_switch_sessions_closed_total{reason="peer_closed"} 1');
    expect(after).toContain('el_switch_frames_total{direction="in"} 2'); // kept after the session is gone
  });

  it('defaults the hello timeout to 5 s', () => {
    const n = new SwitchNode({
      nodeId: 'x',
      listen: { host: '127.0.0.1', port: 0 },
      tls: { cert: fx.certPem, key: fx.keyPem },
      segments: [],
      ticketKeys: () => [],
      logger: pino({ level: 'silent' }),
    });
    expect(DEFAULT_HELLO_TIMEOUT_MS).toBe(5000);
    expect(n.helloTimeoutMs).toBe(5000);
    expect(n.maxSessions).toBe(20_000);
    expect(n.writeTimeoutMs).toBe(15_000);
  });
});
