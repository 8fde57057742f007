/**
 * What a 6in4 tunnel costs a node, the two ways to terminate it (docs/dtcp.md, "Data
 * plane"): a kernel net_device per tunnel (what a `sit` device per tunnel would be; this
 * kernel has no sit driver, so persistent TUN devices stand in: a net_device with IPv6
 * on it, no link layer, as sit has) against one port per tunnel on the node's one raw
 * protocol-41 socket (what the switch does). Both in a throwaway network namespace.
 *
 *   kernel: N devices created (ip -batch) and set up; MemAvailable, Slab and Percpu of
 *           /proc/meminfo before and after (the whole machine: other load adds noise, so
 *           N is large), seconds to create them, sysctl entries per device.
 *   plane:  a SwitchNode in a child process (--expose-gc) opens N tunnels by hand, each
 *           with a /128 routed to it; heap and RSS before and after (after gc), and the
 *           demultiplexing lookup (a Map by outer source) in ns per packet at that size.
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeFixture } from './fixture.js';
import { must } from './proc.js';

export interface KernelDeviceCost {
  devices: number;
  createSeconds: number;
  memAvailableKiBPerDevice: number;
  slabKiBPerDevice: number;
  percpuKiBPerDevice: number;
  sysctlEntriesPerDevice: number;
}

export interface PlaneTunnelCost {
  tunnels: number;
  openSeconds: number;
  heapKiBPerTunnel: number;
  rssKiBPerTunnel: number;
  demuxNsPerPacket: number;
}

function meminfo(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of readFileSync('/proc/meminfo', 'utf8').split('\n')) {
    const m = /^(\w+):\s+(\d+)/.exec(line);
    if (m) out[m[1]] = Number(m[2]);
  }
  return out;
}

/** N TUN devices in a fresh namespace, each up with IPv6 (a link-local address, its sysctls). */
export function kernelDeviceCost(n: number): KernelDeviceCost {
  const ns = `elb${process.pid}_dev`;
  spawnSync('ip', ['netns', 'del', ns]);
  must('ip', ['netns', 'add', ns]);
  const batch = join(tmpdir(), `${ns}.batch`);
  try {
    const lines: string[] = [];
    for (let i = 0; i < n; i++) lines.push(`tuntap add mode tun name t${i}`, `link set t${i} up`);
    writeFileSync(batch, lines.join('\n') + '\n');
    spawnSync('sync');
    const before = meminfo();
    const t0 = process.hrtime.bigint();
    must('ip', ['-n', ns, '-batch', batch], { timeoutMs: 600_000 });
    const createSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const after = meminfo();
    const sysctl = (dir: string) => {
      const r = spawnSync('ip', ['netns', 'exec', ns, 'ls', dir], { encoding: 'utf8' });
      return r.status === 0 ? r.stdout.split('\n').filter(Boolean).length : 0;
    };
    const entries = sysctl('/proc/sys/net/ipv6/conf/t0') + sysctl('/proc/sys/net/ipv4/conf/t0') + sysctl('/proc/sys/net/ipv6/neigh/t0') + sysctl('/proc/sys/net/ipv4/neigh/t0');
    const per = (k: string, sign = 1) => (sign * ((after[k] ?? 0) - (before[k] ?? 0))) / n;
    return {
      devices: n,
      createSeconds,
      memAvailableKiBPerDevice: per('MemAvailable', -1),
      slabKiBPerDevice: per('Slab'),
      percpuKiBPerDevice: per('Percpu'),
      sysctlEntriesPerDevice: entries,
    };
  } finally {
    spawnSync('ip', ['netns', 'del', ns]);
    spawnSync('rm', ['-f', batch]);
  }
}

/** N tunnels opened by hand on a SwitchNode's plane, in a child process in a fresh namespace. */
export async function planeTunnelCost(n: number): Promise<PlaneTunnelCost> {
  const ns = `elb${process.pid}_pl`;
  spawnSync('ip', ['netns', 'del', ns]);
  must('ip', ['netns', 'add', ns]);
  must('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
  try {
    const fx = await makeFixture();
    const child = spawn('ip', ['netns', 'exec', ns, process.execPath, '--expose-gc', fileURLToPath(new URL('./six-in-four-plane-process.js', import.meta.url))], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, EL_BENCH_PLANE: JSON.stringify({ certPem: fx.certPem, keyPem: fx.keyPem, ticketPublicPem: fx.ticketPublicPem, tunnels: n }) },
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    const line = out.trim().split('\n').pop() ?? '';
    if (code !== 0 || !line.startsWith('{')) throw new Error(`plane process exited ${code}: ${out}`);
    return JSON.parse(line) as PlaneTunnelCost;
  } finally {
    spawnSync('ip', ['netns', 'del', ns]);
  }
}

