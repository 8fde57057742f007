/**
 * Offload end to end on real kernels: `elink connect` opens its TAP/TUN with TSO and
 * offers "gso"; `elink connect --no-offload` does neither. 10 MB TCP streams must arrive
 * byte-identical between two offload clients (super-frames pass the switch as they
 * are) and between an offload and a plain client, both ways (the switch segments for
 * the plain one, whose kernel verifies every checksum), in an L2 and an L3 segment.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUnderlay, requireNetnsOrSkip, type Underlay } from './lib/netns.js';
import { assertBuilt, elink, stopAll } from './lib/processes.js';
import { startServer, type TestServer } from './lib/server.js';
import { tcpStream } from './lib/tcp-stream.js';

const enabled = requireNetnsOrSkip();
const STREAM_BYTES = 10 * 1024 * 1024;

interface Host {
  ns: string;
  v4: string;
  v6: string;
}

let nextPort = 21000 + (process.pid % 10000);

/** A 10 MB stream from one host to the other's address; expects it byte-identical. */
async function stream(from: Host, to: Host, family: 'v4' | 'v6' = 'v4'): Promise<void> {
  const [sent, got] = await tcpStream(from.ns, to.ns, to[family], nextPort++, STREAM_BYTES);
  expect(got).toEqual(sent);
  expect(got.bytes).toBe(STREAM_BYTES);
}

describe.skipIf(!enabled)('TAP/TUN offload end to end (root, network namespaces)', () => {
  let underlay: Underlay;
  let server: TestServer;
  const hosts = new Map<string, Host>();
  const host = (n: string) => hosts.get(n)!;

  beforeAll(async () => {
    assertBuilt();
    underlay = createUnderlay();
    server = await startServer({
      gateway: underlay.gateway,
      segments: [
        { name: 'fast', mode: 'l2', ipv4: { pool: '198.19.40.0/24' }, ipv6: { pool: 'fd00:e1:40::/64' } },
        { name: 'fast3', mode: 'l3', ipv4: { pool: '198.19.41.0/24' }, ipv6: { pool: 'fd00:e1:41::/64' } },
      ],
      users: [
        { name: 'o1', segment: 'fast' },
        { name: 'o2', segment: 'fast' },
        { name: 'p1', segment: 'fast' },
        { name: 'r1', segment: 'fast3' },
        { name: 'r2', segment: 'fast3' },
        { name: 'q1', segment: 'fast3' },
      ],
    });
    await Promise.all(
      ['o1', 'o2', 'p1', 'r1', 'r2', 'q1'].map(async (name) => {
        const { ns } = underlay.addHost(name);
        const plain = name.startsWith('p') || name.startsWith('q') ? ['--no-offload'] : [];
        const client = elink(['connect', ...server.connectArgs(name), '--ifname', 'el0', '--device', name, ...plain], { ns });
        const up = await client.waitFor((l) => l.msg === 'link up', 30_000, `${name} link up`);
        hosts.set(name, { ns, v4: String(up.ipv4).split('/')[0], v6: String(up.ipv6).split('/')[0] });
      }),
    );
  }, 90_000);

  afterAll(async () => {
    await stopAll();
    underlay?.destroy();
    server?.destroy();
  });

  // The same two checks in an L2 segment (frames) and an L3 segment (packets): o/r are
  // offload clients, p/q plain (--no-offload) ones.
  const modes = [
    { mode: 'L2', unit: 'super-frames', a: 'o1', b: 'o2', plain: 'p1' },
    { mode: 'L3', unit: 'super-packets', a: 'r1', b: 'r2', plain: 'q1' },
  ];

  it.each(modes)('$mode: two offload clients carry 10 MB byte-identical as $unit', async ({ a, b }) => {
    const before = await server.metric('el_switch_frames_total', { direction: 'in' });
    const segmentedBefore = await server.metric('el_switch_gso_segmented_total');
    await stream(host(a), host(b));
    const frames = (await server.metric('el_switch_frames_total', { direction: 'in' })) - before;
    // Passed on as they are: the switch segmented nothing.
    expect(await server.metric('el_switch_gso_segmented_total')).toBe(segmentedBefore);
    // MTU-sized frames would be at least 10 MiB / 1448 = 7,242 data frames (plus ACKs).
    expect(frames).toBeGreaterThan(0);
    expect(frames).toBeLessThan(STREAM_BYTES / 1448);
  }, 60_000);

  it.each(modes)('$mode: an offload and a --no-offload client carry 10 MB byte-identical both ways, IPv4 and IPv6', async ({ a, b, plain }) => {
    const segmentedBefore = await server.metric('el_switch_gso_segmented_total');
    await stream(host(a), host(plain));
    // The switch segmented the super-frames for the plain client (whose kernel accepted every checksum).
    expect(await server.metric('el_switch_gso_segmented_total')).toBeGreaterThan(segmentedBefore + 100);
    await stream(host(plain), host(a));
    await stream(host(b), host(plain), 'v6');
    expect(await server.metric('el_switch_frames_dropped_total', { reason: 'bad_gso' })).toBe(0);
  }, 90_000);
});

describe.skipIf(!enabled)('offload clients and a switch with gso: false (root, network namespaces)', () => {
  let underlay: Underlay;
  let server: TestServer;
  const hosts = new Map<string, Host>();
  const host = (n: string) => hosts.get(n)!;

  beforeAll(async () => {
    assertBuilt();
    underlay = createUnderlay();
    server = await startServer({
      gateway: underlay.gateway,
      segments: [{ name: 'slow', mode: 'l2', ipv4: { pool: '198.19.42.0/24' }, ipv6: { pool: 'fd00:e1:42::/64' } }],
      users: [
        { name: 's1', segment: 'slow' },
        { name: 's2', segment: 'slow' },
      ],
      switchConfig: { gso: false },
    });
    await Promise.all(
      ['s1', 's2'].map(async (name) => {
        const { ns } = underlay.addHost(name);
        const client = elink(['connect', ...server.connectArgs(name), '--ifname', 'el0', '--device', name], { ns });
        const up = await client.waitFor((l) => l.msg === 'link up', 30_000, `${name} link up`);
        hosts.set(name, { ns, v4: String(up.ipv4).split('/')[0], v6: String(up.ipv6).split('/')[0] });
      }),
    );
  }, 90_000);

  afterAll(async () => {
    await stopAll();
    underlay?.destroy();
    server?.destroy();
  });

  it('the clients segment their super-frames themselves: 10 MB byte-identical both ways, all frames MTU-sized', async () => {
    const before = await server.metric('el_switch_frames_total', { direction: 'in' });
    await stream(host('s1'), host('s2'));
    // Without gso every data frame crosses the switch on its own.
    expect((await server.metric('el_switch_frames_total', { direction: 'in' })) - before).toBeGreaterThan(STREAM_BYTES / 1500);
    await stream(host('s2'), host('s1'), 'v6');
    expect(await server.metric('el_switch_gso_segmented_total')).toBe(0);
  }, 60_000);
});
