/**
 * The device key reconnect path end to end in one process, with real parts: a real broker
 * app (HTTP, memory store, real scrypt), two real switch nodes over TLS 1.3 sharing session
 * ticket keys, and the Connector with a device key from a real state directory.
 *
 *   password login (key registered, ticket bound) → the session is killed → the same
 *   ticket again at any node (no broker) → a device login once it is nearly spent (no
 *   scrypt) → revocation closes the session → a password login again.
 */
import { generateKeyPairSync } from 'node:crypto';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBrokerApp, hashPassword, MemoryUserDirectory, type BrokerApp } from '@elink/broker';
import { createCertificateAuthority, issueServerCertificate } from '@elink/pki';
import { formatMac, generateTicketKeyPair, peekTicketClaims, rawDeviceKey, resumeKey, segmentSchema, signTicket, type ElError, type LoginReply, type Welcome } from '@elink/protocol';
import { sessionTicketKeys, SwitchNode } from '@elink/switch';
import { Connector, type TicketSource } from './connector.js';
import { SwitchLink } from './switch-link.js';
import { DEVICE_KEY_FILE, loadOrCreateDeviceKey } from './device-key-file.js';
import { deviceLogin } from './login.js';
import { oldBroker } from '../../switch/src/testing/test-old-broker.js';

const logger = pino({ level: 'silent' });
const ADMIN = 'admin-token-0123456789abcdef';

