/**
 * Property-based tests of ARP/ND inspection against hostile frames: ARP and neighbour
 * discovery frames built around the victim's, the sender's own, unspecified and random
 * addresses, in zero to two VLAN tags, then cut short or with bytes overwritten. Whatever
 * the bytes, forward() never throws, every frame is either delivered or counted as a
 * drop, and no delivered frame claims the victim's addresses (checked by a parser of the
 * test's own, independent of neighbor-guard.ts).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { l2SegmentSchema } from '@elink/protocol';
import { DROP_REASONS } from '../drops.js';
import { MemoryPort, nextTick } from '../../ports/memory-port.js';
import { L2Segment } from './l2-segment.js';
import { arpFrame, mac, ndFrame, vlanTagged } from '../../testing/test-frames.js';

const VICTIM4 = '198.19.0.12';
const VICTIM6 = 'fd00:e1::12';
const VICTIM4_BYTES = Buffer.from([198, 19, 0, 12]);
const VICTIM6_BYTES = Buffer.from('fd0000e1000000000000000000000012', 'hex');
const UNSPECIFIED6 = Buffer.alloc(16);

const addr4 = fc.constantFrom(VICTIM4, '198.19.0.13', '0.0.0.0', '198.19.0.99', '10.1.2.3');
const addr6 = fc.constantFrom(VICTIM6, 'fd00:e1::13', '::', 'fe80::12', 'fd00:e1::99', 'fe80::3');
const frameArb = fc
  .record({
    kind: fc.constantFrom('arp', 'nd'),
    op: fc.integer({ min: 1, max: 2 }),
    type: fc.constantFrom(133, 134, 135, 136),
    a4: addr4,
    t4: addr4,
    a6: addr6,
    t6: addr6,
    ll: fc.constantFrom(mac(3), mac(2), null),
    ext: fc.constantFrom('none', 'hopByHop', 'fragment'),
    tags: fc.integer({ min: 0, max: 2 }),
    cut: fc.option(fc.nat(120)),
    writes: fc.array(fc.tuple(fc.nat(120), fc.nat(255)), { maxLength: 3 }),
  })
  .map((g) => {
    let f =
      g.kind === 'arp'
        ? arpFrame({ src: mac(3), op: g.op, spa: g.a4, tpa: g.t4 })
        : ndFrame({ type: g.type as 133 | 134 | 135 | 136, src: mac(3), from: g.a6, target: g.t6, ll: g.ll, hopByHop: g.ext === 'hopByHop', fragment: g.ext === 'fragment' });
    for (let i = 0; i < g.tags; i++) f = vlanTagged(f, 7 + i);
    f = Buffer.from(f);
    // Never the source MAC (bytes 6–11): that check is the MAC table's, tested elsewhere.
    for (const [at, v] of g.writes) if (at >= 12 && at < f.length) f[at] = v;
    if (g.cut !== null) f = f.subarray(0, Math.max(14, Math.min(f.length, g.cut)));
    return f;
  });

/** The claim a frame makes about the victim, read the way a receiving host would. */
function claimsVictim(f: Buffer): boolean {
  let off = 12;
  let type = f.readUInt16BE(12);
  while ((type === 0x8100 || type === 0x88a8) && f.length >= off + 6) {
    off += 4;
    type = f.readUInt16BE(off);
  }
  const p = off + 2;
  if (type === 0x0806) {
    return f.length >= p + 18 && f.readUInt16BE(p + 2) === 0x0800 && f.subarray(p + 14, p + 18).equals(VICTIM4_BYTES);
  }
  // A host drops an IPv6 header whose version is not 6 (Linux: ipv6_rcv), so it claims nothing.
  if (type !== 0x86dd || f.length < p + 48 || f[p] >> 4 !== 6 || f[p + 6] !== 58) return false;
  // A host reads only the payload length's bytes (and drops a packet shorter than it says):
  // an ICMPv6 message outside them is no message.
  const plen = f.readUInt16BE(p + 4);
  if (plen < 8 || f.length < p + 40 + plen) return false;
  const t = f[p + 40];
  if (t < 133 || t > 137) return false;
  const src = f.subarray(p + 8, p + 24);
  if (src.equals(VICTIM6_BYTES)) return true;
  const target = f.subarray(p + 48, p + 64);
  return plen >= 24 && (t === 136 || (t === 135 && src.equals(UNSPECIFIED6))) && target.equals(VICTIM6_BYTES);
}

describe('ARP/ND inspection under arbitrary frames (fast-check)', () => {
  it('never throws, accounts for every frame, and delivers no claim on the victim’s addresses', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(frameArb, { minLength: 1, maxLength: 40 }), async (frames) => {
        const s = new L2Segment(l2SegmentSchema.parse({ name: 'lan', ipv4: { pool: '198.19.0.0/24' }, ipv6: { pool: 'fd00:e1::/64' }, floodLimit: { rate: 1_000_000, burst: 1_000_000 } }));
        const ports = [1, 2, 3].map((n) => {
          const p = new MemoryPort(`p${n}`);
          s.attach(p, { ownMac: mac(n), macLimit: 1, claims: { ipv4: `198.19.0.${10 + n}/24`, ipv6: `fd00:e1::${10 + n}/64` } });
          return p;
        });
        const [host1, , attacker] = ports;
        for (const f of frames) expect(() => s.forward(f, attacker)).not.toThrow();
        await nextTick();
        const dropped = DROP_REASONS.reduce((n, r) => n + s.drops[r], 0);
        expect(host1.received.length + dropped).toBe(frames.length);
        for (const f of host1.received) expect(claimsVictim(f), f.toString('hex')).toBe(false);
        expect(s.guard.linkLocalCount).toBeLessThanOrEqual(3 * 4);
      }),
      { numRuns: 300 },
    );
  });
});
