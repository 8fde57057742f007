import { describe, it, expect } from 'vitest';
import { l2SegmentSchema } from '@elink/protocol';
import { L2Segment } from './l2-segment.js';
import { MemoryPort, nextTick } from '../../ports/memory-port.js';
import { BROADCAST, ethFrame, mac } from '../../testing/test-frames.js';

function seg(name: string, over: Record<string, unknown> = {}) {
  return new L2Segment(l2SegmentSchema.parse({ name, ...over }));
}

function three(s: L2Segment) {
  const ports = [new MemoryPort('a'), new MemoryPort('b'), new MemoryPort('c')];
  for (const p of ports) s.attach(p);
  return ports;
}

describe('L2Segment over in-memory ports', () => {
  it('sends known unicast only to the port the destination was learned on', async () => {
    const s = seg('lan');
    const [a, b, c] = three(s);
    s.forward(ethFrame(BROADCAST, mac(2), 'b here'), b); // b learned
    await nextTick();
    a.clear();
    c.clear();
    const f = ethFrame(mac(2), mac(1), 'to b');
    s.forward(f, a);
    await nextTick();
    expect(b.received).toEqual([f]);
    expect(a.received).toEqual([]);
    expect(c.received).toEqual([]);
    expect(s.unicast).toBe(1);
  });

  it('floods broadcast, multicast and unknown unicast to every other port and not back', async () => {
    const s = seg('lan');
    const [a, b, c] = three(s);
    const frames = [ethFrame(BROADCAST, mac(1)), ethFrame(0x01005e000001, mac(1)), ethFrame(mac(99), mac(1))];
    for (const f of frames) s.forward(f, a);
    await nextTick();
    expect(b.received).toEqual(frames);
    expect(c.received).toEqual(frames);
    expect(a.received).toEqual([]);
    expect(s.flooded).toBe(3);
    // All three left each port in ONE write (batched per tick).
    expect(b.writes).toBe(1);
  });

  it('isolates two segments', async () => {
    const s1 = seg('one');
    const s2 = seg('two');
    const [a, b] = three(s1);
    const [x, y] = three(s2);
    s1.forward(ethFrame(BROADCAST, mac(1), 'one'), a);
    s2.forward(ethFrame(BROADCAST, mac(11), 'two'), x);
    s1.forward(ethFrame(mac(11), mac(1), 'cross?'), a);
    await nextTick();
    expect(b.received.map((f) => f.subarray(14).toString())).toEqual(['one', 'cross?']);
    expect(y.received.map((f) => f.subarray(14).toString())).toEqual(['two']);
  });

  it('drops and counts runts, multicast sources and hairpins', async () => {
    const s = seg('lan');
    const [a, b] = three(s);
    s.forward(Buffer.alloc(13), a);
    s.forward(ethFrame(BROADCAST, 0x030000000001), a);
    s.forward(ethFrame(BROADCAST, mac(1)), a);
    s.forward(ethFrame(BROADCAST, mac(2)), a); // a now has 1 and 2
    s.forward(ethFrame(mac(2), mac(1)), a); // destination is on a itself
    await nextTick();
    expect(s.drops.runt).toBe(1);
    expect(s.drops.src_multicast).toBe(1);
    expect(s.drops.hairpin).toBe(1);
    expect(b.received.length).toBe(2);
  });

  it('holds a one-MAC session to its own MAC (src_mismatch)', async () => {
    const s = seg('lan');
    const a = new MemoryPort('a');
    const b = new MemoryPort('b');
    s.attach(a, { macLimit: 1, ownMac: mac(1) });
    s.attach(b);
    s.forward(ethFrame(BROADCAST, mac(1), 'ok'), a);
    s.forward(ethFrame(BROADCAST, mac(5), 'spoofed'), a);
    await nextTick();
    expect(b.received.map((f) => f.subarray(14).toString())).toEqual(['ok']);
    expect(s.drops.src_mismatch).toBe(1);
  });

  it('pins the first source MAC of a session that named none', async () => {
    const s = seg('lan');
    const a = new MemoryPort('a');
    const b = new MemoryPort('b');
    s.attach(a, { macLimit: 1, pinFirstSource: true });
    s.attach(b);
    s.forward(ethFrame(BROADCAST, mac(3), 'first'), a);
    s.forward(ethFrame(BROADCAST, mac(4), 'second'), a);
    s.forward(ethFrame(BROADCAST, mac(3), 'from b'), b);
    await nextTick();
    expect(s.ownMacOf(a)).toBe(mac(3));
    expect(b.received.length).toBe(1);
    expect(s.drops.src_mismatch).toBe(1);
    expect(s.drops.mac_conflict).toBe(1);
  });

  it('lets a bridging session use up to macsPerSession MACs (mac_limit beyond)', async () => {
    const s = seg('lan', { macsPerSession: 4 });
    const a = new MemoryPort('a');
    const b = new MemoryPort('b');
    s.attach(a, { macLimit: 4, ownMac: mac(1) });
    s.attach(b);
    for (let i = 1; i <= 10; i++) s.forward(ethFrame(BROADCAST, mac(i)), a);
    await nextTick();
    expect(b.received.length).toBe(4);
    expect(s.drops.mac_limit).toBe(6);
    expect(s.table.countOf(a)).toBe(3); // plus its pinned own MAC
  });

  it('refuses to attach a port whose own MAC another port holds', () => {
    const s = seg('lan');
    const a = new MemoryPort('a');
    const b = new MemoryPort('b');
    expect(s.attach(a, { ownMac: mac(1) })).toBe(true);
    expect(s.attach(b, { ownMac: mac(1) })).toBe(false);
    expect(s.ownerOf(mac(1))).toBe(a);
    expect(s.has(b)).toBe(false);
  });

  it('forgets a detached port and stops sending to it', async () => {
    const s = seg('lan');
    const [a, b, c] = three(s);
    s.forward(ethFrame(BROADCAST, mac(2)), b);
    s.detach(b);
    s.forward(ethFrame(mac(2), mac(1)), a); // unknown again: flooded to c only
    await nextTick();
    expect(b.received.length).toBe(0);
    expect(c.received.length).toBe(2);
    expect(s.table.lookup(mac(2))).toBeUndefined();
  });
});

