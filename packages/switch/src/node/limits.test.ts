import { describe, it, expect } from 'vitest';
import type { SegmentDef } from '@elink/protocol';
import { exchangeFrames, waitUntil, type TestClient } from '../testing/test-client.js';
import { segment, type TestNode, useSwitchHarness } from '../testing/test-node.js';
import { arpFrame, BROADCAST, ethFrame, mac } from '../testing/test-frames.js';

const { fx, running, clients, node } = useSwitchHarness();

async function joined(t: TestNode, user: string, m: number, seg = 'lan', autoPong = true): Promise<TestClient> {
  const c = await t.connect({ autoPong });
  clients.push(c);
  await c.join(fx.ticket({ sub: user, seg }), m);
  return c;
}

describe('limits over real TLS', () => {
  it('holds a session sending from 100,000 source MACs to macsPerSession, the table to its size', async () => {
    const t = await node({ segments: [segment({ name: 'lan', macsPerSession: 64, macTableSize: 1000 })] });
    const a = await joined(t, 'a', mac(1));
    const b = await joined(t, 'b', mac(2));
    const h = await joined(t, 'hostile', mac(3));
    const base = 0x060000000000; // locally administered, unicast
    const sent = 100_000;
    for (let i = 0; i < sent; i += 1000) {
      const batch: Buffer[] = [];
      for (let j = i; j < i + 1000; j++) batch.push(ethFrame(BROADCAST, base + j * 2, 'flood'));
      h.sendFrames(batch);
      if (i % 20_000 === 0) await exchangeFrames(a, b, 20);
    }
    await waitUntil(() => t.node.stats.traffic.framesIn >= sent + 5 * 40, 'all hostile frames read');
    await exchangeFrames(a, b, 20);
    const seg = t.node.stats.segments.lan;
    expect(seg.macEntries).toBe(63); // + its own pinned MAC = 64
    expect(seg.macEntries).toBeLessThanOrEqual(1000);
    expect(seg.drops.mac_limit).toBe(sent - 63);
    // The good hosts saw only the 63 frames from the hostile session's admitted MACs.
    await waitUntil(() => a.payloads().filter((p) => p === 'flood').length === 63, 'admitted floods');
    expect(b.payloads().filter((p) => p === 'flood')).toHaveLength(63);
  });

  it('drops for and then closes a reader that stopped reading, without stalling the others', async () => {
    // Broadcast fills the slow reader fastest; the flood limit (segment-flood.test.ts) is lifted here.
    const unlimited = segment({ name: 'lan', floodLimit: { rate: 10_000_000, burst: 10_000_000 } });
    const t = await node({ writeTimeoutMs: 400, queue: { highWaterBytes: 256 * 1024 }, segments: [unlimited] });
    const a = await joined(t, 'a', mac(1));
    const b = await joined(t, 'b', mac(2));
    const slow = await joined(t, 'slow', mac(3));
    slow.socket.pause(); // reads nothing more: the kernel buffers, then the switch's, fill up
    const payload = Buffer.alloc(1400 - 14, 0x61);
    let rounds = 0;
    const deadline = Date.now() + 20_000;
    // Broadcast bursts from a (they reach b and slow) until the switch gives up on slow.
    while (t.node.stats.closed.EL_ERR_SLOW_PEER !== 1 && Date.now() < deadline) {
      const before = b.frames.length;
      const burst = Array.from({ length: 100 }, () => ethFrame(BROADCAST, mac(1), payload));
      a.sendFrames(burst);
      await waitUntil(() => b.frames.length >= before + 100, 'burst at b');
      rounds++;
    }
    expect(t.node.stats.closed.EL_ERR_SLOW_PEER).toBe(1);
    expect(b.frames.length).toBe(rounds * 100); // b lost nothing
    expect(t.node.stats.drops.slow_peer).toBeGreaterThan(0);
    expect(t.node.stats.errors.EL_ERR_SLOW_PEER).toBe(1);
    await exchangeFrames(a, b, 20);
  });

  it('closes a silent session after keepalive.timeout and keeps one that answers pings', async () => {
    // Below the schema's minimums on purpose, to keep the test fast.
    const fast: SegmentDef = { ...segment({ name: 'lan' }), keepalive: { interval: 0.1, timeout: 0.3 } };
    const t = await node({ segments: [fast] });
    const silent = await joined(t, 'silent', mac(1), 'lan', false);
    const alive = await joined(t, 'alive', mac(2), 'lan', true);
    expect(silent.welcome?.keepalive).toEqual({ interval: 0.1, timeout: 0.3 });
    const err = await silent.expectError(3000);
    expect(err.code).toBe('EL_ERR_KEEPALIVE_TIMEOUT');
    expect(silent.controls.some((c) => c.type === 'ping')).toBe(true);
    await new Promise((r) => setTimeout(r, 600));
    expect(alive.closed).toBe(false);
    expect(alive.controls.filter((c) => c.type === 'ping').length).toBeGreaterThanOrEqual(3);
    expect(t.node.stats.closed.EL_ERR_KEEPALIVE_TIMEOUT).toBe(1);
  });
});

