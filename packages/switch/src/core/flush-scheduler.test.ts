import { describe, it, expect } from 'vitest';
import { FlushScheduler } from '@elink/transport';
import { MemoryPort, nextTick } from '../ports/memory-port.js';
import { ethFrame, mac } from '../testing/test-frames.js';

describe('FlushScheduler', () => {
  it('flushNow writes what one read queued in the same turn, as one write per port', () => {
    const scheduler = new FlushScheduler();
    const a = new MemoryPort('a', { scheduler });
    const b = new MemoryPort('b', { scheduler });
    const burst = [ethFrame(mac(2), mac(1), 'one'), ethFrame(mac(2), mac(1), 'two'), ethFrame(mac(2), mac(1), 'three')];
    for (const f of burst) a.enqueue(f);
    b.enqueue(burst[0]);
    scheduler.flushNow();
    // No await: a lone packet must not wait for the next event-loop phase.
    expect(a.received).toEqual(burst);
    expect(a.writes).toBe(1);
    expect(b.received).toEqual([burst[0]]);
    expect(b.writes).toBe(1);
  });

  it('still flushes in setImmediate what nobody flushed, and does not write twice', async () => {
    const scheduler = new FlushScheduler();
    const a = new MemoryPort('a', { scheduler });
    a.enqueue(ethFrame(mac(2), mac(1), 'late'));
    expect(a.writes).toBe(0);
    await nextTick();
    expect(a.writes).toBe(1);
    a.enqueue(ethFrame(mac(2), mac(1), 'now'));
    scheduler.flushNow();
    await nextTick();
    expect(a.writes).toBe(2);
    expect(a.received).toHaveLength(2);
  });

  it('leaves a port whose writer is still busy to the setImmediate flush, which sends the whole turn at once', async () => {
    const scheduler = new FlushScheduler();
    const a = new MemoryPort('a', { scheduler });
    a.setBacklog(100); // an earlier write not yet done
    a.enqueue(ethFrame(mac(2), mac(1), 'first read'));
    scheduler.flushNow();
    a.enqueue(ethFrame(mac(2), mac(1), 'second read'));
    scheduler.flushNow();
    expect(a.writes).toBe(0);
    await nextTick();
    expect(a.writes).toBe(1);
    expect(a.received).toHaveLength(2);
  });
});
