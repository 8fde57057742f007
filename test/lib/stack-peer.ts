/**
 * A user-mode stack process (packages/stack/dist/test-peer.js) joined to a segment,
 * driven by JSON commands. Run as an unprivileged user (setpriv, uid/gid 65534) in the
 * root namespace: it has no TAP/TUN and no capability, only TCP to the broker and the switch.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';

export const PEER = fileURLToPath(new URL('../../packages/stack/dist/test-peer.js', import.meta.url));

export interface StackPeer {
  child: ChildProcess;
  /** The 'up' line: addresses, mode, uid. */
  up: { ipv4: string; ipv6: string; mode: string; mtu: number; uid: number };
  cmd(cmd: string, args?: Record<string, unknown>, timeoutMs?: number): Promise<Record<string, unknown>>;
  stop(): Promise<void>;
}

/** The n bytes of test-peer's pattern() (what its HTTP server sends for /bytes/n). */
export function pattern(n: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = (i * 131 + (i >>> 12)) & 0xff;
  return b;
}

/** Copies the CA and password file where user 65534 can read them. */
export function readableCopies(state: string): { dir: string; ca: string; pw: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'elink-stack-peer-'));
  chmodSync(dir, 0o755);
  const ca = join(dir, 'ca.pem');
  const pw = join(dir, 'pw');
  copyFileSync(join(state, 'ca.pem'), ca);
  copyFileSync(join(state, 'pw'), pw);
  chmodSync(ca, 0o644);
  chmodSync(pw, 0o644);
  return { dir, ca, pw, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export async function startStackPeer(opts: { broker: string; ca: string; pw: string; user: string; device: string; impair?: string; unprivileged?: boolean }): Promise<StackPeer> {
  const node = [process.execPath, PEER, '--broker', opts.broker, '--ca', opts.ca, '--user', opts.user, '--password-file', opts.pw, '--device', opts.device, ...(opts.impair ? ['--impair', opts.impair] : [])];
  const argv = opts.unprivileged === false ? node : ['setpriv', '--reuid', '65534', '--regid', '65534', '--clear-groups', ...node];
  const child = spawn(argv[0], argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, HOME: '/tmp' } });
  const waiting = new Map<number, (r: Record<string, unknown>) => void>();
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  let upLine: ((u: StackPeer['up']) => void) | undefined;
  createInterface({ input: child.stdout! }).on('line', (line) => {
    let o: Record<string, unknown>;
    try {
      o = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return;
    }
    if (o.event === 'up') upLine?.(o as unknown as StackPeer['up']);
    else if (typeof o.id === 'number') waiting.get(o.id)?.(o);
  });
  const up = await new Promise<StackPeer['up']>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`stack peer ${opts.device} not up in 30 s; stderr: ${stderr}`)), 30_000);
    upLine = (u) => {
      clearTimeout(t);
      resolve(u);
    };
    child.once('exit', (code) => {
      clearTimeout(t);
      reject(new Error(`stack peer ${opts.device} exited (${code}); stderr: ${stderr}`));
    });
  });
  let next = 1;
  return {
    child,
    up,
    cmd(cmd, args = {}, timeoutMs = 60_000) {
      const id = next++;
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => {
          waiting.delete(id);
          reject(new Error(`stack peer ${opts.device}: ${cmd} did not answer in ${timeoutMs} ms; stderr: ${stderr}`));
        }, timeoutMs);
        waiting.set(id, (r) => {
          clearTimeout(t);
          waiting.delete(id);
          if (r.ok) resolve(r);
          else reject(new Error(`stack peer ${opts.device}: ${cmd} failed: ${String(r.code)} ${String(r.error)}`));
        });
        child.stdin!.write(`${JSON.stringify({ id, cmd, ...args })}\n`);
      });
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.stdin!.end();
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    },
  };
}
