/**
 * One segment across two switch nodes, end to end with the built `elink`: one
 * `elink broker` and two `elink switch` processes with trunks (`switch.trunk`), which find
 * each other through the broker's heartbeat replies (each advertising first a trunk host
 * nothing listens on: the dialer moves on to the next). Kernel clients in network namespaces
 * land on different nodes (node A takes 3 sessions at most, so the later ones go to B) and
 * ping each other over IPv4 and IPv6 in an L2 and an L3 segment; offload clients on the two
 * nodes carry 10 MB byte-identical as TCP super-frames crossing the trunk whole
 * (TRUNK_FRAME_GSO); a forged trunk (wrong
 * secret) is refused; a loop through two bridge clients (one per node, their TAPs on one
 * Linux bridge) is frozen and reported, and the looping frames stop. Before the loop (which
 * freezes MACs of the L2 segment for a while): a node frozen with SIGSTOP (no FIN) is
 * declared down by the keepalive (2 s × 3 here), what was learned from it withdrawn, the
 * broker told at once (an early heartbeat: it holds the node suspect), and after SIGCONT the
 * trunk is up again (told early too: the broker withdraws the loss) and pings pass. Last, a
 * segment added to the broker's configuration (SIGHUP) reaches both nodes and opens over the
 * trunk that is up (a `segments` trunk message), with no trunk down.
 *
 * Then, without namespaces or a broker: two `elink switch` processes with static peers and
 * a cluster CA (`switch.trunk.ca`, no secret) whose files `elink trunk-ca` made bring their
 * trunk up, and a certificate of another CA made by the same command is refused. The CA is
 * then rotated live (SIGHUP): the trunk up before stays, the trunk port shows and takes only
 * certificates of the new CA, and the trunk comes up again on them after a node restarts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { createPublicKey } from 'node:crypto';
import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { connect as tlsConnect } from 'node:tls';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDocument } from 'yaml';
import { createCertificateAuthority, issueNodeCertificate } from '@elink/pki';
import { consoleTrunksReplySchema, encodeTrunkControl, RecordType, TRUNK_ALPN, type ConsoleTrunk } from '@elink/protocol';
import { createUnderlay, requireNetnsOrSkip, sh, type Underlay } from './lib/netns.js';
import { assertBuilt, CLI, elink, freePort, startElink, stopAll, type Proc } from './lib/processes.js';
import { fetchMetric } from './lib/metrics.js';
import { ADMIN_TOKEN, CLUSTER_SECRET, initState } from './lib/server.js';
import { tcpStream } from './lib/tcp-stream.js';
import { until as poll } from './lib/until.js';
import { pingEach } from './lib/ping.js';

const enabled = requireNetnsOrSkip();
const LOOP = fileURLToPath(new URL('./lib/loop-probe.py', import.meta.url));
/** The MAC the loop probe sends from (locally administered). */
const LOOP_MAC = '02:00:00:00:aa:01';

/** A copy of the state directory `state` beside it (`STATE-suffix`: a node's own pid file),
 * its elink.yaml changed by `edit`. */
function copyState(state: string, suffix: string, edit: (doc: ReturnType<typeof parseDocument>) => void): string {
  const dir = `${state}-${suffix}`;
  cpSync(state, dir, { recursive: true });
  const file = join(dir, 'elink.yaml');
  const doc = parseDocument(readFileSync(file, 'utf8'));
  edit(doc);
  writeFileSync(file, doc.toString());
  return dir;
}

/** A state directory for standalone `elink switch` nodes on loopback: they trust the
 * broker's ticket key from a file (no broker runs). */
function standaloneSwitchState(prefix: string): string {
  const state = initState(prefix, [], (doc) => {
    doc.setIn(['admin', 'host'], '127.0.0.1');
    doc.setIn(['switch', 'listen', 'host'], '127.0.0.1');
    doc.setIn(['switch', 'ticketKeys'], doc.createNode(['ticket.pub']));
  });
  writeFileSync(join(state, 'ticket.pub'), createPublicKey(readFileSync(join(state, 'ticket-signing.key'))).export({ type: 'spki', format: 'pem' }));
  return state;
}

/** `elink switch` on state `dir` as node `node`, started; its admin port (a free one unless given). */
async function startSwitchNode(dir: string, node: string, args: string[], adminPort?: number): Promise<{ proc: Proc; adminPort: number }> {
  const port = adminPort ?? (await freePort());
  const proc = await startElink(['switch', '--state', dir, '--admin-port', String(port), '--node-id', node, ...args], `${node} start`);
  return { proc, adminPort: port };
}

/** A TLS handshake with the trunk port `port` (showing `cert`, verifying the node's against
 * `ca`; neither: none shown, none verified): "hello" when the node took the connection (its
 * trunk_hello came), else how it ended. */
function trunkHandshake(port: number, o: { cert?: Buffer; key?: Buffer; ca?: Buffer[] } = {}): Promise<string> {
  return new Promise<string>((resolve) => {
    const auth = o.ca ? { ca: o.ca, checkServerIdentity: () => undefined } : { rejectUnauthorized: false };
    const s = tlsConnect({ host: '127.0.0.1', port, ALPNProtocols: [TRUNK_ALPN], ...auth, ...(o.cert ? { cert: o.cert, key: o.key } : {}) });
    s.on('data', (d: Buffer) => {
      if (d[0] === RecordType.TRUNK_CONTROL) resolve('hello');
      s.destroy();
    });
    s.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
    s.on('close', () => resolve('closed'));
    s.setTimeout(10_000, () => s.destroy(new Error('no answer')));
  });
}

