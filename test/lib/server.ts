/**
 * A state directory made with the real CLI (`elink init`, `elink user add`), with the
 * segments and users a test needs, and `elink up` started on it in the root namespace.
 */
import { spawnSync } from 'node:child_process';
import { request, type RequestOptions } from 'node:https';
import { loginReplySchema, type LoginReply } from '@elink/protocol';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { sumMetric } from './metrics.js';
import { sh } from './netns.js';
import { CLI, freePort, startElink, type Proc } from './processes.js';

export interface TestServer {
  state: string;
  brokerUrl: string;
  adminUrl: string;
  /** The switch's client port. */
  switchPort: number;
  proc: Proc;
  /** `elink connect` arguments for `user` (password file, CA, broker). */
  connectArgs(user: string): string[];
  /** A counter or gauge from /metrics, summed over the series whose labels contain `labels`. */
  metric(name: string, labels?: Record<string, string>): Promise<number>;
  destroy(): void;
}

export const PASSWORD = 'correct horse battery';
/** For tests that write a split broker/switch configuration themselves. */
export const CLUSTER_SECRET = 'cluster-secret-for-tests-0123456789';
export const ADMIN_TOKEN = 'admin-token-for-tests-0123456789';

type YamlDoc = ReturnType<typeof parseDocument>;

/** `elink connect` arguments for `user` of the state directory `state` (password file, CA, broker). */
export function connectArgs(state: string, brokerUrl: string, user: string): string[] {
  return ['--broker', brokerUrl, '--ca', join(state, 'ca.pem'), '--user', user, '--password-file', join(state, 'pw')];
}

/**
 * The settings for a broker and switch nodes run as separate processes (`elink broker`,
 * `elink switch` on one state directory): the broker listens on `gateway:brokerPort` with
 * CLUSTER_SECRET and ADMIN_TOKEN; a switch listens on `gateway` (on `switchPort` if given),
 * advertises it and heartbeats to the broker every second; the admin APIs on loopback.
 */
export function setSplitConfig(doc: YamlDoc, opts: { gateway: string; brokerPort: number; switchPort?: number }): void {
  doc.setIn(['broker', 'listen'], doc.createNode({ host: opts.gateway, port: opts.brokerPort }));
  doc.setIn(['broker', 'clusterSecret'], CLUSTER_SECRET);
  doc.setIn(['broker', 'adminToken'], ADMIN_TOKEN);
  doc.setIn(['admin', 'host'], '127.0.0.1');
  doc.setIn(['switch', 'listen', 'host'], opts.gateway);
  if (opts.switchPort !== undefined) doc.setIn(['switch', 'listen', 'port'], opts.switchPort);
  doc.setIn(['switch', 'advertise'], opts.gateway);
  doc.setIn(['switch', 'broker'], doc.createNode({ urls: [`https://${opts.gateway}:${opts.brokerPort}`], clusterSecret: CLUSTER_SECRET, interval: 1 }));
}

/**
 * `elink init` in a new temporary directory, the test password in `pw`, then `edit` on the
 * config file (e.g. segments the users need) and `users` added with `elink user add`.
 */
export function initState(prefix: string, users: { name: string; segment?: string }[] = [], edit?: (doc: YamlDoc) => void): string {
  const state = mkdtempSync(join(tmpdir(), prefix));
  const init = spawnSync(process.execPath, [CLI, 'init', '--state', state], { encoding: 'utf8' });
  if (init.status !== 0) throw new Error(`elink init failed: ${init.stderr}`);
  if (edit) {
    const file = join(state, 'elink.yaml');
    const doc = parseDocument(readFileSync(file, 'utf8'));
    edit(doc);
    writeFileSync(file, doc.toString());
  }
  writeFileSync(join(state, 'pw'), `${PASSWORD}\n`);
  for (const u of users) {
    const r = spawnSync(process.execPath, [CLI, 'user', 'add', u.name, '--segment', u.segment ?? 'lab', '--password-file', join(state, 'pw'), '--state', state], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`elink user add ${u.name} failed: ${r.stderr}`);
  }
  return state;
}

