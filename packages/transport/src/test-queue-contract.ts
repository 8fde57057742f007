// The port-writer contract: what every output queue + writer must do, run unchanged over
// each writer (output-queue.test.ts) and over the switch's ports (they import this file
// by path). Not part of the package build, not exported by index.ts.
import { RecordType } from '@elink/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { FlushScheduler } from './flush-scheduler.js';
import type { QueueDrops, QueueOptions } from './output-queue.js';
import { nextTurn, until } from './test-frames.js';

/** The queue side of a port under test. */
export interface QueueUnderTest {
  push(type: number, payload: Buffer): boolean;
  flush(): void;
  close(): void;
  wantsFlushNow(): boolean;
  readonly drops: QueueDrops;
  readonly framesOut: number;
  readonly queued: number;
}

export interface QueueHarness {
  queue: QueueUnderTest;
  /** write() calls the writer got (each is one batch: one socket write, one writeMany). */
  writes(): number;
  /** A frame this port can carry, marked with `tag` (an integer below 2^16). */
  frame(tag: number): Buffer;
  /** The tags of the frames that reached the far side, in arrival order, each checked
   * intact; resolves once at least `count` arrived (rejects after a bounded wait). */
  received(count: number): Promise<number[]>;
  /** The writer takes CONTROL records too (sessions, trunks; not devices). */
  control: boolean;
  /** A frame the writer refuses (a device: a frame the kernel rejects); absent when the
   * writer never refuses. */
  refusedFrame?(): Buffer;
  /** Makes the writer's backlog exceed `bytes` (the peer stops reading and is filled),
   * absent for writers without a backlog (devices). */
  stall?(bytes: number): Promise<void>;
  /** The peer reads again; resolves once the backlog is 0. */
  unstall?(): Promise<void>;
  close(): Promise<void>;
}

export type QueueFactory = (opts: QueueOptions & { scheduler: FlushScheduler; onStalled: () => void }) => Promise<QueueHarness>;

/**
 * Registers the contract's tests for one implementation. `skip`: why it cannot run here
 * (e.g. not root), or undefined; pass one that is undefined under CI=true.
 */
