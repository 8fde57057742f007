/**
 * deploy/haproxy.cfg as shipped, run by a real HAProxy (only its addresses and ports set,
 * through the environment variables the file reads) in front of a built `elink up`:
 *
 * - `haproxy -c` accepts the file with its defaults, and refuses it with a bad address
 *   (so the check is a real one).
 * - Health checks ask /readyz on each node's admin port: the live node is UP, a node whose
 *   /readyz answers 503 (a draining node) is DOWN with that status, a node that is gone is
 *   DOWN; the 503 server saw `GET /readyz`.
 * - A client (127.0.0.77) logs in through the broker frontend and opens a session through
 *   the switch frontend: both ports of elink trust only HAProxy's address and require its
 *   PROXY v2 header, and the switch logs the client's address, not HAProxy's.
 * - SIGTERM to the node while that session is open: it drains (the session is redirected at
 *   once, so the drain is short) and stops; HAProxy marks it DOWN and new clients get no TLS
 *   through it. (A node answering 503 while it drains is the second case's sw2.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { Agent } from 'node:https';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { encodeControl } from '@elink/protocol';
import { assertBuilt, elink, freePort, stopAll, type Proc } from './lib/processes.js';
import { openRaw, type RawSession } from './lib/raw-session.js';
import { initState, postLogin } from './lib/server.js';

const CFG = fileURLToPath(new URL('../deploy/haproxy.cfg', import.meta.url));
const CLIENT = '127.0.0.77';

let state: string;
let ca: Buffer;
let proc: Proc;
let haproxy: ChildProcess | undefined;
let draining: Server;
/** The session opened through HAProxy; held open so the node's drain lasts. */
let session: RawSession | undefined;
const readyzSeen: string[] = [];
const ports = { broker: 0, switch: 0, admin: 0, lbSwitch: 0, lbBroker: 0, stats: 0, gone: 0, drainingAdmin: 0 };

function haproxyCheck(env: NodeJS.ProcessEnv): { status: number | null; output: string } {
  const r = spawnSync('haproxy', ['-c', '-f', CFG], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 20_000 });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

