import { describe, expect, it } from 'vitest';
import { l2SegmentSchema } from '@elink/protocol';
import { MemoryPort, nextTick } from '../../ports/memory-port.js';
import { L2Segment } from './l2-segment.js';
import { arpFrame, BROADCAST, ethFrame, mac, ndFrame, vlanTagged } from '../../testing/test-frames.js';

const POOLS = { ipv4: { pool: '198.19.0.0/24' }, ipv6: { pool: 'fd00:e1::/64' } };

function segment(over: Record<string, unknown> = {}): L2Segment {
  return new L2Segment(l2SegmentSchema.parse({ name: 'lan', ...POOLS, ...over }));
}

/** Three client sessions as the switch attaches them: own MAC, one source MAC, leased addresses. */
function members(s: L2Segment) {
  const [a, v, x] = [1, 2, 3].map((n) => {
    const port = new MemoryPort(`p${n}`);
    expect(s.attach(port, { ownMac: mac(n), macLimit: 1, claims: { ipv4: `198.19.0.${10 + n}/24`, ipv6: `fd00:e1::${10 + n}/64` } })).toBe(true);
    return port;
  });
  return { host1: a, victim: v, attacker: x };
}

async function delivered(s: L2Segment, frame: Buffer, from: MemoryPort, to: MemoryPort): Promise<boolean> {
  to.clear();
  s.forward(frame, from);
  await nextTick();
  return to.received.some((f) => f.equals(frame));
}

