// The RecordConn contract: what every transport a session runs over must do, run
// unchanged over TLS and memory (record-conn.test.ts) and WebSocket (ws-record-conn.test.ts).
// Not part of the package build, not exported by index.ts.
import { createHash, randomBytes } from 'node:crypto';
import { encodeRecord, MAX_CONTROL_PAYLOAD, MAX_RECORD_PAYLOAD, RecordType, type ElError, type PayloadAllocator } from '@elink/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import type { RecordConn, RecordHandlers } from './record-conn.js';
import { until } from './test-frames.js';

export interface ConnPair {
  a: RecordConn;
  b: RecordConn;
  /** Stops / restarts reading on `b` (a slow peer). */
  pauseB(): void;
  resumeB(): void;
  /** What `peer` looks like for this transport. */
  peerPattern: RegExp;
  close(): Promise<void>;
}

/** Makes a connected pair, neither side started; the suite starts both before it yields. */
export type ConnPairFactory = (opts: { allocate?: PayloadAllocator }) => Promise<ConnPair>;

/** A conn over a socket of its own (TLS, WebSocket): pausing the socket makes a slow peer. */
type SocketConn = RecordConn & { readonly socket: { pause(): unknown; resume(): unknown } };

/** A connected pair of a transport whose two ends differ, neither started. */
export type SidedPairFactory = (opts: { allocate?: PayloadAllocator }) => Promise<{ server: SocketConn; client: SocketConn; close(): Promise<void> }>;

interface Recorded {
  records: { type: number; payload: Buffer }[];
  events: string[];
  errors: ElError[];
  closes: (Error | undefined)[];
  handlers: RecordHandlers;
  /** Runs inside onRecord (e.g. to throw). */
  hook?: (type: number, payload: Buffer) => void;
}

function recorder(): Recorded {
  const r: Recorded = {
    records: [],
    events: [],
    errors: [],
    closes: [],
    handlers: {
      onRecord: (type, payload) => {
        r.hook?.(type, payload);
        // Copied: a frame's memory is the allocator's, which a test may reuse.
        r.records.push({ type, payload: Buffer.from(payload) });
        r.events.push('record');
      },
      onReadEnd: () => r.events.push('readEnd'),
      onError: (err) => {
        r.errors.push(err);
        r.events.push('error');
      },
      onEnd: () => r.events.push('end'),
      onClose: (cause) => {
        r.closes.push(cause);
        r.events.push('close');
      },
    },
  };
  return r;
}

const control = (text: string): Buffer => encodeRecord(RecordType.CONTROL, Buffer.from(text));
const frame = (payload: Buffer): Buffer => encodeRecord(RecordType.FRAME, payload);
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

