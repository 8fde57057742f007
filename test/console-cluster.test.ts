/**
 * The console's API in a split deployment with the built `elink`: one `elink broker` and
 * one `elink switch` heartbeating to it (every second) over real TLS; a kernel client
 * (`elink connect` in a network namespace, a TUN/TAP device of its own) and the switch's test
 * client. The node's sessions, bytes and MAC table reach the broker in heartbeats; a
 * disconnect and a drain travel back in heartbeat replies, and the kernel client's session
 * really ends (it logs "link down" with the administrator's reason and logs in again).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { consoleOverviewReplySchema, consoleSessionsReplySchema, consoleTableReplySchema } from '@elink/protocol';
import { TestClient, waitUntil } from '../packages/switch/src/testing/test-client.js';
import { createUnderlay, requireNetnsOrSkip, type Underlay } from './lib/netns.js';
import { assertBuilt, CLI, elink, freePort, stopAll, type Proc } from './lib/processes.js';
import { ADMIN_TOKEN, CLUSTER_SECRET, initState, postLogin } from './lib/server.js';

const enabled = requireNetnsOrSkip();

describe.skipIf(!enabled)('console API with a switch node that reports in heartbeats', () => {
  let underlay: Underlay;
  let state: string;
  let brokerUrl: string;
  let ca: string;
  let sw: Proc;
  let kernel: Proc;
  const clients: TestClient[] = [];

  const get = (path: string): Promise<unknown> =>
    new Promise((resolve, reject) => {
      const req = request(new URL(path, brokerUrl), { ca, headers: { authorization: `Bearer ${ADMIN_TOKEN}` }, timeout: 10_000 }, (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d));
        res.on('end', () => resolve(JSON.parse(text)));
      });
      req.on('error', reject);
      req.end();
    });
  const sessions = async () => consoleSessionsReplySchema.parse(await get('/v1/admin/segments/lab/sessions')).sessions;
  const cli = (args: string[]) => spawnSync(process.execPath, [CLI, ...args, '--state', state], { encoding: 'utf8', env: { ...process.env, ELINK_ADMIN_TOKEN: ADMIN_TOKEN }, timeout: 20_000 });

  beforeAll(async () => {
    assertBuilt();
    underlay = createUnderlay();
    state = initState('elink-console-cluster-', [{ name: 'alice' }]);
    const [brokerPort, brokerAdmin, switchPort, switchAdmin] = [await freePort(), await freePort(), await freePort(), await freePort()];
    brokerUrl = `https://${underlay.gateway}:${brokerPort}`;
    const file = join(state, 'elink.yaml');
    const doc = parseDocument(readFileSync(file, 'utf8'));
    doc.setIn(['broker', 'listen'], doc.createNode({ host: underlay.gateway, port: brokerPort }));
    doc.setIn(['broker', 'clusterSecret'], CLUSTER_SECRET);
    doc.setIn(['broker', 'adminToken'], ADMIN_TOKEN);
    doc.setIn(['admin', 'host'], '127.0.0.1');
    doc.setIn(['switch', 'listen', 'host'], underlay.gateway);
    doc.setIn(['switch', 'listen', 'port'], switchPort);
    doc.setIn(['switch', 'advertise'], underlay.gateway);
    doc.setIn(['switch', 'broker'], doc.createNode({ urls: [brokerUrl], clusterSecret: CLUSTER_SECRET, interval: 1 }));
    writeFileSync(file, doc.toString());
    ca = readFileSync(join(state, 'ca.pem'), 'utf8');
    const broker = elink(['broker', '--state', state, '--admin-port', String(brokerAdmin)]);
    await broker.waitFor((l) => l.msg === 'emotion link started', 30_000, 'broker start');
    sw = elink(['switch', '--state', state, '--admin-port', String(switchAdmin), '--node-id', 'sw-remote']);
    await sw.waitFor((l) => l.msg === 'emotion link started', 30_000, 'switch start');
    const { ns } = underlay.addHost('k1');
    kernel = elink(['connect', '--broker', brokerUrl, '--ca', join(state, 'ca.pem'), '--user', 'alice', '--password-file', join(state, 'pw'), '--ifname', 'el0', '--device', 'kernel1', '--state', join(state, 'client-k1')], { ns });
    await kernel.waitFor((l) => l.msg === 'link up', 30_000, 'kernel client link up');
  }, 90_000);

  afterAll(async () => {
    for (const c of clients) c.destroy();
    await stopAll();
    underlay?.destroy();
    if (state) rmSync(state, { recursive: true, force: true });
  });

  it('shows the node, its sessions with bytes and its MAC table from heartbeats', async () => {
    const login = await postLogin({ host: underlay.gateway, port: Number(new URL(brokerUrl).port), ca }, 'tester');
    const c = await TestClient.connect({ host: underlay.gateway, port: login.servers[0]!.port, ca });
    clients.push(c);
    const w = await c.join(login.ticket);
    let list = await sessions();
    for (let i = 0; i < 60 && list.length < 2; i++) {
      await new Promise((r) => setTimeout(r, 100));
      list = await sessions();
    }
    expect(list.map((s) => s.device).sort()).toEqual(['kernel1', 'tester']);
    for (const s of list) expect(s.node).toBe('sw-remote');
    // The kernel client's interface came up and talked (ARP/ND, router solicitations): bytes from it.
    const k = list.find((s) => s.device === 'kernel1')!;
    expect(k.addresses.some((a) => a.startsWith('198.19.'))).toBe(true);
    expect(list.find((s) => s.id === w.session)).toBeDefined();

    const overview = consoleOverviewReplySchema.parse(await get('/v1/admin/overview'));
    expect(overview.nodes).toEqual([expect.objectContaining({ node: 'sw-remote', inProcess: false, healthy: true, sessions: 2, version: expect.stringMatching(/^elink/) })]);
    const table = consoleTableReplySchema.parse(await get('/v1/admin/segments/lab/table'));
    expect(table.entries).toContainEqual(expect.objectContaining({ key: login.mac, port: w.session, node: 'sw-remote' }));
  });

  it('elink kick ends the kernel client\'s session at the next heartbeat; the client logs in again', async () => {
    const before = (await sessions()).find((s) => s.device === 'kernel1')!;
    const r = cli(['kick', before.id]);
    expect(r.status, r.stderr).toBe(0);
    const down = await kernel.waitFor((l) => l.msg === 'link down', 15_000, 'the kicked client to go down');
    expect(String(down.err)).toContain('disconnected by an administrator');
    // The switch's line comes through another pipe: it may arrive after the client's, never not at all.
    await sw.waitFor((l) => l.msg === 'session kicked' && l.session === before.id, 5000, "the switch's session kicked line");
    await kernel.waitFor((l) => l.msg === 'link up' && kernel.logs.filter((x) => x.msg === 'link up').length >= 2, 30_000, 'the client back up');
    let after = await sessions();
    for (let i = 0; i < 60 && !after.some((s) => s.device === 'kernel1' && s.id !== before.id); i++) {
      await new Promise((r2) => setTimeout(r2, 100));
      after = await sessions();
    }
    expect(after.map((s) => s.id)).not.toContain(before.id);
    expect(after.some((s) => s.device === 'kernel1')).toBe(true);
    const audit = JSON.parse(cli(['admin', 'audit', '--json']).stdout) as { entries: { action: string; target: string; who: string }[] };
    expect(audit.entries).toContainEqual(expect.objectContaining({ action: 'session.disconnect', target: before.id, who: 'token' }));
  });

  it('elink admin drain reaches the node in its heartbeat reply: it drains and says so', async () => {
    const r = cli(['admin', 'drain', 'sw-remote']);
    expect(r.status, r.stderr).toBe(0);
    await sw.waitFor((l) => l.msg === 'draining', 15_000, 'the node to drain');
    let overview = consoleOverviewReplySchema.parse(await get('/v1/admin/overview'));
    for (let i = 0; i < 50 && !overview.nodes[0]!.draining; i++) {
      await new Promise((r2) => setTimeout(r2, 100));
      overview = consoleOverviewReplySchema.parse(await get('/v1/admin/overview'));
    }
    expect(overview.nodes[0]).toMatchObject({ node: 'sw-remote', draining: true });
    const status = cli(['status']);
    expect(status.stdout).toMatch(/sw-remote\tregistered\tyes\tyes/);
  });
});