describe('ARP inspection (L2, on by default)', () => {
  it('drops ARP replies claiming another member’s IPv4 and keeps the victim reachable', async () => {
    const s = segment();
    const { host1, victim, attacker } = members(s);
    // The attack: gratuitous and directed replies saying "198.19.0.12 (the victim) is at my MAC".
    const forged = [
      arpFrame({ src: mac(3), spa: '198.19.0.12', tpa: '198.19.0.12' }),
      arpFrame({ dst: mac(1), src: mac(3), spa: '198.19.0.12', tpa: '198.19.0.11', tha: mac(1) }),
      arpFrame({ src: mac(3), op: 1, spa: '198.19.0.12', tpa: '198.19.0.11' }),
      vlanTagged(arpFrame({ src: mac(3), spa: '198.19.0.12', tpa: '198.19.0.12' }), 7),
    ];
    for (let i = 0; i < 48; i++) for (const f of forged) expect(await delivered(s, f, attacker, host1)).toBe(false);
    expect(s.drops.arp_spoof).toBe(48 * forged.length);

    // Meanwhile the victim and host1 keep talking: ARP both ways, then unicast.
    expect(await delivered(s, arpFrame({ src: mac(1), op: 1, spa: '198.19.0.11', tpa: '198.19.0.12' }), host1, victim)).toBe(true);
    expect(await delivered(s, arpFrame({ dst: mac(1), src: mac(2), spa: '198.19.0.12', tpa: '198.19.0.11', tha: mac(1) }), victim, host1)).toBe(true);
    expect(await delivered(s, ethFrame(mac(2), mac(1), 'ping', 0x0800), host1, victim)).toBe(true);
    expect(attacker.received.some((f) => f.subarray(14).toString() === 'ping')).toBe(false);
  });

  it('lets a member announce its own address, and probe (sender 0.0.0.0) for any', async () => {
    const s = segment();
    const { host1, victim, attacker } = members(s);
    expect(await delivered(s, arpFrame({ src: mac(3), spa: '198.19.0.13', tpa: '198.19.0.13' }), attacker, host1)).toBe(true);
    expect(await delivered(s, arpFrame({ src: mac(3), op: 1, spa: '0.0.0.0', tpa: '198.19.0.12' }), attacker, victim)).toBe(true);
    expect(s.drops.arp_spoof).toBe(0);
  });

  it('drops ARP whose sender MAC is not the frame’s source, and malformed ARP', async () => {
    const s = segment();
    const { host1, attacker } = members(s);
    expect(await delivered(s, arpFrame({ src: mac(3), sha: mac(2), spa: '198.19.0.13', tpa: '198.19.0.11' }), attacker, host1)).toBe(false);
    expect(await delivered(s, ethFrame(BROADCAST, mac(3), Buffer.alloc(10), 0x0806), attacker, host1)).toBe(false);
    const ipv6OverArp = arpFrame({ src: mac(3), spa: '198.19.0.13', tpa: '198.19.0.11' });
    ipv6OverArp.writeUInt16BE(0x86dd, 16);
    expect(await delivered(s, ipv6OverArp, attacker, host1)).toBe(false);
    expect(s.drops.arp_spoof).toBe(3);
  });

  it('lets a bridge claim its LAN ranges (ticket `lan`, else the segment’s bridgeRanges), never a leased address', async () => {
    const s = segment({ bridgeRanges: ['192.168.50.0/24', 'fd00:50::/64'] });
    const { host1 } = members(s);
    const bridge = new MemoryPort('bridge');
    s.attach(bridge, { ownMac: mac(4), macLimit: 16, claims: { ipv4: '198.19.0.14/24', lan: ['192.168.7.0/24'] } });
    const bridge2 = new MemoryPort('bridge2');
    s.attach(bridge2, { ownMac: mac(5), macLimit: 16, claims: { ipv4: '198.19.0.15/24' } });
    // A LAN host behind the bridge (its own MAC) answering for its own address.
    expect(await delivered(s, arpFrame({ src: mac(40), spa: '192.168.7.20', tpa: '192.168.7.20' }), bridge, host1)).toBe(true);
    expect(await delivered(s, arpFrame({ src: mac(40), spa: '192.168.50.20', tpa: '192.168.50.20' }), bridge, host1)).toBe(false);
    expect(await delivered(s, arpFrame({ src: mac(50), spa: '192.168.50.20', tpa: '192.168.50.20' }), bridge2, host1)).toBe(true);
    expect(await delivered(s, ndFrame({ type: 136, src: mac(50), from: 'fd00:50::9', target: 'fd00:50::9' }), bridge2, host1)).toBe(true);
    expect(await delivered(s, arpFrame({ src: mac(40), spa: '198.19.0.12', tpa: '198.19.0.12' }), bridge, host1)).toBe(false);
    // A single-MAC member gets no ranges.
    const single = new MemoryPort('single');
    s.attach(single, { ownMac: mac(6), macLimit: 1, claims: { ipv4: '198.19.0.16/24' } });
    expect(await delivered(s, arpFrame({ src: mac(6), spa: '192.168.50.21', tpa: '192.168.50.21' }), single, host1)).toBe(false);
    expect(s.drops.arp_spoof).toBe(3);
  });

  it('lets a bridge range overlap the pool, but never covers an address leased to an attached member', async () => {
    const s = segment();
    const { host1, victim } = members(s);
    const bridge = new MemoryPort('bridge');
    s.attach(bridge, { ownMac: mac(4), macLimit: 16, claims: { ipv4: '198.19.0.14/24', ipv6: 'fd00:e1::14/64', lan: ['198.19.0.0/24', 'fd00:e1::/64'] } });
    expect(await delivered(s, arpFrame({ src: mac(40), spa: '198.19.0.250', tpa: '198.19.0.250' }), bridge, host1)).toBe(true);
    expect(await delivered(s, ndFrame({ type: 136, src: mac(40), from: 'fd00:e1::250', target: 'fd00:e1::250' }), bridge, host1)).toBe(true);
    expect(await delivered(s, arpFrame({ src: mac(40), spa: '198.19.0.12', tpa: '198.19.0.12' }), bridge, host1)).toBe(false);
    expect(await delivered(s, ndFrame({ type: 136, src: mac(40), from: 'fd00:e1::250', target: 'fd00:e1::12' }), bridge, host1)).toBe(false);
    // Once the member has left, its address is the LAN's to claim.
    s.detach(victim);
    expect(await delivered(s, arpFrame({ src: mac(40), spa: '198.19.0.12', tpa: '198.19.0.12' }), bridge, host1)).toBe(true);
    expect(s.drops.arp_spoof).toBe(1);
    expect(s.drops.nd_spoof).toBe(1);
  });

  it('inspects nothing from the node’s own LAN port, in a segment without an IPv4 pool, or when turned off', async () => {
    const s = segment();
    const { host1 } = members(s);
    const tap = new MemoryPort('tap');
    s.attach(tap);
    expect(await delivered(s, arpFrame({ src: mac(9), spa: '198.19.0.12', tpa: '198.19.0.12' }), tap, host1)).toBe(true);
    for (const over of [{ ipv4: undefined }, { inspection: { arp: false } }]) {
      const t = segment(over);
      const m = members(t);
      expect(await delivered(t, arpFrame({ src: mac(3), spa: '198.19.0.12', tpa: '198.19.0.12' }), m.attacker, m.host1)).toBe(true);
    }
  });
});

