/**
 * Test hosts in network namespaces. Every name carries this process's pid
 * (`elt<pid>_…`) so a later run can remove what a crashed run left behind, and
 * nothing collides with another run on the same machine.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function sh(cmd: string, args: string[], opts: { ns?: string; timeoutMs?: number; allowFail?: boolean } = {}): string {
  const argv = opts.ns ? ['netns', 'exec', opts.ns, cmd, ...args] : args;
  const bin = opts.ns ? 'ip' : cmd;
  const r = spawnSync(bin, argv, { encoding: 'utf8', timeout: opts.timeoutMs ?? 20_000 });
  if (!opts.allowFail && (r.status !== 0 || r.error)) {
    throw new Error(`${bin} ${argv.join(' ')} failed (${r.status ?? r.signal ?? r.error?.message}): ${r.stderr}${r.stdout}`);
  }
  return (r.stdout ?? '') + (opts.allowFail ? r.stderr ?? '' : '');
}

export function ip(...args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', timeout: 20_000 });
}

/** True when this process may create namespaces and TAP devices. */
export function canUseNetns(): boolean {
  if (process.getuid?.() !== 0) return false;
  return spawnSync('ip', ['netns', 'list']).status === 0;
}

/** In CI nothing that needs root may skip: fail loudly instead. */
export function requireNetnsOrSkip(): boolean {
  const ok = canUseNetns();
  if (!ok && process.env.CI === 'true') throw new Error('CI=true but this process cannot create network namespaces (needs root and iproute2)');
  return ok;
}

/** Removes namespaces and links of earlier runs whose process is gone. */
export function reapStale(): void {
  for (const line of ip('netns', 'list').split('\n')) {
    const m = /^(elt(\d+)_\S*)/.exec(line);
    if (m && !alive(Number(m[2]))) spawnSync('ip', ['netns', 'del', m[1]]);
  }
  for (const line of ip('-o', 'link', 'show').split('\n')) {
    const m = /^\d+: (elt(\d+)_[^:@]*)/.exec(line);
    if (m && !alive(Number(m[2]))) spawnSync('ip', ['link', 'del', m[1]]);
  }
}

export interface Underlay {
  bridge: string;
  /** Root-namespace address on the bridge (the server's address for the hosts). */
  gateway: string;
  hosts: Map<string, { ns: string; address: string }>;
  addHost(name: string): { ns: string; address: string };
  destroy(): void;
}

/**
 * A bridge in the root namespace with 198.18.<net>.1/24, and hosts (namespaces) on it
 * reached over veth pairs, each with 198.18.<net>.<10+i>/24.
 */
let underlays = 0;

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Where underlay /24s are claimed, one directory each (mkdir is atomic across processes). */
const CLAIMS = join(tmpdir(), 'elink-test-underlays');

/**
 * Claims a free 198.18.<net>.0/24 for this process: test files run in parallel workers
 * (and next to benchmarks), and two bridges with the same /24 in the root namespace
 * send one underlay's replies into the other: its hosts lose every packet for as long
 * as both exist. A claim whose process is gone is taken over.
 */
function claimNet(start: number): number {
  mkdirSync(CLAIMS, { recursive: true });
  const used = ip('-4', '-o', 'addr', 'show');
  for (let k = 0; k < 150; k++) {
    const net = 100 + ((start + k) % 150);
    if (used.includes(` 198.18.${net}.`)) continue;
    const dir = join(CLAIMS, String(net));
    try {
      mkdirSync(dir);
    } catch {
      let owner = 0;
      try {
        owner = Number(readFileSync(join(dir, 'pid'), 'utf8'));
      } catch {
        continue; // being claimed right now
      }
      if (alive(owner)) continue;
      rmSync(dir, { recursive: true, force: true });
      try {
        mkdirSync(dir);
      } catch {
        continue;
      }
    }
    writeFileSync(join(dir, 'pid'), String(process.pid));
    return net;
  }
  throw new Error('no free 198.18.<net>.0/24 for a test underlay (150 in use)');
}

function releaseNet(net: number): void {
  const dir = join(CLAIMS, String(net));
  try {
    if (Number(readFileSync(join(dir, 'pid'), 'utf8')) === process.pid) rmSync(dir, { recursive: true, force: true });
  } catch {
    // already gone
  }
}

export function createUnderlay(): Underlay {
  reapStale();
  const n = underlays++;
  // Interface names have at most 15 characters: elt + pid (≤ 7 digits) + _ + n + suffix.
  const tag = `elt${process.pid}_${n}`;
  const net = claimNet(process.pid + n);
  const bridge = `${tag}b`;
  const gateway = `198.18.${net}.1`;
  ip('link', 'add', bridge, 'type', 'bridge');
  ip('addr', 'add', `${gateway}/24`, 'dev', bridge);
  ip('link', 'set', bridge, 'up');
  const hosts = new Map<string, { ns: string; address: string }>();
  const created: string[] = [];
  const veths: string[] = [];
  return {
    bridge,
    gateway,
    hosts,
    addHost(name: string) {
      const i = hosts.size;
      const ns = `${tag}-${name}`;
      const outside = `${tag}v${i}`;
      const address = `198.18.${net}.${10 + i}`;
      ip('netns', 'add', ns);
      created.push(ns);
      ip('link', 'add', outside, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns);
      veths.push(outside);
      ip('link', 'set', outside, 'master', bridge, 'up');
      ip('-n', ns, 'addr', 'add', `${address}/24`, 'dev', 'eth0');
      ip('-n', ns, 'link', 'set', 'eth0', 'up');
      ip('-n', ns, 'link', 'set', 'lo', 'up');
      const host = { ns, address };
      hosts.set(name, host);
      return host;
    },
    destroy() {
      // Our end of each veth first: a deleted namespace frees its veth only once the kernel
      // has torn it down, after its last process exited (asynchronous).
      for (const v of veths) spawnSync('ip', ['link', 'del', v]);
      for (const ns of created) spawnSync('ip', ['netns', 'del', ns]);
      spawnSync('ip', ['link', 'del', bridge]);
      releaseNet(net);
    },
  };
}
