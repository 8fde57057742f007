/**
 * Config reload of a running `elink up` (issue 13), end to end with the built CLI and
 * real processes, logins over HTTPS and sessions over TLS:
 *
 * - `elink user add alice` while the server runs: alice logs in without a restart (the
 *   file watch), `elink user del` ends her live session (bye) and refuses her again;
 * - a renewed server certificate + SIGHUP: new TLS connections to the switch and the
 *   broker see the new certificate, established sessions keep passing frames;
 * - a broken config + SIGHUP: the process lives, logs EL_ERR_CONFIG with every field, and
 *   keeps serving on the old config;
 * - a listen port change: named in the "restart needed for" line; the old port serves on;
 * - `elink reload` signals the server of a state directory, and says so when there is none;
 * - a new segment, and live settings of a segment (keepalive, flood limit), without restart;
 * - a file renamed into place is reloaded; a key that does not match fails the reload;
 * - a split `elink broker` + `elink switch` on one file: both reload, each names its own
 *   restart-needed settings.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { parseDocument } from 'yaml';
import { issueServerCertificate } from '@elink/pki';
import { ALPN, encodeControl, encodeRecord, RecordType } from '@elink/protocol';
import { fetchMetric } from './lib/metrics.js';
import { assertBuilt, CLI, elink, freePort, type Proc } from './lib/processes.js';
import { openRaw, type RawSession } from './lib/raw-session.js';
import { PASSWORD } from './lib/server.js';

let state: string;
let file: string;
let ca: Buffer;
let brokerPort: number;
let switchPort: number;
let adminPort: number;
let proc: Proc;

function cli(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 30_000 });
}

function login(user: string, device: string, port = brokerPort): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path: '/v1/login', method: 'POST', ca, checkServerIdentity: () => undefined, headers: { 'content-type': 'application/json' }, timeout: 10_000, agent: false },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text) as Record<string, unknown> }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('login timed out')));
    req.on('error', reject);
    req.end(JSON.stringify({ user, password: PASSWORD, segment: 'lab', device }));
  });
}

async function session(device: string, user = 'demo2'): Promise<{ raw: RawSession; mac: Buffer }> {
  const reply = await login(user, device);
  expect(reply.status, JSON.stringify(reply.body)).toBe(200);
  const raw = await openRaw('127.0.0.1', switchPort, ca);
  raw.socket.write(encodeControl({ type: 'hello', version: 1, ticket: reply.body.ticket as string }));
  await raw.next('welcome');
  return { raw, mac: Buffer.from((reply.body.mac as string).replaceAll(':', ''), 'hex') };
}

let probe = 0;
async function traffic(from: { raw: RawSession; mac: Buffer }, to: { raw: RawSession; mac: Buffer }): Promise<void> {
  const tag = Buffer.from(`probe-${++probe}`);
  from.raw.socket.write(encodeRecord(RecordType.FRAME, Buffer.concat([to.mac, from.mac, Buffer.from([0x88, 0xb5]), tag])));
  const id = 2000 + probe;
  from.raw.socket.write(encodeControl({ type: 'ping', id }));
  const arrived = () => to.raw.frames.some((f) => f.subarray(14).equals(tag)) && from.raw.controls.some((c) => c.type === 'pong' && c.id === id);
  const deadline = Date.now() + 5000;
  while (!arrived() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  expect(arrived(), `frame ${tag.toString()} and pong ${id}`).toBe(true);
}

/** The fingerprint of the certificate a new TLS connection to `port` gets. */
function servedFingerprint(port: number, alpn?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port, ca, checkServerIdentity: () => undefined, ...(alpn ? { ALPNProtocols: [alpn] } : {}) }, () => {
      resolve(s.getPeerCertificate().fingerprint256);
      s.destroy();
    });
    s.on('error', reject);
  });
}