export async function startServer(opts: {
  gateway: string;
  segments: Record<string, unknown>[];
  users: { name: string; segment: string; macs?: number; digestSecret?: string; lan?: string[] }[];
  /** Run `elink up` inside this namespace (then `gateway` is its underlay address). */
  ns?: string;
  /** Keys of the config's `switch` section to set, e.g. { gso: false }. */
  switchConfig?: Record<string, unknown>;
  /** Keys of the config's `broker` section to set, e.g. { adminToken }. */
  brokerConfig?: Record<string, unknown>;
}): Promise<TestServer> {
  const [brokerPort, switchPort, adminPort] = [await freePort(), await freePort(), await freePort()];
  const state = initState('elink-e2e-', opts.users, (doc) => {
    doc.setIn(['broker', 'listen', 'port'], brokerPort);
    doc.setIn(['switch', 'listen', 'port'], switchPort);
    doc.setIn(['admin', 'port'], adminPort);
    doc.setIn(['admin', 'host'], '127.0.0.1');
    for (const [k, v] of Object.entries(opts.switchConfig ?? {})) doc.setIn(['switch', k], v);
    for (const [k, v] of Object.entries(opts.brokerConfig ?? {})) doc.setIn(['broker', k], v);
    // The default `lab` segment stays: the demo user of `elink init` belongs to it.
    for (const seg of opts.segments) (doc.get('segments') as { add(v: unknown): void }).add(doc.createNode(seg));
  });
  const configFile = join(state, 'elink.yaml');
  for (const u of opts.users) {
    if (u.macs !== undefined || u.digestSecret !== undefined || u.lan !== undefined) {
      const d = parseDocument(readFileSync(configFile, 'utf8'));
      const users = d.get('users') as { items: { get(k: string): unknown; set(k: string, v: unknown): void }[] };
      const user = users.items.find((x) => x.get('name') === u.name);
      if (u.macs !== undefined) user?.set('macs', u.macs);
      // The DTCP secret (docs/dtcp.md).
      if (u.digestSecret !== undefined) user?.set('digestSecret', u.digestSecret);
      // Static ranges (a DTCP tunnelonly user's, docs/dtcp.md).
      if (u.lan !== undefined) user?.set('lan', d.createNode(u.lan));
      writeFileSync(configFile, d.toString());
    }
  }
  const proc = await startElink(['up', '--state', state], 'server start', { ns: opts.ns });
  const brokerUrl = `https://${opts.gateway}:${brokerPort}`;
  const adminUrl = `http://127.0.0.1:${adminPort}`;
  return {
    state,
    brokerUrl,
    adminUrl,
    switchPort,
    proc,
    connectArgs: (user) => connectArgs(state, brokerUrl, user),
    async metric(name, labels = {}) {
      const text = opts.ns
        ? sh('curl', ['-s', '-m', '5', `${adminUrl}/metrics`], { ns: opts.ns })
        : await (await fetch(`${adminUrl}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
      return sumMetric(text, name, labels);
    },
    destroy() {
      rmSync(state, { recursive: true, force: true });
    },
  };
}

/** POST /v1/login as alice with `device` (the request's address, TLS and agent in `options`);
 * the reply parsed with the protocol's contract, any status but 200 an error. */
export function postLogin(options: RequestOptions, device: string): Promise<LoginReply> {
  return new Promise((resolve, reject) => {
    const body = JSON.stringify({ user: 'alice', password: PASSWORD, segment: 'lab', device });
    const req = request({ ...options, path: '/v1/login', method: 'POST', headers: { 'content-type': 'application/json' }, timeout: 10_000 }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d));
      res.on('end', () => (res.statusCode === 200 ? resolve(loginReplySchema.parseAsync(JSON.parse(text))) : reject(new Error(`login HTTP ${res.statusCode}: ${text}`))));
    });
    req.on('timeout', () => req.destroy(new Error('login timed out')));
    req.on('error', reject);
    req.end(body);
  });
}
