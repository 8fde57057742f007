/**
 * Child process of the scale test: opens `count` EL sessions (real TLS, a fresh ticket
 * each) from the given loopback source addresses, `concurrency` at a time, answers
 * keepalive pings, prints {"up": n, "failed": n} as it goes and {"done": …} at the end,
 * then idles until killed. Configuration: JSON in EL_BENCH_CLIENTS.
 */
import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { rawDeviceKey, resumeKey, resumeSecret } from '@elink/protocol';
import { openSession, type BenchSession } from './el-client.js';
import { IDLE_MAC_BASE, ticketFor } from './fixture.js';
import { openAll } from './open-all.js';

interface Config {
  port: number;
  caPem: string;
  ticketPrivatePem: string;
  count: number;
  first: number;
  sources: string[];
  concurrency: number;
  /** The L2 segment the tickets are for; default `lan`. */
  segment?: string;
  /** Tickets bound to a device key (one per client process), hello with its proof. */
  deviceKey?: boolean;
  /** Resume TLS sessions (the last one the node sent), as a returning client does. */
  resume?: boolean;
  /** With deviceKey: hello carries the resume proof too, of the resume secret the node's
   * welcome gave for the ticket at an earlier session. Derived here with the cluster's
   * resume key from this secret (the node's), instead of a first session per ticket; each
   * welcome must then give that same secret back, or the session counts as failed. */
  resumeProofSecret?: string;
}

const cfg = JSON.parse(process.env.EL_BENCH_CLIENTS ?? '{}') as Config;
const key = createPrivateKey(cfg.ticketPrivatePem);
const device = cfg.deviceKey ? generateKeyPairSync('ed25519').privateKey : undefined;
const dk = device ? rawDeviceKey(device) : undefined;
const K = cfg.resumeProofSecret ? resumeKey(cfg.resumeProofSecret) : undefined;
let tlsSession: Buffer | undefined;

// Kept open until the process is killed.
export const sessions: BenchSession[] = await openAll(cfg.count, cfg.concurrency, async (i) => {
  const n = cfg.first + i;
  const ticket = ticketFor(key, `idle${n}`, IDLE_MAC_BASE + n, 600, cfg.segment, dk);
  const resume = K ? resumeSecret(K, ticket) : undefined;
  const s = await openSession({
    port: cfg.port,
    ca: cfg.caPem,
    ticket,
    localAddress: cfg.sources[n % cfg.sources.length],
    ...(device ? { deviceKey: device } : {}),
    ...(resume ? { resume } : {}),
    ...(cfg.resume ? { ...(tlsSession ? { session: tlsSession } : {}), onSession: (t: Buffer) => (tlsSession = t) } : {}),
  });
  if (resume && s.resumeSecret !== resume) throw new Error('welcome.resume is not the resume secret of the ticket');
  return s;
});