const metric = (name: string, labels: Record<string, string> = {}): Promise<number> => fetchMetric(`http://127.0.0.1:${adminPort}`, name, labels);

/** Waits for a log line that arrives after `from` (an index into proc.logs). */
async function nextLog(from: number, pred: (l: Record<string, unknown>) => boolean, what: string): Promise<Record<string, unknown>> {
  return proc.waitFor((l) => proc.logs.indexOf(l) >= from && pred(l), 10_000, what);
}

function readUserHash(name: string): string {
  const users = parseDocument(readFileSync(file, 'utf8')).toJS().users as { name: string; password: string }[];
  return users.find((u) => u.name === name)!.password;
}

function editConfig(edit: (doc: ReturnType<typeof parseDocument>) => void): void {
  const doc = parseDocument(readFileSync(file, 'utf8'));
  edit(doc);
  writeFileSync(file, doc.toString());
}

beforeAll(async () => {
  assertBuilt();
  state = mkdtempSync(join(tmpdir(), 'elink-reload-'));
  file = join(state, 'elink.yaml');
  expect(cli('init', '--state', state).status).toBe(0);
  writeFileSync(join(state, 'pw'), `${PASSWORD}\n`);
  expect(cli('user', 'add', 'demo2', '--password-file', join(state, 'pw'), '--state', state).status).toBe(0);
  [brokerPort, switchPort, adminPort] = [await freePort(), await freePort(), await freePort()];
  editConfig((doc) => {
    doc.setIn(['broker', 'listen'], doc.createNode({ host: '127.0.0.1', port: brokerPort }));
    doc.setIn(['switch', 'listen'], doc.createNode({ host: '127.0.0.1', port: switchPort }));
    doc.setIn(['switch', 'advertise'], '127.0.0.1');
    doc.setIn(['switch', 'drainSeconds'], 0);
    doc.setIn(['admin'], doc.createNode({ host: '127.0.0.1', port: adminPort }));
  });
  ca = readFileSync(join(state, 'ca.pem'));
  proc = elink(['up', '--state', state]);
  await proc.waitFor((l) => l.msg === 'emotion link started', 30_000, 'elink up start');
}, 60_000);

afterAll(async () => {
  await proc?.stop('SIGTERM', 10_000);
  if (state) rmSync(state, { recursive: true, force: true });
});

