/**
 * A SwitchNode alone in its own process (so its CPU and memory are its own), for the
 * microbenchmark and the scale test. Configuration comes as JSON in EL_BENCH_SWITCH;
 * it prints one line {"port": n} when listening and runs until killed.
 */
import { createPublicKey } from 'node:crypto';
import { pino } from 'pino';
import { resumeKey, segmentSchema } from '@elink/protocol';
import { sessionTicketKeys, SwitchNode } from '@elink/switch';

interface Config {
  certPem: string;
  keyPem: string;
  ticketPublicPem: string;
  maxSessions?: number;
  /** Journal used ticket ids here, as `elink switch` does (single use across restarts). */
  replayJournal?: string;
  /** The cluster secret: TLS session ticket keys and the resume key from it, as `elink switch` derives them. */
  clusterSecret?: string;
}

const cfg = JSON.parse(process.env.EL_BENCH_SWITCH ?? '{}') as Config;
const key = createPublicKey(cfg.ticketPublicPem);
const node = new SwitchNode({
  nodeId: 'bench',
  listen: { host: '127.0.0.1', port: 0 },
  tls: { cert: cfg.certPem, key: cfg.keyPem, minVersion: 'TLSv1.3', ...(cfg.clusterSecret ? { ticketKeys: sessionTicketKeys(cfg.clusterSecret) } : {}) },
  segments: [segmentSchema.parse({ name: 'lan', macTableSize: 65536 })],
  ticketKeys: () => [key],
  ...(cfg.clusterSecret ? { resumeKey: resumeKey(cfg.clusterSecret) } : {}),
  logger: pino({ level: 'warn' }, pino.destination(2)),
  // Absent: the node's defaults (packages/switch/src/defaults.ts).
  maxSessions: cfg.maxSessions,
  ...(cfg.replayJournal ? { replayJournal: cfg.replayJournal } : {}),
  // The scale test opens thousands of sessions from 4 loopback sources at once: it measures
  // capacity, not admission, so the per-source and accept-rate caps are out of its way.
  connectionLimits: { pending: 1_000_000, pendingPerSource: 1_000_000, acceptRate: 1_000_000, acceptRatePerSource: 1_000_000 },
});
await node.start();
process.stdout.write(JSON.stringify({ port: node.address().port }) + '\n');
process.on('SIGTERM', () => void node.stop('bench done').finally(() => process.exit(0)));
