/**
 * Flushes dirty output queues once per tick: one dirty list and one setImmediate for
 * the whole process, not a timer per queue.
 *
 *   queue.push(record)   (any number of times during a tick)
 *                        → the queue joins the scheduler's dirty list (once)
 *   end of a read        → flushNow(): queues whose writer is idle (or whose batch is
 *                          already large) are written at once, so a lone packet does
 *                          not wait for the next loop phase (ping latency)
 *   setImmediate         → every queue still dirty is flushed ONCE: one write each,
 *                          then the arena is recycled.
 *
 * setImmediate (not a microtask) so that all reads of the current I/O phase are batched
 * into the same flush.
 */
import { RecyclingArena } from './scratch-buffer.js';

export interface Flushable {
  flushPending: boolean;
  flush(): void;
  /** False while the writer still holds an earlier write and the batch is small:
   * flushNow() then leaves the queue to the setImmediate flush, so bulk traffic keeps
   * batching. Default: true. */
  wantsFlushNow?(): boolean;
}

export class FlushScheduler {
  /** Memory for the frames read (each copied out of the shared read buffer), recycled
   * whenever a flush leaves no queue dirty: by then every queued frame has been copied
   * into a write (or dropped). Only frames that go to queues of this scheduler may use it. */
  readonly arena = new RecyclingArena();
  private dirty: Flushable[] = [];
  private spare: Flushable[] = [];
  private scheduled = false;
  private draining = false;
  private readonly run = (): void => this.flushAll();

  schedule(p: Flushable): void {
    if (p.flushPending) return;
    p.flushPending = true;
    this.dirty.push(p);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.run);
    }
  }

  /** Flushes now every dirty queue whose writer is idle. Called at the end of each input
   * read so a lone packet leaves in the same event-loop turn it arrived in. A queue whose
   * writer is still busy with an earlier write (bulk traffic) stays for the setImmediate
   * flush, which then carries everything the reads of this turn queued in one write. */
  flushNow(): void {
    if (this.dirty.length > 0) this.drain(true);
  }

  private flushAll(): void {
    this.scheduled = false;
    this.drain(false);
  }

  /** Flushes the dirty queues; with `onlyWilling`, a queue whose wantsFlushNow() says no
   * stays dirty (still flushPending: the setImmediate that schedule() armed is still due). */
  private drain(onlyWilling: boolean): void {
    // Not re-entered (a write cannot call back into a read synchronously, but the
    // dirty/spare swap would lose queues if it ever did).
    if (this.draining) return;
    this.draining = true;
    const list = this.dirty;
    this.dirty = this.spare;
    for (let i = 0; i < list.length; i++) {
      const p = list[i];
      if (onlyWilling && p.wantsFlushNow !== undefined && !p.wantsFlushNow()) {
        this.dirty.push(p);
        continue;
      }
      p.flushPending = false;
      try {
        p.flush();
      } catch {
        // A writer failing must not keep the other queues from flushing; its owner
        // notices the broken writer itself (socket 'error'/'close').
      }
    }
    list.length = 0;
    this.spare = list;
    this.draining = false;
    // Nothing left queued anywhere: every frame taken from the arena has been copied
    // into a write (or dropped), so its memory is free again. After a flushNow() too:
    // a client whose device takes each read's frames at once reuses the same few
    // slabs read after read instead of walking through all of them every tick.
    if (this.dirty.length === 0) this.arena.recycle();
  }
}

/** The process-wide scheduler used unless a queue is given another. */
export const defaultFlushScheduler = new FlushScheduler();
