/**
 * The 6in4 plane on real kernels, opened by hand (no DTCP): a SwitchNode in this process
 * (root namespace) terminates tunnels from user-space sit clients (test/lib/dtcp-client.ts,
 * TUN + raw protocol-41 socket) in two network namespaces on an underlay bridge, and the
 * kernels ping each other over IPv6 through the node's L3 segment.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ElError } from '@elink/protocol';
import { createUnderlay, requireNetnsOrSkip, sh, type Underlay } from '../../../../test/lib/netns.js';
import { makeFixture } from '../testing/test-client.js';
import { segment, startNode, type TestNode } from '../testing/test-node.js';
import type { SixInFourPlane, SixInFourTunnel } from './six-in-four.js';
import type { L3Segment } from '../core/l3/l3-segment.js';
import { formatPrefix, parsePrefix } from '../core/l3/ip.js';

const enabled = requireNetnsOrSkip();
const CLIENT = fileURLToPath(new URL('../../../../test/lib/dtcp-client.ts', import.meta.url));
const A6 = 'fd00:e1:60::a';
const B6 = 'fd00:e1:60::b';
const SPOOF6 = 'fd00:e1:60::99';

/** A command in namespace `ns`, without blocking this process: the switch node runs in it.
 * Resolves with stdout and stderr whatever the exit status (ping's 1 is an answer too). */
function run(ns: string, cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve) => {
    execFile('ip', ['netns', 'exec', ns, cmd, ...args], { timeout: 15_000 }, (_err, stdout, stderr) => resolve(`${stdout}${stderr}`));
  });
}

async function until(cond: () => boolean, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
}

/** Starts the user-space sit client in `ns` and waits for its "tunnel up" line. */
async function sitClient(ns: string, local: string, remote: string, addr: string): Promise<ChildProcess> {
  const child = spawn('ip', ['netns', 'exec', ns, process.execPath, CLIENT, '--local', local, '--remote', remote, '--addr', `${addr}/128`, '--route', 'fd00:e1:60::/64', '--mtu', '1400'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`sit client in ${ns} not up: ${out}`)), 15_000);
    const on = (d: Buffer) => {
      out += d.toString();
      if (out.includes('"tunnel up"')) {
        clearTimeout(timer);
        resolve();
      } else if (out.includes('"error"')) {
        clearTimeout(timer);
        reject(new Error(out));
      }
    };
    child.stdout!.on('data', on);
    child.stderr!.on('data', on);
  });
  return child;
}

