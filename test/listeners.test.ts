/**
 * The process under hostile connections, end to end with the built `elink up` (issue 11):
 *
 * - idle connections to the broker port until the descriptor limit (the process runs
 *   under `prlimit --nofile=256`): the node sheds new connections early and logs it once,
 *   the process lives, the store snapshot is still written, /healthz answers, and two
 *   established sessions keep passing frames and pings; the idle ones are closed by the
 *   broker's idle deadline, and new logins and sessions work again after the flood.
 * - a ticket used just before SIGKILL, presented again after a restart, is refused with
 *   EL_ERR_TICKET_REPLAYED (the replay journal in the state directory).
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent } from 'node:https';
import { connect as netConnect, type Socket } from 'node:net';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { encodeControl, encodeRecord, RecordType, type LoginReply } from '@elink/protocol';
import { fetchMetric } from './lib/metrics.js';
import { assertBuilt, elink, freePort, stopAll, type Proc } from './lib/processes.js';
import { openRaw, type RawSession } from './lib/raw-session.js';
import { initState, postLogin } from './lib/server.js';


interface Server {
  state: string;
  ca: Buffer;
  brokerPort: number;
  switchPort: number;
  adminPort: number;
}

const dirs: string[] = [];

/** A state directory made by the real CLI, with user alice and fixed loopback ports; `limits` go to the config. */
async function makeState(limits: Record<string, unknown> = {}): Promise<Server> {
  assertBuilt();
  const state = initState('elink-listen-', [{ name: 'alice' }]);
  dirs.push(state);
  const file = join(state, 'elink.yaml');
  const doc = parseDocument(readFileSync(file, 'utf8'));
  const s: Server = { state, ca: readFileSync(join(state, 'ca.pem')), brokerPort: await freePort(), switchPort: await freePort(), adminPort: await freePort() };
  doc.setIn(['broker', 'listen'], doc.createNode({ host: '127.0.0.1', port: s.brokerPort }));
  doc.setIn(['switch', 'listen'], doc.createNode({ host: '127.0.0.1', port: s.switchPort }));
  doc.setIn(['switch', 'advertise'], '127.0.0.1');
  doc.setIn(['switch', 'drainSeconds'], 0);
  doc.setIn(['admin'], doc.createNode({ host: '127.0.0.1', port: s.adminPort }));
  if (Object.keys(limits).length) doc.setIn(['limits'], doc.createNode(limits));
  writeFileSync(file, doc.toString());
  return s;
}

async function start(s: Server, wrap?: string[]): Promise<Proc> {
  const p = elink(['up', '--state', s.state], { wrap });
  await p.waitFor((l) => l.msg === 'emotion link started', 30_000, 'elink up start');
  return p;
}

/** The TLS options of a login: our CA, any name (the certificate names this host, not 127.0.0.1). */
function tlsOptions(s: Server): { ca: Buffer; servername: string; checkServerIdentity: () => undefined } {
  return { ca: s.ca, servername: 'localhost', checkServerIdentity: () => undefined };
}

function login(s: Server, device: string, agent?: Agent): Promise<LoginReply> {
  // With a keep-alive agent the TLS options live on the agent: Node 24 never reuses a
  // socket whose request brought its own checkServerIdentity.
  return postLogin({ host: '127.0.0.1', port: s.brokerPort, ...(agent ? {} : tlsOptions(s)), agent }, device);
}

async function healthz(s: Server): Promise<number> {
  const r = await fetch(`http://127.0.0.1:${s.adminPort}/healthz`, { signal: AbortSignal.timeout(5000) });
  return r.status;
}

/** Logs in as `device` and says hello; resolves with the session after its welcome. */
async function session(s: Server, device: string): Promise<{ raw: RawSession; mac: Buffer }> {
  const reply = await login(s, device);
  const raw = await openRaw('127.0.0.1', s.switchPort, s.ca);
  raw.socket.write(encodeControl({ type: 'hello', version: 1, ticket: reply.ticket }));
  await raw.next('welcome');
  return { raw, mac: Buffer.from(reply.mac.replaceAll(':', ''), 'hex') };
}

