/**
 * Property-based tests of the record reader against hostile byte streams: whatever the
 * bytes and however they are cut into chunks, push() never throws, fails only with a
 * coded ElError, emits the same records as when the stream arrives whole, and holds
 * staging memory in proportion to what has arrived. fast-check prints the seed and the
 * shrunk counterexample on failure (replay with `{ seed, path }` in the fc.assert options).
 */
import { describe, it, expect } from 'vitest';
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { ElError } from './errors.js';
import { RecordReader } from './record-reader.js';
import { HEADER_LENGTH, MAX_RECORD_PAYLOAD, writeRecordHeader } from './records.js';

const RUNS = { numRuns: 200 };
const READER_CODES = new Set(['EL_ERR_UNKNOWN_RECORD', 'EL_ERR_RECORD_TOO_LONG']);

/** Which record types the reader accepts, with their payload limits. */
const limitsArb = fc.uniqueArray(fc.tuple(fc.integer({ min: 0, max: 255 }), fc.oneof(fc.integer({ min: 0, max: 2048 }), fc.constant(MAX_RECORD_PAYLOAD))), {
  minLength: 1,
  maxLength: 6,
  selector: ([type]) => type,
});

/** A piece of a stream: a well-formed record (maybe over its limit, maybe of a type the
 * reader refuses), a header whose payload never fully arrives, or raw garbage. Payload
 * bytes are a pattern from a seed, so large payloads cost no generation time. */
const pieceArb: fc.Arbitrary<Piece> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('record' as const), type: fc.integer({ min: 0, max: 255 }), length: fc.oneof({ weight: 9, arbitrary: fc.integer({ min: 0, max: 3000 }) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: MAX_RECORD_PAYLOAD }) }), seed: fc.nat(255) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('garbage' as const), bytes: fc.uint8Array({ maxLength: 64 }) }) },
);

type Piece = { kind: 'record'; type: number; length: number; seed: number } | { kind: 'garbage'; bytes: Uint8Array };

function render(piece: Piece): Buffer {
  if (piece.kind === 'garbage') return Buffer.from(piece.bytes);
  const buf = Buffer.allocUnsafe(HEADER_LENGTH + piece.length);
  writeRecordHeader(buf, 0, piece.type, piece.length);
  for (let i = 0; i < piece.length; i++) buf[HEADER_LENGTH + i] = (piece.seed + i) & 0xff;
  return buf;
}

/** A stream, optionally cut short (a peer that stops mid-record). */
const streamArb = fc
  .tuple(fc.array(pieceArb, { maxLength: 12 }), fc.option(fc.nat(), { nil: undefined }))
  .map(([pieces, cut]) => {
    const whole = Buffer.concat(pieces.map(render));
    return cut === undefined || whole.length === 0 ? whole : whole.subarray(0, cut % whole.length);
  });

/** Chunk sizes, used in turn until the stream is consumed: small ones cut headers. */
const cutsArb = fc.array(fc.oneof(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 1500 }), fc.integer({ min: 1, max: 70_000 })), { minLength: 1, maxLength: 16 });

/** Each chunk in an ArrayBuffer of its own, as a socket read delivers it. */
function chunk(stream: Buffer, cuts: readonly number[]): Buffer[] {
  const out: Buffer[] = [];
  for (let off = 0, i = 0; off < stream.length; i++) {
    const n = cuts[i % cuts.length];
    out.push(Buffer.from(new Uint8Array(stream.subarray(off, off + n))));
    off += n;
  }
  return out;
}

/** Most staging memory a reader may hold with `buffered` bytes of a record arrived: at
 * most 4× that, rounded up to the staging pool's classes (exact up to 4 KiB, then 16
 * and 64 KiB buffers). */
function stagingBound(buffered: number): number {
  const x = 4 * buffered;
  if (x <= 4096) return x;
  if (x <= 16 * 1024) return 16 * 1024;
  return 64 * 1024;
}

interface Outcome {
  records: string[];
  code: string | undefined;
}

/** Feeds the chunks and checks the invariants after every push. A transient reader gets
 * each chunk scribbled over after push(), as a reused socket buffer would be. */
