/**
 * Draining, end to end with the built `elink`: one `elink broker` (memory store) and two
 * `elink switch` nodes heartbeating to it; two hosts in network namespaces run
 * `elink connect` and land on node A (the only node at that time). SIGTERM to node A:
 * its heartbeat says draining, its sessions get `redirect`, the clients log in again and
 * land on node B, and the hosts keep pinging each other with at most a short gap.
 *
 * Node A reaches the broker through a relay in this test that can hold A's requests: the
 * drain's announce (a heartbeat saying draining) waits there while the test checks that no
 * client was redirected yet, then goes on; the redirects must all come after the release.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { get as httpsGet } from 'node:https';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { connectHost } from './lib/connected-hosts.js';
import { createUnderlay, requireNetnsOrSkip, sh, type Underlay } from './lib/netns.js';
import { assertBuilt, freePort, startElink, stopAll, type Proc } from './lib/processes.js';
import { ADMIN_TOKEN, connectArgs, initState, setSplitConfig } from './lib/server.js';
import { until } from './lib/until.js';
import { pingEach } from './lib/ping.js';

const enabled = requireNetnsOrSkip();

interface NodeView {
  node: string;
  draining: boolean;
  healthy: boolean;
  sessions: number;
  active: string[];
  segmentSessions?: Record<string, number>;
}

/** A TCP relay to `target`; hold() keeps what the client side sends (in order) until release(). */
async function holdingRelay(host: string, port: number, target: { host: string; port: number }): Promise<{ server: Server; hold(): void; release(): void; heldBytes(): number }> {
  let holding = false;
  const held: Array<[Socket, Buffer]> = [];
  const server = createServer((client) => {
    const up = connect(target.port, target.host);
    client.on('data', (d: Buffer) => (holding ? held.push([up, d]) : up.write(d)));
    up.on('data', (d: Buffer) => client.write(d));
    for (const [a, b] of [[client, up], [up, client]] as const) {
      a.on('error', () => b.destroy());
      a.on('close', () => b.destroy());
    }
  });
  await new Promise<void>((resolve) => server.listen(port, host, resolve));
  return {
    server,
    hold: () => (holding = true),
    release: () => {
      holding = false;
      for (const [up, d] of held.splice(0)) if (!up.destroyed) up.write(d);
    },
    heldBytes: () => held.reduce((n, [, d]) => n + d.length, 0),
  };
}