export function describeQueueContract(name: string, factory: QueueFactory, skip?: string): void {
  describe.skipIf(skip !== undefined)(`port-writer contract: ${name}${skip ? ` (skipped: ${skip})` : ''}`, () => {
    let h: QueueHarness | undefined;
    let stalls = 0;
    afterEach(async () => {
      await h?.close();
      h = undefined;
    });

    async function open(opts: QueueOptions = {}): Promise<{ h: QueueHarness; scheduler: FlushScheduler }> {
      const scheduler = new FlushScheduler();
      stalls = 0;
      h = await factory({ ...opts, scheduler, onStalled: () => stalls++ });
      return { h, scheduler };
    }

    it('delivers frames in the order pushed, intact', async () => {
      const { h } = await open();
      const tags = Array.from({ length: 40 }, (_, i) => i);
      for (const t of tags) expect(h.queue.push(RecordType.FRAME, h.frame(t))).toBe(true);
      expect(await h.received(40)).toEqual(tags);
      expect(h.queue.framesOut).toBe(40);
    });

    it('batches a tick: everything pushed in one turn leaves in ONE write, the next turn in another', async () => {
      const { h } = await open();
      for (let t = 0; t < 10; t++) h.queue.push(RecordType.FRAME, h.frame(t));
      expect(h.writes()).toBe(0); // nothing before the tick's flush
      expect(h.queue.queued).toBe(10);
      await nextTurn();
      expect(h.writes()).toBe(1);
      expect(h.queue.queued).toBe(0);
      for (let t = 10; t < 15; t++) h.queue.push(RecordType.FRAME, h.frame(t));
      await nextTurn();
      expect(h.writes()).toBe(2);
      expect(await h.received(15)).toEqual(Array.from({ length: 15 }, (_, i) => i));
    });

    it('flushNow() at the end of a read writes at once when the writer is idle', async () => {
      const { h, scheduler } = await open();
      h.queue.push(RecordType.FRAME, h.frame(7));
      expect(h.queue.wantsFlushNow()).toBe(true);
      scheduler.flushNow();
      expect(h.writes()).toBe(1);
      expect(await h.received(1)).toEqual([7]);
    });

    it('is bounded per tick: past maxFrames the newest are dropped as queue_full, the first ones leave', async () => {
      const { h } = await open({ maxFrames: 8 });
      let accepted = 0;
      for (let t = 0; t < 20; t++) if (h.queue.push(RecordType.FRAME, h.frame(t))) accepted++;
      expect(accepted).toBe(8);
      expect(h.queue.drops).toEqual({ queue_full: 12, slow_peer: 0, device_drop: 0 });
      expect(await h.received(8)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
      expect(h.queue.framesOut).toBe(8);
      // The bound is per tick: the next tick takes frames again.
      expect(h.queue.push(RecordType.FRAME, h.frame(20))).toBe(true);
      expect((await h.received(9)).at(-1)).toBe(20);
    });

    it('is bounded in bytes per tick too (maxBytes, headers included)', async () => {
      const { h } = await open({ maxBytes: 1 });
      expect(h.queue.push(RecordType.FRAME, h.frame(0))).toBe(false);
      expect(h.queue.drops.queue_full).toBe(1);
      await nextTurn();
      expect(h.writes()).toBe(0);
    });

    it('close() forgets what is queued and refuses what comes after', async () => {
      const { h } = await open();
      for (let t = 0; t < 5; t++) h.queue.push(RecordType.FRAME, h.frame(t));
      h.queue.close();
      expect(h.queue.queued).toBe(0);
      expect(h.queue.push(RecordType.FRAME, h.frame(5))).toBe(false);
      await nextTurn();
      await nextTurn();
      expect(h.writes()).toBe(0);
      expect(h.queue.framesOut).toBe(0);
    });

    it('counts only FRAME and FRAME_GSO records as frames out; control records keep their place in the order', async () => {
      const { h } = await open();
      if (!h.control) {
        // A device takes frames only: a control record is refused by the writer and counted.
        h.queue.push(RecordType.CONTROL, Buffer.from('{"type":"ping","id":1}'));
        h.queue.push(RecordType.FRAME, h.frame(1));
        expect(await h.received(1)).toEqual([1]);
        expect(h.queue.framesOut).toBe(1);
        expect(h.queue.drops.device_drop).toBe(1);
        return;
      }
      h.queue.push(RecordType.FRAME, h.frame(1));
      h.queue.push(RecordType.CONTROL, Buffer.from('{"type":"ping","id":1}'));
      h.queue.push(RecordType.FRAME, h.frame(2));
      expect(await h.received(2)).toEqual([1, 2]);
      expect(h.queue.framesOut).toBe(2);
      expect(h.writes()).toBe(1);
    });

    it('counts the frames the writer refuses as device_drop, and the rest still leave in order', async () => {
      const { h } = await open();
      if (!h.refusedFrame) {
        // This writer never refuses: every frame handed over is out.
        for (let t = 0; t < 5; t++) h.queue.push(RecordType.FRAME, h.frame(t));
        expect(await h.received(5)).toEqual([0, 1, 2, 3, 4]);
        expect(h.queue.drops.device_drop).toBe(0);
        return;
      }
      h.queue.push(RecordType.FRAME, h.frame(0));
      h.queue.push(RecordType.FRAME, h.refusedFrame());
      h.queue.push(RecordType.FRAME, h.frame(1));
      h.queue.push(RecordType.FRAME, h.refusedFrame());
      h.queue.push(RecordType.FRAME, h.frame(2));
      expect(await h.received(3)).toEqual([0, 1, 2]);
      expect(h.queue.drops).toEqual({ queue_full: 0, slow_peer: 0, device_drop: 2 });
      expect(h.queue.framesOut).toBe(3);
      expect(h.writes()).toBe(1);
    });

    it('a slow peer: above the high-water mark nothing is queued (slow_peer), a stall past writeTimeoutMs calls onStalled, and a drained peer takes frames again', async () => {
      const { h } = await open({ highWaterBytes: 32 * 1024, writeTimeoutMs: 50 });
      if (!h.stall || !h.unstall) {
        // No backlog (a device writes synchronously): never slow.
        for (let t = 0; t < 5; t++) expect(h.queue.push(RecordType.FRAME, h.frame(t))).toBe(true);
        expect(await h.received(5)).toEqual([0, 1, 2, 3, 4]);
        expect(h.queue.drops.slow_peer).toBe(0);
        return;
      }
      await h.stall(32 * 1024);
      expect(h.queue.push(RecordType.FRAME, h.frame(1))).toBe(false);
      expect(h.queue.push(RecordType.FRAME, h.frame(2))).toBe(false);
      expect(h.queue.drops).toEqual({ queue_full: 0, slow_peer: 2, device_drop: 0 });
      expect(h.queue.queued).toBe(0);
      await until(() => stalls > 0, 'onStalled');
      expect(stalls).toBe(1);
      await h.unstall();
      expect(h.queue.push(RecordType.FRAME, h.frame(3))).toBe(true);
      expect((await h.received(1)).at(-1)).toBe(3);
      expect(h.queue.drops.slow_peer).toBe(2);
    });

    it('a peer that drains before writeTimeoutMs is not stalled', async () => {
      const { h } = await open({ highWaterBytes: 32 * 1024, writeTimeoutMs: 3000 });
      if (!h.stall || !h.unstall) return expect(h.queue.push(RecordType.FRAME, h.frame(0))).toBe(true);
      await h.stall(32 * 1024);
      expect(h.queue.push(RecordType.FRAME, h.frame(1))).toBe(false);
      await h.unstall();
      await new Promise((r) => setTimeout(r, 3200));
      expect(stalls).toBe(0);
      expect(h.queue.push(RecordType.FRAME, h.frame(2))).toBe(true);
      expect((await h.received(1)).at(-1)).toBe(2);
    }, 15_000);
  });
}
