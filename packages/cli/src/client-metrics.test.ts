/**
 * The clients' metrics: the values are the client's own counters, read at scrape time (a
 * real KernelClient and a real SegmentStack, not started; then stats objects of the
 * client's types changed between scrapes), a source without the device part (its series
 * left out), and the --metrics listener: its address checked, a port in use refused
 * with EL_ERR_LISTEN, /metrics and the probes over real HTTP.
 */
import { createServer, type Server } from 'node:net';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { KernelClient, type ConnectorStats } from '@elink/client';
import { SegmentStack } from '@elink/stack';
import type { ProxyStats } from '@elink/proxy';
import { kernelClientSource, parseMetricsAddress, registerClientMetrics, stackClientSource, startClientMetrics, type ClientEndDrops, type ClientMetricsSource, type ClientSession } from './client-metrics.js';

const logger = pino({ level: 'silent' });

/** One sample of `name` in Prometheus text, by exact labels; undefined if absent. */
function sample(text: string, name: string, labels = ''): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels ? `{${labels}}` : ''} `));
  return line === undefined ? undefined : Number(line.split(' ').pop());
}

function fakeSource() {
  const [sessions, connectFailures, sessionsClosed] = [{ password: 0, device: 0, reused: 0 }, new Map<string, number>(), new Map<string, number>()];
  const connector: ConnectorStats = {
    sessions,
    connectFailures,
    sessionsClosed,
    lastUpAt: undefined,
    traffic: { framesIn: 0, framesOut: 0, bytesIn: 0, bytesOut: 0, drops: { queue_full: 0, slow_peer: 0, bad_gso: 0 } },
  };
  const device: { whileDown: number; in: ClientEndDrops['in'] } = { whileDown: 0, in: { no_device: 0, bad_gso: 0, device_drop: 0, queue_full: 0 } };
  const state: { session: ClientSession | undefined } = { session: undefined };
  const src: ClientMetricsSource = { session: () => state.session, connector: () => connector, device: () => device };
  return { src, connector, device, state, sessions, connectFailures, sessionsClosed };
}

describe('client metrics', () => {
  it("a real client before its first session: link down, no session, every counter 0", async () => {
    const client = new KernelClient({ broker: 'https://127.0.0.1:1', credentials: { user: 'u', password: 'p' }, logger });
    const registry = new Registry();
    registerClientMetrics(registry, kernelClientSource(client));
    const text = await registry.metrics();
    expect(sample(text, 'el_client_link_up')).toBe(0);
    expect(text).not.toMatch(/^el_client_session_info\{/m);
    expect(sample(text, 'el_client_sessions_total', 'ticket="password"')).toBe(0);
    expect(sample(text, 'el_client_session_start_time_seconds')).toBe(0);
    expect(sample(text, 'el_client_frames_total', 'direction="in"')).toBe(0);
    expect(sample(text, 'el_client_frames_dropped_total', 'direction="out",reason="link_down"')).toBe(0);
    expect(sample(text, 'el_client_frames_dropped_total', 'direction="in",reason="no_device"')).toBe(0);
  });

  /** el_client_frames_dropped_total's samples, by their labels. */
  const dropSamples = (text: string) =>
    Object.fromEntries(
      text
        .split('\n')
        .filter((l) => l.startsWith('el_client_frames_dropped_total{'))
        .map((l) => [l.slice(l.indexOf('{'), l.indexOf('}') + 1), Number(l.split(' ').pop())]),
    );

  it('a source without the device part: its drop series are absent (not 0), every other series present', async () => {
    const { src, connector, state, sessions } = fakeSource();
    const registry = new Registry();
    registerClientMetrics(registry, { session: src.session, connector: src.connector });
    state.session = { node: 'sw-1', segment: 'lab', mode: 'l2', transport: 'tls' };
    sessions.device = 2;
    connector.traffic = { framesIn: 3, framesOut: 4, bytesIn: 300, bytesOut: 400, drops: { queue_full: 1, slow_peer: 0, bad_gso: 0 } };
    const text = await registry.metrics();
    expect(dropSamples(text)).toEqual({
      '{direction="out",reason="queue_full"}': 1,
      '{direction="out",reason="slow_peer"}': 0,
      '{direction="out",reason="bad_gso"}': 0,
    });
    expect(sample(text, 'el_client_link_up')).toBe(1);
    expect(sample(text, 'el_client_session_info', 'node="sw-1",segment="lab",mode="l2",transport="tls"')).toBe(1);
    expect(sample(text, 'el_client_sessions_total', 'ticket="device"')).toBe(2);
    expect(sample(text, 'el_client_session_start_time_seconds')).toBe(0);
    expect(sample(text, 'el_client_frames_total', 'direction="out"')).toBe(4);
    expect(sample(text, 'el_client_bytes_total', 'direction="in"')).toBe(300);
  });

  it("elink proxy's source, a real stack before its first session: its own drops (link_down, in bad_gso and stack_drop), none of the kernel device's", async () => {
    const stack = new SegmentStack({ broker: 'https://127.0.0.1:1', credentials: { user: 'u', password: 'p' }, logger });
    try {
      const registry = new Registry();
      registerClientMetrics(registry, stackClientSource(stack));
      const text = await registry.metrics();
      expect(sample(text, 'el_client_link_up')).toBe(0);
      expect(text).not.toMatch(/^el_client_session_info\{/m);
      expect(sample(text, 'el_client_sessions_total', 'ticket="password"')).toBe(0);
      expect(sample(text, 'el_client_frames_total', 'direction="in"')).toBe(0);
      expect(dropSamples(text)).toEqual({
        '{direction="out",reason="link_down"}': 0,
        '{direction="out",reason="queue_full"}': 0,
        '{direction="out",reason="slow_peer"}': 0,
        '{direction="out",reason="bad_gso"}': 0,
        '{direction="in",reason="bad_gso"}': 0,
        '{direction="in",reason="stack_drop"}': 0,
      });

      // The stack's input drops split: unsplittable super-frames (bad_gso), the rest lwIP's (stack_drop).
      const stats = { droppedWhileDown: 5, inputDrops: 9, superFrameDrops: 2 };
      const counted = new Registry();
      registerClientMetrics(counted, stackClientSource({ connector: stack.connector, stats }));
      const drops = dropSamples(await counted.metrics());
      expect(drops['{direction="out",reason="link_down"}']).toBe(5);
      expect(drops['{direction="in",reason="bad_gso"}']).toBe(2);
      expect(drops['{direction="in",reason="stack_drop"}']).toBe(7);
      // No proxy series without the listeners' part (and for the kernel clients).
      expect(text).not.toMatch(/^el_proxy_/m);
    } finally {
      await stack.stop('test done');
    }
  });

  it("elink proxy's listeners: open connections, and accepted and refused ones per listener, as they are at each scrape", async () => {
    const stack = new SegmentStack({ broker: 'https://127.0.0.1:1', credentials: { user: 'u', password: 'p' }, logger });
    try {
      let stats: ProxyStats | undefined;
      const registry = new Registry();
      registerClientMetrics(registry, stackClientSource(stack, () => stats));
      // Before the listeners are up: the gauge 0, no counter series yet.
      let text = await registry.metrics();
      expect(sample(text, 'el_proxy_connections')).toBe(0);
      expect(text).not.toMatch(/^el_proxy_connections_total\{/m);
      stats = { open: 3, accepted: { http: 7, socks: 2, local: 1, remote: 0 }, refused: { http: 4, socks: 1, local: 0, remote: 0 } };
      text = await registry.metrics();
      expect(sample(text, 'el_proxy_connections')).toBe(3);
      expect(sample(text, 'el_proxy_connections_total', 'listener="http",result="accepted"')).toBe(7);
      expect(sample(text, 'el_proxy_connections_total', 'listener="socks",result="accepted"')).toBe(2);
      expect(sample(text, 'el_proxy_connections_total', 'listener="local",result="accepted"')).toBe(1);
      expect(sample(text, 'el_proxy_connections_total', 'listener="remote",result="accepted"')).toBe(0);
      expect(sample(text, 'el_proxy_connections_total', 'listener="http",result="refused"')).toBe(4);
      expect(sample(text, 'el_proxy_connections_total', 'listener="socks",result="refused"')).toBe(1);
      stats = { ...stats, open: 0, accepted: { ...stats.accepted, http: 8 } };
      text = await registry.metrics();
      expect(sample(text, 'el_proxy_connections')).toBe(0);
      expect(sample(text, 'el_proxy_connections_total', 'listener="http",result="accepted"')).toBe(8);
    } finally {
      await stack.stop('test done');
    }
  });

  it('every scrape reads the stats as they are now', async () => {
    const { src, connector, device, state, sessions, connectFailures, sessionsClosed } = fakeSource();
    const registry = new Registry();
    registerClientMetrics(registry, src);

    state.session = { node: 'sw-1', segment: 'lab', mode: 'l2', transport: 'tls' };
    sessions.password = 1;
    connector.lastUpAt = 1_700_000_000_500;
    connector.traffic = { framesIn: 7, framesOut: 9, bytesIn: 700, bytesOut: 900, drops: { queue_full: 1, slow_peer: 2, bad_gso: 3 } };
    device.whileDown = 4;
    device.in = { no_device: 5, bad_gso: 6, device_drop: 7, queue_full: 8 };
    let text = await registry.metrics();
    expect(sample(text, 'el_client_link_up')).toBe(1);
    expect(sample(text, 'el_client_session_info', 'node="sw-1",segment="lab",mode="l2",transport="tls"')).toBe(1);
    expect(sample(text, 'el_client_sessions_total', 'ticket="password"')).toBe(1);
    expect(sample(text, 'el_client_session_start_time_seconds')).toBe(1_700_000_000.5);
    expect(sample(text, 'el_client_frames_total', 'direction="in"')).toBe(7);
    expect(sample(text, 'el_client_frames_total', 'direction="out"')).toBe(9);
    expect(sample(text, 'el_client_bytes_total', 'direction="in"')).toBe(700);
    expect(sample(text, 'el_client_bytes_total', 'direction="out"')).toBe(900);
    expect(dropSamples(text)).toEqual({
      '{direction="out",reason="link_down"}': 4,
      '{direction="out",reason="queue_full"}': 1,
      '{direction="out",reason="slow_peer"}': 2,
      '{direction="out",reason="bad_gso"}': 3,
      '{direction="in",reason="no_device"}': 5,
      '{direction="in",reason="bad_gso"}': 6,
      '{direction="in",reason="device_drop"}': 7,
      '{direction="in",reason="queue_full"}': 8,
    });

    // The session lost, a failed attempt, then a new one on another node over WebSocket.
    state.session = undefined;
    sessionsClosed.set('EL_ERR_UNAVAILABLE', 1);
    connectFailures.set('EL_ERR_NO_NODE', 2);
    text = await registry.metrics();
    expect(sample(text, 'el_client_link_up')).toBe(0);
    expect(text).not.toMatch(/^el_client_session_info\{/m);
    expect(sample(text, 'el_client_sessions_closed_total', 'reason="EL_ERR_UNAVAILABLE"')).toBe(1);
    expect(sample(text, 'el_client_connect_failures_total', 'code="EL_ERR_NO_NODE"')).toBe(2);

    state.session = { node: 'sw-2', segment: 'lab', mode: 'l2', transport: 'ws' };
    sessions.reused = 1;
    text = await registry.metrics();
    expect(sample(text, 'el_client_link_up')).toBe(1);
    expect(text.match(/^el_client_session_info\{.*$/gm)).toEqual(['el_client_session_info{node="sw-2",segment="lab",mode="l2",transport="ws"} 1']);
    expect(sample(text, 'el_client_sessions_total', 'ticket="reused"')).toBe(1);
    expect(sample(text, 'el_client_sessions_total', 'ticket="password"')).toBe(1);
  });

  it('--metrics takes [HOST:]PORT; anything else is EL_ERR_INVALID naming the flag and the variable', () => {
    expect(parseMetricsAddress('9101')).toEqual({ host: '127.0.0.1', port: 9101 });
    expect(parseMetricsAddress('10.0.0.5:9101')).toEqual({ host: '10.0.0.5', port: 9101 });
    expect(parseMetricsAddress('[::1]:9101')).toEqual({ host: '::1', port: 9101 });
    for (const bad of ['', 'localhost', '1.2.3.4:', '1.2.3.4:65536', 'a:b:c', '::1:9101', 'http://127.0.0.1:9101']) {
      expect(() => parseMetricsAddress(bad), bad).toThrow(expect.objectContaining({ code: 'EL_ERR_INVALID', message: expect.stringContaining('--metrics (or ELINK_METRICS) must be [HOST:]PORT') }));
    }
  });

  it('serves /metrics, /healthz and /readyz (ready while a session is up) on the address given', async () => {
    const { src, state } = fakeSource();
    const app = await startClientMetrics({ host: '127.0.0.1', port: 0 }, src, logger);
    const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
    try {
      const text = await (await fetch(`${base}/metrics`)).text();
      expect(sample(text, 'el_client_link_up')).toBe(0);
      // Its own registry: the process metrics and the build, nothing of another registry.
      expect(text).toMatch(/^process_resident_memory_bytes /m);
      expect(text).toMatch(/^el_build_info\{/m);
      expect(text).toMatch(/^el_log_lines_dropped_total 0$/m);
      expect(text).not.toMatch(/^el_switch_/m);
      expect(await (await fetch(`${base}/healthz`)).json()).toEqual({ status: 'ok' });
      expect((await fetch(`${base}/readyz`)).status).toBe(503);
      state.session = { node: 'sw-1', segment: 'lab', mode: 'l3', transport: 'tls' };
      expect((await fetch(`${base}/readyz`)).status).toBe(200);
    } finally {
      await app.close();
    }
  });

  it('a port in use is EL_ERR_LISTEN naming the address and what to do', async () => {
    const holder: Server = createServer();
    await new Promise<void>((r) => holder.listen(0, '127.0.0.1', r));
    const { port } = holder.address() as { port: number };
    try {
      await expect(startClientMetrics({ host: '127.0.0.1', port }, fakeSource().src, logger)).rejects.toMatchObject({
        code: 'EL_ERR_LISTEN',
        message: `cannot listen on 127.0.0.1:${port} for --metrics (EADDRINUSE): another process holds the port; choose another [HOST:]PORT with --metrics or ELINK_METRICS`,
      });
    } finally {
      await new Promise((r) => holder.close(r));
    }
  });
});
