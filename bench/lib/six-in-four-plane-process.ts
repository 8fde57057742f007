/**
 * A SwitchNode alone in its own process (run with --expose-gc, in a throwaway network
 * namespace) whose 6in4 plane opens N tunnels by hand (distinct client IPv4s, a /128 each
 * in one L3 segment); prints one JSON line (PlaneTunnelCost) and exits. Config as JSON in
 * EL_BENCH_PLANE: certPem, keyPem, ticketPublicPem, tunnels.
 */
import { createPublicKey } from 'node:crypto';
import { pino } from 'pino';
import { segmentSchema } from '@elink/protocol';
import { SwitchNode } from '@elink/switch';

const cfg = JSON.parse(process.env.EL_BENCH_PLANE ?? '{}') as { certPem: string; keyPem: string; ticketPublicPem: string; tunnels: number };
const n = cfg.tunnels;
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
const node = new SwitchNode({
  nodeId: 'bench-6in4',
  listen: { host: '127.0.0.1', port: 0 },
  tls: { cert: cfg.certPem, key: cfg.keyPem },
  segments: [segmentSchema.parse({ name: 'dtcp', mode: 'l3', ipv6: { pool: 'fd00:e1:70::/64' } })],
  ticketKeys: () => [createPublicKey(cfg.ticketPublicPem)],
  logger: pino({ level: 'warn' }, pino.destination(2)),
  sixInFour: { maxTunnels: n },
});
await node.start();
const plane = node.sixInFourPlane();
const measure = () => {
  gc();
  gc();
  return { heap: process.memoryUsage().heapUsed, rss: process.memoryUsage().rss };
};
const before = measure();
const v4 = (i: number) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
const tunnels = [];
const t0 = process.hrtime.bigint();
for (let i = 1; i <= n; i++) {
  const addr = `fd00:e1:70::${(i + 1).toString(16)}/128`;
  tunnels.push(plane.open({ segment: 'dtcp', clientV4: v4(i), serverV4: '127.0.0.1', user: `u${i}`, device: 'd', sources: [addr], routes: [addr] }));
}
const openSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
const after = measure();

// The demultiplexing step alone: the plane's lookup is a Map by outer source address.
const map = new Map<number, object>();
for (let i = 1; i <= n; i++) map.set(((10 << 24) | i) >>> 0, {});
const keys = new Uint32Array(1 << 16);
for (let i = 0; i < keys.length; i++) keys[i] = ((10 << 24) | (1 + ((i * 7919) % n))) >>> 0;
let hits = 0;
const rounds = 200;
const t1 = process.hrtime.bigint();
for (let r = 0; r < rounds; r++) for (let i = 0; i < keys.length; i++) if (map.get(keys[i]) !== undefined) hits++;
const demuxNsPerPacket = Number(process.hrtime.bigint() - t1) / (rounds * keys.length);
if (hits !== rounds * keys.length) throw new Error('demux lookup missed');

process.stdout.write(
  JSON.stringify({
    tunnels: plane.size,
    openSeconds,
    heapKiBPerTunnel: (after.heap - before.heap) / 1024 / n,
    rssKiBPerTunnel: (after.rss - before.rss) / 1024 / n,
    demuxNsPerPacket,
  }) + '\n',
);
for (const t of tunnels) t.close('bench done');
await node.stop('bench done');
process.exit(0);