describe('per-ticket MAC allowance', () => {
  it('lets a ticket with a macs claim source that many MACs where the segment allows one', async () => {
    const t = await node({ segments: [segment({ name: 'lan', macsPerSession: 1 })] });
    const a = await joined(t, 'a', mac(1));
    const bridge = await t.connect({ autoPong: true });
    clients.push(bridge);
    await bridge.join(fx.ticket({ sub: 'lan-bridge', seg: 'lan', macs: 3 }), mac(2));
    // Its own MAC plus two more from the LAN behind it get through; the fourth is held back.
    const lanHosts = [0x060000000010, 0x060000000012, 0x060000000014];
    bridge.sendFrames([ethFrame(mac(1), mac(2), 'own'), ...lanHosts.map((m, i) => ethFrame(mac(1), m, `lan${i}`))]);
    await waitUntil(() => a.payloads().includes('lan1'), 'bridged frames');
    await waitUntil(() => t.node.stats.drops.mac_limit >= 1, 'mac_limit drop');
    expect(a.payloads().filter((p) => p === 'own' || p.startsWith('lan'))).toEqual(['own', 'lan0', 'lan1']);
    expect(t.node.stats.drops.mac_limit).toBe(1);
  });
});

describe('ARP inspection over real TLS', () => {
  it('drops a member’s forged ARP reply for another member’s address and counts it; the victim keeps its traffic', async () => {
    const lan = segment({ name: 'lan', ipv4: { pool: '198.19.0.0/24' } });
    const t = await node({ segments: [lan] });
    const member = async (user: string, n: number) => {
      const c = await t.connect({ autoPong: true });
      clients.push(c);
      await c.join(fx.ticket({ sub: user, seg: 'lan', ipv4: `198.19.0.${10 + n}/24` }), mac(n));
      return c;
    };
    const a = await member('a', 1);
    const b = await member('b', 2); // the victim, 198.19.0.12
    const attacker = await member('x', 3);
    const forged = arpFrame({ src: mac(3), spa: '198.19.0.12', tpa: '198.19.0.12' });
    const own = arpFrame({ src: mac(3), spa: '198.19.0.13', tpa: '198.19.0.13' });
    attacker.sendFrames([...Array.from({ length: 48 }, () => forged), own]);
    await waitUntil(() => a.frames.some((f) => f.equals(own)), 'the attacker’s own announcement');
    expect(a.frames.some((f) => f.equals(forged))).toBe(false);
    expect(b.frames.some((f) => f.equals(forged))).toBe(false);
    expect(t.node.stats.drops.arp_spoof).toBe(48);
    expect(t.node.stats.segments.lan.drops.arp_spoof).toBe(48);
    await exchangeFrames(a, b, 20);
  });

  it('warns once when a bridge session has no LAN ranges (its LAN hosts’ ARP would be dropped)', async () => {
    const lan = segment({ name: 'lan', ipv4: { pool: '198.19.0.0/24' }, macsPerSession: 8 });
    const ranged = segment({ name: 'office', ipv4: { pool: '198.19.1.0/24' }, macsPerSession: 8, bridgeRanges: ['192.168.1.0/24'] });
    const t = await node({ segments: [lan, ranged] });
    const join = async (user: string, seg: string, n: number, lanRanges?: string[]) => {
      const c = await t.connect({ autoPong: true });
      clients.push(c);
      await c.join(fx.ticket({ sub: user, seg, ipv4: `198.19.${seg === 'lan' ? 0 : 1}.${10 + n}/24`, ...(lanRanges ? { lan: lanRanges } : {}) }), mac(n));
    };
    const warned = () => t.logs.filter((l) => /has no LAN ranges/.test(String(l.msg)));
    await join('bare', 'lan', 1);
    await join('with-lan', 'lan', 2, ['192.168.7.0/24']);
    await join('in-office', 'office', 3);
    expect(warned().map((l) => l.user)).toEqual(['bare']);
  });
});
