/**
 * Child process of the reconnect-storm benchmark: `count` lightweight EL sessions (real
 * TLS, bench/lib/el-client.ts), first opened on one node with tickets signed by the
 * broker's key (the fill is not what is measured), then each one behaves like the real
 * client (packages/client/src/connector.ts) once its node is gone: wait a full-jitter
 * backoff (500 ms doubling, at most 30 s), log in at a broker with the password
 * (POST /v1/login, 10 s timeout), try the servers of the reply in order with the ticket,
 * and start over on failure. Prints a JSON line of counts every 500 ms and a last one
 * with `done` when every session is back. Configuration: JSON in EL_BENCH_STORM.
 */
import { createPrivateKey } from 'node:crypto';
import { request } from 'node:https';
import { openSession, type BenchSession } from './el-client.js';
import { ticketFor } from './fixture.js';
import { sleep } from './proc.js';

interface Config {
  /** The node every session starts on. */
  switchPort: number;
  brokerPorts: number[];
  caPem: string;
  ticketPrivatePem: string;
  count: number;
  first: number;
  sources: string[];
  users: string[];
  password: string;
  segment: string;
  concurrency: number;
  macBase: number;
}

const cfg = JSON.parse(process.env.EL_BENCH_STORM ?? '{}') as Config;
const key = createPrivateKey(cfg.ticketPrivatePem);
const counts = { up: 0, fillFailed: 0, down: 0, back: 0, logins: 0, loginErrors: {} as Record<string, number>, connectErrors: 0, lastError: '', backAt: [] as number[] };
let filled = false;

function report(final = false): void {
  const { backAt, ...rest } = counts;
  const sorted = [...backAt].sort((a, b) => a - b);
  // When this share of all the sessions (not of those back so far) was back; 0 = not yet.
  const at = (q: number) => sorted[Math.max(0, Math.ceil(q * counts.up) - 1)] ?? 0;
  process.stdout.write(JSON.stringify({ ...rest, filled, firstBackAt: sorted[0] ?? 0, lastBackAt: sorted.at(-1) ?? 0, p50At: at(0.5), p90At: at(0.9), ...(final ? { done: true } : {}) }) + '\n');
}
const timer = setInterval(() => report(), 500);

interface LoginAnswer {
  ticket: string;
  servers: { node: string; host: string; port: number }[];
}

function login(n: number): Promise<LoginAnswer> {
  const user = cfg.users[n % cfg.users.length]!;
  const body = JSON.stringify({ user, password: cfg.password, segment: cfg.segment, device: `storm-${n}` });
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: cfg.brokerPorts[n % cfg.brokerPorts.length],
        method: 'POST',
        path: '/v1/login',
        ca: cfg.caPem,
        localAddress: cfg.sources[n % cfg.sources.length],
        agent: false,
        timeout: 10_000,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          try {
            const json = JSON.parse(Buffer.concat(chunks).toString('utf8')) as LoginAnswer & { error?: string };
            if (res.statusCode === 200) resolve(json);
            else reject(new Error(json.error ?? `HTTP ${res.statusCode}`));
          } catch {
            reject(new Error(`HTTP ${res.statusCode}, not JSON`));
          }
        });
      },
    );
    // The whole exchange is bounded, as in the real client (json-post.ts).
    const deadline = setTimeout(() => req.destroy(new Error('timeout')), 10_000);
    req.on('close', () => clearTimeout(deadline));
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(body);
  });
}

/** After its node is gone: the real client's loop, until a node welcomes it again. */
async function comeBack(n: number): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    await sleep(Math.random() * Math.min(30_000, 500 * 2 ** attempt));
    let answer: LoginAnswer;
    try {
      counts.logins++;
      answer = await login(n);
    } catch (err) {
      const code = (err as Error).message.split(':')[0]!.slice(0, 40);
      counts.loginErrors[code] = (counts.loginErrors[code] ?? 0) + 1;
      continue;
    }
    for (const server of answer.servers) {
      try {
        const s = await openSession({ port: server.port, ca: cfg.caPem, ticket: answer.ticket, localAddress: cfg.sources[n % cfg.sources.length], timeoutMs: 10_000 });
        counts.back++;
        counts.backAt.push(Date.now());
        s.socket.on('error', () => undefined);
        return;
      } catch (err) {
        counts.connectErrors++;
        counts.lastError = (err as Error).message;
        // A spent ticket is worth nothing at the next node: log in again.
        if (/TICKET_(REPLAYED|EXPIRED)/.test(counts.lastError)) break;
      }
    }
  }
}

function watch(s: BenchSession, n: number): void {
  s.socket.on('error', () => undefined);
  s.socket.once('close', () => {
    counts.down++;
    void comeBack(n);
  });
}

let next = 0;
async function fill(): Promise<void> {
  while (next < cfg.count) {
    const n = cfg.first + next++;
    try {
      const s = await openSession({ port: cfg.switchPort, ca: cfg.caPem, ticket: ticketFor(key, `fill${n}`, cfg.macBase + n, 600, cfg.segment), localAddress: cfg.sources[n % cfg.sources.length] });
      counts.up++;
      watch(s, n);
    } catch (err) {
      counts.fillFailed++;
      counts.lastError = (err as Error).message;
    }
  }
}

await Promise.all(Array.from({ length: cfg.concurrency }, fill));
filled = true;
report();
// Bounded by the parent, which kills this process when it is done or out of time.
while (counts.back < counts.up || counts.down === 0) await sleep(100);
clearInterval(timer);
report(true);
