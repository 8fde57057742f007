/**
 * A real HTTP proxy for the tests: Debian's tinyproxy (`make test-deps` installs it) on
 * a loopback or underlay address, with a config written here: Basic authentication,
 * CONNECT allowed to every port (or only `connectPorts`), its log at level Connect so a
 * test can see the CONNECTs it served. Stopped with stop() (SIGTERM, bounded).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Tinyproxy {
  host: string;
  port: number;
  /** http://user:password@host:port */
  url: string;
  /** The same with a wrong password. */
  badUrl: string;
  /** The CONNECT targets ("host:port") its log names so far. */
  connects(): string[];
  log(): string;
  stop(): Promise<void>;
}

export const PROXY_USER = 'eluser';
export const PROXY_PASSWORD = 'proxy-pass-1';

export async function startTinyproxy(opts: { host?: string; port: number; allow?: string[]; connectPorts?: number[] }): Promise<Tinyproxy> {
  const host = opts.host ?? '127.0.0.1';
  const dir = mkdtempSync(join(tmpdir(), 'elink-tinyproxy-'));
  const logFile = join(dir, 'tinyproxy.log');
  writeFileSync(logFile, '');
  const conf = [
    `Port ${opts.port}`,
    `Listen ${host}`,
    'Timeout 30',
    'MaxClients 32',
    `LogFile "${logFile}"`,
    'LogLevel Connect',
    `PidFile "${join(dir, 'tinyproxy.pid')}"`,
    `BasicAuth ${PROXY_USER} ${PROXY_PASSWORD}`,
    ...(opts.allow ?? ['127.0.0.0/8']).map((a) => `Allow ${a}`),
    ...(opts.connectPorts ?? []).map((p) => `ConnectPort ${p}`),
    '',
  ].join('\n');
  writeFileSync(join(dir, 'tinyproxy.conf'), conf);
  const proc: ChildProcess = spawn('tinyproxy', ['-d', '-c', join(dir, 'tinyproxy.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`tinyproxy exited ${proc.exitCode}: ${stderr}${readFileSync(logFile, 'utf8')}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(opts.port, host);
      s.once('connect', () => (s.destroy(), resolve(true)));
      s.once('error', () => resolve(false));
    });
    if (ok) break;
    if (Date.now() > deadline) throw new Error(`tinyproxy did not listen on ${host}:${opts.port} within 10 s: ${stderr}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const hostPort = `${host.includes(':') ? `[${host}]` : host}:${opts.port}`;
  const log = () => readFileSync(logFile, 'utf8');
  return {
    host,
    port: opts.port,
    url: `http://${PROXY_USER}:${PROXY_PASSWORD}@${hostPort}`,
    badUrl: `http://${PROXY_USER}:wrong-${PROXY_PASSWORD}@${hostPort}`,
    log,
    connects: () => [...log().matchAll(/Established connection to host "([^"]+)" using file descriptor/g)].map((m) => m[1]!),
    async stop() {
      if (proc.exitCode === null) {
        proc.kill('SIGTERM');
        const t = setTimeout(() => proc.kill('SIGKILL'), 3000);
        await once(proc, 'exit');
        clearTimeout(t);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
