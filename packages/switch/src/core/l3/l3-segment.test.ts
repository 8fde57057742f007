import { describe, expect, it } from 'vitest';
import { l3SegmentSchema, type L3SegmentInput } from '@elink/protocol';
import { MemoryPort, nextTick } from '../../ports/memory-port.js';
import { hostOf, parsePrefix } from './ip.js';
import { L3Router, L3Segment } from './l3-segment.js';
import { echoRequest, endpoints, icmpChecksumOk, ipv4HeaderOk, udp4, udp6 } from '../../testing/test-packets.js';

const seg = (input: Omit<L3SegmentInput, 'mode'>, router: L3Router) => new L3Segment(l3SegmentSchema.parse({ mode: 'l3', ...input }), router);

function setup(routerOpts = {}) {
  const router = new L3Router(routerOpts);
  const a = seg({ name: 'a', ipv4: { pool: '198.19.1.0/24' }, ipv6: { pool: 'fd00:e1:1::/64' }, reach: ['b'] }, router);
  const b = seg({ name: 'b', ipv4: { pool: '198.19.2.0/24' }, ipv6: { pool: 'fd00:e1:2::/64' }, reach: ['a'] }, router);
  const c = seg({ name: 'c', ipv4: { pool: '198.19.3.0/24' }, ipv6: { pool: 'fd00:e1:3::/64' } }, router);
  const port = (s: L3Segment, name: string, ...cidrs: string[]) => {
    const p = new MemoryPort(name);
    const prefixes = cidrs.map((c) => (c.includes('/') ? parsePrefix(c)! : hostOf(c)!));
    expect(s.attach(p, { prefixes }).ok).toBe(true);
    return p;
  };
  const a1 = port(a, 'a1', '198.19.1.10', 'fd00:e1:1::10');
  const a2 = port(a, 'a2', '198.19.1.11', 'fd00:e1:1::11', 'fd00:e1:100::/56', '198.19.64.16/28');
  const b1 = port(b, 'b1', '198.19.2.10', 'fd00:e1:2::10');
  const c1 = port(c, 'c1', '198.19.3.10', 'fd00:e1:3::10');
  return { router, a, b, c, a1, a2, b1, c1 };
}

