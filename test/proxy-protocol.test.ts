/**
 * PROXY protocol on the switch's client port behind a real HAProxy (TCP mode), end to end
 * with the built `elink up` (issue 10):
 *
 * - HAProxy connects to the switch from 127.0.0.2 (`source`), the only trusted range;
 *   clients connect to HAProxy from 127.0.0.77. Through `send-proxy-v2` and through
 *   `send-proxy` (v1) a session gets its welcome, and the switch's `session opened` log
 *   names 127.0.0.77, not HAProxy.
 * - A direct connection from the trusted range without a header is refused (reason missing).
 * - A stranger (127.0.0.1, untrusted) sending a PROXY header to name another source is
 *   refused (reason untrusted); its plain TLS connections still work.
 * - The broker behind the same HAProxy (send-proxy-v2): the challenge rate limit counts
 *   per real client, so 127.0.0.77 is limited (429) while 127.0.0.78 behind the same
 *   HAProxy still gets challenges; a headerless connection from the trusted range is refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { connect as netConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { ALPN, encodeControl, type LoginReply } from '@elink/protocol';
import { fetchMetric } from './lib/metrics.js';
import { assertBuilt, elink, freePort, stopAll, type Proc } from './lib/processes.js';
import { openRaw } from './lib/raw-session.js';
import { initState, postLogin } from './lib/server.js';

const LB_SOURCE = '127.0.0.2';
const CLIENT = '127.0.0.77';

let state: string;
let ca: Buffer;
let proc: Proc;
let haproxy: ChildProcess | undefined;
const ports = { broker: 0, switch: 0, admin: 0, v2: 0, v1: 0, brokerLb: 0 };
const CHALLENGES = 3;

/** GET /v1/challenge on `port` from `localAddress`, a new connection each time; the HTTP status, or 0 if the connection failed. */
function challenge(port: number, localAddress: string): Promise<number> {
  return new Promise((resolve) => {
    const req = request(
      { host: '127.0.0.1', port, localAddress, path: '/v1/challenge', method: 'GET', ca, servername: 'localhost', checkServerIdentity: () => undefined, agent: new Agent({ keepAlive: false }), timeout: 10_000 },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', () => resolve(0));
    req.end();
  });
}

function login(device: string): Promise<LoginReply> {
  return postLogin({ host: '127.0.0.1', port: ports.broker, ca, servername: 'localhost', checkServerIdentity: () => undefined, agent: new Agent({ keepAlive: false }) }, device);
}

const metric = (name: string, labels: Record<string, string>): Promise<number> => fetchMetric(`http://127.0.0.1:${ports.admin}`, name, labels);

/** Waits (bounded) until `port` on 127.0.0.1 accepts TCP. */
async function listening(port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = netConnect(port, '127.0.0.1');
      s.once('connect', () => (s.destroy(), resolve(true)));
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on ${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A TLS connection attempt to the switch port; resolves true if the handshake completed. */
function handshake(opts: { localAddress: string; prefix?: Buffer; port?: number }): Promise<boolean> {
  return new Promise((resolve) => {
    const plain = netConnect({ port: opts.port ?? ports.switch, host: '127.0.0.1', localAddress: opts.localAddress });
    plain.on('error', () => undefined);
    plain.once('connect', () => {
      if (opts.prefix) plain.write(opts.prefix);
      const t = tlsConnect({ socket: plain, ca, ...(opts.port ? {} : { ALPNProtocols: [ALPN] }), checkServerIdentity: () => undefined });
      const timer = setTimeout(() => (t.destroy(), resolve(false)), 10_000);
      t.on('error', () => undefined);
      t.once('secureConnect', () => (clearTimeout(timer), t.destroy(), resolve(true)));
      t.once('close', () => (clearTimeout(timer), resolve(false)));
    });
  });
}

async function sessionVia(port: number, device: string): Promise<void> {
  const reply = await login(device);
  const raw = await openRaw('127.0.0.1', port, ca, CLIENT);
  raw.socket.write(encodeControl({ type: 'hello', version: 1, ticket: reply.ticket }));
  await raw.next('welcome');
  const opened = await proc.waitFor((l) => l.msg === 'session opened' && l.device === device, 10_000, `session opened for ${device}`);
  expect(String(opened.peer)).toMatch(new RegExp(`^${CLIENT.replaceAll('.', '\\.')}:\\d+$`));
  // Welcomed under its real address: no longer pending (ConnectionGuard.readmit moved it off
  // HAProxy's). Polled for a bounded while: an earlier case's probe, closed by its client,
  // may still be counted until the switch has seen the close (it stays 1 if readmit leaks).
  const deadline = Date.now() + 5_000;
  let pending = await metric('el_listener_pending_connections', { listener: 'switch' });
  while (pending !== 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    pending = await metric('el_listener_pending_connections', { listener: 'switch' });
  }
  expect(pending).toBe(0);
  raw.socket.destroy();
  await raw.closed;
}

beforeAll(async () => {
  assertBuilt();
  state = initState('elink-proxy-', [{ name: 'alice' }]);
  Object.assign(ports, { broker: await freePort(), switch: await freePort(), admin: await freePort(), v2: await freePort(), v1: await freePort(), brokerLb: await freePort() });
  const file = join(state, 'elink.yaml');
  const doc = parseDocument(readFileSync(file, 'utf8'));
  doc.setIn(['broker', 'listen'], doc.createNode({ host: '127.0.0.1', port: ports.broker }));
  doc.setIn(['switch', 'listen'], doc.createNode({ host: '127.0.0.1', port: ports.switch }));
  doc.setIn(['switch', 'advertise'], '127.0.0.1');
  doc.setIn(['switch', 'drainSeconds'], 0);
  doc.setIn(['switch', 'proxyProtocol'], doc.createNode({ trusted: [`${LB_SOURCE}/32`] }));
  doc.setIn(['broker', 'proxyProtocol'], doc.createNode({ trusted: [`${LB_SOURCE}/32`] }));
  doc.setIn(['broker', 'rateLimit'], doc.createNode({ challenges: CHALLENGES, window: 600 }));
  doc.setIn(['admin'], doc.createNode({ host: '127.0.0.1', port: ports.admin }));
  writeFileSync(file, doc.toString());
  ca = readFileSync(join(state, 'ca.pem'));
  proc = elink(['up', '--state', state]);
  await proc.waitFor((l) => l.msg === 'emotion link started', 30_000, 'elink up start');

  const cfg = join(state, 'haproxy.cfg');
  writeFileSync(
    cfg,
    [
      'global',
      '  maxconn 100',
      'defaults',
      '  mode tcp',
      '  timeout connect 5s',
      '  timeout client 30s',
      '  timeout server 30s',
      `frontend fe_v2`,
      `  bind 127.0.0.1:${ports.v2}`,
      '  default_backend be_v2',
      `frontend fe_v1`,
      `  bind 127.0.0.1:${ports.v1}`,
      '  default_backend be_v1',
      `frontend fe_broker`,
      `  bind 127.0.0.1:${ports.brokerLb}`,
      '  default_backend be_broker',
      'backend be_broker',
      `  server br 127.0.0.1:${ports.broker} send-proxy-v2 source ${LB_SOURCE}`,
      'backend be_v2',
      `  server sw 127.0.0.1:${ports.switch} send-proxy-v2 source ${LB_SOURCE}`,
      'backend be_v1',
      `  server sw 127.0.0.1:${ports.switch} send-proxy source ${LB_SOURCE}`,
      '',
    ].join('\n'),
  );
  haproxy = spawn('haproxy', ['-db', '-f', cfg], { stdio: ['ignore', 'inherit', 'inherit'] });
  await listening(ports.v2);
  await listening(ports.v1);
  await listening(ports.brokerLb);
}, 60_000);

afterAll(async () => {
  if (haproxy && haproxy.exitCode === null) {
    haproxy.kill('SIGTERM');
    await once(haproxy, 'exit');
  }
  await stopAll();
  if (state) rmSync(state, { recursive: true, force: true });
});

describe('PROXY protocol on the switch client port (HAProxy in front)', () => {
  it('send-proxy-v2: the session opens and the switch logs the client address, not HAProxy', async () => {
    await sessionVia(ports.v2, 'via-v2');
  });

  it('send-proxy (v1): the same', async () => {
    await sessionVia(ports.v1, 'via-v1');
  });

  it('a connection from the trusted range without a header is refused', async () => {
    const before = await metric('el_proxy_header_refused_total', { listener: 'switch', reason: 'missing' });
    expect(await handshake({ localAddress: LB_SOURCE })).toBe(false);
    expect(await metric('el_proxy_header_refused_total', { listener: 'switch', reason: 'missing' })).toBe(before + 1);
  });

  it('a stranger forging a PROXY header is refused; without one it still gets TLS', async () => {
    const before = await metric('el_proxy_header_refused_total', { listener: 'switch', reason: 'untrusted' });
    expect(await handshake({ localAddress: '127.0.0.1', prefix: Buffer.from('PROXY TCP4 203.0.113.9 127.0.0.1 1234 443\r\n') })).toBe(false);
    expect(await metric('el_proxy_header_refused_total', { listener: 'switch', reason: 'untrusted' })).toBe(before + 1);
    expect(await handshake({ localAddress: '127.0.0.1' })).toBe(true);
    expect(proc.logs.some((l) => l.msg === 'session opened' && String(l.peer).startsWith('203.0.113.9'))).toBe(false);
  });
});

describe('PROXY protocol on the broker HTTPS port (HAProxy in front)', () => {
  it('the challenge rate limit is kept per real client: two clients behind one HAProxy are limited separately', async () => {
    const a: number[] = [];
    for (let i = 0; i < CHALLENGES + 1; i++) a.push(await challenge(ports.brokerLb, CLIENT));
    expect(a).toEqual([...Array<number>(CHALLENGES).fill(200), 429]);
    expect(await challenge(ports.brokerLb, '127.0.0.78')).toBe(200);
  });

  it('a connection from the trusted range without a header is refused; an untrusted direct one is served', async () => {
    const before = await metric('el_proxy_header_refused_total', { listener: 'broker', reason: 'missing' });
    expect(await challenge(ports.broker, LB_SOURCE)).toBe(0);
    expect(await metric('el_proxy_header_refused_total', { listener: 'broker', reason: 'missing' })).toBe(before + 1);
    expect(await challenge(ports.broker, '127.0.0.79')).toBe(200);
  });

  it('a stranger forging a PROXY header to the broker is refused', async () => {
    const before = await metric('el_proxy_header_refused_total', { listener: 'broker', reason: 'untrusted' });
    expect(await handshake({ port: ports.broker, localAddress: '127.0.0.1', prefix: Buffer.from('PROXY TCP4 203.0.113.9 127.0.0.1 1234 443\r\n') })).toBe(false);
    expect(await metric('el_proxy_header_refused_total', { listener: 'broker', reason: 'untrusted' })).toBe(before + 1);
  });
});
