/**
 * Child process of the soak test: connect/disconnect churn through the real broker.
 * `concurrency` workers each loop until the deadline: log in (HTTPS POST /v1/login,
 * a device from a small set, so leases stay bounded), open an EL session with the
 * ticket, send a few frames to idle sessions' MACs, hold it a while, then leave with
 * `bye` or by dropping the connection. Beside them, a stranger's wrong password and a
 * challenge request every few seconds (from their own loopback addresses) keep the
 * broker's failure and challenge tables busy. Prints a JSON line of counts every
 * second. Configuration: JSON in EL_BENCH_CHURN.
 */
import { request } from 'node:https';
import { encodeControl, encodeRecord, macBytes, parseMac, RecordType } from '@elink/protocol';
import { openSession } from './el-client.js';
import { sleep } from './proc.js';

interface Config {
  brokerPort: number;
  switchPort: number;
  caPem: string;
  users: string[];
  password: string;
  devicesPerUser: number;
  concurrency: number;
  holdMs: [number, number];
  /** MACs of the idle sessions, to send frames to: [first, count]. */
  idleMacs: [number, number];
  deadline: number;
}

const cfg = JSON.parse(process.env.EL_BENCH_CHURN ?? '{}') as Config;
const counts = { logins: 0, loginErrors: 0, sessions: 0, sessionErrors: 0, byes: 0, drops: 0, framesOut: 0, strangerReplies: {} as Record<string, number>, challenges: 0, lastError: '' };
const report = () => process.stdout.write(JSON.stringify(counts) + '\n');
const timer = setInterval(report, 1000);
const rand = (lo: number, hi: number) => lo + Math.floor(Math.random() * (hi - lo + 1));

function call(method: string, path: string, body: unknown, localAddress: string): Promise<{ status: number; json: Record<string, unknown> }> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: cfg.brokerPort,
        method,
        path,
        ca: cfg.caPem,
        localAddress,
        agent: false,
        timeout: 10_000,
        headers: payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          try {
            resolve({ status: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown> });
          } catch (err) {
            reject(err as Error);
          }
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error('broker request timed out')));
    req.on('error', reject);
    req.end(payload);
  });
}

function frame(dst: number, src: number, size: number): Buffer {
  const f = Buffer.alloc(size);
  macBytes(dst).copy(f, 0);
  macBytes(src).copy(f, 6);
  f.writeUInt16BE(0x88b5, 12); // IEEE local experimental ethertype: nobody acts on it
  return f;
}

async function worker(w: number): Promise<void> {
  while (Date.now() < cfg.deadline) {
    const user = cfg.users[w % cfg.users.length];
    const device = `churn-${rand(0, cfg.devicesPerUser - 1)}`;
    try {
      const login = await call('POST', '/v1/login', { user, password: cfg.password, device }, '127.0.0.1');
      if (login.status !== 200) throw new Error(`login ${login.status} ${String(login.json.error)}`);
      counts.logins++;
      const s = await openSession({ port: cfg.switchPort, ca: cfg.caPem, ticket: String(login.json.ticket), timeoutMs: 10_000 });
      counts.sessions++;
      const own = parseMac(String(login.json.mac));
      const frames = Array.from({ length: rand(5, 30) }, () => encodeRecord(RecordType.FRAME, frame(cfg.idleMacs[0] + rand(0, cfg.idleMacs[1] - 1), own, rand(64, 1400))));
      s.socket.write(Buffer.concat(frames));
      counts.framesOut += frames.length;
      await sleep(rand(cfg.holdMs[0], cfg.holdMs[1]));
      if (Math.random() < 0.5) {
        s.socket.end(encodeControl({ type: 'bye', reason: 'churn' }));
        counts.byes++;
      } else {
        s.socket.destroy();
        counts.drops++;
      }
    } catch (err) {
      counts.lastError = (err as Error).message;
      if (counts.lastError.startsWith('login')) counts.loginErrors++;
      else counts.sessionErrors++;
      await sleep(1000);
    }
  }
}

/** A stranger guessing passwords and a client fetching challenges, each from its own address. */
async function background(): Promise<void> {
  for (let i = 0; Date.now() < cfg.deadline; i++) {
    try {
      if (i % 5 === 0) {
        const r = await call('POST', '/v1/login', { user: `stranger${i % 50}`, password: 'not-the-password' }, '127.0.0.9');
        const key = String(r.json.error ?? r.status);
        counts.strangerReplies[key] = (counts.strangerReplies[key] ?? 0) + 1;
      }
      const c = await call('GET', '/v1/challenge', undefined, '127.0.0.8');
      if (c.status === 200) counts.challenges++;
    } catch (err) {
      counts.lastError = (err as Error).message;
    }
    await sleep(2000);
  }
}

await Promise.all([...Array.from({ length: cfg.concurrency }, (_, w) => worker(w)), background()]);
clearInterval(timer);
report();
process.stdout.write(JSON.stringify({ done: true }) + '\n');