function run(limits: ReadonlyArray<readonly [number, number]>, chunks: readonly Buffer[], transient: boolean): Outcome {
  const records: string[] = [];
  const reader = new RecordReader((type, payload) => records.push(`${type}:${payload.length}:${createHash('sha1').update(payload).digest('hex')}`), undefined, { transientChunks: transient });
  for (const [type, max] of limits) reader.accept(type, max);
  let code: string | undefined;
  for (const c of chunks) {
    let result: ElError | undefined;
    try {
      result = reader.push(c);
    } catch (e) {
      throw new Error(`push threw instead of returning an error: ${String(e)}`);
    }
    if (result !== undefined) {
      expect(result).toBeInstanceOf(ElError);
      expect(READER_CODES.has(result.code)).toBe(true);
      code ??= result.code;
      expect(result.code).toBe(code);
    }
    expect(reader.staged).toBeLessThanOrEqual(stagingBound(reader.buffered));
    if (transient) c.fill(0xee);
  }
  return { records, code };
}

describe('RecordReader under arbitrary input (fast-check)', () => {
  it('never throws, fails only with a coded error, and emits the same records whatever the chunking', () => {
    fc.assert(
      fc.property(limitsArb, streamArb, cutsArb, fc.boolean(), (limits, stream, cuts, transient) => {
        const whole = run(limits, stream.length ? [Buffer.from(stream)] : [], false);
        const cut = run(limits, chunk(stream, cuts), transient);
        expect(cut).toEqual(whole);
      }),
      RUNS,
    );
  });

  it('stops at the first violation: after a failure nothing more is emitted, whatever follows', () => {
    fc.assert(
      fc.property(limitsArb, streamArb, streamArb, cutsArb, (limits, first, rest, cuts) => {
        const records: number[] = [];
        const reader = new RecordReader((type) => records.push(type));
        for (const [type, max] of limits) reader.accept(type, max);
        const err = reader.push(Buffer.concat([first, Buffer.from([0xff, 0xff, 0xff])]));
        // 0xff 0xff 0xff: a 65535-byte record of type 0xff; it fails unless 0xff is accepted
        // with the full limit, or an earlier record already failed.
        const acceptsAll = limits.some(([t, m]) => t === 0xff && m === MAX_RECORD_PAYLOAD);
        if (err === undefined) {
          expect(acceptsAll || reader.buffered > 0).toBe(true);
          return;
        }
        const seen = records.length;
        for (const c of chunk(rest, cuts)) expect(reader.push(c)).toBe(err);
        expect(records.length).toBe(seen);
        expect(reader.buffered).toBe(0);
        expect(reader.staged).toBe(0);
      }),
      RUNS,
    );
  });

  it('a handler that fails the reader stops it at once, in the same place whatever the chunking', () => {
    fc.assert(
      fc.property(limitsArb, streamArb, cutsArb, fc.nat(20), fc.boolean(), (limits, stream, cuts, failAt, transient) => {
        const go = (chunks: readonly Buffer[]) => {
          const seen: number[] = [];
          const reader: RecordReader = new RecordReader(
            (type) => {
              seen.push(type);
              if (seen.length === failAt) reader.fail(new ElError('EL_ERR_BAD_CONTROL', 'rejected by the handler'));
            },
            undefined,
            { transientChunks: transient },
          );
          for (const [type, max] of limits) reader.accept(type, max);
          let code: string | undefined;
          for (const c of chunks) code ??= reader.push(c)?.code;
          return { seen, code };
        };
        const whole = go(stream.length ? [Buffer.from(stream)] : []);
        expect(go(chunk(stream, cuts))).toEqual(whole);
        if (failAt > 0 && whole.seen.length >= failAt) {
          expect(whole.seen.length).toBe(failAt);
          expect(whole.code).toBe('EL_ERR_BAD_CONTROL');
        }
      }),
      RUNS,
    );
  });

  it('a peer announcing a 64 KiB record and trickling it in holds staging in proportion to what arrived', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 3000 }), { minLength: 1, maxLength: 40 }), (sizes) => {
        const reader = new RecordReader(() => {}, undefined, { transientChunks: true }).accept(0x01, MAX_RECORD_PAYLOAD);
        const header = Buffer.alloc(HEADER_LENGTH);
        writeRecordHeader(header, 0, 0x01, MAX_RECORD_PAYLOAD);
        expect(reader.push(header)).toBeUndefined();
        let arrived = 0;
        for (const n of sizes) {
          const take = Math.min(n, MAX_RECORD_PAYLOAD - 1 - arrived);
          if (take <= 0) break;
          expect(reader.push(Buffer.alloc(take, 0x5a))).toBeUndefined();
          arrived += take;
          expect(reader.buffered).toBe(arrived);
          expect(reader.staged).toBeGreaterThanOrEqual(arrived);
          expect(reader.staged).toBeLessThanOrEqual(stagingBound(arrived));
        }
      }),
      RUNS,
    );
  });
});