describe.skipIf(!enabled)('draining a switch node (SIGTERM) moves its clients to another node', () => {
  let underlay: Underlay;
  let state: string;
  let stateB: string;
  let brokerUrl: string;
  let ca: Buffer;
  let switchA: Proc;
  let relay: Awaited<ReturnType<typeof holdingRelay>>;
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

  const startSwitch = async (dir: string, id: string): Promise<Proc> => {
    const p = await startElink(['switch', '--state', dir, '--switch-port', String(await freePort()), '--admin-port', String(await freePort()), '--node-id', id], `${id} start`);
    await until(`${id} in the broker's node list`, async () => ((await nodes()).some((n) => n.node === id && n.healthy) ? true : undefined));
    return p;
  };

  beforeAll(async () => {
    assertBuilt();
    underlay = createUnderlay();
    const brokerPort = await freePort();
    brokerUrl = `https://${underlay.gateway}:${brokerPort}`;
    state = initState('elink-drain-', [{ name: 'alice' }], (doc) => {
      setSplitConfig(doc, { gateway: underlay.gateway, brokerPort });
      doc.setIn(['switch', 'drainSeconds'], 3);
    });
    const file = join(state, 'elink.yaml');
    // Node B gets its own copy of the state directory (it keeps its own broker-keys.json).
    stateB = `${state}-b`;
    cpSync(state, stateB, { recursive: true });
    ca = readFileSync(join(state, 'ca.pem'));
    // Node A (not B) heartbeats through the relay (same address, the certificate still fits).
    const relayPort = await freePort();
    relay = await holdingRelay(underlay.gateway, relayPort, { host: underlay.gateway, port: brokerPort });
    const docA = parseDocument(readFileSync(file, 'utf8'));
    docA.setIn(['switch', 'broker', 'urls'], docA.createNode([`https://${underlay.gateway}:${relayPort}`]));
    writeFileSync(file, docA.toString());

    await startElink(['broker', '--state', state, '--admin-port', String(await freePort())], 'broker start');
    switchA = await startSwitch(state, 'sw-a');
    for (const name of ['h1', 'h2']) {
      const { ns, v4, up, client } = await connectHost(underlay, name, connectArgs(state, brokerUrl, 'alice'));
      expect(up.node).toBe('sw-a');
      hosts.push({ ns, v4, client });
    }
    await startSwitch(stateB, 'sw-b');
  }, 90_000);

  afterAll(async () => {
    relay?.release();
    relay?.server.close();
    await stopAll();
    underlay?.destroy();
    for (const d of [state, stateB]) if (d) rmSync(d, { recursive: true, force: true });
  });

  it('redirects the clients to node B on SIGTERM; the broker lists node A as draining; pings go on', async () => {
    expect(await pingEach(hosts[0]!.ns, hosts[1]!.v4, 3)).toEqual({ transmitted: 3, received: 3, unanswered: [] });
    // The broker learns the session count from node A's next heartbeat (every second).
    const before = await until('both sessions in node A\'s heartbeat', async () => {
      const a = (await nodes()).find((n) => n.node === 'sw-a');
      return a?.sessions === 2 ? a : undefined;
    });
    // Per segment too: the broker places a segment's clients by these counts (affinity by count).
    expect(before).toMatchObject({ draining: false, sessions: 2, active: ['lab'], segmentSessions: { lab: 2 } });

    // 60 pings, 0.2 s apart (12 s, bounded by -w), across the move.
    const pinger = spawn('ip', ['netns', 'exec', hosts[0]!.ns, 'ping', '-c', '60', '-i', '0.2', '-W', '1', '-w', '20', hosts[1]!.v4], { stdio: ['ignore', 'pipe', 'pipe'] });
    let pingOut = '';
    pinger.stdout.on('data', (d: Buffer) => (pingOut += d));
    const pingDone = new Promise<void>((r) => pinger.once('exit', () => r()));
    await new Promise((r) => setTimeout(r, 1500));

    // The announce is held in the relay: no client may be redirected while it waits.
    relay.hold();
    const exited = switchA.stop('SIGTERM', 15_000);
    await switchA.waitFor((l) => l.msg === 'draining', 10_000, 'node A draining');
    const linkDowns = (): number => hosts.filter((h) => h.client.logs.some((l) => l.msg === 'link down')).length;
    const deadline = Date.now() + 1500;
    while (relay.heldBytes() === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(relay.heldBytes()).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 800));
    expect(linkDowns()).toBe(0);
    expect((await nodes()).find((n) => n.node === 'sw-a')).toMatchObject({ draining: false });
    const beforeRelease = hosts.map((h) => h.client.logs.length);
    relay.release();
    for (const [i, h] of hosts.entries()) {
      const moved = await h.client.waitFor((l) => l.msg === 'link up' && l.node === 'sw-b', 15_000, `h${i + 1} on sw-b`);
      expect(moved.ipv4).toBeDefined();
    }
    expect(await exited).toBe(0);
    // Node A told its sessions to go elsewhere, after telling the broker.
    expect(switchA.logs.some((l) => l.msg === 'draining')).toBe(true);
    for (const [i, h] of hosts.entries()) {
      // The redirect reached the client after the announce was let through.
      const down = h.client.logs.findIndex((l) => l.msg === 'link down' && String(l.err).includes('drain'));
      expect(down).toBeGreaterThanOrEqual(beforeRelease[i]!);
    }
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
    expect(await pingEach(hosts[0]!.ns, hosts[1]!.v4, 3)).toEqual({ transmitted: 3, received: 3, unanswered: [] });
  }, 60_000);
});
