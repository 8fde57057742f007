/**
 * Emotion Link with the two clients on two switch nodes joined by a trunk (issue 10): in
 * the server's namespace, `elink broker` (memory store) and two `elink switch` processes
 * heartbeating to it, trunked to each other (`switch.trunk`, peers from the heartbeat
 * replies). Node A takes one session (`switch.maxSessions: 1`), so the broker sends
 * client 1 to A and client 2 to B: every frame between them crosses the trunk.
 */
import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { CLI, PASSWORD } from './elink.js';
import { daemon, must, run, sleep, type Daemon } from './proc.js';
import type { RunningSystem, SystemDef } from './system.js';
import type { Topology } from './topology.js';

const CLUSTER_SECRET = 'cross-node-bench-cluster-secret-0123';
const ADMIN_TOKEN = 'cross-node-bench-admin-token-0123456';

/** The broker's node list, asked from inside the server's namespace. */
function nodes(ns: string, brokerPort: number, ca: string): Array<{ node: string; healthy: boolean; sessions: number }> {
  const r = run('curl', ['-s', '-m', '5', '--cacert', ca, '-H', `authorization: Bearer ${ADMIN_TOKEN}`, `https://127.0.0.1:${brokerPort}/v1/admin/nodes`], { ns });
  try {
    return (JSON.parse(r.stdout) as { nodes: Array<{ node: string; healthy: boolean; sessions: number }> }).nodes;
  } catch {
    return [];
  }
}

async function until(what: string, timeoutMs: number, ok: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(200);
  }
}

function metric(ns: string, adminPort: number, name: string): number {
  const text = run('curl', ['-s', '-m', '5', `http://127.0.0.1:${adminPort}/metrics`], { ns }).stdout;
  let sum = 0;
  for (const line of text.split('\n')) if (line.startsWith(`${name}{`) || line.startsWith(`${name} `)) sum += Number(line.split(' ').pop());
  return sum;
}

export function elinkCrossNodeSystem(): SystemDef {
  return {
    id: 'elink-cross',
    label: 'Emotion Link L2, 2 nodes',
    async start(topo: Topology, work: string): Promise<RunningSystem> {
      if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npx tsc -b\` first`);
      const ns = topo.server.ns;
      const procs: Daemon[] = [];
      const stop = async () => {
        for (const p of procs.slice(3).reverse()) await p.stop();
        for (const p of procs.slice(0, 3).reverse()) await p.stop();
      };
      try {
        // In the server's namespace, so the certificate names its address.
        must(process.execPath, [CLI, 'init', '--state', work], { ns });
        const file = join(work, 'elink.yaml');
        const doc = parseDocument(readFileSync(file, 'utf8'));
        doc.setIn(['admin', 'host'], '127.0.0.1');
        doc.setIn(['log', 'level'], 'info');
        doc.setIn(['limits'], doc.createNode({ pending: 100_000, pendingPerSource: 100_000, acceptRate: 100_000, acceptRatePerSource: 100_000 }));
        doc.setIn(['broker', 'clusterSecret'], CLUSTER_SECRET);
        doc.setIn(['broker', 'adminToken'], ADMIN_TOKEN);
        doc.setIn(['switch', 'advertise'], topo.server.address);
        doc.setIn(['switch', 'broker'], doc.createNode({ urls: ['https://127.0.0.1:8443'], clusterSecret: CLUSTER_SECRET, interval: 1 }));
        writeFileSync(file, doc.toString());
        writeFileSync(join(work, 'pw'), `${PASSWORD}\n`);
        for (const user of ['bench1', 'bench2']) must(process.execPath, [CLI, 'user', 'add', user, '--segment', 'lab', '--password-file', join(work, 'pw'), '--state', work]);
        const ca = join(work, 'ca.pem');

        const broker = daemon(process.execPath, [CLI, 'broker', '--state', work, '--admin-port', '9100'], { ns });
        procs.push(broker);
        await broker.waitFor(/"emotion link started"/, 30_000, 'elink broker');
        const sw = [
          { id: 'node-a', port: 4443, trunk: 4444, admin: 9101, maxSessions: 1 },
          { id: 'node-b', port: 4453, trunk: 4454, admin: 9102 },
        ];
        for (const s of sw) {
          const dir = `${work}-${s.id}`;
          cpSync(work, dir, { recursive: true });
          const d = parseDocument(readFileSync(join(dir, 'elink.yaml'), 'utf8'));
          d.setIn(['switch', 'listen'], d.createNode({ host: '0.0.0.0', port: s.port }));
          d.setIn(['switch', 'trunk'], d.createNode({ port: s.trunk, host: '127.0.0.1', advertise: '127.0.0.1' }));
          if (s.maxSessions) d.setIn(['switch', 'maxSessions'], s.maxSessions);
          writeFileSync(join(dir, 'elink.yaml'), d.toString());
          const p = daemon(process.execPath, [CLI, 'switch', '--state', dir, '--admin-port', String(s.admin), '--node-id', s.id], { ns });
          procs.push(p);
          await p.waitFor(/"emotion link started"/, 30_000, `elink switch ${s.id}`);
        }
        await until('both nodes healthy at the broker', 20_000, () => nodes(ns, 8443, ca).filter((n) => n.healthy).length === 2);

        const broker1 = `https://${topo.server.address}:8443`;
        const addresses: string[] = [];
        for (const [i, c] of topo.clients.entries()) {
          const client = daemon(process.execPath, [CLI, 'connect', '--broker', broker1, '--ca', ca, '--user', `bench${i + 1}`, '--password-file', join(work, 'pw'), '--ifname', 'el0', '--device', c.name], { ns: c.ns });
          procs.push(client);
          await client.waitFor(/"link up"/, 30_000, `elink connect in ${c.ns}`);
          const log = client
            .output()
            .split('\n')
            .map((l) => {
              try {
                return JSON.parse(l) as Record<string, unknown>;
              } catch {
                return undefined;
              }
            })
            .find((l) => l?.msg === 'link up')!;
          if (log.node !== sw[i]!.id) throw new Error(`client ${i + 1} landed on ${String(log.node)}, not ${sw[i]!.id}`);
          addresses.push(String(log.ipv4).split('/')[0]!);
          // Node A's next heartbeat says it is full: client 2 goes to node B.
          if (i === 0) await until('node A reported full', 10_000, () => nodes(ns, 8443, ca).some((n) => n.node === 'node-a' && n.sessions === 1));
        }
        await until('the trunk up on both nodes', 20_000, () => sw.every((s) => metric(ns, s.admin, 'el_trunk_up') >= 1));
        const version = (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
        return {
          addresses: [addresses[0]!, addresses[1]!],
          notes: [`emotion-link ${version}, ${process.version}, client 1 on node A, client 2 on node B, frames over the trunk (TLS) between the two switch processes; broker with memory store; kernel TAP clients, TSO offload`],
          stop,
        };
      } catch (err) {
        await stop();
        throw err;
      }
    },
  };
}
