/**
 * Idle DTCP tunnels for the benchmark (dtcp-bench.ts): N connections, connection i bound
 * to its own local address (base + i: a `local` route makes the whole range bindable), user
 * `idle<i>`, `tunnel idle<i> <digest> host`; kept open without traffic. Prints
 * {"up","failed","done","lastError"} lines as it goes; runs until SIGTERM. Config as JSON in
 * EL_BENCH_DTCP: server, port, users, secret, base.
 */
import { createHash } from 'node:crypto';
import { connect, type Socket } from 'node:net';

const cfg = JSON.parse(process.env.EL_BENCH_DTCP ?? '{}') as { server: string; port: number; users: number; secret: string; base: string };
const base = cfg.base.split('.').reduce((a, b) => a * 256 + Number(b), 0);
const address = (n: number) => `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
const status = { up: 0, failed: 0, done: false, lastError: '' };
const sockets: Socket[] = [];
const IN_FLIGHT = 256;

function one(i: number): Promise<void> {
  return new Promise((resolve) => {
    const user = `idle${i}`;
    const s = connect({ host: cfg.server, port: cfg.port, localAddress: address(base + i) });
    let buf = '';
    let state: 'greeting' | 'reply' | 'up' = 'greeting';
    const fail = (why: string) => {
      if (state === 'up') return;
      status.failed++;
      status.lastError = why;
      s.destroy();
      resolve();
    };
    s.setEncoding('utf8');
    s.on('error', (e) => fail(e.message));
    s.on('close', () => fail('closed'));
    s.on('data', (d: string) => {
      buf += d;
      let at: number;
      while ((at = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, at).replace(/\r$/, '');
        buf = buf.slice(at + 1);
        if (state === 'greeting') {
          const challenge = /^\+OK (\S+)/.exec(line)?.[1];
          if (!challenge) return fail(`greeting ${line}`);
          s.write(`tunnel ${user} ${createHash('md5').update(user + challenge + cfg.secret).digest('hex')} host\r\n`);
          state = 'reply';
        } else if (state === 'reply') {
          if (!line.startsWith('+OK ')) return fail(line);
          state = 'up';
          status.up++;
          sockets.push(s);
          resolve();
        }
      }
    });
  });
}

let next = 0;
async function worker(): Promise<void> {
  while (next < cfg.users) await one(next++);
}
const report = setInterval(() => process.stdout.write(JSON.stringify(status) + '\n'), 1000);
await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
status.done = true;
clearInterval(report);
process.stdout.write(JSON.stringify(status) + '\n');
// Keepalive as the clients do, so the node's idle timer never ends a tunnel during the measurement.
setInterval(() => {
  for (const s of sockets) s.write('ping\r\n');
}, 60_000);
process.on('SIGTERM', () => {
  for (const s of sockets) s.destroy();
  process.exit(0);
});