describe.skipIf(!enabled)('6in4 plane (root, network namespaces, raw protocol-41 socket)', () => {
  let underlay: Underlay;
  let t: TestNode;
  let plane: SixInFourPlane;
  let seg: L3Segment;
  const clients: ChildProcess[] = [];
  let a: { ns: string; address: string };
  let b: { ns: string; address: string };
  let tunnelA: SixInFourTunnel;
  let tunnelB: SixInFourTunnel;
  const closedA: string[] = [];

  beforeAll(async () => {
    underlay = createUnderlay();
    t = await startNode(await makeFixture(), {
      segments: [segment({ name: 'six', mode: 'l3', mtu: 1400, ipv6: { pool: 'fd00:e1:60::/64' } }), segment({ name: 'lan' })],
    });
    plane = t.node.sixInFourPlane();
    seg = t.node.segmentByName('six') as L3Segment;
    a = underlay.addHost('a');
    b = underlay.addHost('b');
    tunnelA = plane.open({ segment: 'six', clientV4: a.address, serverV4: underlay.gateway, user: 'alice', device: 'a', sources: [`${A6}/128`], routes: [`${A6}/128`], onClosed: (r) => closedA.push(r) });
    tunnelB = plane.open({ segment: 'six', clientV4: b.address, serverV4: underlay.gateway, user: 'bob', device: 'b', sources: [`${B6}/128`], routes: [`${B6}/128`] });
    clients.push(await sitClient(a.ns, a.address, underlay.gateway, A6), await sitClient(b.ns, b.address, underlay.gateway, B6));
  }, 60_000);

  afterAll(async () => {
    for (const c of clients) c.kill('SIGTERM');
    await t?.node.stop();
    underlay?.destroy();
  });

  it('the same node hands out the same plane; tunnels are ports with their routes in the segment', () => {
    expect(t.node.sixInFourPlane()).toBe(plane);
    expect(plane.size).toBe(2);
    expect(seg.ownerOf(parsePrefix(`${A6}/128`)!)?.kind).toBe('6in4');
    expect(tunnelA.id).not.toBe(tunnelB.id);
  });

  it('two tunnel clients ping each other over IPv6 through the L3 segment; the gateway answers and sends ICMPv6 errors', async () => {
    expect(await run(a.ns, 'ping', ['-6', '-c', '3', '-i', '0.2', '-W', '2', B6])).toMatch(/ 0% packet loss/);
    expect(await run(b.ns, 'ping', ['-6', '-c', '2', '-i', '0.2', '-W', '2', 'fd00:e1:60::1'])).toMatch(/ 0% packet loss/);
    // Hop limit 1: time exceeded from the segment's gateway; no route: unreachable from it.
    expect(await run(a.ns, 'ping', ['-6', '-c', '1', '-t', '1', '-W', '2', B6])).toMatch(/From fd00:e1:60::1 .*Time exceeded/i);
    expect(await run(a.ns, 'ping', ['-6', '-c', '1', '-W', '2', 'fd00:e1:60::77'])).toMatch(/From fd00:e1:60::1 .*(Destination unreachable|No route)/i);
  });

  it('a packet longer than the segment MTU gets ICMPv6 packet too big with the MTU (a client tunnel MTU set too high)', async () => {
    sh('ip', ['link', 'set', 'sit0', 'mtu', '1480'], { ns: a.ns });
    try {
      const out = await run(a.ns, 'ping', ['-6', '-c', '1', '-s', '1420', '-M', 'do', '-W', '2', B6]);
      expect(out).toMatch(/From fd00:e1:60::1 .*Packet too big: mtu=1400/i);
      expect((plane as unknown as { drops: Record<string, number> }).drops.too_big).toBeGreaterThanOrEqual(1);
      // The kernel learned the path MTU: the same size now leaves in fragments and is answered.
      expect(await run(a.ns, 'ping', ['-6', '-c', '1', '-s', '1420', '-W', '2', B6])).toMatch(/ 0% packet loss/);
    } finally {
      sh('ip', ['link', 'set', 'sit0', 'mtu', '1400'], { ns: a.ns });
    }
  });

  it('the switch is the far end of each tunnel link: a link-local ping is answered, other link-local traffic is dropped (link_local)', async () => {
    expect(await run(a.ns, 'ping', ['-6', '-c', '2', '-i', '0.2', '-W', '2', '-I', 'sit0', `fe80::${underlay.gateway}`])).toMatch(/ 0% packet loss/);
    const drops = (plane as unknown as { drops: Record<string, number> }).drops;
    const before = drops.link_local;
    // A UDP datagram on the link (not a ping): nothing on the switch's side takes it.
    await run(a.ns, process.execPath, ['-e', "const s = require('node:dgram').createSocket('udp6'); s.send('x', 9, 'fe80::1%sit0', () => s.close());"]);
    await until(() => drops.link_local > before);
    expect(drops.link_local).toBeGreaterThan(before);
  });

  it('a spoofed inner source is dropped and counted (src_address), as for an EL client', async () => {
    const before = seg.drops.src_address;
    sh('ip', ['-6', 'addr', 'add', `${SPOOF6}/128`, 'dev', 'sit0', 'nodad'], { ns: a.ns });
    const out = await run(a.ns, 'ping', ['-6', '-c', '3', '-i', '0.2', '-W', '1', '-I', SPOOF6, B6]);
    expect(out).toMatch(/ 100% packet loss/);
    expect(seg.drops.src_address - before).toBeGreaterThanOrEqual(3);
  });

  it('refuses what it cannot carry, with an error code', () => {
    const base = { clientV4: '198.18.250.250', serverV4: underlay.gateway, user: 'carol', device: 'c', sources: [], routes: [] };
    const codeOf = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return (e as ElError).code;
      }
      return 'none';
    };
    expect(codeOf(() => plane.open({ ...base, segment: 'nope' }))).toBe('EL_ERR_NO_SEGMENT');
    expect(codeOf(() => plane.open({ ...base, segment: 'lan' }))).toBe('EL_ERR_WRONG_SEGMENT');
    expect(codeOf(() => plane.open({ ...base, segment: 'six', routes: ['198.19.0.0/24'] }))).toBe('EL_ERR_INVALID');
    expect(codeOf(() => plane.open({ ...base, segment: 'six', clientV4: 'fd00::1' }))).toBe('EL_ERR_INVALID');
    // Another user's address.
    expect(codeOf(() => plane.open({ ...base, segment: 'six', routes: [`${B6}/128`] }))).toBe('EL_ERR_ADDRESS_IN_USE');
    expect(plane.size).toBe(2);
  });

  it("a tunnel's routes are the segment's endpoints while it is open: announced to trunks like any other, withdrawn at close", () => {
    const events: string[] = [];
    const key = formatPrefix(parsePrefix('fd00:e1:60::77/128')!); // the endpoint key's text form
    seg.listen({ added: (k) => events.push(`+${k}`), removed: (k) => events.push(`-${k}`) }, { maxMoves: 5, windowMs: 1000, freezeMs: 1000 });
    const t77 = plane.open({ segment: 'six', clientV4: '198.18.251.77', serverV4: underlay.gateway, user: 'dave', device: 'd', sources: ['fd00:e1:60::77/128'], routes: ['fd00:e1:60::77/128'] });
    expect(events).toEqual([`+${key}`]);
    expect(seg.localEndpoints().some(([k]) => k === key)).toBe(true);
    t77.close('test');
    expect(events).toEqual([`+${key}`, `-${key}`]);
    expect(seg.localEndpoints().some(([k]) => k === key)).toBe(false);
    expect(plane.size).toBe(2);
  });

  it('closing a tunnel withdraws its routes; a newer tunnel to the same client address supersedes the old one', async () => {
    type Totals = { packetsIn: number; bytesIn: number; packetsOut: number; bytesOut: number };
    const totals = () => (plane as unknown as { totals(): Totals }).totals();
    const live = totals();
    expect(live.packetsIn).toBeGreaterThan(0);
    expect(live.packetsOut).toBeGreaterThan(0);
    tunnelB.close('test');
    // A closed tunnel's traffic stays in the plane's totals (the metrics are counters).
    const after = totals();
    for (const k of ['packetsIn', 'bytesIn', 'packetsOut', 'bytesOut'] as const) expect(after[k]).toBeGreaterThanOrEqual(live[k]);
    expect(plane.size).toBe(1);
    expect(seg.ownerOf(parsePrefix(`${B6}/128`)!)).toBeUndefined();
    expect(await run(a.ns, 'ping', ['-6', '-c', '1', '-W', '2', B6])).toMatch(/100% packet loss|unreachable/i);

    const again = plane.open({ segment: 'six', clientV4: a.address, serverV4: underlay.gateway, user: 'alice', device: 'a', sources: [`${A6}/128`], routes: [`${A6}/128`] });
    expect(closedA).toEqual(['superseded']);
    expect(plane.size).toBe(1);
    expect(await run(a.ns, 'ping', ['-6', '-c', '2', '-i', '0.2', '-W', '2', 'fd00:e1:60::1'])).toMatch(/ 0% packet loss/);
    again.close('test');
    expect(plane.size).toBe(0);
    expect(seg.stats().routes).toBe(0);
  });
});