let probe = 0;
/** `from` sends a frame to `to` and a ping; both must arrive. */
async function traffic(from: { raw: RawSession; mac: Buffer }, to: { raw: RawSession; mac: Buffer }): Promise<void> {
  const tag = Buffer.from(`probe-${++probe}`);
  const frame = Buffer.concat([to.mac, from.mac, Buffer.from([0x88, 0xb5]), tag]);
  from.raw.socket.write(encodeRecord(RecordType.FRAME, frame));
  const id = 1000 + probe;
  from.raw.socket.write(encodeControl({ type: 'ping', id }));
  const deadline = Date.now() + 5000;
  const arrived = () => to.raw.frames.some((f) => f.subarray(14).equals(tag)) && from.raw.controls.some((c) => c.type === 'pong' && c.id === id);
  while (!arrived() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  expect(arrived(), `frame ${tag.toString()} and pong ${id}`).toBe(true);
}

afterEach(async () => {
  await stopAll();
});

afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('elink up under hostile connections', () => {
  it('idle connections to the broker port up to the fd limit: sheds early, lives, snapshots, serves its sessions', async () => {
    const s = await makeState({ fdReserve: 48, idleTimeout: 2, headersTimeout: 2, requestTimeout: 3, logInterval: 1 });
    const proc = await start(s, ['prlimit', '--nofile=256:256']);
    const budget = await proc.waitFor((l) => l.msg === 'file descriptor budget', 5000);
    expect(budget.fdLimit).toBe(256);
    const a = await session(s, 'dev-a');
    const b = await session(s, 'dev-b');
    await traffic(a, b);
    // A keep-alive connection opened before the flood carries logins during it.
    const agent = new Agent({ keepAlive: true, maxSockets: 1, ...tlsOptions(s) });
    await login(s, 'warm-up', agent);

    // 20 sources × 20 idle connections: more than the 256 descriptors the process has.
    const attack: Socket[] = [];
    let open = 0;
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        (async () => {
          for (let j = 0; j < 20; j++) {
            await new Promise<void>((resolve) => {
              const c = netConnect({ host: '127.0.0.1', port: s.brokerPort, localAddress: `127.0.1.${i + 1}` });
              attack.push(c);
              c.on('error', () => resolve());
              c.on('connect', () => {
                open++;
                resolve();
              });
              c.on('close', () => open--);
            });
          }
        })(),
      ),
    );
    try {
      await proc.waitFor((l) => l.msg === 'file descriptors nearly exhausted: shedding new connections, keeping the open ones', 10_000, 'shedding log');
      // During the flood: the established sessions pass traffic, a login on the old
      // connection changes the store (its snapshot must be written), the probe answers.
      await traffic(a, b);
      await traffic(b, a);
      const during = await login(s, 'during-flood', agent);
      expect(await healthz(s)).toBe(200);
      await traffic(a, b);
      const snapshot = join(s.state, 'store.json');
      const address = `"${during.ipv4!.split('/')[0]}"`;
      const deadline = Date.now() + 10_000;
      while (!(existsSync(snapshot) && readFileSync(snapshot, 'utf8').includes(address)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(readFileSync(snapshot, 'utf8')).toContain(address);
      // The broker's idle deadline closes the flood's connections by itself.
      const gone = Date.now() + 15_000;
      while (open > 0 && Date.now() < gone) await new Promise((r) => setTimeout(r, 100));
      expect(open).toBe(0);
    } finally {
      for (const c of attack) c.destroy();
      agent.destroy();
    }
    const shedding = proc.logs.filter((l) => l.msg === 'file descriptors nearly exhausted: shedding new connections, keeping the open ones');
    // Once per listener and episode, not once per connection: far fewer lines than refusals.
    const shed = await fetchMetric(`http://127.0.0.1:${s.adminPort}`, 'el_listener_connections_refused_total', { reason: 'fd_limit' });
    expect(shedding.length).toBeGreaterThanOrEqual(1);
    expect(shed).toBeGreaterThanOrEqual(10 * shedding.length);
    expect(proc.logs.filter((l) => typeof l.level === 'number' && l.level >= 40).length).toBeLessThan(40);

    // After the flood: new logins, new sessions, and the old ones all work; nothing crashed.
    const c = await session(s, 'dev-c');
    await traffic(c, a);
    await traffic(a, b);
    expect(proc.child.exitCode).toBeNull();
    expect(proc.logs.some((l) => l.msg === 'uncaught error: the process carries on; please report this as a bug')).toBe(false);
    for (const x of [a, b, c]) x.raw.socket.destroy();
  });

  it('a ticket used just before SIGKILL is refused after the restart (EL_ERR_TICKET_REPLAYED)', async () => {
    const s = await makeState();
    const first = await start(s);
    const reply = await login(s, 'replayer');
    const raw = await openRaw('127.0.0.1', s.switchPort, s.ca);
    raw.socket.write(encodeControl({ type: 'hello', version: 1, ticket: reply.ticket }));
    await raw.next('welcome');
    expect(await first.stop('SIGKILL')).toBe(-1);
    raw.socket.destroy();

    const second = await start(s);
    const again = await openRaw('127.0.0.1', s.switchPort, s.ca);
    again.socket.write(encodeControl({ type: 'hello', version: 1, ticket: reply.ticket }));
    const err = await again.next('error');
    expect(err).toMatchObject({ type: 'error', code: 'EL_ERR_TICKET_REPLAYED' });
    await again.closed;
    // A fresh ticket for the same device is welcome.
    const fresh = await session(s, 'replayer');
    expect(fresh.raw.controls.some((c) => c.type === 'welcome')).toBe(true);
    fresh.raw.socket.destroy();
    await second.stop();
  });
});
