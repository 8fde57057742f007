/**
 * The first vertical slice, end to end on real kernels: `elink up` in the root network
 * namespace; hosts in their own namespaces reach it over veth (underlay 198.18.0.0/16),
 * each running `elink connect` with a real TAP device. Traffic inside the tunnels uses
 * 198.19.0.0/16 and fd00:e1::/48.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { login } from '@elink/client';
import { encodeControl, encodeRecord, privateKeyFromPem, RecordType, signTicket, type ControlMessage } from '@elink/protocol';
import { createUnderlay, requireNetnsOrSkip, sh, type Underlay } from './lib/netns.js';
import { assertBuilt, CLI, elink, freePort, stopAll, type Proc } from './lib/processes.js';
import { openRaw } from './lib/raw-session.js';

const enabled = requireNetnsOrSkip();

interface Host {
  name: string;
  ns: string;
  user: string;
  client?: Proc;
  v4: string;
  v6: string;
}

describe.skipIf(!enabled)('L2 segment end to end (root, network namespaces, TAP)', () => {
  let underlay: Underlay;
  let state: string;
  let server: Proc;
  let brokerUrl: string;
  let switchPort: number;
  let ca: Buffer;
  const hosts = new Map<string, Host>();
  const password = 'correct horse battery';

  const host = (n: string) => hosts.get(n)!;

  async function connectHost(h: Host): Promise<void> {
    h.client = elink(
      ['connect', '--broker', brokerUrl, '--ca', join(state, 'ca.pem'), '--user', h.user, '--password-file', join(state, 'pw'), '--ifname', 'el0', '--device', h.name],
      { ns: h.ns },
    );
    const up = await h.client.waitFor((l) => l.msg === 'link up', 30_000, `${h.name} link up`);
    h.v4 = String(up.ipv4).split('/')[0];
    h.v6 = String(up.ipv6).split('/')[0];
  }

  async function startServer(): Promise<void> {
    server = elink(['up', '--state', state]);
    await server.waitFor((l) => l.msg === 'emotion link started', 30_000, 'server start');
  }

  beforeAll(async () => {
    assertBuilt();
    underlay = createUnderlay();
    state = mkdtempSync(join(tmpdir(), 'elink-e2e-'));
    const init = spawnSync(process.execPath, [CLI, 'init', '--state', state], { encoding: 'utf8' });
    expect(init.status, init.stderr).toBe(0);

    // A second segment, ports of our own, and one user per host (made with the CLI, as an operator would).
    const configFile = join(state, 'elink.yaml');
    const doc = parseDocument(readFileSync(configFile, 'utf8'));
    const brokerPort = await freePort();
    switchPort = await freePort();
    doc.setIn(['broker', 'listen', 'port'], brokerPort);
    doc.setIn(['switch', 'listen', 'port'], switchPort);
    doc.setIn(['admin', 'port'], await freePort());
    doc.setIn(['admin', 'host'], '127.0.0.1');
    // The hostile probes below expect each pre-auth rejection logged on its own line: 9 at
    // once, more than the default sample (limits.logSample, 5 per interval).
    doc.setIn(['limits'], doc.createNode({ logSample: 20 }));
    (doc.get('segments') as { add(v: unknown): void }).add(
      doc.createNode({ name: 'other', mode: 'l2', ipv4: { pool: '198.19.200.0/24' }, ipv6: { pool: 'fd00:e1:0:200::/64' } }),
    );
    writeFileSync(configFile, doc.toString());
    writeFileSync(join(state, 'pw'), `${password}\n`);
    for (const [user, segment] of [['alice', 'lab'], ['bob', 'lab'], ['carol', 'lab'], ['dave', 'other']]) {
      const r = spawnSync(process.execPath, [CLI, 'user', 'add', user, '--segment', segment, '--password-file', join(state, 'pw'), '--state', state], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
    }
    ca = readFileSync(join(state, 'ca.pem'));
    brokerUrl = `https://${underlay.gateway}:${brokerPort}`;
    await startServer();

    for (const [name, user] of [['h1', 'alice'], ['h2', 'bob'], ['h3', 'carol'], ['h4', 'dave']]) {
      const { ns } = underlay.addHost(name);
      hosts.set(name, { name, ns, user, v4: '', v6: '' });
    }
    await Promise.all([...hosts.values()].map(connectHost));
  });

  afterAll(async () => {
    await stopAll();
    underlay?.destroy();
    if (state) rmSync(state, { recursive: true, force: true });
  });

  it('gives every host its own addresses from its segment pool', () => {
    const v4s = [...hosts.values()].map((h) => h.v4);
    expect(new Set(v4s).size).toBe(4);
    for (const n of ['h1', 'h2', 'h3']) {
      expect(host(n).v4).toMatch(/^198\.19\./);
      expect(host(n).v6).toMatch(/^fd00:e1::/);
    }
    expect(host('h4').v4).toMatch(/^198\.19\.200\./);
    // The TAP really carries them.
    const addr = sh('ip', ['-j', 'addr', 'show', 'el0'], { ns: host('h1').ns });
    expect(addr).toContain(host('h1').v4);
    expect(addr).toContain(host('h1').v6);
  });

  it('starts tuned (issue 14): memory reducer off (re-executed, same pid), the frame path warmed and the heap collected before serving', () => {
    const cmdline = (pid: number | undefined) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    const before = (logs: Record<string, unknown>[], a: string, b: string) => logs.findIndex((l) => l.msg === a) < logs.findIndex((l) => l.msg === b);
    expect(cmdline(server.child.pid)).toContain('--no-memory-reducer');
    const warmed = server.logs.find((l) => l.msg === 'frame path warmed up');
    expect(Number(warmed?.roundTrips)).toBeGreaterThan(0);
    expect(before(server.logs, 'frame path warmed up', 'switch listening')).toBe(true);
    expect(before(server.logs, 'start-up garbage collected', 'switch listening')).toBe(true);
    const c = host('h1').client!;
    expect(cmdline(c.child.pid)).toContain('--no-memory-reducer');
    expect(Number(c.logs.find((l) => l.msg === 'frame path warmed up')?.roundTrips)).toBeGreaterThan(0);
    expect(before(c.logs, 'start-up garbage collected', 'interface configured')).toBe(true);
    // The warm-up's own node logs nothing into the real log: one 'switch listening', the real one's port.
    expect(server.logs.filter((l) => l.msg === 'switch listening').map((l) => l.port)).toEqual([switchPort]);
  });

  it('pings over IPv4 both ways', () => {
    for (const [a, b] of [['h1', 'h2'], ['h2', 'h1'], ['h3', 'h1']]) {
      const out = sh('ping', ['-c', '3', '-i', '0.2', '-W', '2', host(b).v4], { ns: host(a).ns });
      expect(out).toMatch(/ 0% packet loss/);
    }
  });

  it('pings over IPv6 both ways (neighbour discovery works)', () => {
    for (const [a, b] of [['h1', 'h2'], ['h2', 'h1']]) {
      const out = sh('ping', ['-6', '-c', '3', '-i', '0.2', '-W', '2', host(b).v6], { ns: host(a).ns });
      expect(out).toMatch(/ 0% packet loss/);
    }
  });

  it('delivers an ARP request (broadcast) to every other member of the segment and to no other segment', async () => {
    // ARP requests for 198.19.255.250, an address nobody has: they can only arrive by flooding.
    const filter = 'arp and arp[6:2] = 1 and arp[24:4] = 0xc613fffa';
    const watch = (h: Host) => {
      const p = spawn('ip', ['netns', 'exec', h.ns, 'timeout', '8', 'tcpdump', '-i', 'el0', '-n', '-l', '-c', '1', filter], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      p.stdout.on('data', (d) => (out += d));
      const listening = new Promise<void>((r) => p.stderr.on('data', (d) => String(d).includes('listening on') && r()));
      const done = new Promise<{ code: number | null; out: string }>((r) => p.on('exit', (code) => r({ code, out })));
      return { listening, done };
    };
    const watchers = ['h2', 'h3', 'h4'].map((n) => watch(host(n)));
    await Promise.all(watchers.map((w) => w.listening));
    sh('ping', ['-c', '3', '-i', '0.3', '-W', '1', '198.19.255.250'], { ns: host('h1').ns, allowFail: true });
    const [h2, h3, h4] = await Promise.all(watchers.map((w) => w.done));
    expect(h2.code).toBe(0);
    expect(h2.out).toMatch(/Request who-has 198\.19\.255\.250/);
    expect(h3.code).toBe(0);
    expect(h3.out).toMatch(/Request who-has 198\.19\.255\.250/);
    // tcpdump in the other segment saw nothing and was ended by `timeout` (124).
    expect(h4.code).toBe(124);
    expect(h4.out.trim()).toBe('');
  });

  it('carries a 10 MB TCP stream byte-identical', async () => {
    const server = spawn(
      'ip',
      ['netns', 'exec', host('h2').ns, process.execPath, '-e', `
        const { createHash } = require('node:crypto');
        const srv = require('node:net').createServer((s) => {
          const h = createHash('sha256'); let n = 0;
          s.on('data', (d) => { h.update(d); n += d.length; });
          s.on('end', () => { console.log(JSON.stringify({ n, sha: h.digest('hex') })); s.end(); srv.close(); });
        });
        srv.listen(5001, '${host('h2').v4}', () => console.log('ready'));
        setTimeout(() => process.exit(3), 60000).unref();
      `],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    server.stdout.on('data', (d) => (out += d));
    await new Promise<void>((r) => server.stdout.on('data', () => out.includes('ready') && r()));
    const sent = spawnSync(
      'ip',
      ['netns', 'exec', host('h1').ns, process.execPath, '-e', `
        const { createHash, randomBytes } = require('node:crypto');
        const data = randomBytes(10 * 1024 * 1024);
        const s = require('node:net').connect(5001, '${host('h2').v4}', () => s.end(data));
        s.on('close', () => console.log(JSON.stringify({ n: data.length, sha: createHash('sha256').update(data).digest('hex') })));
        s.on('error', (e) => { console.error(e); process.exit(2); });
      `],
      { encoding: 'utf8', timeout: 60_000 },
    );
    expect(sent.status, sent.stderr).toBe(0);
    await new Promise((r) => server.on('exit', r));
    const received = JSON.parse(out.split('\n').find((l) => l.startsWith('{'))!);
    const expected = JSON.parse(sent.stdout.trim());
    expect(expected.n).toBe(10 * 1024 * 1024);
    expect(received).toEqual(expected);
  });

  it('runs iperf3 between two hosts (throughput for orientation, logged)', () => {
    const srv = spawn('ip', ['netns', 'exec', host('h2').ns, 'iperf3', '-s', '-1', '-B', host('h2').v4], { stdio: 'ignore' });
    try {
      let json: { error?: string; end?: { sum_received?: { bits_per_second: number; bytes: number } } } = {};
      for (let i = 0; i < 20 && !json.end?.sum_received; i++) {
        // EL_E2E_IPERF_SECONDS=10 gives the orientation figure quoted in closing notes.
        const seconds = process.env.EL_E2E_IPERF_SECONDS ?? '3';
        const r = spawnSync('ip', ['netns', 'exec', host('h1').ns, 'iperf3', '-c', host('h2').v4, '-t', seconds, '-J'], { encoding: 'utf8', timeout: 60_000 });
        // iperf3 3.12 with -J exits 0 even when the server is not listening yet: its JSON then has "error" and no summary.
        json = r.status === 0 ? JSON.parse(r.stdout) : {};
        if (!json.end?.sum_received) spawnSync('sleep', ['0.2']);
      }
      expect(json.error, 'iperf3 never connected').toBeUndefined();
      const bps = json.end!.sum_received!.bits_per_second;
      console.log(`iperf3 h1 -> h2 through the switch: ${(bps / 1e9).toFixed(2)} Gbit/s`);
      expect(json.end!.sum_received!.bytes).toBeGreaterThan(0);
    } finally {
      srv.kill();
    }
  });

  it('lets nothing of the above reach the host in the other segment', () => {
    const stats = JSON.parse(sh('ip', ['-s', '-j', 'link', 'show', 'el0'], { ns: host('h4').ns }))[0].stats64;
    expect(stats.rx.packets).toBe(0);
    // …while its own link works: it did send (router/neighbour solicitations at least).
    expect(stats.tx.packets).toBeGreaterThan(0);
  });

  it('closes hostile sessions with a coded error while the good hosts keep pinging without loss', async () => {
    const pinger = spawn('ip', ['netns', 'exec', host('h1').ns, 'ping', '-c', '60', '-i', '0.1', '-W', '2', host('h2').v4], { stdio: ['ignore', 'pipe', 'pipe'] });
    let pingOut = '';
    pinger.stdout.on('data', (d) => (pingOut += d));
    const pingDone = new Promise((r) => pinger.on('exit', r));

    const gw = underlay.gateway;
    const signingKey = privateKeyFromPem(readFileSync(join(state, 'ticket-signing.key'), 'utf8'));
    const now = Math.floor(Date.now() / 1000);
    const craft = (over: Partial<Parameters<typeof signTicket>[0]>) =>
      signTicket({ jti: `hostile-${Math.random().toString(36).slice(2)}`, sub: 'mallory', seg: 'lab', mode: 'l2', iat: now, exp: now + 60, ...over }, signingKey);
    const hello = (ticket: string) => encodeControl({ type: 'hello', version: 1, ticket });

    const expectError = async (name: string, send: (s: Awaited<ReturnType<typeof openRaw>>) => void | Promise<void>, code: string) => {
      const s = await openRaw(gw, switchPort, ca);
      await send(s);
      const err = (await s.next('error', 12_000)) as Extract<ControlMessage, { type: 'error' }>;
      expect(err.code, name).toBe(code);
      await s.closed;
      return name;
    };

    const good = await login(brokerUrl, { user: 'alice', password, device: 'replay-probe' }, { ca });
    const first = await openRaw(gw, switchPort, ca);
    first.socket.write(encodeControl({ type: 'hello', version: 1, ticket: good.ticket, ...(good.mac ? { mac: good.mac } : {}) }));
    await first.next('welcome');

    const probes = await Promise.all([
      expectError('garbage', (s) => void s.socket.write(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n')), 'EL_ERR_UNKNOWN_RECORD'),
      expectError('oversized record', (s) => void s.socket.write(Buffer.from([RecordType.CONTROL, 0xff, 0xff])), 'EL_ERR_RECORD_TOO_LONG'),
      expectError('unknown record type', (s) => void s.socket.write(encodeRecord(0x7e, Buffer.from('x'))), 'EL_ERR_UNKNOWN_RECORD'),
      expectError('frame before hello', (s) => void s.socket.write(encodeRecord(RecordType.FRAME, Buffer.alloc(60))), 'EL_ERR_UNKNOWN_RECORD'),
      expectError('no hello', () => undefined, 'EL_ERR_HELLO_TIMEOUT'),
      expectError('forged ticket', (s) => void s.socket.write(hello(good.ticket.replace(/\.[^.]+$/, '.' + Buffer.alloc(64, 7).toString('base64url')))), 'EL_ERR_BAD_TICKET'),
      expectError('replayed ticket', (s) => void s.socket.write(hello(good.ticket)), 'EL_ERR_TICKET_REPLAYED'),
      expectError('expired ticket', (s) => void s.socket.write(hello(craft({ iat: now - 120, exp: now - 60 }))), 'EL_ERR_TICKET_EXPIRED'),
      expectError('ticket for another segment', (s) => void s.socket.write(hello(craft({ seg: 'not-hosted-here' }))), 'EL_ERR_WRONG_SEGMENT'),
    ]);
    expect(probes).toHaveLength(9);
    first.socket.destroy();

    await pingDone;
    expect(pingOut).toMatch(/60 packets transmitted, 60 received, 0% packet loss/);
    // The switch logged each rejection once, with the peer's address.
    for (const code of ['EL_ERR_HELLO_TIMEOUT', 'EL_ERR_BAD_TICKET', 'EL_ERR_TICKET_REPLAYED', 'EL_ERR_TICKET_EXPIRED', 'EL_ERR_WRONG_SEGMENT', 'EL_ERR_RECORD_TOO_LONG']) {
      const lines = server.logs.filter((l) => l.code === code);
      expect(lines.length, code).toBe(1);
      expect(JSON.stringify(lines[0]), code).toContain(gw);
    }
  }, 60_000);

  it('reconnects every client by itself after the server restarts', async () => {
    const before = host('h1').client!.logs.filter((l) => l.msg === 'link up').length;
    await server.stop('SIGTERM');
    await startServer();
    for (const n of ['h1', 'h2']) {
      await host(n).client!.waitFor((l) => l.msg === 'link up' && host(n).client!.logs.filter((x) => x.msg === 'link up').length > before, 60_000, `${n} reconnect`);
    }
    // Addresses may be reassigned by the fresh broker: read them again from the log.
    const last = (n: string) => [...host(n).client!.logs].reverse().find((l) => l.msg === 'link up')!;
    const v4 = String(last('h2').ipv4).split('/')[0];
    const out = sh('ping', ['-c', '3', '-i', '0.2', '-W', '2', v4], { ns: host('h1').ns });
    expect(out).toMatch(/ 0% packet loss/);
  }, 90_000);

  it('removes the TAP device when the client gets SIGTERM', async () => {
    const h3 = host('h3');
    expect(sh('ip', ['link', 'show', 'el0'], { ns: h3.ns })).toContain('el0');
    const code = await h3.client!.stop('SIGTERM');
    expect(code).toBe(0);
    const after = spawnSync('ip', ['-n', h3.ns, 'link', 'show', 'el0'], { encoding: 'utf8' });
    expect(after.status).not.toBe(0);
  });
});
