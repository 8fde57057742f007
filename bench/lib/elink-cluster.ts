/**
 * Emotion Link with the two clients on two switch nodes joined by a trunk (issue 10): in
 * the server's namespace, `elink broker` (memory store) and two `elink switch` processes
 * heartbeating to it, trunked to each other (`switch.trunk`, peers from the heartbeat
 * replies). Node A takes one session (`switch.maxSessions: 1`), so the broker sends
 * client 1 to A and client 2 to B: every frame between them crosses the trunk.
 */
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { ElinkProcesses, elinkVersion, initState } from './elink-cli.js';
import { run, sleep } from './proc.js';
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
      const ns = topo.server.ns;
      const procs = new ElinkProcesses();
      const stop = () => procs.stop();
      try {
        // In the server's namespace, so the certificate names its address.
        initState(work, {
          ns,
          users: ['bench1', 'bench2'],
          segment: 'lab',
          edit: (doc) => {
            doc.setIn(['broker', 'clusterSecret'], CLUSTER_SECRET);
            doc.setIn(['broker', 'adminToken'], ADMIN_TOKEN);
            doc.setIn(['switch', 'advertise'], topo.server.address);
            doc.setIn(['switch', 'broker'], doc.createNode({ urls: ['https://127.0.0.1:8443'], clusterSecret: CLUSTER_SECRET, interval: 1 }));
          },
        });
        const ca = join(work, 'ca.pem');

        await procs.server(ns, ['broker', '--state', work, '--admin-port', '9100'], 'elink broker');
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
          await procs.server(ns, ['switch', '--state', dir, '--admin-port', String(s.admin), '--node-id', s.id], `elink switch ${s.id}`);
        }
        await until('both nodes healthy at the broker', 20_000, () => nodes(ns, 8443, ca).filter((n) => n.healthy).length === 2);

        const broker1 = `https://${topo.server.address}:8443`;
        const addresses: string[] = [];
        for (const [i, c] of topo.clients.entries()) {
          const { up: log } = await procs.connect(c.ns, { broker: broker1, work, user: `bench${i + 1}`, device: c.name });
          if (log.node !== sw[i]!.id) throw new Error(`client ${i + 1} landed on ${String(log.node)}, not ${sw[i]!.id}`);
          addresses.push(String(log.ipv4).split('/')[0]!);
          // Node A's next heartbeat says it is full: client 2 goes to node B.
          if (i === 0) await until('node A reported full', 10_000, () => nodes(ns, 8443, ca).some((n) => n.node === 'node-a' && n.sessions === 1));
        }
        await until('the trunk up on both nodes', 20_000, () => sw.every((s) => metric(ns, s.admin, 'el_trunk_up') >= 1));
        return {
          addresses: [addresses[0]!, addresses[1]!],
          notes: [`emotion-link ${elinkVersion()}, ${process.version}, client 1 on node A, client 2 on node B, frames over the trunk (TLS) between the two switch processes; broker with memory store; kernel TAP clients, TSO offload`],
          stop,
        };
      } catch (err) {
        await stop();
        throw err;
      }
    },
  };
}
