/**
 * Draining, end to end with the built `elink`: one `elink broker` (memory store) and two
 * `elink switch` nodes heartbeating to it; two hosts in network namespaces run
 * `elink connect` and land on node A (the only node at that time). SIGTERM to node A:
 * its heartbeat says draining, its sessions get `redirect`, the clients log in again and
 * land on node B, and the hosts keep pinging each other with at most a short gap.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { get as httpsGet } from 'node:https';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { createUnderlay, requireNetnsOrSkip, sh, type Underlay } from './lib/netns.js';
import { assertBuilt, elink, freePort, stopAll, type Proc } from './lib/processes.js';
import { ADMIN_TOKEN, CLUSTER_SECRET, initState } from './lib/server.js';

const enabled = requireNetnsOrSkip();

interface NodeView {
  node: string;
  draining: boolean;
  healthy: boolean;
  sessions: number;
}

describe.skipIf(!enabled)('draining a switch node (SIGTERM) moves its clients to another node', () => {
  let underlay: Underlay;
  let state: string;
  let stateB: string;
  let brokerUrl: string;
  let ca: Buffer;
  let switchA: Proc;
  const hosts: Array<{ ns: string; v4: string; client: Proc }> = [];

  const nodes = (): Promise<NodeView[]> =>
    new Promise((resolve, reject) => {
      const req = httpsGet(`${brokerUrl}/v1/admin/nodes`, { ca, timeout: 5000, headers: { authorization: `Bearer ${ADMIN_TOKEN}` } }, (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d));
        res.on('end', () => (res.statusCode === 200 ? resolve((JSON.parse(text) as { nodes: NodeView[] }).nodes) : reject(new Error(`HTTP ${res.statusCode}: ${text}`))));
      });
      req.on('timeout', () => req.destroy(new Error('admin API did not answer')));
      req.on('error', reject);
    });

  async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = await fn().catch(() => undefined);
      if (v !== undefined) return v;
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  const startSwitch = async (dir: string, id: string): Promise<Proc> => {
    const p = elink(['switch', '--state', dir, '--switch-port', String(await freePort()), '--admin-port', String(await freePort()), '--node-id', id]);
    await p.waitFor((l) => l.msg === 'emotion link started', 30_000, `${id} start`);
    await until(`${id} in the broker's node list`, async () => ((await nodes()).some((n) => n.node === id && n.healthy) ? true : undefined));
    return p;
  };

  beforeAll(async () => {
    assertBuilt();
    underlay = createUnderlay();
    state = initState('elink-drain-', [{ name: 'alice' }]);
    const brokerPort = await freePort();
    brokerUrl = `https://${underlay.gateway}:${brokerPort}`;
    const file = join(state, 'elink.yaml');
    const doc = parseDocument(readFileSync(file, 'utf8'));
    doc.setIn(['broker', 'listen'], doc.createNode({ host: underlay.gateway, port: brokerPort }));
    doc.setIn(['broker', 'clusterSecret'], CLUSTER_SECRET);
    doc.setIn(['broker', 'adminToken'], ADMIN_TOKEN);
    doc.setIn(['admin', 'host'], '127.0.0.1');
    doc.setIn(['switch', 'listen', 'host'], underlay.gateway);
    doc.setIn(['switch', 'advertise'], underlay.gateway);
    doc.setIn(['switch', 'drainSeconds'], 3);
    doc.setIn(['switch', 'broker'], doc.createNode({ urls: [brokerUrl], clusterSecret: CLUSTER_SECRET, interval: 1 }));
    writeFileSync(file, doc.toString());
    // Node B gets its own copy of the state directory (it keeps its own broker-keys.json).
    stateB = `${state}-b`;
    cpSync(state, stateB, { recursive: true });
    ca = readFileSync(join(state, 'ca.pem'));

    const broker = elink(['broker', '--state', state, '--admin-port', String(await freePort())]);
    await broker.waitFor((l) => l.msg === 'emotion link started', 30_000, 'broker start');
    switchA = await startSwitch(state, 'sw-a');
    for (const name of ['h1', 'h2']) {
      const { ns } = underlay.addHost(name);
      const client = elink(['connect', '--broker', brokerUrl, '--ca', join(state, 'ca.pem'), '--user', 'alice', '--password-file', join(state, 'pw'), '--ifname', 'el0', '--device', name], { ns });
      const up = await client.waitFor((l) => l.msg === 'link up', 30_000, `${name} link up`);
      expect(up.node).toBe('sw-a');
      hosts.push({ ns, v4: String(up.ipv4).split('/')[0]!, client });
    }
    await startSwitch(stateB, 'sw-b');
  }, 90_000);

  afterAll(async () => {
    await stopAll();
    underlay?.destroy();
    for (const d of [state, stateB]) if (d) rmSync(d, { recursive: true, force: true });
  });

  it('redirects the clients to node B on SIGTERM; the broker lists node A as draining; pings go on', async () => {
    expect(sh('ping', ['-c', '3', '-i', '0.2', '-W', '2', hosts[1]!.v4], { ns: hosts[0]!.ns, allowFail: true })).toMatch(/ 0% packet loss/);
    expect((await nodes()).find((n) => n.node === 'sw-a')).toMatchObject({ draining: false, sessions: 2 });

    // 60 pings, 0.2 s apart (12 s, bounded by -w), across the move.
    const pinger = spawn('ip', ['netns', 'exec', hosts[0]!.ns, 'ping', '-c', '60', '-i', '0.2', '-W', '1', '-w', '20', hosts[1]!.v4], { stdio: ['ignore', 'pipe', 'pipe'] });
    let pingOut = '';
    pinger.stdout.on('data', (d: Buffer) => (pingOut += d));
    const pingDone = new Promise<void>((r) => pinger.once('exit', () => r()));
    await new Promise((r) => setTimeout(r, 1500));

    const exited = switchA.stop('SIGTERM', 15_000);
    for (const [i, h] of hosts.entries()) {
      const moved = await h.client.waitFor((l) => l.msg === 'link up' && l.node === 'sw-b', 15_000, `h${i + 1} on sw-b`);
      expect(moved.ipv4).toBeDefined();
    }
    expect(await exited).toBe(0);
    // Node A told its sessions to go elsewhere, after telling the broker.
    expect(switchA.logs.some((l) => l.msg === 'draining')).toBe(true);
    for (const h of hosts) expect(h.client.logs.some((l) => l.msg === 'link down' && String(l.err).includes('drain'))).toBe(true);
    const list = await nodes();
    expect(list.find((n) => n.node === 'sw-a')).toMatchObject({ draining: true });
    expect(list.find((n) => n.node === 'sw-b')).toMatchObject({ draining: false });

    await pingDone;
    const m = /(\d+) packets transmitted, (\d+) received/.exec(pingOut);
    expect(m, pingOut).not.toBeNull();
    const [sent, got] = [Number(m![1]), Number(m![2])];
    // The move costs at most a short gap: no more than 15 of 60 pings (3 s) lost.
    expect(sent - got, pingOut).toBeLessThanOrEqual(15);
    expect(got).toBeGreaterThan(0);
    expect(sh('ping', ['-c', '3', '-i', '0.2', '-W', '2', hosts[1]!.v4], { ns: hosts[0]!.ns, allowFail: true })).toMatch(/ 0% packet loss/);
  }, 60_000);
});
