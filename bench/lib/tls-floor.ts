/**
 * The floor under the setups benchmark: server CPU per bare Node TLS 1.3 handshake (the
 * setups fixture's ECDSA P-256 certificate, one small record each way, nothing else), full
 * and resumed, with OpenSSL's default key exchange groups and with X25519 only.
 *
 *   scripts/node24.sh node bench/dist/lib/tls-floor.js [handshakes, default 3000]
 *
 * The server runs in a child process (this file with the argument `server`) so its CPU is
 * its own; 32 handshakes at a time from this process.
 */
import { fork } from 'node:child_process';
import { connect, createServer, type TLSSocket } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { makeFixture } from './fixture.js';

interface ServerConfig {
  certPem: string;
  keyPem: string;
  curve?: string;
}

function serve(cfg: ServerConfig): void {
  const srv = createServer({ cert: cfg.certPem, key: cfg.keyPem, minVersion: 'TLSv1.3', ...(cfg.curve ? { ecdhCurve: cfg.curve } : {}) }, (s: TLSSocket) => {
    s.on('error', () => {});
    s.once('data', () => s.end('welcome'));
  });
  srv.listen(0, '127.0.0.1', () => process.send!({ port: (srv.address() as { port: number }).port }));
  process.on('message', () => {
    const u = process.cpuUsage();
    process.send!({ cpu: (u.user + u.system) / 1e6 });
  });
}

async function measure(n: number): Promise<void> {
  const fx = await makeFixture();
  for (const [curve, resume] of [[undefined, false], [undefined, true], ['X25519', false], ['X25519', true]] as const) {
    const srv = fork(fileURLToPath(import.meta.url), ['server', JSON.stringify({ certPem: fx.certPem, keyPem: fx.keyPem, ...(curve ? { curve } : {}) })]);
    const port = await new Promise<number>((r) => srv.once('message', (m: { port: number }) => r(m.port)));
    const cpu = () => new Promise<number>((r) => (srv.once('message', (m: { cpu: number }) => r(m.cpu)), srv.send('cpu')));
    const c0 = await cpu();
    let session: Buffer | undefined;
    let failed = 0;
    await new Promise<void>((resolve) => {
      let started = 0;
      let done = 0;
      let inflight = 0;
      const next = () => {
        while (inflight < 32 && started < n) {
          started++;
          inflight++;
          const s = connect({ port, host: '127.0.0.1', ca: fx.caPem, servername: 'localhost', ...(resume && session ? { session } : {}) }, () => s.write('hello'));
          if (resume) s.on('session', (t: Buffer) => (session = t));
          s.on('data', () => {});
          s.on('end', () => s.destroy());
          s.on('error', () => failed++);
          s.on('close', () => {
            inflight--;
            if (++done === n) resolve();
            else next();
          });
        }
      };
      next();
    });
    const used = (await cpu()) - c0;
    srv.kill();
    process.stdout.write(`groups ${curve ?? 'default'}${resume ? ', resumed' : ''}: ${(n / used).toFixed(0)} handshakes per server CPU-second (${((used / n) * 1e6).toFixed(0)} µs each${failed ? `, ${failed} errors` : ''})\n`);
  }
}

if (process.argv[2] === 'server') serve(JSON.parse(process.argv[3]!) as ServerConfig);
else await measure(Number(process.argv[2] ?? 3000));