interface Host {
  ns: string;
  v4: string;
  v6: string;
  node: string;
}

describe.skipIf(!enabled)('a segment across two switch nodes (trunks)', () => {
  let underlay: Underlay;
  let state: string;
  let stateB: string;
  let trunkA: number;
  const admin = { a: 0, b: 0 };
  const nodes: Record<string, Proc> = {};
  const hosts = new Map<string, Host>();
  let loopNs: string;
  let broker: Proc;

  const host = (n: string): Host => hosts.get(n)!;

  async function metric(node: 'a' | 'b', name: string, labels: Record<string, string> = {}): Promise<number> {
    // A connection each (no keep-alive): a pooled one may meet the admin port's idle close.
    const text = await new Promise<string>((resolve, reject) => {
      const req = httpGet({ host: '127.0.0.1', port: admin[node], path: '/metrics', agent: false, timeout: 5000 }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d));
        res.on('end', () => resolve(body));
      });
      req.on('timeout', () => req.destroy(new Error('/metrics did not answer')));
      req.on('error', reject);
    });
    let sum = 0;
    for (const line of text.split('\n')) {
      if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
      if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) sum += Number(line.split(' ').pop());
    }
    return sum;
  }

  async function until(what: string, fn: () => Promise<boolean> | boolean, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await fn())) {
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async function startSwitch(dir: string, id: 'a' | 'b'): Promise<void> {
    const started = await startSwitchNode(dir, `sw-${id}`, ['--switch-port', String(await freePort())]);
    admin[id] = started.adminPort;
    nodes[id] = started.proc;
  }

  async function connectHost(name: string, user: string, ns: string, ifname = 'el0'): Promise<Host> {
    const client = elink(['connect', '--broker', brokerUrl, '--ca', join(state, 'ca.pem'), '--user', user, '--password-file', join(state, 'pw'), '--ifname', ifname, '--device', name], { ns });
    const up = await client.waitFor((l) => l.msg === 'link up', 30_000, `${name} link up`);
    const h = { ns, v4: String(up.ipv4).split('/')[0]!, v6: String(up.ipv6).split('/')[0]!, node: String(up.node) };
    hosts.set(name, h);
    return h;
  }

  let brokerUrl: string;

  beforeAll(async () => {
    assertBuilt();
    underlay = createUnderlay();
    const users = [
      { name: 'alice', segment: 'lab' },
      { name: 'bob', segment: 'lab' },
      { name: 'carol', segment: 'net' },
      { name: 'dave', segment: 'net' },
      { name: 'erin', segment: 'lab' },
      { name: 'frank', segment: 'lab' },
    ];
    const brokerPort = await freePort();
    trunkA = await freePort();
    brokerUrl = `https://${underlay.gateway}:${brokerPort}`;
    state = initState('elink-trunk-', [], (doc) => {
      const segs = doc.get('segments') as { items: { set(k: string, v: unknown): void }[]; add(v: unknown): void };
      segs.items[0]!.set('ipv4', doc.createNode({ pool: '198.19.0.0/24' }));
      segs.add(doc.createNode({ name: 'net', mode: 'l3', ipv4: { pool: '198.19.60.0/24' }, ipv6: { pool: 'fd00:e1:0:60::/64' } }));
      doc.setIn(['broker', 'listen'], doc.createNode({ host: underlay.gateway, port: brokerPort }));
      doc.setIn(['broker', 'clusterSecret'], CLUSTER_SECRET);
      doc.setIn(['broker', 'nodeTimeout'], 4);
      doc.setIn(['broker', 'adminToken'], ADMIN_TOKEN);
      doc.setIn(['admin', 'host'], '127.0.0.1');
      doc.setIn(['switch', 'listen', 'host'], underlay.gateway);
      doc.setIn(['switch', 'advertise'], underlay.gateway);
      doc.setIn(['switch', 'maxSessions'], 3);
      doc.setIn(['switch', 'broker'], doc.createNode({ urls: [brokerUrl], clusterSecret: CLUSTER_SECRET, interval: 1 }));
      doc.setIn(['switch', 'trunk'], doc.createNode({ host: '127.0.0.1', advertise: '127.0.0.254,127.0.0.1', port: trunkA, keepalive: 2, keepaliveMissed: 3, macMoves: { maxMoves: 3, window: 60, freeze: 60 } }));
    });
    for (const u of users) {
      const r = spawnSync(process.execPath, [fileURLToPath(new URL('../packages/cli/dist/main.js', import.meta.url)), 'user', 'add', u.name, '--segment', u.segment, '--password-file', join(state, 'pw'), '--state', state], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
    }
    // The loop's two bridge clients may send from other MACs than their own.
    const file = join(state, 'elink.yaml');
    const doc = parseDocument(readFileSync(file, 'utf8'));
    const list = doc.get('users') as { items: { get(k: string): unknown; set(k: string, v: unknown): void }[] };
    for (const u of list.items) if (u.get('name') === 'erin' || u.get('name') === 'frank') u.set('macs', 16);
    writeFileSync(file, doc.toString());
    // Node B: its own state directory, another trunk port, no session limit of note.
    const trunkB = await freePort();
    stateB = copyState(state, 'b', (doc) => {
      doc.setIn(['switch', 'trunk', 'port'], trunkB);
      doc.setIn(['switch', 'maxSessions'], 100);
    });

    broker = await startElink(['broker', '--state', state, '--admin-port', String(await freePort())], 'broker start');
    await startSwitch(state, 'a');
    loopNs = underlay.addHost('loop').ns;
    // Three sessions on A (its limit) before B exists; the rest land on B.
    for (const [name, user] of [['h1', 'alice'], ['h3', 'carol']] as const) await connectHost(name, user, underlay.addHost(name).ns);
    await connectHost('loop-a', 'erin', loopNs, 'el0');
    await startSwitch(stateB, 'b');
    await Promise.all([nodes.a!.waitFor((l) => l.msg === 'trunk up', 15_000, 'trunk up on A'), nodes.b!.waitFor((l) => l.msg === 'trunk up', 15_000, 'trunk up on B')]);
    // Both advertise first a trunk host nothing listens on (127.0.0.254): the dialer moved on to the next.
    await Promise.any([nodes.a!, nodes.b!].map((n) => n.waitFor((l) => l.msg === 'trunk dialed' && l.host === '127.0.0.1' && l.hosts === 2, 15_000, 'trunk dialed over the second host')));
    for (const [name, user] of [['h2', 'bob'], ['h4', 'dave']] as const) await connectHost(name, user, underlay.addHost(name).ns);
    await connectHost('loop-b', 'frank', loopNs, 'el1');
  }, 120_000);

  afterAll(async () => {
    await stopAll();
    underlay?.destroy();
    for (const d of [state, stateB]) if (d) rmSync(d, { recursive: true, force: true });
  });

  it('puts the clients on both nodes, joined by one trunk found through the broker', async () => {
    expect([host('h1').node, host('h3').node, host('loop-a').node]).toEqual(['sw-a', 'sw-a', 'sw-a']);
    expect([host('h2').node, host('h4').node, host('loop-b').node]).toEqual(['sw-b', 'sw-b', 'sw-b']);
    expect(await metric('a', 'el_trunk_up', { peer: 'sw-b' })).toBe(1);
    expect(await metric('b', 'el_trunk_up', { peer: 'sw-a' })).toBe(1);
  });

  it('L2 segment: clients on different nodes ping each other over IPv4 and IPv6', async () => {
    for (const [a, b] of [['h1', 'h2'], ['h2', 'h1']] as const) {
      expect(await pingEach(host(a).ns, host(b).v4, 3)).toEqual({ transmitted: 3, received: 3, unanswered: [] });
      expect(await pingEach(host(a).ns, host(b).v6, 3, ['-6'])).toEqual({ transmitted: 3, received: 3, unanswered: [] });
    }
    expect(await metric('a', 'el_trunk_frames_total', { peer: 'sw-b', direction: 'out' })).toBeGreaterThan(0);
    expect(await metric('b', 'el_trunk_remote_endpoints', { segment: 'lab' })).toBeGreaterThanOrEqual(2);
  });

  it('L3 segment: clients on different nodes ping each other over IPv4 and IPv6 (host routes announced over the trunk)', async () => {
    // Each node holds the other's two host routes (IPv4, IPv6) before the first ping: once,
    // on a loaded CI machine, all three of the first pings went out before they had come.
    await poll('both nodes hold the peer\'s host routes in "net"', async () => ((await metric('a', 'el_trunk_remote_endpoints', { segment: 'net' })) === 2 && (await metric('b', 'el_trunk_remote_endpoints', { segment: 'net' })) === 2) || undefined, 15_000);
    for (const [a, b] of [['h3', 'h4'], ['h4', 'h3']] as const) {
      expect(await pingEach(host(a).ns, host(b).v4, 3)).toEqual({ transmitted: 3, received: 3, unanswered: [] });
      expect(await pingEach(host(a).ns, host(b).v6, 3, ['-6'])).toEqual({ transmitted: 3, received: 3, unanswered: [] });
    }
    expect(await metric('a', 'el_trunk_remote_endpoints', { segment: 'net' })).toBe(2);
  });

  it('L2 segment: offload clients on different nodes carry 10 MB byte-identical both ways, super-frames crossing the trunk whole', async () => {
    const BYTES = 10 * 1024 * 1024;
    let port = 23000 + (process.pid % 10000);
    for (const [a, b, from] of [['h1', 'h2', 'a'], ['h2', 'h1', 'b']] as const) {
      const to = from === 'a' ? 'sw-b' : 'sw-a';
      const framesBefore = await metric(from, 'el_trunk_frames_total', { peer: to, direction: 'out' });
      const segmented = [await metric('a', 'el_switch_gso_segmented_total'), await metric('b', 'el_switch_gso_segmented_total')];
      const [sent, got] = await tcpStream(host(a).ns, host(b).ns, host(b).v4, port++, BYTES);
      expect(got).toEqual(sent);
      expect(got.bytes).toBe(BYTES);
      // MTU-sized frames would be at least 10 MiB / 1448 = 7,242 data frames on the trunk.
      const frames = (await metric(from, 'el_trunk_frames_total', { peer: to, direction: 'out' })) - framesBefore;
      expect(frames).toBeGreaterThan(0);
      expect(frames).toBeLessThan(BYTES / 1448);
      // Neither node segmented: both clients take super-frames.
      expect([await metric('a', 'el_switch_gso_segmented_total'), await metric('b', 'el_switch_gso_segmented_total')]).toEqual(segmented);
    }
  }, 60_000);

  it('refuses a forged trunk (wrong secret): an error record, the connection closed, counted and logged', async () => {
    const before = await metric('a', 'el_trunk_connects_total', { result: 'auth_failed' });
    const got = await new Promise<Buffer>((resolve, reject) => {
      const s = tlsConnect({ host: '127.0.0.1', port: trunkA, ALPNProtocols: [TRUNK_ALPN], rejectUnauthorized: false }, () => {
        s.write(encodeTrunkControl({ type: 'trunk_hello', version: 1, node: 'sw-z', role: 'dial', proof: Buffer.alloc(32, 1).toString('base64'), segments: [{ name: 'lab', id: 1, mode: 'l2' }] }));
      });
      const chunks: Buffer[] = [];
      s.on('data', (d: Buffer) => chunks.push(d));
      s.on('close', () => resolve(Buffer.concat(chunks)));
      s.on('error', reject);
      s.setTimeout(10_000, () => s.destroy(new Error('the forged trunk was not closed')));
    });
    // Node A's own trunk_hello, then its error record.
    const text = got.toString('latin1');
    expect(got[0]).toBe(RecordType.TRUNK_CONTROL);
    expect(text).toContain('"code":"EL_ERR_TRUNK_AUTH"');
    await until('the refusal counted', async () => (await metric('a', 'el_trunk_connects_total', { result: 'auth_failed' })) === before + 1);
    await nodes.a!.waitFor((l) => l.code === 'EL_ERR_TRUNK_AUTH' || (typeof l.msg === 'string' && l.msg.includes('trunk connections refused')), 10_000, 'the refusal logged');
    expect(await metric('a', 'el_trunk_up', { peer: 'sw-b' })).toBe(1);
  });

  it('declares a frozen node (SIGSTOP, no FIN) down by the keepalive, withdraws its endpoints, and takes it back after SIGCONT', async () => {
    const from = nodes.a!.logs.length;
    const fromB = nodes.b!.logs.length;
    const fromBroker = broker.logs.length;
    const timeouts = await metric('a', 'el_trunk_downs_total', { peer: 'sw-b', reason: 'timeout' });
    expect(await metric('a', 'el_trunk_remote_endpoints', { segment: 'lab' })).toBeGreaterThan(0);
    const b = nodes.b!.child;
    b.kill('SIGSTOP');
    try {
      await nodes.a!.waitFor((l) => nodes.a!.logs.indexOf(l) >= from && l.msg === 'trunk down' && l.peer === 'sw-b', 15_000, 'the trunk to the frozen node down on A');
      const down = nodes.a!.logs.slice(from).find((l) => l.msg === 'trunk down');
      expect(down).toMatchObject({ reason: 'timeout', code: 'EL_ERR_KEEPALIVE_TIMEOUT' });
      expect(await metric('a', 'el_trunk_downs_total', { peer: 'sw-b', reason: 'timeout' })).toBe(timeouts + 1);
      expect(await metric('a', 'el_trunk_up', { peer: 'sw-b' })).toBe(0);
      // Everything learned from B is gone at once: h2 (on B) is no longer known on A.
      expect(await metric('a', 'el_trunk_remote_endpoints', { segment: 'lab' })).toBe(0);
      expect(await metric('a', 'el_trunk_remote_endpoints', { segment: 'net' })).toBe(0);
      expect(sh('ping', ['-c', '1', '-W', '1', host('h2').v4], { ns: host('h1').ns, allowFail: true })).toMatch(/ 100% packet loss/);
      // A told the broker at once (an early heartbeat), and the broker holds B suspect.
      await broker.waitFor((l) => broker.logs.indexOf(l) >= fromBroker && l.msg === 'node suspect: a trunk peer lost it; logins rank it last until it heartbeats' && l.node === 'sw-b' && l.reporter === 'sw-a', 5000, 'the broker told of the loss');
      expect(nodes.a!.logs.slice(from).some((l) => l.msg === 'trunk peer may be gone: heartbeat sent early' && l.peer === 'sw-b' && l.reason === 'timeout')).toBe(true);
    } finally {
      b.kill('SIGCONT');
    }
    await Promise.all([
      nodes.a!.waitFor((l) => nodes.a!.logs.indexOf(l) >= from && l.msg === 'trunk up' && l.peer === 'sw-b', 20_000, 'the trunk up again on A'),
      nodes.b!.waitFor((l) => nodes.b!.logs.indexOf(l) >= fromB && l.msg === 'trunk up' && l.peer === 'sw-a', 20_000, 'the trunk up again on B'),
      // The trunk back: A says so early and the broker withdraws A's loss of B.
      nodes.a!.waitFor((l) => nodes.a!.logs.indexOf(l) >= from && l.msg === 'trunk peer back after a reported loss: heartbeat sent early' && l.peer === 'sw-b', 20_000, 'the trunk back told early by A'),
      broker.waitFor((l) => broker.logs.indexOf(l) >= fromBroker && l.msg === 'trunk peer back: its loss withdrawn' && l.node === 'sw-b' && l.reporter === 'sw-a', 20_000, "the broker withdrew A's loss"),
    ]);
    await until('the pings pass again', () => / 0% packet loss/.test(sh('ping', ['-c', '2', '-i', '0.2', '-W', '1', host('h2').v4], { ns: host('h1').ns, allowFail: true })), 15_000);
    expect(await pingEach(host('h3').ns, host('h4').v6, 2, ['-6'])).toEqual({ transmitted: 2, received: 2, unanswered: [] });
  }, 60_000);

  it('freezes a MAC looping through two nodes (two bridge clients on one Linux bridge), reports it, and the loop stops', async () => {
    // The loop: erin's TAP (on A) and frank's TAP (on B) in one bridge, and a probe port.
    for (const args of [
      ['link', 'add', 'br0', 'type', 'bridge', 'stp_state', '0'],
      ['link', 'add', 'lp0', 'type', 'veth', 'peer', 'name', 'lp1'],
      ['link', 'set', 'el0', 'master', 'br0'],
      ['link', 'set', 'el1', 'master', 'br0'],
      ['link', 'set', 'lp0', 'master', 'br0'],
    ])
      sh('ip', args, { ns: loopNs });
    // The bridge itself stays silent (no IPv6 link-local, no neighbour discovery of its own).
    sh('sysctl', ['-qw', 'net.ipv6.conf.br0.disable_ipv6=1', 'net.ipv6.conf.lp0.disable_ipv6=1', 'net.ipv6.conf.lp1.disable_ipv6=1'], { ns: loopNs });
    for (const dev of ['br0', 'lp0', 'lp1']) sh('ip', ['link', 'set', dev, 'up'], { ns: loopNs });

    // 20 broadcasts from LOOP_MAC, one per 50 ms; then, after 2 s, count for 2 s the ones
    // still coming back: a loop nobody stops would keep sending them round forever.
    const out = sh('python3', [LOOP, 'lp1', LOOP_MAC, '20', '0.05', '2', '2'], { ns: loopNs, timeoutMs: 30_000 });
    const [sent, echoedWhileSending, echoedAfter] = out.trim().split(/\s+/).map(Number);
    expect(sent).toBe(20);
    expect(echoedWhileSending).toBeGreaterThan(0); // the loop was real: its frames came back
    const freezes = (await metric('a', 'el_trunk_mac_freezes_total', { segment: 'lab' })) + (await metric('b', 'el_trunk_mac_freezes_total', { segment: 'lab' }));
    expect(freezes).toBeGreaterThanOrEqual(1);
    expect((await metric('a', 'el_trunk_frozen_macs', { segment: 'lab' })) + (await metric('b', 'el_trunk_frozen_macs', { segment: 'lab' }))).toBeGreaterThanOrEqual(1);
    const reported = [...nodes.a!.logs, ...nodes.b!.logs].find((l) => l.mac === LOOP_MAC && typeof l.msg === 'string' && l.msg.includes('frozen'));
    expect(reported, 'a log line reporting the frozen MAC').toBeDefined();
    expect(echoedAfter).toBe(0);
  });

  it('reports both ends of the trunk to the broker: GET /v1/admin/trunks through `elink trunks --json`, with traffic, endpoints and drops as the nodes count them', async () => {
    const trunks = (): ConsoleTrunk[] => {
      const r = spawnSync(process.execPath, [CLI, 'trunks', '--json', '--broker', brokerUrl, '--ca', join(state, 'ca.pem')], { encoding: 'utf8', env: { ...process.env, ELINK_ADMIN_TOKEN: ADMIN_TOKEN }, timeout: 20_000 });
      expect(r.status, r.stderr).toBe(0);
      return consoleTrunksReplySchema.parse(JSON.parse(r.stdout)).trunks;
    };
    const dropsOf = async (node: 'a' | 'b', peer: string): Promise<number> => metric(node, 'el_trunk_dropped_frames_total', { peer });
    // The loop of the previous case is frozen: the counts are still; a heartbeat (1 s) carries them.
    let list: ConsoleTrunk[] = [];
    await until('both nodes report their trunk with the drops they count', async () => {
      list = trunks();
      const a = list.find((t) => t.node === 'sw-a' && t.peer === 'sw-b');
      const b = list.find((t) => t.node === 'sw-b' && t.peer === 'sw-a');
      const sum = (t: ConsoleTrunk | undefined): number => Object.values(t?.drops ?? {}).reduce((n, x) => n + x, 0);
      return a?.state === 'up' && b?.state === 'up' && sum(a) === (await dropsOf('a', 'sw-b')) && sum(b) === (await dropsOf('b', 'sw-a'));
    });
    expect(list).toHaveLength(2);
    for (const t of list) {
      expect(t.segments.sort()).toEqual(['lab', 'net']);
      expect(t.framesIn).toBeGreaterThan(0);
      expect(t.framesOut).toBeGreaterThan(0);
      expect(t.bytesOut).toBeGreaterThan(0);
      // Each node has a session in each segment: announced to the peer, learned by it.
      expect(t.announced).toBeGreaterThanOrEqual(2);
      expect(t.learned).toBeGreaterThanOrEqual(2);
    }
    // The loop's frames came back over the trunks from a source frozen or not announced there
    // (mac_frozen, trunk_source): dropped, and counted for that peer.
    const dropped = list.flatMap((t) => Object.entries(t.drops));
    expect(dropped.every(([reason]) => ['mac_frozen', 'trunk_source', 'split_horizon', 'hairpin'].includes(reason)), JSON.stringify(dropped)).toBe(true);
    expect(dropped.reduce((n, [, x]) => n + x, 0)).toBeGreaterThan(0);
    // The text form names both.
    const text = spawnSync(process.execPath, [CLI, 'trunks', '--broker', brokerUrl, '--ca', join(state, 'ca.pem')], { encoding: 'utf8', env: { ...process.env, ELINK_ADMIN_TOKEN: ADMIN_TOKEN }, timeout: 20_000 }).stdout;
    expect(text).toMatch(/^sw-a\tsw-b\tup\t/m);
    expect(text).toMatch(/^sw-b\tsw-a\tup\t/m);
  });

  it('a segment added to the broker (SIGHUP) reaches both nodes in a heartbeat and opens over the up trunk: no trunk down', async () => {
    const downs = (n: 'a' | 'b'): number => nodes[n]!.logs.filter((l) => l.msg === 'trunk down').length;
    const before = { a: downs('a'), b: downs('b') };
    const file = join(state, 'elink.yaml');
    const doc = parseDocument(readFileSync(file, 'utf8'));
    (doc.get('segments') as { add(v: unknown): void }).add(doc.createNode({ name: 'lab2' }));
    writeFileSync(file, doc.toString());
    broker.child.kill('SIGHUP');
    const added = (n: 'a' | 'b') => nodes[n]!.waitFor((l) => l.msg === 'trunk segments added' && JSON.stringify(l.segments) === '["lab2"]', 10_000, `lab2 over the trunk on ${n}`);
    await Promise.all([added('a'), added('b')]);
    expect({ a: downs('a'), b: downs('b') }).toEqual(before);
    expect((await metric('a', 'el_trunk_downs_total', { reason: 'segments_changed' })) + (await metric('b', 'el_trunk_downs_total', { reason: 'segments_changed' }))).toBe(0);
    expect(await metric('a', 'el_trunk_up', { peer: 'sw-b' })).toBe(1);
    // The segments carried before still are.
    expect(sh('ping', ['-c', '1', '-W', '2', host('h4').v4], { ns: host('h3').ns, allowFail: true })).toMatch(/ 0% packet loss/);
  });
});

