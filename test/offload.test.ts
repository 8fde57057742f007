/**
 * Offload end to end on real kernels: `elink connect` opens its TAP/TUN with TSO and
 * offers "gso"; `elink connect --no-offload` does neither. 10 MB TCP streams must arrive
 * byte-identical between two offload clients (super-frames pass the switch as they
 * are) and between an offload and a plain client, both ways (the switch segments for
 * the plain one, whose kernel verifies every checksum), in an L2 and an L3 segment.
 * Bursts of small UDP datagrams (and UDP_SEGMENT sends, as QUIC makes them) cross as UDP
 * super-frames ("uso") between two offload clients and arrive one by one, intact; a plain
 * client gets them split by the switch.
 */
import { describe, expect, it } from 'vitest';
import { useConnectedHosts, type Host } from './lib/connected-hosts.js';
import { requireNetnsOrSkip } from './lib/netns.js';
import { tcpStream } from './lib/tcp-stream.js';
import { udpBursts } from './lib/udp-burst.js';

const enabled = requireNetnsOrSkip();
const STREAM_BYTES = 10 * 1024 * 1024;

let nextPort = 21000 + (process.pid % 10000);

/** What udpBursts must report: all `n` datagrams arrived intact, and the kernel dropped
 * none outside EL (in the failure message: where any were lost). */
const intact = (n: number) => ({ sent: n, received: n, bad: 0, kernelDrops: { tunnelTx: 0, receiveBuffer: 0 } });

/** A 10 MB stream from one host to the other's address; expects it byte-identical. */
async function stream(from: Host, to: Host, family: 'v4' | 'v6' = 'v4'): Promise<void> {
  const [sent, got] = await tcpStream(from.ns, to.ns, to[family], nextPort++, STREAM_BYTES);
  expect(got).toEqual(sent);
  expect(got.bytes).toBe(STREAM_BYTES);
}

describe.skipIf(!enabled)('TAP/TUN offload end to end (root, network namespaces)', () => {
  const env = useConnectedHosts({
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
    hosts: ['o1', 'o2', 'p1', 'r1', 'r2', 'q1'].map((name) => ({ name, user: name, args: /^[pq]/.test(name) ? ['--no-offload'] : [] })),
  });
  const host = env.host;

  // The same two checks in an L2 segment (frames) and an L3 segment (packets): o/r are
  // offload clients, p/q plain (--no-offload) ones.
  const modes = [
    { mode: 'L2', unit: 'super-frames', a: 'o1', b: 'o2', plain: 'p1' },
    { mode: 'L3', unit: 'super-packets', a: 'r1', b: 'r2', plain: 'q1' },
  ];

  it.each(modes)('$mode: two offload clients carry 10 MB byte-identical as $unit', async ({ a, b }) => {
    const before = await env.server.metric('el_switch_frames_total', { direction: 'in' });
    const segmentedBefore = await env.server.metric('el_switch_gso_segmented_total');
    await stream(host(a), host(b));
    const frames = (await env.server.metric('el_switch_frames_total', { direction: 'in' })) - before;
    // Passed on as they are: the switch segmented nothing.
    expect(await env.server.metric('el_switch_gso_segmented_total')).toBe(segmentedBefore);
    // MTU-sized frames would be at least 10 MiB / 1448 = 7,242 data frames (plus ACKs).
    expect(frames).toBeGreaterThan(0);
    expect(frames).toBeLessThan(STREAM_BYTES / 1448);
  }, 60_000);

  it.each(modes)('$mode: bursts of one UDP flow cross as UDP super-frames ("uso"), every datagram intact, IPv4 and IPv6; split for a --no-offload client', async ({ a, b, plain }) => {
    const count = 2000;
    const frames = () => env.server.metric('el_switch_frames_total', { direction: 'in' });
    const segmented = () => env.server.metric('el_switch_gso_segmented_total');
    const framesBefore = await frames();
    const segmentedBefore = await segmented();
    expect(await udpBursts(host(a).ns, host(b).ns, host(b).v4, nextPort++, { count, size: 64, burst: 50 })).toEqual(intact(count));
    const records = (await frames()) - framesBefore;
    // Fewer records than datagrams: runs were merged; passed on whole, nothing split.
    expect(records).toBeGreaterThan(0);
    expect(records).toBeLessThan(count / 4);
    expect(await segmented()).toBe(segmentedBefore);
    expect(await udpBursts(host(b).ns, host(a).ns, host(a).v6, nextPort++, { count: 500, size: 200, burst: 25 })).toEqual(intact(500));
    // A UDP_SEGMENT sender (QUIC's way): the kernel hands client a each burst as one super-frame.
    const gsoBefore = await frames();
    expect(await udpBursts(host(a).ns, host(b).ns, host(b).v6, nextPort++, { count, size: 100, burst: 40, udpSegment: true })).toEqual(intact(count));
    expect((await frames()) - gsoBefore).toBeLessThan(count / 4);
    expect(await segmented()).toBe(segmentedBefore);
    // To a plain client the switch splits them; its kernel checks every UDP checksum.
    expect(await udpBursts(host(a).ns, host(plain).ns, host(plain).v4, nextPort++, { count, size: 64, burst: 50 })).toEqual(intact(count));
    expect(await udpBursts(host(a).ns, host(plain).ns, host(plain).v6, nextPort++, { count: 500, size: 100, burst: 25, udpSegment: true })).toEqual(intact(500));
    expect(await segmented()).toBeGreaterThan(segmentedBefore);
    expect(await env.server.metric('el_switch_frames_dropped_total', { reason: 'bad_gso' })).toBe(0);
  }, 60_000);

  it.each(modes)('$mode: an offload and a --no-offload client carry 10 MB byte-identical both ways, IPv4 and IPv6', async ({ a, b, plain }) => {
    const segmentedBefore = await env.server.metric('el_switch_gso_segmented_total');
    await stream(host(a), host(plain));
    // The switch segmented the super-frames for the plain client (whose kernel accepted every checksum).
    expect(await env.server.metric('el_switch_gso_segmented_total')).toBeGreaterThan(segmentedBefore + 100);
    await stream(host(plain), host(a));
    await stream(host(b), host(plain), 'v6');
    expect(await env.server.metric('el_switch_frames_dropped_total', { reason: 'bad_gso' })).toBe(0);
  }, 90_000);
});

describe.skipIf(!enabled)('offload clients and a switch with gso: false (root, network namespaces)', () => {
  const env = useConnectedHosts({
    segments: [{ name: 'slow', mode: 'l2', ipv4: { pool: '198.19.42.0/24' }, ipv6: { pool: 'fd00:e1:42::/64' } }],
    users: [
      { name: 's1', segment: 'slow' },
      { name: 's2', segment: 'slow' },
    ],
    switchConfig: { gso: false },
    hosts: ['s1', 's2'].map((name) => ({ name, user: name })),
  });
  const host = env.host;

  it('the clients segment their super-frames themselves: 10 MB byte-identical both ways, all frames MTU-sized', async () => {
    const before = await env.server.metric('el_switch_frames_total', { direction: 'in' });
    await stream(host('s1'), host('s2'));
    // Without gso every data frame crosses the switch on its own.
    expect((await env.server.metric('el_switch_frames_total', { direction: 'in' })) - before).toBeGreaterThan(STREAM_BYTES / 1500);
    await stream(host('s2'), host('s1'), 'v6');
    expect(await env.server.metric('el_switch_gso_segmented_total')).toBe(0);
  }, 60_000);
});