describe('config reload of a running elink up', () => {
  it('elink user add: alice logs in without a restart; elink user del: her live session gets bye and she is refused again', async () => {
    expect((await login('alice', 'd1')).status).toBe(401);
    const from = proc.logs.length;
    const add = cli('user', 'add', 'alice', '--password-file', join(state, 'pw'), '--state', state);
    expect(add.status, add.stderr).toBe(0);
    expect(add.stdout).toContain(`the running elink up (pid ${proc.child.pid}) reloads the file by itself`);
    const reloaded = await nextLog(from, (l) => l.msg === 'config reloaded', 'reload after user add');
    expect(reloaded).toMatchObject({ trigger: 'watch', usersAdded: 1, usersRemoved: 0, restartNeeded: 0, users: { added: ['alice'] } });
    const ok = await login('alice', 'd1');
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    expect(ok.body.segment).toBe('lab');

    // Deleting alice ends her live session with bye; another user's sessions carry on.
    const hers = await session('d3', 'alice');
    const x = await session('keep-x');
    const y = await session('keep-y');
    await traffic(hers, x);
    const from2 = proc.logs.length;
    const del = cli('user', 'del', 'alice', '--state', state);
    expect(del.status, del.stderr).toBe(0);
    expect(del.stdout).toContain('reloads the file by itself');
    const r = await nextLog(from2, (l) => l.msg === 'config reloaded' && l.usersRemoved === 1, 'reload after user del');
    expect(r.sessionsEnded).toBe(1);
    const bye = await hers.raw.next('bye');
    expect(bye.type === 'bye' && bye.reason).toBe('user removed or no longer in this segment');
    await hers.raw.closed;
    await traffic(x, y);
    x.raw.socket.destroy();
    y.raw.socket.destroy();
    const refused = await login('alice', 'd2');
    expect(refused.status).toBe(401);
    expect(refused.body.error).toBe('EL_ERR_AUTH');
    expect(await metric('el_config_reloads_total', { result: 'ok' })).toBeGreaterThanOrEqual(2);
  });

  it('a renewed certificate + SIGHUP: new TLS connections get it, established sessions keep passing traffic', async () => {
    const a = await session('tls-a');
    const b = await session('tls-b');
    await traffic(a, b);
    const oldPem = readFileSync(join(state, 'server.pem'), 'utf8');
    const oldFp = new X509Certificate(oldPem).fingerprint256;
    expect(await servedFingerprint(switchPort, ALPN)).toBe(oldFp);

    const renewed = await issueServerCertificate({ certPem: ca.toString(), keyPem: readFileSync(join(state, 'ca.key'), 'utf8') }, ['localhost', '127.0.0.1']);
    const newFp = new X509Certificate(renewed.certPem).fingerprint256;
    expect(newFp).not.toBe(oldFp);
    // As an operator would: write both files, then signal (the watch may reload first; either way the last reload has both).
    writeFileSync(join(state, 'server.key'), renewed.keyPem, { mode: 0o600 });
    writeFileSync(join(state, 'server.pem'), renewed.certPem);
    const from = proc.logs.length;
    proc.child.kill('SIGHUP');
    await nextLog(from, (l) => l.msg === 'config reloaded' && l.trigger === 'signal', 'reload after SIGHUP');
    expect(proc.logs.slice(from).some((l) => l.msg === 'config reloaded' && l.tls === true)).toBe(true);

    expect(await servedFingerprint(switchPort, ALPN)).toBe(newFp);
    expect(await servedFingerprint(brokerPort)).toBe(newFp);
    // The sessions made before the change still run on the old certificate, and pass frames both ways.
    expect(a.raw.socket.getPeerCertificate().fingerprint256).toBe(oldFp);
    await traffic(a, b);
    await traffic(b, a);
    // A new session (login over the new certificate, its fingerprint in the reply) works too.
    const c = await session('tls-c');
    await traffic(c, a);
    const reply = await login('demo2', 'probe');
    const servers = reply.body.servers as { fingerprint?: string }[];
    expect(servers[0]?.fingerprint?.replaceAll(':', '').toLowerCase()).toBe(newFp.replaceAll(':', '').toLowerCase());
    for (const s of [a, b, c]) s.raw.socket.destroy();
    expect(proc.child.exitCode).toBeNull();
  });

  it('a new segment and a user in it: the user logs in to it and says hello to the switch without a restart', async () => {
    const from = proc.logs.length;
    editConfig((doc) => {
      (doc.get('segments') as { add(v: unknown): void }).add(doc.createNode({ name: 'ops', mode: 'l3', ipv4: { pool: '198.19.77.0/24' } }));
    });
    await nextLog(from, (l) => l.msg === 'config reloaded' && l.segmentsAdded === 1, 'reload after a new segment');
    const add = cli('user', 'add', 'olga', '--segment', 'ops', '--password-file', join(state, 'pw'), '--state', state);
    expect(add.status, add.stderr).toBe(0);
    await nextLog(from, (l) => l.msg === 'config reloaded' && l.usersAdded === 1, 'reload after user add');
    const reply = await new Promise<{ status: number; body: Record<string, unknown> }>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: brokerPort, path: '/v1/login', method: 'POST', ca, checkServerIdentity: () => undefined, headers: { 'content-type': 'application/json' }, agent: false }, (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text) as Record<string, unknown> }));
      });
      req.on('error', reject);
      req.end(JSON.stringify({ user: 'olga', password: PASSWORD, segment: 'ops', device: 'o1' }));
    });
    expect(reply.status, JSON.stringify(reply.body)).toBe(200);
    expect(reply.body).toMatchObject({ segment: 'ops', mode: 'l3', ipv4: expect.stringMatching(/^198\.19\.77\./) });
    const raw = await openRaw('127.0.0.1', switchPort, ca);
    raw.socket.write(encodeControl({ type: 'hello', version: 1, ticket: reply.body.ticket as string }));
    expect((await raw.next('welcome')).type).toBe('welcome');
    raw.socket.destroy();
    expect(proc.logs.slice(from).some((l) => typeof l.msg === 'string' && l.msg.startsWith('restart needed'))).toBe(false);
  });

  it('a segment’s keepalive and flood limit change live: the next session’s welcome has them; its MTU change waits for a restart', async () => {
    const good = readFileSync(file, 'utf8');
    const older = await session('tls-a');
    try {
      const from = proc.logs.length;
      editConfig((doc) => {
        doc.setIn(['segments', 0, 'keepalive'], doc.createNode({ interval: 7, timeout: 30 }));
        doc.setIn(['segments', 0, 'floodLimit'], doc.createNode({ rate: 50, burst: 100 }));
        doc.setIn(['segments', 0, 'mtu'], 1400);
      });
      const r = await nextLog(from, (l) => l.msg === 'config reloaded' && l.segmentsChanged === 1, 'reload with segment settings');
      expect(r.restartNeeded).toBe(1);
      const warn = await nextLog(from, (l) => typeof l.msg === 'string' && l.msg.startsWith('restart needed for: '), 'restart line');
      expect(warn.restartNeeded).toEqual(['segments.lab.mtu']);
      expect(proc.logs.slice(from).find((l) => l.msg === 'segment settings changed')).toMatchObject({ segment: 'lab', changed: ['keepalive', 'floodLimit'] });
      const newer = await session('tls-b');
      expect(newer.raw.controls.find((c) => c.type === 'welcome')).toMatchObject({ keepalive: { interval: 7, timeout: 30 }, mtu: 1500 });
      expect(older.raw.controls.find((c) => c.type === 'welcome')).toMatchObject({ keepalive: { interval: 15, timeout: 45 } });
      await traffic(older, newer);
      newer.raw.socket.destroy();
    } finally {
      older.raw.socket.destroy();
      writeFileSync(file, good);
    }
  });

  it('a broken config + SIGHUP: the process lives, logs EL_ERR_CONFIG with every field, and serves on the old config', async () => {
    const good = readFileSync(file, 'utf8');
    const errorsBefore = await metric('el_config_reloads_total', { result: 'error' });
    const lastOk = await metric('el_config_last_reload_success_timestamp_seconds');
    try {
      editConfig((doc) => {
        doc.setIn(['broker', 'ticketTtl'], 1);
        doc.setIn(['log', 'level'], 'loud');
        doc.setIn(['users', 0, 'password'], 'plain-text');
      });
      const from = proc.logs.length;
      proc.child.kill('SIGHUP');
      const err = await nextLog(from, (l) => l.msg === 'config reload failed; still running on the previous configuration' && l.trigger === 'signal', 'reload error');
      expect(err.code).toBe('EL_ERR_CONFIG');
      const fields = (err.fields as string[]).map((f) => f.split(':')[0]);
      expect(fields).toEqual(expect.arrayContaining(['broker.ticketTtl', 'log.level', 'users.0.password']));
      expect(proc.child.exitCode).toBeNull();
      expect(await metric('el_config_reloads_total', { result: 'error' })).toBeGreaterThan(errorsBefore);
      expect(await metric('el_config_last_reload_success_timestamp_seconds')).toBe(lastOk);
      expect((await login('demo2', 'probe')).status).toBe(200);
      expect((await fetch(`http://127.0.0.1:${adminPort}/healthz`, { signal: AbortSignal.timeout(5000) })).status).toBe(200);
    } finally {
      writeFileSync(file, good);
    }
  });

  it('a file renamed into place (as editors do) is reloaded; a key that does not match its certificate fails the reload and changes nothing', async () => {
    const from = proc.logs.length;
    const doc = parseDocument(readFileSync(file, 'utf8'));
    (doc.get('users') as { add(v: unknown): void }).add(doc.createNode({ name: 'renamed', password: readUserHash('demo2'), segments: ['lab'] }));
    writeFileSync(`${file}.tmp`, doc.toString());
    renameSync(`${file}.tmp`, file);
    await nextLog(from, (l) => l.msg === 'config reloaded' && l.trigger === 'watch' && l.usersAdded === 1, 'reload after rename');
    expect((await login('renamed', 'r1')).status).toBe(200);

    const served = await servedFingerprint(switchPort, ALPN);
    const goodKey = readFileSync(join(state, 'server.key'));
    const other = await issueServerCertificate({ certPem: ca.toString(), keyPem: readFileSync(join(state, 'ca.key'), 'utf8') }, ['localhost']);
    try {
      writeFileSync(join(state, 'server.key'), other.keyPem);
      const from2 = proc.logs.length;
      proc.child.kill('SIGHUP');
      const err = await nextLog(from2, (l) => l.msg === 'config reload failed; still running on the previous configuration' && l.trigger === 'signal', 'reload error on a bad key');
      expect(err.err).toMatch(/^tls.cert and tls.key do not form a usable pair/);
      expect(await servedFingerprint(switchPort, ALPN)).toBe(served);
      expect(await servedFingerprint(brokerPort)).toBe(served);
      expect((await login('demo2', 'probe')).status).toBe(200);
    } finally {
      writeFileSync(join(state, 'server.key'), goodKey);
    }
  });

  it('a listen port change is named in the restart-needed line; the old port serves on', async () => {
    const good = readFileSync(file, 'utf8');
    const other = await freePort();
    try {
      editConfig((doc) => {
        doc.setIn(['broker', 'listen', 'port'], other);
        doc.setIn(['log', 'level'], 'debug');
      });
      const from = proc.logs.length;
      proc.child.kill('SIGHUP');
      const warn = await nextLog(from, (l) => typeof l.msg === 'string' && l.msg.startsWith('restart needed for: '), 'restart-needed line');
      expect(warn.msg).toBe('restart needed for: broker.listen.port');
      expect(warn.level).toBe(40);
      expect(warn.restartNeeded).toEqual(['broker.listen.port']);
      expect(proc.logs.slice(from).find((l) => l.msg === 'config reloaded')).toMatchObject({ logLevel: 'debug', restartNeeded: 1 });
      expect((await login('demo2', 'probe')).status).toBe(200);
      await expect(login('demo2', 'probe', other)).rejects.toThrow(/ECONNREFUSED/);
    } finally {
      writeFileSync(file, good);
    }
  });

  it('elink reload signals the server of the state directory, and fails clearly when none runs', async () => {
    const from = proc.logs.length;
    const r = cli('reload', '--state', state);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(`sent SIGHUP to elink up (pid ${proc.child.pid})`);
    await nextLog(from, (l) => l.msg === 'config reloaded' && l.trigger === 'signal', 'reload by elink reload');

    const empty = mkdtempSync(join(tmpdir(), 'elink-reload-none-'));
    try {
      const none = cli('reload', '--state', empty);
      expect(none.status).toBe(1);
      expect(none.stderr).toContain('EL_ERR_UNAVAILABLE: no running elink server found');
      // A stale pid file (a pid that is not an elink server) is not signalled.
      writeFileSync(join(empty, 'elink-up.pid'), `${process.pid}\n`);
      expect(cli('reload', '--state', empty).status).toBe(1);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});

describe('config reload of a split elink broker + elink switch on one config file', () => {
  it('SIGHUP and elink reload reach both; each names only the settings it runs; new users log in at the broker', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'elink-reload-split-'));
    const procs: Proc[] = [];
    try {
      expect(cli('init', '--state', dir).status).toBe(0);
      const f = join(dir, 'elink.yaml');
      const [bp, sp, ba, sa] = [await freePort(), await freePort(), await freePort(), await freePort()];
      const secret = 'cluster-secret-for-reload-tests-0123';
      const doc = parseDocument(readFileSync(f, 'utf8'));
      doc.setIn(['broker', 'listen'], doc.createNode({ host: '127.0.0.1', port: bp }));
      doc.setIn(['broker', 'clusterSecret'], secret);
      doc.setIn(['switch', 'listen'], doc.createNode({ host: '127.0.0.1', port: sp }));
      doc.setIn(['switch', 'advertise'], '127.0.0.1');
      doc.setIn(['switch', 'drainSeconds'], 0);
      doc.setIn(['switch', 'broker'], doc.createNode({ urls: [`https://127.0.0.1:${bp}`], clusterSecret: secret, interval: 1 }));
      writeFileSync(f, doc.toString());
      const broker = elink(['broker', '--config', f, '--admin-port', String(ba), '--listen-host', '127.0.0.1']);
      procs.push(broker);
      await broker.waitFor((l) => l.msg === 'emotion link started', 30_000, 'broker start');
      const sw = elink(['switch', '--config', f, '--admin-port', String(sa), '--listen-host', '127.0.0.1', '--node-id', 'sw-reload']);
      procs.push(sw);
      await sw.waitFor((l) => l.msg === 'emotion link started', 30_000, 'switch start');

      // A port of each section changes: each process names only its own.
      const [b0, s0] = [broker.logs.length, sw.logs.length];
      const d = parseDocument(readFileSync(f, 'utf8'));
      d.setIn(['switch', 'maxSessions'], 100);
      d.setIn(['broker', 'ticketTtl'], 30);
      writeFileSync(f, d.toString());
      const r = cli('reload', '--config', f);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toContain(`sent SIGHUP to elink broker (pid ${broker.child.pid})`);
      expect(r.stdout).toContain(`sent SIGHUP to elink switch (pid ${sw.child.pid})`);
      const bw = await broker.waitFor((l) => broker.logs.indexOf(l) >= b0 && typeof l.msg === 'string' && l.msg.startsWith('restart needed for: '), 10_000, 'broker restart line');
      const sww = await sw.waitFor((l) => sw.logs.indexOf(l) >= s0 && typeof l.msg === 'string' && l.msg.startsWith('restart needed for: '), 10_000, 'switch restart line');
      expect(bw.restartNeeded).toEqual(['broker.ticketTtl']);
      expect(sww.restartNeeded).toEqual(['switch.maxSessions']);

      // elink user add reaches the broker: a login works at once.
      writeFileSync(join(dir, 'pw'), `${PASSWORD}\n`);
      const b1 = broker.logs.length;
      const add = cli('user', 'add', 'sam', '--password-file', join(dir, 'pw'), '--config', f);
      expect(add.status, add.stderr).toBe(0);
      expect(add.stdout).toContain(`the running elink broker (pid ${broker.child.pid}) reloads the file by itself`);
      await broker.waitFor((l) => broker.logs.indexOf(l) >= b1 && l.msg === 'config reloaded' && l.usersAdded === 1, 10_000, 'broker reload after user add');
      const saved = ca;
      ca = readFileSync(join(dir, 'ca.pem'));
      try {
        const ok = await login('sam', 'split', bp);
        expect(ok.status, JSON.stringify(ok.body)).toBe(200);
      } finally {
        ca = saved;
      }
      expect(broker.child.exitCode).toBeNull();
      expect(sw.child.exitCode).toBeNull();
    } finally {
      for (const p of procs) await p.stop('SIGTERM', 10_000);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