async function until<T>(get: () => T | undefined, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = get();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('device key file', () => {
  it('is made once (0600 in a 0700 directory) and read back the same', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'elink-dk-')), 'state');
    try {
      const a = loadOrCreateDeviceKey(dir);
      expect(statSync(join(dir, DEVICE_KEY_FILE)).mode & 0o777).toBe(0o600);
      expect(statSync(dir).mode & 0o777).toBe(0o700);
      expect(rawDeviceKey(loadOrCreateDeviceKey(dir))).toBe(rawDeviceKey(a));
    } finally {
      rmSync(dirname(dir), { recursive: true, force: true });
    }
  });

  it('is the same one key for clients starting at once in one directory: none reads it half-written', async () => {
    const root = mkdtempSync(join(tmpdir(), 'elink-dk-'));
    const rounds = 25;
    // Separate processes, as clients are. They meet at set times, one fresh directory per
    // round, so their creates really overlap; each prints the key it got, round by round.
    const module = new URL('../dist/device-key-file.js', import.meta.url).href;
    const protocol = import.meta.resolve('@elink/protocol');
    const code = `const { loadOrCreateDeviceKey } = await import(${JSON.stringify(module)}); const { rawDeviceKey } = await import(${JSON.stringify(protocol)});
      const [root, start, rounds] = [process.argv[1], Number(process.argv[2]), Number(process.argv[3])];
      for (let r = 0; r < rounds; r++) {
        while (Date.now() < start + r * 20) await new Promise((ok) => setTimeout(ok, 1));
        console.log(rawDeviceKey(loadOrCreateDeviceKey(root + '/' + r)));
      }`;
    const start = Date.now() + 2000;
    try {
      const runs = Array.from({ length: 8 }, () =>
        new Promise<{ code: number | null; out: string[]; err: string }>((resolvePromise) => {
          const child = execFile(process.execPath, ['--input-type=module', '-e', code, root, String(start), String(rounds)], { timeout: 30_000 }, (_e, out, err) => resolvePromise({ code: child.exitCode, out: out.trim().split('\n'), err }));
        }),
      );
      const results = await Promise.all(runs);
      for (const r of results) expect(r, r.err).toMatchObject({ code: 0 });
      for (let r = 0; r < rounds; r++) {
        const dir = join(root, String(r));
        expect(new Set(results.map((x) => x.out[r])), `round ${r}`).toEqual(new Set([rawDeviceKey(loadOrCreateDeviceKey(dir))]));
        expect(readdirSync(dir)).toEqual([DEVICE_KEY_FILE]);
      }
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('Connector with a device key (real broker, two real switch nodes)', () => {
  let broker: BrokerApp;
  let brokerUrl = '';
  const registry = new Registry();
  const nodes: SwitchNode[] = [];
  const nodeRegistries = new Map<string, Registry>();
  /** A node of another cluster (another secret): not handed out by the broker. */
  let stranger: SwitchNode;
  let caPem = '';
  let stateDir = '';
  const ups: { welcome: Welcome; reply: LoginReply; source: TicketSource; resumed: boolean }[] = [];
  const downs: (ElError | undefined)[] = [];
  let connector: Connector;

  const checks = async (method: string) => (await registry.getSingleMetric('el_broker_credential_checks_total')!.get()).values.find((v) => v.labels.method === method)?.value ?? 0;

  beforeAll(async () => {
    const ca = await createCertificateAuthority('device key test CA');
    const { keyPem, certPem } = await issueServerCertificate(ca, ['127.0.0.1']);
    caPem = ca.certPem;
    const ticketKeys = generateTicketKeyPair();
    const segments = [segmentSchema.parse({ name: 'lan', ipv4: { pool: '198.19.0.0/24' } })];
    for (const [id, secret] of [['sw-a', 'cluster-secret-0123456789abcdef'], ['sw-b', 'cluster-secret-0123456789abcdef'], ['sw-other', 'another-cluster-secret-012345678']] as const) {
      const nodeRegistry = new Registry();
      nodeRegistries.set(id, nodeRegistry);
      const node = new SwitchNode({
        nodeId: id,
        listen: { host: '127.0.0.1', port: 0 },
        tls: { cert: certPem, key: keyPem, ticketKeys: sessionTicketKeys(secret) },
        segments,
        ticketKeys: () => [ticketKeys.publicKey],
        resumeKey: resumeKey(secret),
        logger,
        registry: nodeRegistry,
        closeGraceMs: 200,
      });
      await node.start();
      if (id === 'sw-other') stranger = node;
      else nodes.push(node);
    }
    broker = await createBrokerApp({
      segments,
      users: new MemoryUserDirectory([{ name: 'amy', passwordHash: await hashPassword('correct horse'), segments: ['lan'] }]),
      signingKey: ticketKeys.privateKey,
      nodes: () => nodes.filter((n) => n.listening).map((n) => ({ node: n.nodeId, host: '127.0.0.1', port: n.address().port })),
      adminToken: ADMIN,
      deviceTicketTtlSeconds: 7,
      onRevoked: (list) => nodes.forEach((n) => n.applyRevocations(list)),
      logger,
      registry,
    });
    await broker.listen({ host: '127.0.0.1', port: 0 });
    brokerUrl = `http://127.0.0.1:${(broker.server.address() as AddressInfo).port}`;
    stateDir = mkdtempSync(join(tmpdir(), 'elink-dk-state-'));
    connector = new Connector({
      broker: brokerUrl,
      credentials: { user: 'amy', password: 'correct horse', segment: 'lan', device: 'laptop' },
      ca: caPem,
      deviceKey: loadOrCreateDeviceKey(stateDir),
      backoff: { baseMs: 20, capMs: 50 },
      logger,
    });
    connector.on('up', (welcome: Welcome, reply: LoginReply, source: TicketSource) => ups.push({ welcome, reply, source, resumed: connector.current?.tlsResumed ?? false }));
    connector.on('down', (err?: ElError) => downs.push(err));
    connector.start();
  });

  afterAll(async () => {
    await connector?.stop();
    for (const n of nodes) await n.stop();
    await stranger?.stop();
    await broker?.close();
    rmSync(stateDir, { recursive: true, force: true });
  });

  /** el_switch_admissions_total of one node, by way. */
  const admissions = async (node: string) => Object.fromEntries((await nodeRegistries.get(node)!.getSingleMetric('el_switch_admissions_total')!.get()).values.map((v) => [v.labels.way, v.value]));

  /** The live session of the client on whichever node it is. */
  const liveSession = () => {
    for (const n of nodes) for (const s of (n as unknown as { sessions: Set<{ state: string; claims?: { sub: string }; fail(e: Error): void; conn: { destroy(): void } }> }).sessions) if (s.state === 'established') return s;
    return undefined;
  };

  it('logs in with the password once, sending its key: the ticket is bound to it', async () => {
    const up = await until(() => ups[0], 'the first session');
    expect(up.source).toBe('password');
    expect(peekTicketClaims(up.reply.ticket)?.dk).toBe(rawDeviceKey(loadOrCreateDeviceKey(stateDir)));
    expect(await checks('password')).toBe(1);
    expect(await checks('device_key')).toBe(0);
  });

  it('reconnects with the same ticket after its session is killed, at the other node, with a fresh proof, without the broker, resuming TLS there', async () => {
    liveSession()!.conn.destroy();
    const up = await until(() => ups[1], 'the second session');
    expect(up.source).toBe('reused');
    // The node it lost is tried last (reconnect-order.ts), and the session the first node
    // gave resumes at the second: the nodes share their ticket keys.
    expect(up.welcome.node).not.toBe(ups[0]!.welcome.node);
    expect(up.resumed).toBe(true);
    expect(await checks('password')).toBe(1);
    expect(await checks('device_key')).toBe(0);
  });

  it('was admitted by the full path first, then by its resume proof at the other node; a node of another cluster admits it by the full path', async () => {
    const [first, second] = [ups[0]!.welcome.node, ups[1]!.welcome.node];
    expect(await admissions(first)).toEqual({ device_key: 1 });
    expect(await admissions(second)).toEqual({ resume: 1 });
    // The secret is the link's, not the welcome's (nothing that logs a welcome shows it).
    expect(ups[1]!.welcome).not.toHaveProperty('resume');
    const secret = connector.current!.resumeSecret!;
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    // The same ticket, device key and secret at a node of another cluster: its resume key
    // differs, so the proof does not verify there and it checks the two signatures instead.
    const link = await SwitchLink.connect({ server: { node: 'sw-other', host: '127.0.0.1', port: stranger.address().port }, ticket: ups[1]!.reply.ticket, ca: caPem, deviceKey: loadOrCreateDeviceKey(stateDir), resume: secret, logger });
    try {
      expect(await admissions('sw-other')).toEqual({ device_key: 1 });
      // It hands out its own S, which the client would keep for that node's cluster.
      expect(link.resumeSecret).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(link.resumeSecret).not.toBe(secret);
    } finally {
      link.close('test done');
    }
  });

  it('gets a new ticket with a device login (a signature, no password hash) once the bound one is nearly spent', async () => {
    // The bound tickets live 7 s here; with less than 5 s left the client no longer offers it.
    const first = Date.parse(ups[1]!.reply.expiresAt);
    await new Promise((r) => setTimeout(r, Math.max(0, first - 5000 - Date.now() + 100)));
    liveSession()!.conn.destroy();
    const up = await until(() => ups[2], 'the third session');
    expect(up.source).toBe('device');
    expect(await checks('password')).toBe(1);
    expect(await checks('device_key')).toBe(1);
  });

  it('counts its sessions by ticket and the lost ones by code, and keeps the traffic of lost sessions (stats, the client metrics)', async () => {
    const s = connector.stats;
    expect(s.sessions).toEqual({ password: 1, reused: 1, device: 1 });
    expect([...s.sessionsClosed]).toEqual([['EL_ERR_UNAVAILABLE', 2]]);
    expect(s.connectFailures.size).toBe(0);
    expect(s.lastUpAt).toBeGreaterThan(Date.now() - 10_000);
    const frames = [Buffer.alloc(60, 0xff), Buffer.alloc(100, 0xff)];
    const before = s.traffic;
    expect(connector.sendFrames(frames)).toBe(true);
    const sent = await until(() => (connector.stats.traffic.framesOut === before.framesOut + 2 ? connector.stats.traffic : undefined), 'two frames counted');
    expect(sent.bytesOut).toBe(before.bytesOut + 160);
    const n = ups.length;
    liveSession()!.conn.destroy();
    await until(() => ups[n], 'the next session');
    const after = connector.stats;
    // The lost session's frames stay counted, under the new one's.
    expect(after.traffic.framesOut).toBeGreaterThanOrEqual(sent.framesOut);
    expect(after.traffic.bytesOut).toBeGreaterThanOrEqual(sent.bytesOut);
    expect(after.sessionsClosed.get('EL_ERR_UNAVAILABLE')).toBe(3);
    expect(after.sessions.password + after.sessions.device + after.sessions.reused).toBe(4);
    expect(after.traffic.drops).toEqual({ queue_full: 0, slow_peer: 0, bad_gso: 0 });
  });

  it('refuses a device login signed by another key (falls back to the password in the client)', async () => {
    const thief = generateKeyPairSync('ed25519');
    await expect(deviceLogin(brokerUrl, { user: 'amy', device: 'laptop', segment: 'lan' }, thief.privateKey)).rejects.toMatchObject({ code: 'EL_ERR_AUTH' });
  });

  it('closes the session when an administrator revokes the device key; the client logs in with its password again', async () => {
    const before = ups.length;
    const r = await fetch(`${brokerUrl}/v1/admin/revocations`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body: JSON.stringify({ user: 'amy', device: 'laptop' }) });
    expect(r.status).toBe(200);
    expect(((await r.json()) as { keys: number }).keys).toBe(1);
    const down = await until(() => downs.find((d) => d?.code === 'EL_ERR_REVOKED'), 'the revoked session to end');
    expect(down.message).toMatch(/revoked/);
    // Tickets issued in the revocation's second are refused too: the client may need a second try.
    const up = await until(() => ups.slice(before).find((u) => u.source === 'password'), 'a password login after the revocation', 15_000);
    expect(peekTicketClaims(up.reply.ticket)!.iat).toBeGreaterThan(Math.floor(Date.now() / 1000) - 30);
    expect(await checks('password')).toBeGreaterThanOrEqual(2);
  });
});

describe('Connector with a device key and a broker that predates device keys', () => {
  it('logs in without the key after the broker refuses the field, and keeps doing so', async () => {
    const ca = await createCertificateAuthority('old broker test CA');
    const { keyPem, certPem } = await issueServerCertificate(ca, ['127.0.0.1']);
    const ticketKeys = generateTicketKeyPair();
    const node = new SwitchNode({ nodeId: 'sw-old', listen: { host: '127.0.0.1', port: 0 }, tls: { cert: certPem, key: keyPem }, segments: [segmentSchema.parse({ name: 'lan' })], ticketKeys: () => [ticketKeys.publicKey], logger, closeGraceMs: 200 });
    await node.start();
    // A stand-in for an older broker: its strict login schema refuses `deviceKey` with the
    // 400 every broker sends for an unknown field; without it, it logs the client in.
    const old = await oldBroker((body, n) => {
      if ('deviceKey' in body) return { status: 400, json: { error: 'EL_ERR_INVALID', message: 'invalid request: Unrecognized key: "deviceKey"' } };
      const now = Math.floor(Date.now() / 1000);
      const mac = formatMac(0x02_00_00_00_00_42);
      const ticket = signTicket({ jti: `t${n}-0123456789`, sub: 'amy', seg: 'lan', mode: 'l2', dev: 'laptop', mac, iat: now, exp: now + 60 }, ticketKeys.privateKey);
      return { status: 200, json: { ticket, expiresAt: new Date((now + 60) * 1000).toISOString(), servers: [{ node: 'sw-old', host: '127.0.0.1', port: node.address().port }], segment: 'lan', mode: 'l2', mac } };
    });
    const bodies = old.bodies;
    const dir = mkdtempSync(join(tmpdir(), 'elink-dk-old-'));
    const c = new Connector({ broker: old.url, credentials: { user: 'amy', password: 'pw', device: 'laptop' }, ca: ca.certPem, deviceKey: loadOrCreateDeviceKey(dir), backoff: { baseMs: 20, capMs: 50 }, logger });
    const sources: TicketSource[] = [];
    c.on('up', (_w: Welcome, _r: LoginReply, source: TicketSource) => sources.push(source));
    try {
      c.start();
      await until(() => (sources.length >= 1 ? true : undefined), 'up with an old broker');
      c.current!.close('test: lost');
      await until(() => (sources.length >= 2 ? true : undefined), 'up again');
      expect(sources).toEqual(['password', 'password']);
      // One refused body with the key, then never again.
      expect(bodies.map((b) => 'deviceKey' in b)).toEqual([true, false, false]);
    } finally {
      await c.stop();
      await node.stop();
      await old.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