describe('ND inspection (L2, on by default)', () => {
  it('drops NAs and DAD probes for another member’s IPv6 and keeps the victim reachable', async () => {
    const s = segment();
    const { host1, victim, attacker } = members(s);
    const forged = [
      ndFrame({ type: 136, src: mac(3), from: 'fd00:e1::13', target: 'fd00:e1::12' }),
      ndFrame({ type: 136, src: mac(3), from: 'fd00:e1::12', target: 'fd00:e1::12' }),
      ndFrame({ type: 135, src: mac(3), from: '::', target: 'fd00:e1::12', ll: null }),
      ndFrame({ type: 135, src: mac(3), from: 'fd00:e1::12', target: 'fd00:e1::11' }),
      ndFrame({ type: 136, src: mac(3), from: 'fd00:e1::13', target: 'fd00:e1::12', hopByHop: true }),
      ndFrame({ type: 136, src: mac(3), from: 'fd00:e1::13', target: 'fd00:e1::13', fragment: true }),
      vlanTagged(ndFrame({ type: 136, src: mac(3), from: 'fd00:e1::13', target: 'fd00:e1::12' }), 7),
    ];
    for (const f of forged) expect(await delivered(s, f, attacker, host1)).toBe(false);
    expect(s.drops.nd_spoof).toBe(forged.length);

    expect(await delivered(s, ndFrame({ type: 135, src: mac(1), from: 'fd00:e1::11', to: 'ff02::1:ff00:12', target: 'fd00:e1::12' }), host1, victim)).toBe(true);
    expect(await delivered(s, ndFrame({ type: 136, src: mac(2), dst: mac(1), from: 'fd00:e1::12', to: 'fd00:e1::11', target: 'fd00:e1::12' }), victim, host1)).toBe(true);
    expect(await delivered(s, ndFrame({ type: 135, src: mac(3), from: '::', target: 'fd00:e1::13', ll: null }), attacker, host1)).toBe(true);
  });

  it('drops ND whose link-layer address option is not the sender’s MAC', async () => {
    const s = segment();
    const { host1, attacker } = members(s);
    expect(await delivered(s, ndFrame({ type: 136, src: mac(3), from: 'fd00:e1::13', target: 'fd00:e1::13', ll: mac(2) }), attacker, host1)).toBe(false);
    expect(await delivered(s, ndFrame({ type: 133, src: mac(3), from: 'fd00:e1::13', ll: mac(2) }), attacker, host1)).toBe(false);
    expect(s.drops.nd_spoof).toBe(2);
  });

  it('gives a link-local address to the first member that claims it, until that member leaves', async () => {
    const s = segment();
    const { host1, victim, attacker } = members(s);
    const victimLl = 'fe80::2ff:fe00:2';
    expect(await delivered(s, ndFrame({ type: 136, src: mac(2), from: victimLl, target: victimLl }), victim, host1)).toBe(true);
    expect(await delivered(s, ndFrame({ type: 136, src: mac(3), from: 'fe80::3', target: victimLl }), attacker, host1)).toBe(false);
    expect(await delivered(s, ndFrame({ type: 135, src: mac(3), from: victimLl, target: 'fe80::1' }), attacker, host1)).toBe(false);
    expect(s.drops.nd_spoof).toBe(2);
    expect(s.guard.linkLocalCount).toBe(2); // the victim's and the attacker's own fe80::3
    s.detach(victim);
    expect(s.guard.linkLocalCount).toBe(1);
    expect(await delivered(s, ndFrame({ type: 136, src: mac(3), from: 'fe80::3', target: victimLl }), attacker, host1)).toBe(true);
  });

  it('bounds the link-local addresses one member holds (its oldest give way)', async () => {
    const s = segment();
    const { host1, attacker } = members(s);
    for (let i = 1; i <= 100; i++) s.forward(ndFrame({ type: 136, src: mac(3), from: `fe80::${i.toString(16)}`, target: `fe80::${i.toString(16)}` }), attacker);
    await nextTick();
    expect(s.guard.linkLocalCount).toBe(4);
    expect(s.drops.nd_spoof).toBe(0);
    // The first ones were given back: another member may take them now.
    expect(await delivered(s, ndFrame({ type: 136, src: mac(1), from: 'fe80::1', target: 'fe80::1' }), host1, attacker)).toBe(true);
  });

  it('takes router advertisements only from a bridge (a LAN router behind it)', async () => {
    const s = segment();
    const { host1, attacker } = members(s);
    const bridge = new MemoryPort('bridge');
    s.attach(bridge, { ownMac: mac(4), macLimit: 16, claims: { ipv4: '198.19.0.14/24' } });
    expect(await delivered(s, ndFrame({ type: 134, src: mac(3), from: 'fe80::3' }), attacker, host1)).toBe(false);
    expect(await delivered(s, ndFrame({ type: 134, src: mac(40), from: 'fe80::40' }), bridge, host1)).toBe(true);
    expect(await delivered(s, ndFrame({ type: 133, src: mac(3), from: 'fe80::3' }), attacker, host1)).toBe(true);
    expect(s.drops.nd_spoof).toBe(1);
  });

  it('passes ordinary IPv6 traffic untouched', async () => {
    const s = segment();
    const { host1, attacker } = members(s);
    const echo = ndFrame({ type: 136, src: mac(3), from: 'fd00:e1::13', target: 'fd00:e1::12' });
    echo[14 + 40] = 128; // the same bytes as an echo request: not ND
    expect(await delivered(s, echo, attacker, host1)).toBe(true);
    expect(s.drops.nd_spoof).toBe(0);
  });
});
