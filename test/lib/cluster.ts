/**
 * A whole cluster of real processes on one machine (issue 10), shared by the cases of one
 * file: one redis-server (append-only file, so a restart keeps the leases), `elink broker`
 * processes over it, `elink switch` nodes heartbeating to the brokers, one HAProxy (TCP
 * mode, `send-proxy-v2`) in front of the switch nodes and of the brokers, and kernel
 * clients (`elink connect`) in network namespaces, logging in and connecting through it.
 *
 * Addresses (the same layout as docs/cluster.md, "Three nodes by hand"):
 * - HAProxy listens on the underlay gateway G (198.18.x.1): G:<switch port> for sessions,
 *   G:<broker port> for logins; it reaches the backends from 127.0.0.2, the only source
 *   the switches and brokers trust to send a PROXY header.
 * - Switch node i listens on 127.0.1.(i+1):<switch port>: every node has the same port, so
 *   each advertises G and that port (what the broker hands clients) and HAProxy's one
 *   frontend fits all. They share one server certificate (copies of one state directory),
 *   so the fingerprint a client pins holds whichever node HAProxy picks.
 * - Brokers listen on 127.0.0.1:<own port>; the switches heartbeat to them directly.
 * - With `trunks`, node i's trunk listener is 127.0.1.(i+1):<trunk port>, which it
 *   advertises to its peers (the brokers' heartbeat replies name them).
 *
 * Every name is unique per run (temporary directories named with this process's pid,
 * namespaces of test/lib/netns.ts); `reapCluster()` kills what a crashed run left behind
 * (any process whose command line names one of its directories) before a new one starts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { get as httpsGet } from 'node:https';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { startTestRedis, type TestRedis } from '../../packages/broker/src/store/test-redis.js';
import { createUnderlay, sh, type Underlay } from './netns.js';
import { assertBuilt, CLI, elink, freePort, type Proc } from './processes.js';
import { fetchMetric } from './metrics.js';
import { ADMIN_TOKEN, CLUSTER_SECRET, initState } from './server.js';
import { until } from './until.js';

/** The source HAProxy connects to the backends from: the switches' and brokers' trusted range. */
export const LB_SOURCE = '127.0.0.2';
const TMP_PREFIX = 'elink-cluster-';

export interface ClusterSpec {
  /** Segments added to the config (`lab` of `elink init` stays). */
  segments: Record<string, unknown>[];
  users: { name: string; segment: string }[];
  nodes?: number;
  brokers?: number;
  /** Trunks between the nodes (`switch.trunk`: one port, each node on its own address,
   * peers from the brokers' heartbeat replies). Absent: none, a segment lives per node. */
  trunks?: boolean;
  /** Keys of each switch's `switch` section (after the fixture's own). */
  switchConfig?: (node: number) => Record<string, unknown>;
  /** Keys of the `broker` section. */
  brokerConfig?: Record<string, unknown>;
}

export interface ClusterNode {
  id: string;
  /** Its client listener (behind HAProxy) and admin port. */
  host: string;
  admin: number;
  state: string;
  proc: Proc;
}

export interface ClusterBroker {
  port: number;
  admin: number;
  proc: Proc;
}

export interface ClusterClient {
  name: string;
  ns: string;
  /** Its underlay address: what the switches and brokers must see, not HAProxy's. */
  address: string;
  v4: string;
  v6: string;
  proc: Proc;
  /** The node of its latest `link up`. */
  node(): string;
  segment: string;
}

export class Cluster {
  readonly nodes: ClusterNode[] = [];
  readonly brokers: ClusterBroker[] = [];
  readonly clients = new Map<string, ClusterClient>();
  haproxy: ChildProcess | undefined;

  private constructor(
    readonly spec: ClusterSpec,
    readonly dir: string,
    readonly state: string,
    readonly underlay: Underlay,
    readonly redis: TestRedis,
    readonly ports: { switch: number; brokerLb: number; trunk: number },
  ) {}

  /** HAProxy's broker frontend: what clients log in at. */
  get brokerUrl(): string {
    return `https://${this.underlay.gateway}:${this.ports.brokerLb}`;
  }

  get caFile(): string {
    return join(this.state, 'ca.pem');
  }