export function describeRecordConnContract(name: string, factory: ConnPairFactory): void {
  describe(`RecordConn contract: ${name}`, () => {
    let pair: ConnPair | undefined;
    afterEach(async () => {
      await pair?.close();
      pair = undefined;
    });

    async function open(opts: { allocate?: PayloadAllocator } = {}): Promise<{ p: ConnPair; ra: Recorded; rb: Recorded }> {
      pair = await factory(opts);
      const ra = recorder();
      const rb = recorder();
      for (const c of [pair.a, pair.b]) {
        c.accept(RecordType.CONTROL, MAX_CONTROL_PAYLOAD);
        c.accept(RecordType.FRAME, MAX_RECORD_PAYLOAD);
      }
      pair.a.start(ra.handlers);
      pair.b.start(rb.handlers);
      return { p: pair, ra, rb };
    }

    it('carries records both ways, in order, and runs onReadEnd after the records of each read', async () => {
      const { p, ra, rb } = await open();
      p.a.write(Buffer.concat([control('{"n":1}'), frame(Buffer.from('f1')), control('{"n":2}')]));
      p.a.write(frame(Buffer.from('f2')));
      p.b.write(Buffer.concat([frame(Buffer.from('back')), control('{"n":3}')]));
      await until(() => rb.records.length === 4 && ra.records.length === 2, 'the records');
      expect(rb.records.map((r) => [r.type, r.payload.toString()])).toEqual([
        [RecordType.CONTROL, '{"n":1}'],
        [RecordType.FRAME, 'f1'],
        [RecordType.CONTROL, '{"n":2}'],
        [RecordType.FRAME, 'f2'],
      ]);
      expect(ra.records.map((r) => [r.type, r.payload.toString()])).toEqual([
        [RecordType.FRAME, 'back'],
        [RecordType.CONTROL, '{"n":3}'],
      ]);
      expect(rb.events.at(-1)).toBe('readEnd');
      expect(rb.errors).toEqual([]);
      expect(p.a.destroyed).toBe(false);
    });

    it('carries 20 records of 65,535 bytes (split over many reads) intact', async () => {
      const { p, rb } = await open();
      const payloads = Array.from({ length: 20 }, () => randomBytes(MAX_RECORD_PAYLOAD));
      for (const pl of payloads) p.a.write(frame(pl));
      await until(() => rb.records.length === 20, '20 large records', 20_000);
      expect(rb.records.map((r) => sha(r.payload))).toEqual(payloads.map(sha));
      const reads = rb.events.filter((e) => e === 'readEnd').length;
      expect(reads).toBeGreaterThan(20); // more reads than records
    });

    it('reads frames into the allocator memory, control records into memory of their own', async () => {
      const given = new Set<ArrayBufferLike>();
      const slab = Buffer.allocUnsafeSlow(256 * 1024);
      let off = 0;
      const allocate: PayloadAllocator = (_type, size) => {
        const b = slab.subarray(off, off + size);
        off += size;
        given.add(b.buffer);
        return b;
      };
      const seen: { type: number; fromAllocator: boolean }[] = [];
      const { p, rb } = await open({ allocate });
      rb.hook = (type, payload) => seen.push({ type, fromAllocator: payload.buffer === slab.buffer });
      p.a.write(Buffer.concat([frame(Buffer.from('one')), control('{"x":1}'), frame(randomBytes(40_000))]));
      await until(() => rb.records.length === 3, 'three records');
      expect(seen).toEqual([
        { type: RecordType.FRAME, fromAllocator: true },
        { type: RecordType.CONTROL, fromAllocator: false },
        { type: RecordType.FRAME, fromAllocator: true },
      ]);
    });

    it('refuses a record over its accept() limit with EL_ERR_RECORD_TOO_LONG and reads nothing after it; the conn stays open', async () => {
      const { p, rb } = await open();
      p.b.accept(RecordType.FRAME, 100);
      p.a.write(Buffer.concat([frame(Buffer.alloc(100, 1)), frame(Buffer.alloc(101, 2)), frame(Buffer.alloc(10, 3))]));
      await until(() => rb.errors.length === 1, 'the error');
      expect(rb.errors[0].code).toBe('EL_ERR_RECORD_TOO_LONG');
      expect(rb.records.map((r) => r.payload.length)).toEqual([100]);
      p.a.write(frame(Buffer.alloc(5)));
      await new Promise((r) => setTimeout(r, 50));
      expect(rb.records.length).toBe(1);
      expect(p.b.destroyed).toBe(false);
    });

    it('refuses a record type it was not told to accept with EL_ERR_UNKNOWN_RECORD', async () => {
      const { p, rb } = await open();
      p.a.write(encodeRecord(RecordType.TRUNK_FRAME, Buffer.alloc(8)));
      await until(() => rb.errors.length === 1, 'the error');
      expect(rb.errors[0].code).toBe('EL_ERR_UNKNOWN_RECORD');
      expect(rb.records).toEqual([]);
    });

    it('turns a record handler that throws into EL_ERR_INTERNAL, not an exception out of the read', async () => {
      const { p, rb } = await open();
      rb.hook = () => {
        throw new Error('bug in the handler');
      };
      p.a.write(frame(Buffer.from('x')));
      await until(() => rb.errors.length === 1, 'the error');
      expect(rb.errors[0].code).toBe('EL_ERR_INTERNAL');
      expect(rb.errors[0].message).toContain('bug in the handler');
    });

    it('end(last) delivers what was written and `last`, then the peer hears end, and both close', async () => {
      const { p, ra, rb } = await open();
      p.a.write(frame(Buffer.from('before')));
      p.a.end(control('{"type":"bye"}'));
      p.a.write(frame(Buffer.from('after end: ignored')));
      await until(() => ra.closes.length === 1 && rb.closes.length === 1, 'both sides to close');
      expect(rb.records.map((r) => r.payload.toString())).toEqual(['before', '{"type":"bye"}']);
      const ev = rb.events.filter((e) => e !== 'readEnd');
      expect(ev).toEqual(['record', 'record', 'end', 'close']);
      expect(rb.closes).toEqual([undefined]);
      expect(p.a.destroyed).toBe(true);
      expect(p.b.destroyed).toBe(true);
    });

    it('destroy() closes at once: destroyed, both sides hear close once, later writes go nowhere', async () => {
      const { p, ra, rb } = await open();
      p.a.destroy();
      expect(p.a.destroyed).toBe(true);
      p.a.write(frame(Buffer.from('late')));
      await until(() => ra.closes.length === 1 && rb.closes.length === 1, 'both sides to close');
      await new Promise((r) => setTimeout(r, 20));
      expect(ra.closes.length).toBe(1);
      expect(rb.closes.length).toBe(1);
      expect(rb.records).toEqual([]);
    });

    it('destroy() from a record handler: no later record of the same read is delivered', async () => {
      const { p, rb } = await open();
      rb.hook = () => p.b.destroy();
      p.a.write(Buffer.concat([frame(Buffer.from('1')), frame(Buffer.from('2')), frame(Buffer.from('3'))]));
      await until(() => rb.closes.length === 1, 'b to close');
      expect(rb.records.map((r) => r.payload.toString())).toEqual(['1']);
      expect(rb.errors).toEqual([]);
    });

    it('backlog: grows while the peer does not read (writesThrough false), drains when it reads again, nothing lost', async () => {
      const { p, rb } = await open();
      expect(p.a.backlog()).toBe(0);
      expect(p.a.writesThrough()).toBe(true);
      p.pauseB();
      const chunk = frame(Buffer.alloc(60_000, 7));
      let written = 0;
      await until(() => {
        if (p.a.backlog() > 256 * 1024) return true;
        for (let i = 0; i < 4; i++) p.a.write(chunk);
        written += 4;
        return false;
      }, 'a backlog above 256 KiB', 20_000);
      expect(p.a.writesThrough()).toBe(false);
      p.resumeB();
      await until(() => p.a.backlog() === 0 && rb.records.length === written, `${written} records and an empty backlog`, 20_000);
      expect(rb.records.every((r) => r.payload.length === 60_000 && r.payload[59_999] === 7)).toBe(true);
      expect(p.a.writesThrough()).toBe(true);
    });

    it('write(batch, done) behind a backlog: batches (over WebSocket: in pieces) arrive as they are, in order, intact; done runs once each, and the batch may be reused from then on', async () => {
      const { p, rb } = await open();
      p.pauseB();
      const sent: string[] = [];
      let dones = 0;
      let n = 0;
      await until(() => {
        if (p.a.backlog() > 1024 * 1024) return true;
        // 3 records of 60,000 bytes: over WS_SEND_MESSAGE, so two pieces on a WsRecordConn.
        const payloads = [0, 1, 2].map(() => randomBytes(60_000));
        sent.push(...payloads.map(sha));
        const batch = Buffer.concat(payloads.map(frame));
        p.a.write(batch, () => {
          dones++;
          batch.fill(0); // given back: the caller may reuse it at once
        });
        n++;
        return false;
      }, 'a backlog above 1 MiB', 20_000);
      expect(p.a.writesThrough()).toBe(false);
      p.resumeB();
      await until(() => rb.records.length === sent.length, `${sent.length} records`, 20_000);
      expect(rb.records.map((r) => sha(r.payload))).toEqual(sent);
      expect(dones).toBe(n);
      expect(rb.errors).toEqual([]);
    });

    it('names its peer', async () => {
      const { p } = await open();
      expect(p.a.peer).toMatch(p.peerPattern);
      expect(p.b.peer).toMatch(p.peerPattern);
    });
  });
}

/** Registers the contract twice for a transport whose ends differ: once with the accepted
 * side as `a` (the connecting side as the slow peer `b`), once the other way round. */
export function describeRecordConnContractBothEnds(name: string, factory: SidedPairFactory, peerPattern: RegExp): void {
  for (const aIs of ['server', 'client'] as const) {
    const ends = aIs === 'server' ? 'a: the accepted side, b: the connecting side' : 'a: the connecting side, b: the accepted side';
    describeRecordConnContract(`${name} (${ends})`, async (opts) => {
      const pair = await factory(opts);
      const [a, b] = aIs === 'server' ? [pair.server, pair.client] : [pair.client, pair.server];
      return { a, b, pauseB: () => b.socket.pause(), resumeB: () => b.socket.resume(), peerPattern, close: pair.close };
    });
  }
}