/** Server name → [status, check status] from HAProxy's CSV stats. */
async function serverStates(): Promise<Map<string, [string, string]>> {
  const csv = await (await fetch(`http://127.0.0.1:${ports.stats}/stats;csv`, { signal: AbortSignal.timeout(5000) })).text();
  const [head, ...rows] = csv.replace(/^# /, '').trim().split('\n');
  const cols = head!.split(',');
  const at = (name: string) => cols.indexOf(name);
  const out = new Map<string, [string, string]>();
  for (const row of rows) {
    const c = row.split(',');
    if (!['FRONTEND', 'BACKEND'].includes(c[at('svname')]!)) out.set(`${c[at('pxname')]}/${c[at('svname')]}`, [c[at('status')]!, `${c[at('check_status')]} ${c[at('check_code')]}`.trim()]);
  }
  return out;
}

beforeAll(async () => {
  assertBuilt();
  for (const k of Object.keys(ports) as (keyof typeof ports)[]) ports[k] = await freePort();
  state = initState('elink-haproxy-cfg-', [{ name: 'alice' }]);
  const file = join(state, 'elink.yaml');
  const doc = parseDocument(readFileSync(file, 'utf8'));
  doc.setIn(['broker', 'listen'], doc.createNode({ host: '127.0.0.1', port: ports.broker }));
  doc.setIn(['switch', 'listen'], doc.createNode({ host: '127.0.0.1', port: ports.switch }));
  doc.setIn(['switch', 'advertise'], '127.0.0.1');
  doc.setIn(['switch', 'drainSeconds'], 5);
  // HAProxy connects from 127.0.0.1: only it may, and must, send a PROXY header.
  doc.setIn(['switch', 'proxyProtocol'], doc.createNode({ trusted: ['127.0.0.1/32'] }));
  doc.setIn(['broker', 'proxyProtocol'], doc.createNode({ trusted: ['127.0.0.1/32'] }));
  doc.setIn(['admin'], doc.createNode({ host: '127.0.0.1', port: ports.admin }));
  writeFileSync(file, doc.toString());
  ca = readFileSync(join(state, 'ca.pem'));
  proc = elink(['up', '--state', state]);
  await proc.waitFor((l) => l.msg === 'emotion link started', 30_000, 'elink up start');

  // A node that is draining: its admin port answers /readyz with 503.
  draining = createServer((req, res) => {
    readyzSeen.push(`${req.method} ${req.url}`);
    res.writeHead(req.url === '/readyz' ? 503 : 404).end('the switch node is draining (shutting down)\n');
  });
  await new Promise<void>((r) => draining.listen(ports.drainingAdmin, '127.0.0.1', r));

  const env = {
    EL_SWITCH_BIND: `127.0.0.1:${ports.lbSwitch}`,
    EL_BROKER_BIND: `127.0.0.1:${ports.lbBroker}`,
    EL_STATS_BIND: `127.0.0.1:${ports.stats}`,
    EL_SWITCH1: `127.0.0.1:${ports.switch}`,
    EL_SWITCH1_ADMIN: String(ports.admin),
    EL_SWITCH2: `127.0.0.1:${ports.gone}`,
    EL_SWITCH2_ADMIN: String(ports.drainingAdmin),
    EL_SWITCH3: `127.0.0.1:${ports.gone}`,
    EL_SWITCH3_ADMIN: String(ports.gone),
    EL_BROKER1: `127.0.0.1:${ports.broker}`,
    EL_BROKER1_ADMIN: String(ports.admin),
    EL_BROKER2: `127.0.0.1:${ports.gone}`,
    EL_BROKER2_ADMIN: String(ports.gone),
  };
  haproxy = spawn('haproxy', ['-db', '-f', CFG], { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, ...env } });
  // Bounded: checks every 2 s, 2 to change state.
  const deadline = Date.now() + 20_000;
  for (;;) {
    const s = await serverStates().catch(() => undefined);
    if (s && s.get('el_switch_nodes/sw1')?.[0] === 'UP' && s.get('el_switch_nodes/sw2')?.[0] === 'DOWN' && s.get('el_switch_nodes/sw3')?.[0] === 'DOWN' && s.get('el_brokers/br1')?.[0] === 'UP' && s.get('el_brokers/br2')?.[0] === 'DOWN') break;
    if (Date.now() > deadline) throw new Error(`HAProxy's checks did not settle: ${JSON.stringify(s ? [...s] : 'no stats')}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}, 90_000);

afterAll(async () => {
  session?.socket.destroy();
  if (haproxy && haproxy.exitCode === null) {
    haproxy.kill('SIGTERM');
    await once(haproxy, 'exit');
  }
  await new Promise((r) => draining?.close(r));
  await stopAll();
  if (state) rmSync(state, { recursive: true, force: true });
});

describe('deploy/haproxy.cfg', () => {
  it('passes haproxy -c with its defaults, and fails it with a bad address', () => {
    const ok = haproxyCheck({});
    expect(ok.status, ok.output).toBe(0);
    expect(ok.output).toMatch(/Configuration file is valid/);
    const bad = haproxyCheck({ EL_SWITCH2: '300.0.0.1:4443' });
    expect(bad.status).not.toBe(0);
    expect(bad.output).toMatch(/sw2.*could not resolve address '300\.0\.0\.1'/);
  });

  it('marks nodes by /readyz on their admin port: live UP, draining (503) DOWN, gone DOWN', async () => {
    const s = await serverStates();
    expect(s.get('el_switch_nodes/sw1')).toEqual(['UP', 'L7OK 200']);
    expect(s.get('el_switch_nodes/sw2')).toEqual(['DOWN', 'L7STS 503']);
    expect(s.get('el_switch_nodes/sw3')?.[0]).toBe('DOWN');
    expect(s.get('el_switch_nodes/sw3')?.[1]).toMatch(/^L4CON/);
    expect(s.get('el_brokers/br1')).toEqual(['UP', 'L7OK 200']);
    expect(readyzSeen.length).toBeGreaterThan(0);
    expect(new Set(readyzSeen)).toEqual(new Set(['GET /readyz']));
  });

  it('carries a login and a session with PROXY v2: the switch logs the client, not HAProxy', async () => {
    const reply = await postLogin({ host: '127.0.0.1', port: ports.lbBroker, localAddress: CLIENT, ca, servername: 'localhost', checkServerIdentity: () => undefined, agent: new Agent({ keepAlive: false }) }, 'via-haproxy');
    session = await openRaw('127.0.0.1', ports.lbSwitch, ca, CLIENT);
    session.socket.write(encodeControl({ type: 'hello', version: 1, ticket: reply.ticket }));
    await session.next('welcome');
    const opened = await proc.waitFor((l) => l.msg === 'session opened' && l.device === 'via-haproxy', 10_000, 'session opened via HAProxy');
    expect(String(opened.peer)).toMatch(/^127\.0\.0\.77:\d+$/);
  });

  it('takes a node stopped by SIGTERM out: DOWN, no new TLS through HAProxy', async () => {
    expect(session, 'the session of the case before').toBeDefined();
    proc.child.kill('SIGTERM');
    await proc.waitFor((l) => typeof l.msg === 'string' && /drain/i.test(l.msg), 10_000, 'the node drains');
    // The session through HAProxy is told to go elsewhere.
    expect((await session!.next('redirect')).type).toBe('redirect');
    const deadline = Date.now() + 15_000;
    let sw1: [string, string] | undefined;
    while (Date.now() < deadline) {
      sw1 = (await serverStates()).get('el_switch_nodes/sw1');
      if (sw1?.[0] === 'DOWN') break;
      await new Promise((r) => setTimeout(r, 250));
    }
    // 503 if a check fell in the drain, else the closed admin port once the node has exited.
    expect(sw1?.[0]).toBe('DOWN');
    expect(sw1?.[1]).toMatch(/^(L7STS 503|L4CON)/);
    // Every switch server is down: HAProxy closes a new client at once.
    const late = await openRaw('127.0.0.1', ports.lbSwitch, ca, CLIENT).then(
      (r) => (r.socket.destroy(), 'connected'),
      () => 'refused',
    );
    expect(late).toBe('refused');
  });
});