describe('trunks with a cluster CA made by `elink trunk-ca` (two `elink switch` processes, static peers)', () => {
  let state: string;
  const dirs: string[] = [];
  const admin: Record<string, string> = {};
  const procs: Record<string, Proc> = {};
  let trunkA: number;

  const cli = (args: string[]) => {
    const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 30_000 });
    expect(r.status, r.stderr).toBe(0);
  };

  beforeAll(async () => {
    assertBuilt();
    trunkA = await freePort();
    state = standaloneSwitchState('elink-trunk-ca-');
    // The cluster CA and one certificate per node; another CA with a certificate for the same node id.
    cli(['trunk-ca', 'init', '--dir', join(state, 'trunk')]);
    for (const node of ['ca-a', 'ca-b']) cli(['trunk-ca', 'issue', '--dir', join(state, 'trunk'), '--node', node]);
    cli(['trunk-ca', 'init', '--dir', join(state, 'other')]);
    cli(['trunk-ca', 'issue', '--dir', join(state, 'other'), '--node', 'ca-a']);
    const ca = join(state, 'trunk');
    const trunk = (node: string, port: number, peers: string[]) => ({ host: '127.0.0.1', port, peers, ca: join(ca, 'ca.pem'), cert: join(ca, `${node}.pem`), key: join(ca, `${node}-key.pem`) });
    const start = async (node: string, port: number, peers: string[]): Promise<void> => {
      const dir = copyState(state, node, (doc) => doc.setIn(['switch', 'trunk'], doc.createNode(trunk(node, port, peers))));
      dirs.push(dir);
      const adminPort = await launch(node, dir);
      admin[node] = `http://127.0.0.1:${adminPort}`;
    };
    await start('ca-a', trunkA, []);
    await start('ca-b', await freePort(), [`127.0.0.1:${trunkA}`]);
  }, 60_000);

  async function launch(node: string, dir: string, adminPort?: number): Promise<number> {
    const started = await startSwitchNode(dir, node, ['--switch-port', '0', '--no-warm-up'], adminPort);
    procs[node] = started.proc;
    return started.adminPort;
  }

  /** A TLS handshake with node A's trunk port showing `cert` (trunkHandshake). */
  const handshake = (cert: Buffer, key: Buffer, ca: Buffer[]): Promise<string> => trunkHandshake(trunkA, { cert, key, ca });

  afterAll(async () => {
    await stopAll();
    for (const d of [state, ...dirs]) if (d) rmSync(d, { recursive: true, force: true });
  });

  it('brings the trunk up on the certificates, with no secret', async () => {
    await poll('the trunk up on both nodes', async () => ((await fetchMetric(admin['ca-a']!, 'el_trunk_up', { peer: 'ca-b' })) === 1 && (await fetchMetric(admin['ca-b']!, 'el_trunk_up', { peer: 'ca-a' })) === 1) || undefined, 15_000);
    expect(await fetchMetric(admin['ca-a']!, 'el_trunk_connects_total', { result: 'auth_failed' })).toBe(0);
  });

  it('refuses a certificate of another CA (made by the same command) in the TLS handshake, and counts it', async () => {
    const before = await fetchMetric(admin['ca-a']!, 'el_trunk_connects_total', { result: 'cert_refused' });
    const other = join(state, 'other');
    expect(await handshake(readFileSync(join(other, 'ca-a.pem')), readFileSync(join(other, 'ca-a-key.pem')), [readFileSync(join(state, 'trunk', 'ca.pem'))])).not.toMatch(/^(hello|no answer)$/);
    await poll('the refusal counted', async () => (await fetchMetric(admin['ca-a']!, 'el_trunk_connects_total', { result: 'cert_refused' })) === before + 1 || undefined, 10_000);
    expect(await fetchMetric(admin['ca-a']!, 'el_trunk_up', { peer: 'ca-b' })).toBe(1);
  });

  it('rotates the cluster CA live (SIGHUP): the trunk up before stays, new handshakes take only the new CA, and the trunk comes up again on it after a restart', async () => {
    const dir = join(state, 'trunk');
    // The new CA and certificates (what `elink trunk-ca` makes, in this process: no more spawns).
    const authority = await createCertificateAuthority('elink trunk CA (new)');
    const next: Record<string, Buffer> = { 'ca.pem': Buffer.from(authority.certPem) };
    for (const node of ['ca-a', 'ca-b']) {
      const c = await issueNodeCertificate(authority, node);
      Object.assign(next, { [`${node}.pem`]: Buffer.from(c.certPem), [`${node}-key.pem`]: Buffer.from(c.keyPem) });
    }
    const file = (name: string): Buffer => readFileSync(join(dir, name));
    const [oldCa, newCa] = [file('ca.pem'), next['ca.pem']!];
    const oldA = { cert: file('ca-a.pem'), key: file('ca-a-key.pem') };
    const downs = async (): Promise<number> => (await fetchMetric(admin['ca-a']!, 'el_trunk_downs_total')) + (await fetchMetric(admin['ca-b']!, 'el_trunk_downs_total'));
    const downsBefore = await downs();
    // Both nodes read the same files: replaced as a secret update would, then SIGHUP.
    const reload = async (ca: Buffer): Promise<void> => {
      writeFileSync(join(dir, 'ca.pem'), ca);
      for (const node of ['ca-a', 'ca-b']) for (const f of [`${node}.pem`, `${node}-key.pem`]) writeFileSync(join(dir, f), next[f]!);
      const from = { a: procs['ca-a']!.logs.length, b: procs['ca-b']!.logs.length };
      for (const p of [procs['ca-a']!, procs['ca-b']!]) p.child.kill('SIGHUP');
      const results = await Promise.all(
        (['a', 'b'] as const).map((n) => {
          const p = procs[`ca-${n}`]!;
          return p.waitFor((l) => p.logs.indexOf(l) >= from[n] && l.trigger === 'signal' && /^config reload/.test(String(l.msg)), 10_000, `ca-${n} reloaded`);
        }),
      );
      for (const r of results) expect(r).toMatchObject({ msg: 'config reloaded', trunkTls: true, restartNeeded: 0 });
    };
    // 1. Both CAs trusted, certificates of the new one; 2. the new CA alone.
    await reload(Buffer.concat([oldCa, newCa]));
    await reload(newCa);
    // The trunk verified under the old CA keeps running, and each node says it would not come back.
    expect(await fetchMetric(admin['ca-a']!, 'el_trunk_up', { peer: 'ca-b' })).toBe(1);
    expect(await downs()).toBe(downsBefore);
    for (const [node, peer] of [['ca-a', 'ca-b'], ['ca-b', 'ca-a']]) expect(procs[node]!.logs.filter((l) => String(l.msg).includes('no longer trusts')).map((l) => l.peers)).toEqual([[peer]]);
    // New handshakes at A's trunk port: it shows a certificate of the new CA and takes one …
    expect(await handshake(next['ca-b.pem']!, next['ca-b-key.pem']!, [newCa])).toBe('hello');
    // … and refuses one of the old CA it took before.
    const refused = await fetchMetric(admin['ca-a']!, 'el_trunk_connects_total', { result: 'cert_refused' });
    expect(await handshake(oldA.cert, oldA.key, [newCa])).not.toMatch(/^(hello|no answer)$/);
    await poll('the old certificate refused and counted', async () => (await fetchMetric(admin['ca-a']!, 'el_trunk_connects_total', { result: 'cert_refused' })) === refused + 1 || undefined, 10_000);
    // B restarts: its trunk to A (reloaded, not restarted) comes up on the new certificates.
    const b = procs['ca-b']!;
    await b.stop();
    await poll('the trunk down on A', async () => (await fetchMetric(admin['ca-a']!, 'el_trunk_up', { peer: 'ca-b' })) === 0 || undefined, 10_000);
    await launch('ca-b', `${state}-ca-b`, Number(new URL(admin['ca-b']!).port));
    await poll('the trunk up again on both nodes', async () => ((await fetchMetric(admin['ca-a']!, 'el_trunk_up', { peer: 'ca-b' })) === 1 && (await fetchMetric(admin['ca-b']!, 'el_trunk_up', { peer: 'ca-a' })) === 1) || undefined, 15_000);
  });
});

