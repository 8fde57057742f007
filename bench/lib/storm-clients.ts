/**
 * Child process of the reconnect-storm benchmark: `count` lightweight EL sessions (real
 * TLS, bench/lib/el-client.ts), first opened on one node with tickets signed by the
 * broker's key and bound to each session's device key (the fill is not what is
 * measured), then each one behaves like the real client (packages/client/src/connector.ts)
 * once its node is gone: wait a full-jitter backoff (500 ms doubling, at most 30 s), get
 * admitted again, and start over on failure; it tries the nodes in the client's order
 * after a loss (reconnect-order.ts: the lost node last, the others in an order of its
 * own) and offers the TLS session node A gave it (the cluster shares ticket keys), unless
 * told otherwise (`order`, `resume`). With its bound ticket it also sends the resume proof
 * of the secret node A's welcome gave for it (the cluster shares the resume key), as the
 * client does. How, by `mode`:
 *
 * - `reuse`: its bound ticket still lasts: hello with it and a fresh proof at the next
 *   server of its last list (no broker at all);
 * - `device`: its ticket has run out: a device login at a broker (POST /v1/login/device,
 *   a signature), then hello with the new ticket and a proof at the servers of the reply;
 * - `password`: a client without a device key: a password login (POST /v1/login, scrypt),
 *   then hello with the new ticket;
 * - `bare`: the peer (the nodes are bare Node TLS servers, tls-peer.ts): the TLS handshake
 *   (resumed, as in `reuse`) and one record each way of a hello's and a welcome's size.
 *
 * Broker requests have the real client's 10 s timeout. One process cannot be thousands of
 * machines: at most `inFlight` attempts (login and hello) run at once per process, the
 * others wait their turn after their backoff, so the generator's own CPU (TLS handshakes,
 * signatures) does not time out its attempts and pass for the cluster's limit. Prints a JSON line of counts every
 * 500 ms and a last one with `done` when every session is back. Configuration: JSON in
 * EL_BENCH_STORM.
 */
import { createPrivateKey, randomBytes, type KeyObject } from 'node:crypto';
import { request } from 'node:https';
import { constants, PerformanceObserver } from 'node:perf_hooks';
import { lostNodeLast, reconnectOrder } from '@elink/client';
import { formatMac, rawDeviceKey as rawKeyOf, signDeviceLogin, signTicket } from '@elink/protocol';
import { openSession, type BenchSession } from './el-client.js';
import { openPeerSession } from './tls-peer.js';
import { sleep } from './proc.js';
import { stormDeviceKey, stormUser } from './storm-keys.js';

export type StormMode = 'reuse' | 'device' | 'password' | 'bare';

interface Config {
  mode: StormMode;
  /** The node every session starts on. */
  switchPort: number;
  /** Every node's port and id (A first), as the last login reply listed them. */
  serverPorts: number[];
  nodeIds: string[];
  brokerPorts: number[];
  caPem: string;
  ticketPrivatePem: string;
  count: number;
  first: number;
  sources: string[];
  users: number;
  password: string;
  segment: string;
  concurrency: number;
  /** Attempts to come back running at once in this process. */
  inFlight: number;
  macBase: number;
  /** Offer the TLS session of the lost node to the next one (the cluster shares ticket keys). */
  resume?: boolean;
  /** `spread`: the real client's order after a loss (the lost node last, the others in an
   * order of each session's own: reconnect-order.ts); `listed`: the list's order, as before. */
  order?: 'spread' | 'listed';
}