describe('L3Segment', () => {
  it('routes IPv4 and IPv6 inside a segment, decrementing TTL with a valid checksum', async () => {
    const { a, a1, a2 } = setup();
    a.forward(udp4('198.19.1.10', '198.19.1.11', 'v4', 64), a1);
    a.forward(udp6('fd00:e1:1::10', 'fd00:e1:1::11', 'v6', 64), a1);
    await nextTick();
    expect(a2.received).toHaveLength(2);
    const [p4, p6] = a2.received;
    expect(p4[8]).toBe(63);
    expect(ipv4HeaderOk(p4)).toBe(true);
    expect(p6[7]).toBe(63);
    expect(a.routed).toBe(2);
  });

  it('routes to delegated prefixes (IPv6 and IPv4) and accepts them as sources', async () => {
    const { a, a1, a2 } = setup();
    a.forward(udp6('fd00:e1:1::10', 'fd00:e1:100:7::99'), a1);
    a.forward(udp4('198.19.1.10', '198.19.64.20'), a1);
    a.forward(udp6('fd00:e1:100:7::99', 'fd00:e1:1::10'), a2);
    await nextTick();
    expect(a2.received.map((p) => endpoints(p).dst)).toEqual(['fd00:e1:100:7:0:0:0:99', '198.19.64.20']);
    expect(a1.received).toHaveLength(1);
    expect(a.drops.src_address).toBe(0);
  });

  it('crosses segments only where reach allows, per direction', async () => {
    const { a, b, c, a1, b1, c1 } = setup();
    a.forward(udp4('198.19.1.10', '198.19.2.10'), a1);
    b.forward(udp6('fd00:e1:2::10', 'fd00:e1:1::10'), b1);
    c.forward(udp4('198.19.3.10', '198.19.1.10'), c1);
    c.forward(udp6('fd00:e1:3::10', 'fd00:e1:1::10'), c1);
    a.forward(udp4('198.19.1.10', '198.19.3.10'), a1);
    await nextTick();
    expect(b1.received).toHaveLength(1);
    expect(a1.received).toHaveLength(1);
    expect(c1.received).toHaveLength(0);
    expect(c.drops.policy_denied).toBe(2);
    expect(a.drops.policy_denied).toBe(1);
  });

  it('drops and counts spoofed sources; nobody receives them', async () => {
    const { a, a1, a2, b1 } = setup();
    a.forward(udp4('198.19.1.11', '198.19.1.11'), a1); // a2's address
    a.forward(udp4('203.0.113.9', '198.19.1.11'), a1);
    a.forward(udp6('fd00:e1:100::1', 'fd00:e1:1::11'), a1); // a2's delegated prefix
    a.forward(udp4('198.19.1.10', '198.19.2.10'), a2); // a1's address from a2
    await nextTick();
    expect(a.drops.src_address).toBe(4);
    expect(a1.received.length + a2.received.length + b1.received.length).toBe(0);
  });

  it('answers an expiring TTL with ICMP time exceeded from the gateway, rate-limited', async () => {
    const { router, a, a1, a2 } = setup({ icmpRate: 1, icmpBurst: 2, now: () => 0 });
    for (let i = 0; i < 3; i++) a.forward(udp4('198.19.1.10', '198.19.1.11', 'x', 1), a1);
    a.forward(udp6('fd00:e1:1::10', 'fd00:e1:1::11', 'x', 1), a1);
    await nextTick();
    expect(a2.received).toHaveLength(0);
    expect(a.drops.ttl_exceeded).toBe(4);
    expect(router.icmpSent).toBe(2);
    expect(router.icmpLimited).toBe(2);
    const icmp = a1.received[0];
    expect(endpoints(icmp)).toEqual({ src: '198.19.1.1', dst: '198.19.1.10' });
    expect(icmp[9]).toBe(1);
    expect(icmp[20]).toBe(11); // time exceeded
    expect(ipv4HeaderOk(icmp)).toBe(true);
    // The quote is the original packet, header first.
    expect(endpoints(icmp.subarray(28))).toEqual({ src: '198.19.1.10', dst: '198.19.1.11' });
  });

  it('answers echo requests to the gateway (IPv4 and IPv6) with echo replies carrying the same id, sequence and data', async () => {
    const { router, a, a1, a2 } = setup();
    a.forward(echoRequest('198.19.1.10', '198.19.1.1', 0x1234, 7, 'hello gateway'), a1);
    a.forward(echoRequest('fd00:e1:1::11', 'fd00:e1:1::1', 0x4321, 9, 'hello v6 gateway'), a2);
    await nextTick();
    expect(a1.received).toHaveLength(1);
    expect(a2.received).toHaveLength(1);
    const r4 = a1.received[0]!;
    expect(endpoints(r4)).toEqual({ src: '198.19.1.1', dst: '198.19.1.10' });
    expect(r4[9]).toBe(1);
    expect(r4[20]).toBe(0); // echo reply
    expect(r4.readUInt16BE(24)).toBe(0x1234);
    expect(r4.readUInt16BE(26)).toBe(7);
    expect(r4.subarray(28).toString()).toBe('hello gateway');
    expect(ipv4HeaderOk(r4)).toBe(true);
    expect(icmpChecksumOk(r4)).toBe(true);
    const r6 = a2.received[0]!;
    expect(endpoints(r6)).toEqual({ src: 'fd00:e1:1:0:0:0:0:1', dst: 'fd00:e1:1:0:0:0:0:11' });
    expect(r6[6]).toBe(58);
    expect(r6[40]).toBe(129); // echo reply
    expect(r6.readUInt16BE(44)).toBe(0x4321);
    expect(r6.readUInt16BE(46)).toBe(9);
    expect(r6.subarray(48).toString()).toBe('hello v6 gateway');
    expect(icmpChecksumOk(r6)).toBe(true);
    expect(router.echoReplies).toBe(2);
    expect(a.routed).toBe(0);
  });

  it('rate-limits gateway echo replies with the ICMP budget', async () => {
    const t = 1_000_000;
    const { router, a, a1, a2 } = setup({ icmpRate: 1, icmpBurst: 2, now: () => t });
    for (let seq = 0; seq < 4; seq++) a.forward(echoRequest('198.19.1.10', '198.19.1.1', 1, seq), a1);
    a.forward(echoRequest('fd00:e1:1::11', 'fd00:e1:1::1', 2, 0), a2);
    await nextTick();
    expect(a1.received.map((p) => p.readUInt16BE(26))).toEqual([0, 1]);
    expect(a2.received).toHaveLength(0);
    expect(router.icmpLimited).toBe(3);
    expect(router.echoReplies).toBe(2);
  });

  it('gives each session its own ICMP budget: one session’s TTL=1 flood leaves another’s pings and errors answered', async () => {
    let t = 1_000_000;
    // The node-wide budget as configured by default (100/s, burst 50), per session 20/s, burst 20.
    const { router, a, a1, a2 } = setup({ now: () => t });
    let victimReplies = 0;
    let victimErrors = 0;
    let attackerIcmp = 0;
    // 10 s: the attacker sends 2,000 TTL=1 packets a second, the victim pings the gateway
    // 10 times a second and sends one TTL=1 probe (a traceroute) a second.
    for (let ms = 0; ms < 10_000; ms += 10) {
      t += 10;
      for (let i = 0; i < 20; i++) a.forward(udp4('198.19.1.10', '198.19.1.11', 'x', 1), a1);
      if (ms % 100 === 0) a.forward(echoRequest('198.19.1.11', '198.19.1.1', 7, ms / 100), a2);
      if (ms % 1000 === 0) a.forward(udp4('198.19.1.11', '198.19.1.10', 'trace', 1), a2);
      await nextTick();
      for (const p of a2.received) {
        if (p[20] === 0) victimReplies++;
        else if (p[20] === 11) victimErrors++;
      }
      attackerIcmp += a1.received.length;
      a1.clear();
      a2.clear();
    }
    expect(victimReplies).toBe(100);
    expect(victimErrors).toBe(10);
    // The attacker got its own budget: the burst and 20/s for 10 s, not the node's 100/s.
    expect(attackerIcmp).toBeGreaterThan(150);
    expect(attackerIcmp).toBeLessThanOrEqual(20 + 20 * 10);
    expect(router.icmpSessionLimited).toBe(20_000 - attackerIcmp);
    expect(a.drops.ttl_exceeded).toBe(20_000 + 10);
  });

  it('answers no echo request with a spoofed source or a bad checksum', async () => {
    const { router, a, a1, a2 } = setup();
    // Another session's address as source: dropped before the gateway sees it.
    a.forward(echoRequest('198.19.1.11', '198.19.1.1', 1, 0), a1);
    const corrupt4 = echoRequest('198.19.1.10', '198.19.1.1', 2, 0);
    corrupt4[corrupt4.length - 1] ^= 0xff;
    a.forward(corrupt4, a1);
    const corrupt6 = echoRequest('fd00:e1:1::11', 'fd00:e1:1::1', 3, 0);
    corrupt6[corrupt6.length - 1] ^= 0xff;
    a.forward(corrupt6, a2);
    await nextTick();
    expect(a1.received).toHaveLength(0);
    expect(a2.received).toHaveLength(0);
    expect(a.drops.src_address).toBe(1);
    expect(a.drops.bad_packet).toBe(2);
    expect(router.echoReplies).toBe(0);
  });

  it('answers an unroutable destination with ICMPv6 destination unreachable', async () => {
    const { a, a1 } = setup();
    a.forward(udp6('fd00:e1:1::10', 'fd00:e1:1::99'), a1);
    await nextTick();
    expect(a.drops.no_route).toBe(1);
    const icmp = a1.received[0];
    expect(endpoints(icmp)).toEqual({ src: 'fd00:e1:1:0:0:0:0:1', dst: 'fd00:e1:1:0:0:0:0:10' });
    expect(icmp[6]).toBe(58);
    expect(icmp[40]).toBe(1);
  });

  it('drops link-local, multicast and malformed packets without answering', async () => {
    const { a, a1 } = setup();
    a.forward(udp6('fd00:e1:1::10', 'ff02::2'), a1);
    a.forward(udp6('fd00:e1:1::10', 'fe80::1'), a1);
    a.forward(udp4('198.19.1.10', '224.0.0.251'), a1);
    a.forward(Buffer.from([0x45, 0, 0]), a1);
    a.forward(Buffer.alloc(0), a1);
    await nextTick();
    expect(a.drops.not_routable).toBe(3);
    expect(a.drops.bad_packet).toBe(2);
    expect(a1.received).toHaveLength(0);
  });

  it('refuses a prefix routed to another port, and frees routes on detach', () => {
    const { a, a1 } = setup();
    const p = new MemoryPort('dup');
    const r = a.attach(p, { prefixes: [hostOf('198.19.1.10')!] });
    expect(r).toEqual({ ok: false, conflict: a1 });
    a.detach(a1);
    expect(a.attach(p, { prefixes: [hostOf('198.19.1.10')!] }).ok).toBe(true);
    expect(a.ownerOf(hostOf('198.19.1.10')!)).toBe(p);
  });

  it('keeps to maxRoutes per segment', () => {
    const router = new L3Router();
    const s = seg({ name: 's', ipv4: { pool: '10.0.0.0/8' }, maxRoutes: 16 }, router);
    for (let i = 0; i < 16; i++) expect(s.attach(new MemoryPort(), { prefixes: [hostOf(`10.0.0.${i + 2}`)!] }).ok).toBe(true);
    expect(s.attach(new MemoryPort(), { prefixes: [hostOf('10.0.1.1')!] })).toEqual({ ok: false, full: true });
    expect(s.routes).toBe(16);
  });

  it('trusts an uplink port: any source from it reaches the sessions', async () => {
    const { a, a1 } = setup();
    const up = new MemoryPort('uplink');
    expect(a.attach(up, { prefixes: [parsePrefix('192.0.2.0/24')!], trusted: true }).ok).toBe(true);
    a.forward(udp4('192.0.2.80', '198.19.1.10'), up);
    a.forward(udp4('198.19.1.10', '192.0.2.80'), a1);
    await nextTick();
    expect(a1.received).toHaveLength(1);
    expect(up.received).toHaveLength(1);
  });
});