  static async start(spec: ClusterSpec): Promise<Cluster> {
    assertBuilt();
    reapCluster();
    const dir = join(tmpdir(), `${TMP_PREFIX}${process.pid}-${Date.now().toString(36)}`);
    mkdirSync(dir, { recursive: true });
    // The underlay first: its gateway is where HAProxy listens for the clients.
    const underlay = createUnderlay();
    let redis: TestRedis | undefined;
    try {
      // Named with our directory (so reapCluster finds it), and durable: a restart keeps the leases.
      redis = await startTestRedis(['--appendonly', 'yes', '--appendfsync', 'always', '--dir', dir]);
      const ports = { switch: await freePort(), brokerLb: await freePort(), trunk: await freePort() };
      const brokerPorts = await Promise.all(Array.from({ length: spec.brokers ?? 2 }, async () => ({ port: await freePort(), admin: await freePort() })));
      const state = initState(`${TMP_PREFIX}${process.pid}-state-`, [], (doc) => {
        doc.setIn(['broker', 'store'], doc.createNode({ type: 'redis', url: redis!.url }));
        doc.setIn(['broker', 'clusterSecret'], CLUSTER_SECRET);
        doc.setIn(['broker', 'adminToken'], ADMIN_TOKEN);
        doc.setIn(['broker', 'proxyProtocol'], doc.createNode({ trusted: [`${LB_SOURCE}/32`] }));
        for (const [k, v] of Object.entries(spec.brokerConfig ?? {})) doc.setIn(['broker', k], doc.createNode(v));
        doc.setIn(['admin', 'host'], '127.0.0.1');
        doc.setIn(['switch', 'advertise'], underlay.gateway);
        doc.setIn(['switch', 'drainSeconds'], 0);
        doc.setIn(['switch', 'proxyProtocol'], doc.createNode({ trusted: [`${LB_SOURCE}/32`] }));
        doc.setIn(['switch', 'broker'], doc.createNode({ urls: brokerPorts.map((b) => `https://127.0.0.1:${b.port}`), clusterSecret: CLUSTER_SECRET, interval: 1 }));
        for (const seg of spec.segments) (doc.get('segments') as { add(v: unknown): void }).add(doc.createNode(seg));
      });
      // The state lives inside our directory from now on (reapCluster matches command lines on it).
      const shared = join(dir, 'state');
      cpSync(state, shared, { recursive: true });
      rmSync(state, { recursive: true, force: true });
      // `elink init` again: it re-issues the server certificate to name switch.advertise
      // (HAProxy's address, which the clients dial), whatever interfaces were up before.
      const reinit = spawnSyncQuiet(process.execPath, [CLI, 'init', '--state', shared]);
      if (reinit) throw new Error(`elink init: ${reinit}`);
      for (const u of spec.users) addUser(shared, u.name, u.segment);
      const cluster = new Cluster(spec, dir, shared, underlay, redis, ports);
      for (const [i, b] of brokerPorts.entries()) cluster.brokers[i] = { ...b, proc: undefined as unknown as Proc };
      await Promise.all(cluster.brokers.map((_, i) => cluster.startBroker(i)));
      for (let i = 0; i < (spec.nodes ?? 3); i++) cluster.prepareNode(i);
      await Promise.all(cluster.nodes.map((_, i) => cluster.startNode(i)));
      await cluster.startHaproxy();
      return cluster;
    } catch (err) {
      await redis?.destroy();
      underlay.destroy();
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
  }

  /** Starts (or restarts) broker i on its ports; resolves once it is ready. */
  async startBroker(i: number): Promise<void> {
    const b = this.brokers[i]!;
    b.proc = elink(['broker', '--state', this.state, '--broker-port', String(b.port), '--admin-port', String(b.admin), '--listen-host', '127.0.0.1']);
    await b.proc.waitFor((l) => l.msg === 'emotion link started', 30_000, `broker ${i} start`);
  }

  /** Node i's own copy of the state directory (its replay journal and broker keys are its own). */
  private prepareNode(i: number): void {
    const state = join(this.dir, `node-${i}`);
    cpSync(this.state, state, { recursive: true });
    const host = `127.0.1.${i + 1}`;
    const file = join(state, 'elink.yaml');
    const doc = parseDocument(readFileSync(file, 'utf8'));
    doc.setIn(['switch', 'listen'], doc.createNode({ host, port: this.ports.switch }));
    // Peers dial the node's own address (not HAProxy's, which the node advertises to clients).
    if (this.spec.trunks) doc.setIn(['switch', 'trunk'], doc.createNode({ port: this.ports.trunk, advertise: host }));
    for (const [k, v] of Object.entries(this.spec.switchConfig?.(i) ?? {})) doc.setIn(['switch', k], doc.createNode(v));
    writeFileSync(file, doc.toString());
    this.nodes[i] = { id: `n${i}`, host, admin: 0, state, proc: undefined as unknown as Proc };
  }

  /** Starts (or restarts) node i; resolves once it heartbeats (it has the brokers' keys). */
  async startNode(i: number): Promise<void> {
    const n = this.nodes[i]!;
    n.admin ||= await freePort();
    n.proc = elink(['switch', '--state', n.state, '--admin-port', String(n.admin), '--node-id', n.id]);
    await n.proc.waitFor((l) => l.msg === 'emotion link started', 30_000, `${n.id} start`);
    await this.until(`${n.id} healthy at the brokers`, async () => ((await this.adminNodes()).some((x) => x.node === n.id && x.healthy) ? true : undefined));
  }

  private async startHaproxy(): Promise<void> {
    const cfg = join(this.dir, 'haproxy.cfg');
    const g = this.underlay.gateway;
    // Health checks on each process's /readyz (admin port, no PROXY header: `port` is set);
    // a connection to a dead server is retried on another one (redispatch).
    writeFileSync(
      cfg,
      [
        'global',
        '  maxconn 2000',
        'defaults',
        '  mode tcp',
        '  retries 3',
        '  option redispatch 1',
        '  timeout connect 2s',
        '  timeout client 1h',
        '  timeout server 1h',
        '  timeout check 1s',
        'frontend fe_switch',
        `  bind ${g}:${this.ports.switch}`,
        '  default_backend be_switch',
        'frontend fe_broker',
        `  bind ${g}:${this.ports.brokerLb}`,
        '  default_backend be_broker',
        'backend be_switch',
        '  balance roundrobin',
        '  option httpchk GET /readyz',
        ...this.nodes.map((n) => `  server ${n.id} ${n.host}:${this.ports.switch} send-proxy-v2 source ${LB_SOURCE} check port ${n.admin} addr 127.0.0.1 inter 500 fall 1 rise 1`),
        'backend be_broker',
        '  balance roundrobin',
        '  option httpchk GET /readyz',
        ...this.brokers.map((b, i) => `  server broker-${i} 127.0.0.1:${b.port} send-proxy-v2 source ${LB_SOURCE} check port ${b.admin} addr 127.0.0.1 inter 500 fall 1 rise 1`),
        '',
      ].join('\n'),
    );
    const check = spawnSyncQuiet('haproxy', ['-c', '-f', cfg]);
    if (check) throw new Error(`haproxy -c: ${check}`);
    this.haproxy = spawn('haproxy', ['-db', '-f', cfg], { stdio: ['ignore', 'ignore', 'pipe'] });
    await listening(g, this.ports.switch);
    await listening(g, this.ports.brokerLb);
  }

  /**
   * Starts `elink connect` for `name` in a new namespace; resolves at its first `link up`.
   * With `proxy` (an `http://user:password@host:port` URL) it runs `--transport ws --proxy
   * URL` and its namespace rejects every TCP connection to HAProxy's two frontends
   * (iptables), so its login and its session can only go through the proxy.
   */
  async addClient(name: string, user: string, segment: string, opts: { proxy?: string } = {}): Promise<ClusterClient> {
    const { ns, address } = this.underlay.addHost(name);
    const via: string[] = [];
    if (opts.proxy) {
      const ports = `${this.ports.switch},${this.ports.brokerLb}`;
      sh('iptables', ['-A', 'OUTPUT', '-d', this.underlay.gateway, '-p', 'tcp', '-m', 'multiport', '--dports', ports, '-j', 'REJECT', '--reject-with', 'tcp-reset'], { ns });
      via.push('--transport', 'ws', '--proxy', opts.proxy);
    }
    // Each device its own state directory, so its own device key, as on real machines.
    const proc = elink(['connect', '--broker', this.brokerUrl, '--ca', this.caFile, '--user', user, '--password-file', join(this.state, 'pw'), '--segment', segment, '--ifname', 'el0', '--device', name, '--state', join(this.dir, 'clients', name), ...via], { ns });
    const up = await proc.waitFor((l) => l.msg === 'link up', 30_000, `${name} link up`);
    const client: ClusterClient = {
      name,
      ns,
      address,
      v4: String(up.ipv4).split('/')[0]!,
      v6: String(up.ipv6).split('/')[0]!,
      proc,
      segment,
      node: () => String(proc.logs.findLast((l) => l.msg === 'link up')?.node),
    };
    this.clients.set(name, client);
    return client;
  }

  /** Stops a client (SIGTERM: it says bye) and forgets it. */
  async removeClient(name: string): Promise<void> {
    await this.client(name).proc.stop('SIGTERM', 5000);
    this.clients.delete(name);
  }

  client(name: string): ClusterClient {
    const c = this.clients.get(name);
    if (!c) throw new Error(`no client ${name}`);
    return c;
  }

  /** The clients whose latest session is on node `id`. */
  clientsOn(id: string): ClusterClient[] {
    return [...this.clients.values()].filter((c) => c.node() === id);
  }

  /** The brokers' node list (admin API of the first broker that answers). */
  async adminNodes(): Promise<Array<{ node: string; healthy: boolean; sessions: number; draining: boolean }>> {
    const ca = readFileSync(this.caFile);
    for (const b of this.brokers) {
      const body = await new Promise<string | undefined>((resolve) => {
        const req = httpsGet(`https://127.0.0.1:${b.port}/v1/admin/nodes`, { ca, timeout: 3000, headers: { authorization: `Bearer ${ADMIN_TOKEN}` } }, (res) => {
          let text = '';
          res.on('data', (d: Buffer) => (text += d));
          res.on('end', () => resolve(res.statusCode === 200 ? text : undefined));
        });
        req.on('timeout', () => req.destroy(new Error('timed out')));
        req.on('error', () => resolve(undefined));
      });
      if (body) return (JSON.parse(body) as { nodes: Array<{ node: string; healthy: boolean; sessions: number; draining: boolean }> }).nodes;
    }
    throw new Error('no broker answered /v1/admin/nodes');
  }

  /** A counter or gauge from node i's /metrics, summed over the series whose labels contain `labels`. */
  nodeMetric(i: number, name: string, labels: Record<string, string> = {}): Promise<number> {
    return fetchMetric(`http://127.0.0.1:${this.nodes[i]!.admin}`, name, labels);
  }

  /** Polls `fn` every 200 ms until it returns something, at most `timeoutMs` (lib/until.ts). */
  readonly until = until;

  /** Everything stopped and removed (clients first: they would only reconnect). */
  async destroy(): Promise<void> {
    await Promise.all([...this.clients.values()].map((c) => c.proc.stop('SIGTERM', 5000)));
    await Promise.all(this.nodes.map((n) => n.proc?.stop('SIGTERM', 5000)));
    await Promise.all(this.brokers.map((b) => b.proc?.stop('SIGTERM', 5000)));
    if (this.haproxy && this.haproxy.exitCode === null) {
      const gone = new Promise((r) => this.haproxy!.once('exit', r));
      this.haproxy.kill('SIGKILL');
      await gone;
    }
    await this.redis.destroy();
    this.underlay.destroy();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function addUser(state: string, name: string, segment: string): void {
  // initState adds users before our segments exist; `elink user add` on the final config instead.
  const out = spawnSyncQuiet(process.execPath, [CLI, 'user', 'add', name, '--segment', segment, '--password-file', join(state, 'pw'), '--state', state]);
  if (out) throw new Error(`elink user add ${name}: ${out}`);
}

/** Runs a command; undefined when it succeeded, else its output. */
function spawnSyncQuiet(cmd: string, args: string[]): string | undefined {
  try {
    sh(cmd, args, { timeoutMs: 30_000 });
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

/** Waits (bounded) until host:port accepts TCP. */
async function listening(host: string, port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = netConnect(port, host);
      s.once('connect', () => (s.destroy(), resolve(true)));
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on ${host}:${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Kills what an earlier run that died (its pid is gone) left running: every process whose
 * command line names one of that run's directories (switches, brokers, clients, HAProxy,
 * redis-server), then removes the directories. Namespaces are reaped by test/lib/netns.ts.
 */
export function reapCluster(): void {
  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  const stale = readdirSync(tmpdir())
    .map((d) => ({ d, m: new RegExp(`^${TMP_PREFIX}(\\d+)-`).exec(d) }))
    .filter((x) => x.m && !alive(Number(x.m[1])))
    .map((x) => join(tmpdir(), x.d));
  if (stale.length === 0) return;
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    let cmd = '';
    try {
      cmd = readFileSync(`/proc/${p}/cmdline`, 'utf8');
    } catch {
      continue;
    }
    if (stale.some((d) => cmd.includes(d))) {
      try {
        process.kill(Number(p), 'SIGKILL');
      } catch {
        // gone meanwhile
      }
    }
  }
  for (const d of stale) if (existsSync(d)) rmSync(d, { recursive: true, force: true });
}
