/**
 * `elink connect` and `elink proxy` `--metrics [HOST:]PORT`: a client's Prometheus metrics
 * on the admin server of the serving commands (/metrics, /healthz, /readyz), in a registry
 * of its own. Every value is read from the client's counters when scraped (collect()); the
 * data path counts nothing more for them.
 */
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { Connector, ConnectorStats, KernelClient } from '@elink/client';
import { ElError } from '@elink/protocol';
import { setAll } from '@elink/switch';
import { parseListenAddress, type ProxyStats } from '@elink/proxy';
import { createAdminServer } from './admin-server.js';
import { BIND_CAUSES } from './listen-error.js';
import { registerBuildInfo } from './version.js';
import { registerLogMetrics, stdoutLog } from './log-output.js';

/** The session up now: the labels of el_client_session_info. */
export interface ClientSession {
  node: string;
  segment: string;
  mode: string;
  transport: string;
}

/** The drops counted at the client's own end of the tunnel: the kernel client's device, or
 * the user-mode client's in-process stack. */
export interface ClientEndDrops {
  /** Frames to send produced while no session was up: out, link_down. */
  whileDown: number;
  /** Frames from the switch the end did not take, by reason: in. */
  in: Readonly<Record<string, number>>;
}

export interface ClientMetricsSource {
  /** The session with a switch node, while one is up. */
  session(): ClientSession | undefined;
  connector(): ConnectorStats;
  /** Absent where the client counts no such drops: their series are left out, not 0. */
  device?(): ClientEndDrops;
  /** elink proxy's listeners (el_proxy_*), once they listen; absent for the kernel clients. */
  proxy?(): ProxyStats | undefined;
}

/** The session up now on `connector`, as el_client_session_info's labels. */
function currentSession(connector: Connector): ClientSession | undefined {
  const link = connector.current;
  return link && { node: link.welcome.node, segment: link.welcome.segment, mode: link.welcome.mode, transport: link.transport };
}

export function kernelClientSource(client: KernelClient): ClientMetricsSource {
  return {
    session: () => currentSession(client.connector),
    connector: () => client.connector.stats,
    device() {
      const st = client.stats;
      return { whileDown: st.droppedWhileDown, in: { ...st.deviceWriteDropsBy } };
    },
  };
}

/** What `elink proxy` has: the stack's Connector and the stack's own drop counters. */
export interface StackClient {
  readonly connector: Connector;
  readonly stats: { droppedWhileDown: number; inputDrops: number; superFrameDrops: number };
}

/** The user-mode client (elink proxy): the in-process stack stands where the device is;
 * `proxy` gives its listeners' counts once they listen. */
export function stackClientSource(stack: StackClient, proxy?: () => ProxyStats | undefined): ClientMetricsSource {
  return {
    ...(proxy ? { proxy } : {}),
    session: () => currentSession(stack.connector),
    connector: () => stack.connector.stats,
    device() {
      const st = stack.stats;
      // inputDrops counts the unsplittable super-frames too: stack_drop is lwIP's share.
      return { whileDown: st.droppedWhileDown, in: { bad_gso: st.superFrameDrops, stack_drop: st.inputDrops - st.superFrameDrops } };
    },
  };
}

