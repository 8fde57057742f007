/**
 * What `--figure first-seconds` and `--figure hops` share: SoftEther stays up the whole run
 * on the same topology (its own TAP and subnet), warmed by a flood at the start; every
 * Emotion Link system is measured in a cold window as soon as it is reachable, then both are
 * flooded and measured again in a warm window. Pings go from client 1 to an address of
 * client 2 through the system.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { waitReachable } from './measure.js';
import { run } from './proc.js';
import { softetherSystem } from './softether.js';
import type { RunningSystem } from './system.js';
import type { Topology } from './topology.js';

export interface Target {
  ns: string;
  address: string;
}

export function flood(t: Target, count: number): void {
  run('ping', ['-f', '-c', String(count), '-W', '1', t.address], { ns: t.ns, timeoutMs: 120_000 });
}

/** Client 1 pinging `address` (client 2's, through a system), once it answers. */
export async function reachable(topo: Topology, address: string): Promise<Target> {
  const [c1, c2] = topo.clients;
  await waitReachable({ roles: {}, from: { ns: c1.ns }, to: { ns: c2.ns, address } });
  return { ns: c1.ns, address };
}

/** SoftEther started in `work`/softether, reachable and warmed by `floodCount` flood pings
 * (its own first seconds are not what is compared); `rounds` runs against it; stopped after. */
export async function withWarmSoftEther<R>(topo: Topology, work: string, floodCount: number, rounds: (se: RunningSystem, seTarget: Target) => Promise<R>): Promise<R> {
  mkdirSync(join(work, 'softether'), { recursive: true });
  const se = await softetherSystem().start(topo, join(work, 'softether'));
  try {
    const seTarget = await reachable(topo, se.addresses[1]);
    flood(seTarget, floodCount);
    return await rounds(se, seTarget);
  } finally {
    await se.stop();
  }
}

/** The cold window, then EL flooded with `floodCount` pings and SoftEther (warm since the
 * start) with a quarter as many, then the warm window. */
export async function coldThenWarm<W>(el: Target, se: Target, floodCount: number, window: (name: 'cold' | 'warm') => W | Promise<W>): Promise<{ cold: W; warm: W }> {
  const cold = await window('cold');
  flood(el, floodCount);
  flood(se, Math.round(floodCount / 4));
  const warm = await window('warm');
  return { cold, warm };
}

/** The median of `xs` (NaN when empty). */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