describe('MemoryPort output queue', () => {
  it('drops the newest record and counts queue_full when a tick fills the queue', async () => {
    const p = new MemoryPort('p', { maxFrames: 3 });
    for (let i = 0; i < 5; i++) p.enqueue(ethFrame(BROADCAST, mac(1), `f${i}`));
    await nextTick();
    expect(p.received.map((f) => f.subarray(14).toString())).toEqual(['f0', 'f1', 'f2']);
    expect(p.output.drops.queue_full).toBe(2);
    expect(p.writes).toBe(1);
  });

  it('bounds the queue in bytes as well', async () => {
    const p = new MemoryPort('p', { maxBytes: 3 * (3 + 100) });
    for (let i = 0; i < 5; i++) p.enqueue(Buffer.alloc(100));
    await nextTick();
    expect(p.received.length).toBe(3);
    expect(p.output.drops.queue_full).toBe(2);
  });

  it('writes nothing to a stalled writer (slow_peer) and reports a stall that outlasts the write timeout', async () => {
    const p = new MemoryPort('p', { highWaterBytes: 1000, writeTimeoutMs: 50 });
    p.setBacklog(5000);
    p.enqueue(Buffer.alloc(20));
    p.enqueue(Buffer.alloc(20));
    await nextTick();
    expect(p.received.length).toBe(0);
    expect(p.output.drops.slow_peer).toBe(2);
    const deadline = Date.now() + 2000;
    while (p.stalls === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(p.stalls).toBe(1);
  });

  it('forgives a stall that clears before the write timeout', async () => {
    const p = new MemoryPort('p', { highWaterBytes: 1000, writeTimeoutMs: 50 });
    p.setBacklog(5000);
    p.enqueue(Buffer.alloc(20));
    p.setBacklog(0);
    await new Promise((r) => setTimeout(r, 120));
    p.enqueue(Buffer.alloc(20));
    await nextTick();
    expect(p.stalls).toBe(0);
    expect(p.received.length).toBe(1);
  });
});