const cfg = JSON.parse(process.env.EL_BENCH_STORM ?? '{}') as Config;
const key = createPrivateKey(cfg.ticketPrivatePem);
const counts = {
  up: 0,
  fillFailed: 0,
  down: 0,
  back: 0,
  logins: 0,
  loginErrors: {} as Record<string, number>,
  connectErrors: 0,
  /** Failed hellos by what failed (refused at accept, no welcome in time, the switch's error code…). */
  errorKinds: {} as Record<string, number>,
  lastError: '',
  /** Sessions back, by the port of the node that welcomed them. */
  backByPort: {} as Record<string, number>,
  /** Sessions back whose TLS session was resumed. */
  resumed: 0,
  /** Sessions back whose hello carried a resume proof (the node counts those it admitted by it). */
  resumeProofs: 0,
  /** Attempts (backoff turns) the sessions back needed: [1, 2, 3, 4, 5+]. */
  attempts: [0, 0, 0, 0, 0],
  backAt: [] as number[],
};
/** When the first session lost its node (≈ the kill). */
let firstDownAt = 0;
/** This process's garbage collection from the first loss on: seconds by kind (as prom-client names them). */
const gcSeconds: Record<string, number> = {};
const GC_KINDS: Record<number, string> = { [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor', [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major', [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental', [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb' };
new PerformanceObserver((list) => {
  if (!firstDownAt) return;
  for (const e of list.getEntries()) {
    const kind = GC_KINDS[(e as unknown as { detail: { kind: number } }).detail.kind] ?? 'other';
    gcSeconds[kind] = (gcSeconds[kind] ?? 0) + e.duration / 1000;
  }
}).observe({ entryTypes: ['gc'] });
/** Device keys, by session number: a client loads its key once, not at every attempt. */
const deviceKeys = new Map<number, KeyObject>();
function deviceKeyOf(n: number): KeyObject {
  let k = deviceKeys.get(n);
  if (!k) deviceKeys.set(n, (k = stormDeviceKey(n)));
  return k;
}
/** TLS sessions from the fill, by session number (resume). */
const tlsSessions = new Map<number, Buffer>();
/** Resume secrets from the fill's welcomes, by session number (for its fill ticket only). */
const resumeSecrets = new Map<number, string>();
let filled = false;

function report(final = false): void {
  const { backAt, ...rest } = counts;
  const sorted = [...backAt].sort((a, b) => a - b);
  // When this share of all the sessions (not of those back so far) was back; 0 = not yet.
  const at = (q: number) => sorted[Math.max(0, Math.ceil(q * counts.up) - 1)] ?? 0;
  // Sessions back in each second after the first loss (a timeline of welcomes).
  const timeline: number[] = [];
  if (firstDownAt) for (const t of sorted) timeline[Math.floor((t - firstDownAt) / 1000)] = (timeline[Math.floor((t - firstDownAt) / 1000)] ?? 0) + 1;
  process.stdout.write(JSON.stringify({ ...rest, filled, firstDownAt, gcSeconds, timeline: Array.from(timeline, (x) => x ?? 0), firstBackAt: sorted[0] ?? 0, lastBackAt: sorted.at(-1) ?? 0, p50At: at(0.5), p90At: at(0.9), ...(final ? { done: true } : {}) }) + '\n');
}
const timer = setInterval(() => report(), 500);
// An orderly exit on SIGTERM, so that `node --cpu-prof` writes the generator's profile.
process.once('SIGTERM', () => process.exit(0));

interface LoginAnswer {
  ticket: string;
  servers: { node: string; host: string; port: number }[];
}

/** A password login, or a device login signed with the session's key. */
function login(n: number): Promise<LoginAnswer> {
  const user = stormUser(n, cfg.users);
  const device = `storm-${n}`;
  let path = '/v1/login';
  let fields: Record<string, unknown> = { user, password: cfg.password, segment: cfg.segment, device };
  if (cfg.mode === 'device') {
    path = '/v1/login/device';
    const f = { user, device, segment: cfg.segment, time: Math.floor(Date.now() / 1000), nonce: randomBytes(16).toString('base64url') };
    fields = { ...f, signature: signDeviceLogin(deviceKeyOf(n), f) };
  }
  const body = JSON.stringify(fields);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: cfg.brokerPorts[n % cfg.brokerPorts.length],
        method: 'POST',
        path,
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

// A counting semaphore: the attempts running, and those waiting for a turn (FIFO).
let running = 0;
const waiting: Array<() => void> = [];
async function turn(): Promise<void> {
  if (running < cfg.inFlight) {
    running++;
    return;
  }
  await new Promise<void>((resolve) => waiting.push(resolve));
}
function done(): void {
  const next = waiting.shift();
  if (next) next();
  else running--;
}

/** After its node is gone: the real client's loop, until a node welcomes it again. */
async function comeBack(n: number, fillTicket: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    await sleep(Math.random() * Math.min(30_000, 500 * 2 ** attempt));
    await turn();
    try {
      if (await attemptOnce(n, fillTicket)) {
        counts.attempts[Math.min(attempt, 4)]!++;
        return;
      }
    } finally {
      done();
    }
  }
}

/** One way back (login if the mode needs one, then hello at the servers in order); true when welcomed. */
async function attemptOnce(n: number, fillTicket: string): Promise<boolean> {
  const deviceKey = cfg.mode === 'password' || cfg.mode === 'bare' ? undefined : deviceKeyOf(n);
  let answer: LoginAnswer;
  // No login: the ticket it has (bare: none) and the nodes of its last list, in the client's order after a loss.
  const noLogin = cfg.mode === 'reuse' || cfg.mode === 'bare';
  if (noLogin) answer = { ticket: fillTicket, servers: cfg.serverPorts.map((port, i) => ({ node: cfg.nodeIds[i]!, host: '127.0.0.1', port })) };
  else {
    try {
      counts.logins++;
      answer = await login(n);
    } catch (err) {
      const code = (err as Error).message.split(':')[0]!.slice(0, 40);
      counts.loginErrors[code] = (counts.loginErrors[code] ?? 0) + 1;
      return false;
    }
  }
  const lost = cfg.nodeIds[0];
  const servers = cfg.order === 'listed' ? answer.servers : noLogin ? reconnectOrder(answer.servers, lost) : lostNodeLast(answer.servers, lost);
  for (const server of servers) {
    try {
      const session = cfg.resume ? tlsSessions.get(n) : undefined;
      // The secret belongs to the fill's ticket: a new ticket (a login) goes without one.
      const resume = answer.ticket === fillTicket ? resumeSecrets.get(n) : undefined;
      const localAddress = cfg.sources[n % cfg.sources.length]!;
      const s: Pick<BenchSession, 'socket'> =
        cfg.mode === 'bare'
          ? { socket: await openPeerSession({ port: server.port, caPem: cfg.caPem, localAddress, timeoutMs: 10_000, ...(session ? { session } : {}) }) }
          : await openSession({ port: server.port, ca: cfg.caPem, ticket: answer.ticket, localAddress, timeoutMs: 10_000, ...(deviceKey ? { deviceKey } : {}), ...(resume ? { resume } : {}), ...(session ? { session } : {}) });
      counts.back++;
      if (resume) counts.resumeProofs++;
      counts.backByPort[server.port] = (counts.backByPort[server.port] ?? 0) + 1;
      if (s.socket.isSessionReused()) counts.resumed++;
      counts.backAt.push(Date.now());
      s.socket.on('error', () => undefined);
      return true;
    } catch (err) {
      counts.connectErrors++;
      counts.lastError = (err as Error).message;
      const kind = /^switch refused: (\S+)/.exec(counts.lastError)?.[1] ?? ((err as NodeJS.ErrnoException).code || counts.lastError.slice(0, 40));
      counts.errorKinds[kind] = (counts.errorKinds[kind] ?? 0) + 1;
      // A spent ticket is worth nothing at the next node: log in again.
      if (/TICKET_(REPLAYED|EXPIRED)/.test(counts.lastError)) break;
    }
  }
  return false;
}

function watch(s: Pick<BenchSession, 'socket'>, n: number, ticket: string): void {
  s.socket.on('error', () => undefined);
  s.socket.once('close', () => {
    counts.down++;
    if (!firstDownAt) firstDownAt = Date.now();
    void comeBack(n, ticket);
  });
}

/** A ticket as the broker would issue it to session n, bound to its device key. */
function fillTicket(n: number, deviceKey: KeyObject | undefined): string {
  const now = Math.floor(Date.now() / 1000);
  const dk = deviceKey ? { dk: rawKeyOf(deviceKey) } : {};
  return signTicket({ jti: randomBytes(12).toString('base64url'), sub: stormUser(n, cfg.users), seg: cfg.segment, mode: 'l2', dev: `storm-${n}`, mac: formatMac(cfg.macBase + n), iat: now, exp: now + 900, ...dk }, key);
}

/** Tries per session in the fill. */
const FILL_ATTEMPTS = 5;

let next = 0;
async function fill(): Promise<void> {
  while (next < cfg.count) {
    const n = cfg.first + next++;
    // A session the node refused at accept (a burst of new connections meets its accept
    // limits) tries again, a few times: the storm is measured over the sessions wanted.
    for (let attempt = 0; attempt < FILL_ATTEMPTS; attempt++) {
      try {
        const deviceKey = cfg.mode === 'password' || cfg.mode === 'bare' ? undefined : deviceKeyOf(n);
        const ticket = cfg.mode === 'bare' ? '' : fillTicket(n, deviceKey);
        const localAddress = cfg.sources[n % cfg.sources.length]!;
        const onSession = cfg.resume ? { onSession: (t: Buffer) => tlsSessions.set(n, t) } : {};
        const s: Pick<BenchSession, 'socket' | 'resumeSecret'> =
          cfg.mode === 'bare'
            ? { socket: await openPeerSession({ port: cfg.switchPort, caPem: cfg.caPem, localAddress, ...onSession }) }
            : await openSession({ port: cfg.switchPort, ca: cfg.caPem, ticket, localAddress, ...(deviceKey ? { deviceKey } : {}), ...onSession });
        counts.up++;
        if (s.resumeSecret) resumeSecrets.set(n, s.resumeSecret);
        watch(s, n, ticket);
        break;
      } catch (err) {
        counts.lastError = (err as Error).message;
        if (attempt === FILL_ATTEMPTS - 1) counts.fillFailed++;
        else await sleep(100 + Math.random() * 400 * (attempt + 1));
      }
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