describe('a cluster on the trunk secret moved onto a cluster CA by reloads (two `elink switch` processes, SIGHUP)', () => {
  let state: string;
  const dirs: Record<string, string> = {};
  const admin: Record<string, string> = {};
  const procs: Record<string, Proc> = {};
  let trunkA: number;

  beforeAll(async () => {
    assertBuilt();
    trunkA = await freePort();
    state = standaloneSwitchState('elink-trunk-onto-ca-');
    const start = async (node: string, port: number, peers: string[]): Promise<void> => {
      dirs[node] = copyState(state, node, (doc) => doc.setIn(['switch', 'trunk'], doc.createNode({ host: '127.0.0.1', port, peers, secret: CLUSTER_SECRET })));
      const started = await startSwitchNode(dirs[node]!, node, ['--switch-port', '0', '--no-warm-up']);
      procs[node] = started.proc;
      admin[node] = `http://127.0.0.1:${started.adminPort}`;
    };
    await start('mv-a', trunkA, []);
    await start('mv-b', await freePort(), [`127.0.0.1:${trunkA}`]);
  }, 60_000);

  afterAll(async () => {
    await stopAll();
    for (const d of [state, ...Object.values(dirs)]) if (d) rmSync(d, { recursive: true, force: true });
  });

  const upBoth = async (): Promise<boolean> => (await fetchMetric(admin['mv-a']!, 'el_trunk_up', { peer: 'mv-b' })) === 1 && (await fetchMetric(admin['mv-b']!, 'el_trunk_up', { peer: 'mv-a' })) === 1;

  it('takes the CA without a restart or a trunk down, peers without a certificate admitted on the secret until requireCert is on, refused after', async () => {
    await poll('the trunk up on the secret', async () => (await upBoth()) || undefined, 15_000);
    const authority = await createCertificateAuthority('elink trunk CA');
    const caPem = Buffer.from(authority.certPem);
    const certs: Record<string, { certPem: string; keyPem: string }> = {};
    for (const node of ['mv-a', 'mv-b']) {
      certs[node] = await issueNodeCertificate(authority, node);
      writeFileSync(join(dirs[node]!, 'trunk-ca.pem'), caPem);
      writeFileSync(join(dirs[node]!, 'trunk.pem'), certs[node]!.certPem);
      writeFileSync(join(dirs[node]!, 'trunk-key.pem'), certs[node]!.keyPem);
    }
    const downs = async (): Promise<number> => (await fetchMetric(admin['mv-a']!, 'el_trunk_downs_total')) + (await fetchMetric(admin['mv-b']!, 'el_trunk_downs_total'));
    const downsBefore = await downs();
    // Each node's config gets `more` in switch.trunk, then SIGHUP; both must report a clean reload.
    const reload = async (more: Record<string, unknown>): Promise<void> => {
      const from: Record<string, number> = {};
      for (const node of ['mv-a', 'mv-b']) {
        const file = join(dirs[node]!, 'elink.yaml');
        const doc = parseDocument(readFileSync(file, 'utf8'));
        doc.setIn(['switch', 'trunk'], doc.createNode({ ...(doc.getIn(['switch', 'trunk']) as { toJSON(): object }).toJSON(), ...more }));
        writeFileSync(file, doc.toString());
        from[node] = procs[node]!.logs.length;
        procs[node]!.child.kill('SIGHUP');
      }
      for (const node of ['mv-a', 'mv-b']) {
        const p = procs[node]!;
        const r = await p.waitFor((l) => p.logs.indexOf(l) >= from[node]! && l.trigger === 'signal' && /^config reload/.test(String(l.msg)), 10_000, `${node} reloaded`);
        expect(r).toMatchObject({ msg: 'config reloaded', trunkTls: true, restartNeeded: 0 });
      }
    };
    // 1. Every node shows a certificate of the CA, none requires one yet.
    await reload({ ca: 'trunk-ca.pem', cert: 'trunk.pem', key: 'trunk-key.pem', requireCert: false });
    expect(await trunkHandshake(trunkA)).toBe('hello');
    expect(await trunkHandshake(trunkA, { ca: [caPem] })).toBe('hello');
    // 2. Every node requires one: the trunk made on the secret alone stays (and is named) …
    await reload({ requireCert: true });
    expect(await upBoth()).toBe(true);
    expect(await downs()).toBe(downsBefore);
    for (const [node, peer] of [['mv-a', 'mv-b'], ['mv-b', 'mv-a']]) expect(procs[node]!.logs.filter((l) => String(l.msg).includes('no longer trusts')).map((l) => l.peers)).toEqual([[peer]]);
    // … a connection without a certificate is refused now, and one of the CA taken.
    const refused = await fetchMetric(admin['mv-a']!, 'el_trunk_connects_total', { result: 'cert_refused' });
    expect(await trunkHandshake(trunkA)).not.toBe('hello');
    await poll('the connection without a certificate refused and counted', async () => (await fetchMetric(admin['mv-a']!, 'el_trunk_connects_total', { result: 'cert_refused' })) === refused + 1 || undefined, 10_000);
    expect(await trunkHandshake(trunkA, { cert: Buffer.from(certs['mv-b']!.certPem), key: Buffer.from(certs['mv-b']!.keyPem), ca: [caPem] })).toBe('hello');
    // B restarts: the trunk comes back, on the certificates.
    await procs['mv-b']!.stop();
    await poll('the trunk down on A', async () => (await fetchMetric(admin['mv-a']!, 'el_trunk_up', { peer: 'mv-b' })) === 0 || undefined, 10_000);
    procs['mv-b'] = (await startSwitchNode(dirs['mv-b']!, 'mv-b', ['--switch-port', '0', '--no-warm-up'], Number(new URL(admin['mv-b']!).port))).proc;
    await poll('the trunk up again on both nodes', async () => (await upBoth()) || undefined, 15_000);
    expect(await fetchMetric(admin['mv-a']!, 'el_trunk_connects_total', { result: 'auth_failed' })).toBe(0);
  });
});