export function registerClientMetrics(registry: Registry, src: ClientMetricsSource): void {
  const registers = [registry];
  new Gauge({
    name: 'el_client_link_up',
    help: '1 while a session with a switch node is up (welcome received, not yet lost), else 0.',
    registers,
    collect() {
      this.set(src.session() ? 1 : 0);
    },
  });
  new Gauge({
    name: 'el_client_session_info',
    help: 'Always 1, while a session is up: the labels say which switch node, segment, mode (l2/l3) and transport (tls/ws) it uses.',
    labelNames: ['node', 'segment', 'mode', 'transport'],
    registers,
    collect() {
      this.reset();
      const s = src.session();
      if (s) this.set({ ...s }, 1);
    },
  });
  new Counter({
    name: 'el_client_sessions_total',
    help: 'Sessions established (welcome received), by how the ticket was got: password (a password login), device (a device-key login), reused (the last ticket offered again, with the resume proof where the node gave one). More than one: reconnects.',
    labelNames: ['ticket'],
    registers,
    collect() {
      setAll(this, Object.entries(src.connector().sessions).map(([ticket, v]) => [{ ticket }, v]));
    },
  });
  new Counter({
    name: 'el_client_connect_failures_total',
    help: 'Attempts at a session that failed (broker or switch node), by EL_ERR_* code; each is followed by a backoff, or ends the client if permanent.',
    labelNames: ['code'],
    registers,
    collect() {
      setAll(this, [...src.connector().connectFailures].map(([code, v]) => [{ code }, v]));
    },
  });
  new Counter({
    name: 'el_client_sessions_closed_total',
    help: 'Established sessions that ended, by reason: an EL_ERR_* code (EL_ERR_UNAVAILABLE: connection lost or closed by the switch), or stopped (the client stopped).',
    labelNames: ['reason'],
    registers,
    collect() {
      setAll(this, [...src.connector().sessionsClosed].map(([reason, v]) => [{ reason }, v]));
    },
  });
  new Gauge({
    name: 'el_client_session_start_time_seconds',
    help: 'Unix time the current (or last) session got its welcome; 0 before the first. Session uptime: time() - this, while el_client_link_up is 1.',
    registers,
    collect() {
      const at = src.connector().lastUpAt;
      this.set(at === undefined ? 0 : at / 1000);
    },
  });
  new Counter({
    name: 'el_client_frames_total',
    help: 'Frames over the tunnel, every session: received from the switch (in), sent to it (out). A TCP or UDP super-frame counts one.',
    labelNames: ['direction'],
    registers,
    collect() {
      const t = src.connector().traffic;
      setAll(this, [[{ direction: 'in' }, t.framesIn], [{ direction: 'out' }, t.framesOut]]);
    },
  });
  new Counter({
    name: 'el_client_bytes_total',
    help: 'Frame bytes (FRAME and FRAME_GSO payloads) received from (in) and sent to (out) the switch, every session.',
    labelNames: ['direction'],
    registers,
    collect() {
      const t = src.connector().traffic;
      setAll(this, [[{ direction: 'in' }, t.bytesIn], [{ direction: 'out' }, t.bytesOut]]);
    },
  });
  new Counter({
    name: 'el_client_frames_dropped_total',
    help: 'Frames dropped by the client. out (device or stack to switch): link_down (produced while no session was up), queue_full, slow_peer (the socket held too much unsent), bad_gso (a super-frame that could not be segmented). in (switch to device or stack): no_device (before the device was open), bad_gso (a super-frame the device or stack could not take), device_drop (the device refused it), queue_full, stack_drop (elink proxy: the in-process stack did not take it: not configured yet, too large, buffers exhausted, malformed).',
    labelNames: ['direction', 'reason'],
    registers,
    collect() {
      const out = src.connector().traffic.drops;
      const dev = src.device?.();
      setAll(this, [
        ...(dev ? [[{ direction: 'out', reason: 'link_down' }, dev.whileDown] as [Record<string, string>, number]] : []),
        ...Object.entries(out).map(([reason, v]): [Record<string, string>, number] => [{ direction: 'out', reason }, v]),
        ...Object.entries(dev?.in ?? {}).map(([reason, v]): [Record<string, string>, number] => [{ direction: 'in', reason }, v]),
      ]);
    },
  });
  if (!src.proxy) return;
  const proxy = src.proxy;
  new Gauge({
    name: 'el_proxy_connections',
    help: 'elink proxy: client connections open now, all listeners together (bounded by --max-connections).',
    registers,
    collect() {
      this.set(proxy()?.open ?? 0);
    },
  });
  new Counter({
    name: 'el_proxy_connections_total',
    help: 'elink proxy: client connections by listener (http, socks, local for -L, remote for -R) and result: accepted, or refused because --max-connections were open (HTTP gets 503, the others are closed).',
    labelNames: ['listener', 'result'],
    registers,
    collect() {
      const st = proxy();
      if (!st) return;
      setAll(this, (['accepted', 'refused'] as const).flatMap((result) => Object.entries(st[result]).map(([listener, v]): [Record<string, string>, number] => [{ listener, result }, v])));
    },
  });
}

/** --metrics / ELINK_METRICS: [HOST:]PORT (HOST defaults to 127.0.0.1, IPv6 in brackets). */
export function parseMetricsAddress(value: string): { host: string; port: number } {
  try {
    return parseListenAddress('--metrics', value);
  } catch {
    throw new ElError('EL_ERR_INVALID', `--metrics (or ELINK_METRICS) must be [HOST:]PORT, e.g. 127.0.0.1:9101 or [::1]:9101, got "${value}"`);
  }
}

/**
 * The registry, the client's metrics in it, and the admin server listening on `address`;
 * a bind failure is EL_ERR_LISTEN naming the flag. No authentication: bind it to loopback
 * or a management address only.
 */
export async function startClientMetrics(address: { host: string; port: number }, src: ClientMetricsSource, logger: Logger): Promise<FastifyInstance> {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  registerBuildInfo(registry);
  registerLogMetrics(registry, stdoutLog());
  registerClientMetrics(registry, src);
  const app = createAdminServer({ registry, logger, ready: () => (src.session() ? [] : ['no session with a switch node']) });
  try {
    await app.listen({ host: address.host, port: address.port });
  } catch (e) {
    await app.close().catch(() => undefined);
    const code = (e as NodeJS.ErrnoException).code ?? '';
    const cause = BIND_CAUSES[code];
    throw new ElError('EL_ERR_LISTEN', `cannot listen on ${authority(address.host, address.port)} for --metrics (${code || (e as Error).message}): ${cause ? `${cause}; choose` : 'choose'} another [HOST:]PORT with --metrics or ELINK_METRICS`, { cause: e });
  }
  const bound = app.server.address();
  // The port taken, for --metrics HOST:0.
  if (bound && typeof bound === 'object') logger.info({ metrics: authority(bound.address, bound.port) }, 'metrics listening');
  return app;
}

const authority = (host: string, port: number) => (host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`);
