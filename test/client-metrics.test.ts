/**
 * `elink connect --metrics`: the kernel client's Prometheus endpoint, real processes in
 * network namespaces against `elink up`. The client's metrics listen on its underlay
 * address (a management address) and are scraped from the root namespace: link up with
 * the session's labels; pings through the tunnel grow its frame and byte counters; its
 * TCP connection killed (ss -K), a closed session and a new one are counted and the link
 * is up again. A bad address is refused (status 2), as is a port in use (EL_ERR_LISTEN).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUnderlay, requireNetnsOrSkip, sh, type Underlay } from './lib/netns.js';
import { assertBuilt, elink, stopAll, type Proc } from './lib/processes.js';
import { startServer, type TestServer } from './lib/server.js';
import { pingEach } from './lib/ping.js';
import { sumMetric } from './lib/metrics.js';
import { until } from './lib/until.js';

const enabled = requireNetnsOrSkip();
const PORT = 9101;

describe.skipIf(!enabled)('elink connect --metrics (root, network namespaces)', () => {
  let underlay: Underlay;
  let server: TestServer;
  let client: Proc;
  let peerV4 = '';
  let metricsUrl = '';
  const ns = (name: string) => underlay.hosts.get(name)!.ns;
  const connect = (host: string, device: string, args: string[] = [], env?: NodeJS.ProcessEnv) =>
    elink(['connect', '--ifname', 'el0', ...server.connectArgs('alice'), '--device', device, ...args], { ns: ns(host), ...(env ? { env } : {}) });
  const scrape = async () => (await fetch(`${metricsUrl}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
  const metric = async (name: string, labels: Record<string, string> = {}) => sumMetric(await scrape(), name, labels);

  beforeAll(async () => {
    assertBuilt();
    underlay = createUnderlay();
    server = await startServer({ gateway: underlay.gateway, segments: [], users: [{ name: 'alice', segment: 'lab' }] });
    underlay.addHost('peer');
    const a = underlay.addHost('a');
    const peer = connect('peer', 'peer');
    peerV4 = String((await peer.waitFor((l) => l.msg === 'link up', 30_000, 'peer link up')).ipv4).split('/')[0]!;
    metricsUrl = `http://${a.address}:${PORT}`;
    client = connect('a', 'metered', ['--metrics', `${a.address}:${PORT}`]);
    await client.waitFor((l) => l.msg === 'link up', 30_000, 'metered client link up');
  });

  afterAll(async () => {
    await stopAll();
    underlay?.destroy();
    server?.destroy();
  });

  it('serves /metrics and /healthz: link up, the session labels, one session by password', async () => {
    expect(client.logs.find((l) => l.msg === 'metrics listening')?.metrics).toBe(`${underlay.hosts.get('a')!.address}:${PORT}`);
    const text = await scrape();
    expect(sumMetric(text, 'el_client_link_up')).toBe(1);
    expect(text).toMatch(/^el_client_session_info\{node="[^"]+",segment="lab",mode="l2",transport="tls"\} 1$/m);
    expect(sumMetric(text, 'el_client_sessions_total', { ticket: 'password' })).toBe(1);
    expect(sumMetric(text, 'el_client_session_start_time_seconds')).toBeGreaterThan(Date.now() / 1000 - 60);
    expect(await (await fetch(`${metricsUrl}/healthz`, { signal: AbortSignal.timeout(5000) })).json()).toEqual({ status: 'ok' });
    expect((await fetch(`${metricsUrl}/readyz`, { signal: AbortSignal.timeout(5000) })).status).toBe(200);
  });

  it('pings through the tunnel grow the frame and byte counters both ways', async () => {
    const before = await scrape();
    expect(await pingEach(ns('a'), peerV4, 5)).toEqual({ transmitted: 5, received: 5, unanswered: [] });
    const after = await scrape();
    for (const direction of ['in', 'out']) {
      expect(sumMetric(after, 'el_client_frames_total', { direction }) - sumMetric(before, 'el_client_frames_total', { direction }), direction).toBeGreaterThanOrEqual(5);
      // An echo request or reply in a frame: 98 bytes (14 Ethernet + 20 IPv4 + 8 ICMP + 56 data).
      expect(sumMetric(after, 'el_client_bytes_total', { direction }) - sumMetric(before, 'el_client_bytes_total', { direction }), direction).toBeGreaterThanOrEqual(5 * 98);
    }
  });

  it('a killed TCP connection: the lost session and the new one are counted, and the link is up again', async () => {
    const downs = client.logs.filter((l) => l.msg === 'link down').length;
    sh('ss', ['-K', 'dst', underlay.gateway, 'dport', '=', String(server.switchPort)], { ns: ns('a') });
    await client.waitFor((l) => l.msg === 'link down' && client.logs.filter((x) => x.msg === 'link down').length > downs, 10_000, 'link down');
    const text = await until(
      'a second session counted',
      async () => {
        const t = await scrape();
        return sumMetric(t, 'el_client_sessions_total') === 2 && sumMetric(t, 'el_client_link_up') === 1 ? t : undefined;
      },
      30_000,
    );
    expect(sumMetric(text, 'el_client_sessions_closed_total', { reason: 'EL_ERR_UNAVAILABLE' })).toBe(1);
    // The second session offered the same ticket again (its device key): no password.
    expect(sumMetric(text, 'el_client_sessions_total', { ticket: 'password' })).toBe(1);
    expect(await pingEach(ns('a'), peerV4, 3)).toEqual({ transmitted: 3, received: 3, unanswered: [] });
    expect(await metric('el_client_frames_total', { direction: 'in' })).toBeGreaterThanOrEqual(8);
  });

  it('a bad --metrics value (or ELINK_METRICS) exits with status 2 naming it; a port in use with EL_ERR_LISTEN', async () => {
    const bad = connect('a', 'bad', ['--metrics', 'localhost']);
    expect(await bad.exited).toBe(2);
    expect(bad.text.join('\n')).toContain('elink: EL_ERR_INVALID: --metrics (or ELINK_METRICS) must be [HOST:]PORT, e.g. 127.0.0.1:9101 or [::1]:9101, got "localhost"');
    const badEnv = connect('a', 'bad', [], { ELINK_METRICS: '127.0.0.1:http' });
    expect(await badEnv.exited).toBe(2);
    expect(badEnv.text.join('\n')).toContain('got "127.0.0.1:http"');
    const taken = connect('a', 'taken', ['--metrics', `${underlay.hosts.get('a')!.address}:${PORT}`]);
    expect(await taken.exited).toBe(1);
    expect(taken.text.join('\n')).toContain(`elink: EL_ERR_LISTEN: cannot listen on ${underlay.hosts.get('a')!.address}:${PORT} for --metrics (EADDRINUSE): another process holds the port`);
    // It stopped before logging in: the first client's session was not touched.
    expect(taken.logs.some((l) => l.msg === 'connected')).toBe(false);
    expect(await metric('el_client_link_up')).toBe(1);
  });
});
