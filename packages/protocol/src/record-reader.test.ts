import { describe, it, expect } from 'vitest';
import { ElError } from './errors.js';
import { RecordReader } from './record-reader.js';
import { encodeRecord, HEADER_LENGTH, MAX_RECORD_PAYLOAD, RecordType, writeRecordHeader } from './records.js';
import { mulberry32 as prng } from './test-prng.js';

const int = (rnd: () => number, lo: number, hi: number): number => lo + Math.floor(rnd() * (hi - lo + 1));

interface Rec {
  type: number;
  payload: Buffer;
}

function randomRecords(rnd: () => number, count: number, types: readonly number[], limit: number): Rec[] {
  const out: Rec[] = [];
  for (let i = 0; i < count; i++) {
    const type = types[int(rnd, 0, types.length - 1)];
    // Bias towards the edges: empty and maximal payloads are where off-by-ones live.
    const r = rnd();
    const length = r < 0.1 ? 0 : r < 0.2 ? limit : int(rnd, 0, limit);
    const payload = Buffer.allocUnsafe(length);
    for (let j = 0; j < length; j++) payload[j] = int(rnd, 0, 255);
    out.push({ type, payload });
  }
  return out;
}

function streamOf(records: readonly Rec[]): Buffer {
  return Buffer.concat(records.map((r) => encodeRecord(r.type, r.payload)));
}

type Chunker = (stream: Buffer, rnd: () => number) => Buffer[];

/** Copies a chunk into an ArrayBuffer of its own (not Node's shared pool), as a socket
 * read delivers it, so that `payload.buffer === chunk.buffer` really means "a view". */
function own(b: Buffer): Buffer {
  return Buffer.from(new Uint8Array(b).buffer);
}

function fixed(size: number): Chunker {
  return (stream) => {
    const out: Buffer[] = [];
    for (let off = 0; off < stream.length; off += size) out.push(own(stream.subarray(off, off + size)));
    return out;
  };
}

const chunkers: Record<string, Chunker> = {
  'one byte at a time': fixed(1),
  'two bytes at a time': fixed(2),
  'random 1..100 bytes': (stream, rnd) => {
    const out: Buffer[] = [];
    for (let off = 0; off < stream.length; ) {
      const n = int(rnd, 1, 100);
      out.push(own(stream.subarray(off, off + n)));
      off += n;
    }
    return out;
  },
  'the whole stream in one chunk': (stream) => [own(stream)],
  'random sizes up to a few records': (stream, rnd) => {
    const out: Buffer[] = [];
    for (let off = 0; off < stream.length; ) {
      const n = int(rnd, 1, 700);
      out.push(own(stream.subarray(off, off + n)));
      off += n;
    }
    return out;
  },
};

describe('RecordReader: reassembly', () => {
  const types = [RecordType.FRAME, RecordType.CONTROL, RecordType.TRUNK_FRAME];
  const limit = 300;

  for (const [name, chunker] of Object.entries(chunkers)) for (const transientChunks of [false, true]) {
    it(`yields exactly the records written, in order, when fed ${name}${transientChunks ? ', each chunk overwritten after push (transientChunks)' : ''} (50 seeds)`, () => {
      for (let seed = 1; seed <= 50; seed++) {
        const rnd = prng(seed);
        const records = randomRecords(rnd, int(rnd, 1, 60), types, limit);
        const got: Rec[] = [];
        const reader = new RecordReader((type, payload) => got.push({ type, payload }), undefined, { transientChunks });
        for (const t of types) reader.accept(t, limit);
        for (const c of chunker(streamOf(records), rnd)) {
          // Plain check, not expect(): one-byte chunks mean tens of thousands of pushes.
          const err = reader.push(c);
          if (err) throw new Error(`seed ${seed}: unexpected ${err.code}: ${err.message}`);
          // A socket reading into one reused buffer: what the reader kept must be its own.
          if (transientChunks) c.fill(0xee);
        }
        expect(got.length, `seed ${seed}`).toBe(records.length);
        for (let i = 0; i < records.length; i++) {
          expect(got[i].type, `seed ${seed} record ${i}`).toBe(records[i].type);
          expect(got[i].payload.equals(records[i].payload), `seed ${seed} record ${i}`).toBe(true);
        }
        expect(reader.buffered).toBe(0);
        expect(reader.failed).toBeUndefined();
      }
    });
  }

  it('splits a chunk boundary at every offset of a record (inside the header and the payload)', () => {
    const records: Rec[] = [
      { type: RecordType.FRAME, payload: Buffer.from('0123456789abcdef') },
      { type: RecordType.CONTROL, payload: Buffer.alloc(0) },
      { type: RecordType.FRAME, payload: Buffer.from('xyz') },
    ];
    const stream = streamOf(records);
    for (let cut = 0; cut <= stream.length; cut++) {
      const got: Rec[] = [];
      const reader = new RecordReader((type, payload) => got.push({ type, payload })).accept(RecordType.FRAME, 100).accept(RecordType.CONTROL, 100);
      expect(reader.push(own(stream.subarray(0, cut)))).toBeUndefined();
      expect(reader.push(own(stream.subarray(cut)))).toBeUndefined();
      expect(got.map((r) => [r.type, r.payload.toString()]), `cut at ${cut}`).toEqual(records.map((r) => [r.type, r.payload.toString()]));
    }
  });

  it('reports the bytes of an incomplete record as buffered', () => {
    const reader = new RecordReader(() => {}).accept(RecordType.FRAME, 100);
    const rec = encodeRecord(RecordType.FRAME, Buffer.alloc(10, 7));
    reader.push(rec.subarray(0, 2));
    expect(reader.buffered).toBe(2);
    reader.push(rec.subarray(2, 8));
    expect(reader.buffered).toBe(5);
    reader.push(rec.subarray(8));
    expect(reader.buffered).toBe(0);
  });

  it('delivers zero-length payloads, also as a lone 3-byte header', () => {
    const got: Rec[] = [];
    const reader = new RecordReader((type, payload) => got.push({ type, payload })).accept(RecordType.CONTROL, 10);
    const empty = encodeRecord(RecordType.CONTROL, Buffer.alloc(0));
    expect(empty).toEqual(Buffer.from([0x02, 0x00, 0x00]));
    expect(reader.push(Buffer.concat([empty, empty]))).toBeUndefined();
    expect(reader.push(empty.subarray(0, 1))).toBeUndefined();
    expect(got).toHaveLength(2);
    expect(reader.push(empty.subarray(1))).toBeUndefined();
    expect(got).toHaveLength(3);
    for (const r of got) {
      expect(r.type).toBe(RecordType.CONTROL);
      expect(r.payload.length).toBe(0);
    }
  });

  it('accepts a payload of exactly the limit, up to the 65535-byte maximum', () => {
    const got: Buffer[] = [];
    const reader = new RecordReader((_t, p) => got.push(p)).accept(RecordType.FRAME, MAX_RECORD_PAYLOAD);
    const payload = Buffer.alloc(MAX_RECORD_PAYLOAD, 0xab);
    const rec = encodeRecord(RecordType.FRAME, payload);
    expect(rec.subarray(0, 3)).toEqual(Buffer.from([0x01, 0xff, 0xff]));
    expect(reader.push(rec)).toBeUndefined();
    expect(got).toHaveLength(1);
    expect(got[0].equals(payload)).toBe(true);
  });
});

describe('RecordReader: zero copy', () => {
  it('hands out views into the chunk for records that arrive whole, and they stay valid', () => {
    const got: Buffer[] = [];
    const reader = new RecordReader((_t, p) => got.push(p)).accept(RecordType.FRAME, 100);
    const chunk = own(
      Buffer.concat([encodeRecord(RecordType.FRAME, Buffer.from('first')), encodeRecord(RecordType.FRAME, Buffer.from('second'))]),
    );
    reader.push(chunk);
    // Later chunks must not disturb earlier payloads (the reader never reuses chunks).
    reader.push(encodeRecord(RecordType.FRAME, Buffer.from('third')));
    expect(got.map((b) => b.toString())).toEqual(['first', 'second', 'third']);
    expect(got[0].buffer).toBe(chunk.buffer);
    expect(got[1].buffer).toBe(chunk.buffer);
    expect(got[0].byteOffset).toBe(chunk.byteOffset + HEADER_LENGTH);
    expect(got[1].byteOffset).toBe(chunk.byteOffset + 2 * HEADER_LENGTH + 5);
  });

  it('gives a record that spans chunks a buffer of its own that survives changes to the chunks', () => {
    const got: Buffer[] = [];
    const reader = new RecordReader((_t, p) => got.push(p)).accept(RecordType.FRAME, 100);
    const rec = encodeRecord(RecordType.FRAME, Buffer.from('spanning'));
    const a = own(rec.subarray(0, 6));
    const b = own(rec.subarray(6));
    reader.push(a);
    reader.push(b);
    a.fill(0);
    b.fill(0);
    expect(got).toHaveLength(1);
    expect(got[0].toString()).toBe('spanning');
    expect(got[0].buffer).not.toBe(a.buffer);
    expect(got[0].buffer).not.toBe(b.buffer);
  });

  it('asks its allocator for memory only for records that span chunks, with their type', () => {
    const asked: Array<[number, number]> = [];
    const memory = Buffer.alloc(64);
    const got: Array<[number, string]> = [];
    const reader = new RecordReader(
      (t, p) => got.push([t, p.toString()]),
      (type, size) => {
        asked.push([type, size]);
        return memory.subarray(0, size);
      },
    )
      .accept(RecordType.FRAME, 100)
      .accept(RecordType.CONTROL, 100);
    const whole = encodeRecord(RecordType.CONTROL, Buffer.from('{"a":1}'));
    const split = encodeRecord(RecordType.FRAME, Buffer.from('across three chunks'));
    reader.push(Buffer.concat([whole, split.subarray(0, 5)]));
    reader.push(split.subarray(5, 12));
    expect(asked).toEqual([]); // nothing is copied until the record is complete
    reader.push(split.subarray(12));
    expect(asked).toEqual([[RecordType.FRAME, 19]]);
    expect(got).toEqual([
      [RecordType.CONTROL, '{"a":1}'],
      [RecordType.FRAME, 'across three chunks'],
    ]);
    expect(memory.subarray(0, 19).toString()).toBe('across three chunks');
  });

  it('with transient chunks holds staging memory in proportion to what arrived, not to the announced length', () => {
    const got: Buffer[] = [];
    const reader = new RecordReader((_t, p) => got.push(p), undefined, { transientChunks: true }).accept(RecordType.FRAME, MAX_RECORD_PAYLOAD);
    const payload = Buffer.alloc(60_000);
    for (let i = 0; i < payload.length; i++) payload[i] = (i * 7) & 0xff;
    const rec = encodeRecord(RecordType.FRAME, payload);
    // A header announcing 60,000 bytes and one byte of payload: a few bytes staged, not 60,000.
    reader.push(own(rec.subarray(0, HEADER_LENGTH + 1)));
    expect(reader.buffered).toBe(1);
    expect(reader.staged).toBeLessThanOrEqual(4);
    let at = HEADER_LENGTH + 1;
    for (const n of [99, 900, 9_000, 20_000]) {
      reader.push(own(rec.subarray(at, at + n)));
      at += n;
      const received = at - HEADER_LENGTH;
      expect(reader.staged).toBeGreaterThanOrEqual(received);
      expect(reader.staged).toBeLessThanOrEqual(Math.max(4 * received, 16 * 1024));
    }
    reader.push(own(rec.subarray(at)));
    expect(reader.staged).toBe(0);
    expect(got).toHaveLength(1);
    expect(got[0].equals(payload)).toBe(true);
  });

  it('hands out a view when only the header was split', () => {
    const got: Buffer[] = [];
    const reader = new RecordReader((_t, p) => got.push(p)).accept(RecordType.FRAME, 100);
    const rec = encodeRecord(RecordType.FRAME, Buffer.from('payload'));
    reader.push(own(rec.subarray(0, 2)));
    const rest = own(rec.subarray(2));
    reader.push(rest);
    expect(got[0].toString()).toBe('payload');
    expect(got[0].buffer).toBe(rest.buffer);
  });
});

describe('RecordReader: malformed input', () => {
  it('returns (does not throw) EL_ERR_UNKNOWN_RECORD for a type that was never accepted', () => {
    const got: number[] = [];
    const reader = new RecordReader((t) => got.push(t)).accept(RecordType.FRAME, 100);
    const err = reader.push(Buffer.concat([encodeRecord(RecordType.FRAME, Buffer.from('ok')), encodeRecord(0x7f, Buffer.from('?'))]));
    expect(err).toBeInstanceOf(ElError);
    expect(err?.code).toBe('EL_ERR_UNKNOWN_RECORD');
    expect(err?.message).toContain('0x7f');
    expect(got).toEqual([RecordType.FRAME]);
    expect(reader.failed).toBe(err);
  });

  it('returns EL_ERR_RECORD_TOO_LONG from the header alone, before any payload arrives', () => {
    const reader = new RecordReader(() => {
      throw new Error('no record may be delivered');
    }).accept(RecordType.FRAME, 1518);
    const header = Buffer.alloc(HEADER_LENGTH);
    writeRecordHeader(header, 0, RecordType.FRAME, 1519);
    const err = reader.push(header);
    expect(err?.code).toBe('EL_ERR_RECORD_TOO_LONG');
    expect(err?.message).toContain('1519');
    expect(err?.message).toContain('1518');
    // Nothing is held for the announced payload.
    expect(reader.buffered).toBe(0);
  });

  it('detects an oversized header split over chunks', () => {
    const reader = new RecordReader(() => {}).accept(RecordType.CONTROL, 16);
    expect(reader.push(Buffer.from([0x02, 0x00]))).toBeUndefined();
    expect(reader.push(Buffer.from([0x11]))?.code).toBe('EL_ERR_RECORD_TOO_LONG');
  });

  it('after a failure returns the same error for every further push and emits nothing', () => {
    const got: number[] = [];
    const reader = new RecordReader((t) => got.push(t)).accept(RecordType.FRAME, 100);
    const first = reader.push(Buffer.from([0x09, 0x00, 0x00]));
    expect(first?.code).toBe('EL_ERR_UNKNOWN_RECORD');
    for (let i = 0; i < 5; i++) {
      expect(reader.push(encodeRecord(RecordType.FRAME, Buffer.from('late')))).toBe(first);
    }
    expect(got).toEqual([]);
    expect(reader.failed).toBe(first);
    expect(reader.buffered).toBe(0);
  });

  it('keeps the first failure when fail() is called again', () => {
    const reader = new RecordReader(() => {});
    const a = new ElError('EL_ERR_PROTOCOL', 'first');
    expect(reader.fail(a)).toBe(a);
    expect(reader.fail(new ElError('EL_ERR_INTERNAL', 'second'))).toBe(a);
    expect(reader.push(Buffer.from([1, 0, 0]))).toBe(a);
  });

  it('follows accept and refuse changes made mid-stream, even from inside a handler', () => {
    const got: string[] = [];
    const reader = new RecordReader((type, payload) => {
      got.push(`${type}:${payload.toString()}`);
      // A hello-like control record opens the data path, as the switch does after welcome.
      if (type === RecordType.CONTROL && payload.toString() === 'open') reader.accept(RecordType.FRAME, 10);
      if (type === RecordType.CONTROL && payload.toString() === 'close') reader.refuse(RecordType.FRAME);
    }).accept(RecordType.CONTROL, 10);

    // Records in the SAME chunk after the handler see the new limits.
    const err = reader.push(
      Buffer.concat([
        encodeRecord(RecordType.CONTROL, Buffer.from('open')),
        encodeRecord(RecordType.FRAME, Buffer.from('f1')),
        encodeRecord(RecordType.CONTROL, Buffer.from('close')),
        encodeRecord(RecordType.FRAME, Buffer.from('f2')),
      ]),
    );
    expect(got).toEqual(['2:open', '1:f1', '2:close']);
    expect(err?.code).toBe('EL_ERR_UNKNOWN_RECORD');
  });

  it('knows only the types accepted: one never accepted, below or above the highest, is unknown', () => {
    // The limits are kept only up to the highest type accepted (a few entries, not 256).
    for (const type of [0x00, RecordType.FRAME, RecordType.TRUNK_FRAME, 0x07, 0xff]) {
      const got: number[] = [];
      const reader = new RecordReader((t) => got.push(t)).accept(RecordType.CONTROL, 10).accept(RecordType.FRAME_GSO, 10);
      reader.refuse(0xfe); // never accepted: harmless
      expect(reader.push(encodeRecord(RecordType.FRAME_GSO, Buffer.from('ok')))).toBeUndefined();
      expect(reader.push(encodeRecord(type, Buffer.from('x')))?.code).toBe('EL_ERR_UNKNOWN_RECORD');
      expect(got).toEqual([RecordType.FRAME_GSO]);
    }
    const high = new RecordReader(() => {}).accept(0xff, 4);
    expect(high.push(encodeRecord(0xff, Buffer.alloc(4)))).toBeUndefined();
    expect(high.push(encodeRecord(0xff, Buffer.alloc(5)))?.code).toBe('EL_ERR_RECORD_TOO_LONG');
    expect(() => new RecordReader(() => {}).accept(0x100, 4)).toThrow(ElError);
  });

  it('applies a lowered limit to the next record', () => {
    const reader = new RecordReader(() => {}).accept(RecordType.FRAME, 100);
    expect(reader.push(encodeRecord(RecordType.FRAME, Buffer.alloc(50)))).toBeUndefined();
    reader.accept(RecordType.FRAME, 49);
    expect(reader.push(encodeRecord(RecordType.FRAME, Buffer.alloc(50)))?.code).toBe('EL_ERR_RECORD_TOO_LONG');
  });

  it('stops at once when a handler calls fail() on a record that arrived whole', () => {
    const got: string[] = [];
    const bad = new ElError('EL_ERR_BAD_CONTROL', 'handler said no');
    const reader = new RecordReader((type, payload) => {
      got.push(payload.toString());
      if (payload.toString() === 'bad') reader.fail(bad);
    }).accept(RecordType.CONTROL, 100);
    const err = reader.push(
      Buffer.concat(['a', 'bad', 'after'].map((s) => encodeRecord(RecordType.CONTROL, Buffer.from(s)))),
    );
    expect(err).toBe(bad);
    expect(got).toEqual(['a', 'bad']);
  });

  it('stops at once when a handler calls fail() on a record that spanned chunks', () => {
    const got: string[] = [];
    const bad = new ElError('EL_ERR_BAD_CONTROL', 'handler said no');
    const reader = new RecordReader((_type, payload) => {
      got.push(payload.toString());
      if (payload.toString() === 'bad') reader.fail(bad);
    }).accept(RecordType.CONTROL, 100);
    const stream = Buffer.concat(['bad', 'after', 'more'].map((s) => encodeRecord(RecordType.CONTROL, Buffer.from(s))));
    // The first chunk ends inside 'bad'; the second completes it and carries the rest.
    expect(reader.push(stream.subarray(0, 4))).toBeUndefined();
    expect(reader.push(stream.subarray(4))).toBe(bad);
    expect(got).toEqual(['bad']);
  });
});

describe('RecordReader: garbage', () => {
  it('never throws out of push for random bytes, and either fails with a code or stays consistent (500 seeds)', () => {
    const codes = new Set<string>();
    for (let seed = 1; seed <= 500; seed++) {
      const rnd = prng(seed * 7919);
      const reader = new RecordReader(() => {}).accept(RecordType.FRAME, int(rnd, 0, 2000)).accept(RecordType.CONTROL, int(rnd, 0, 2000));
      const chunks = int(rnd, 1, 20);
      let err: ElError | undefined;
      for (let c = 0; c < chunks; c++) {
        const chunk = Buffer.allocUnsafe(int(rnd, 0, 300));
        for (let i = 0; i < chunk.length; i++) chunk[i] = int(rnd, 0, 255);
        // Bias some chunks towards valid types so the payload paths run too.
        if (chunk.length > 0 && rnd() < 0.5) chunk[0] = int(rnd, 1, 2);
        expect(() => (err = reader.push(chunk))).not.toThrow();
        if (err) break;
      }
      if (err) {
        codes.add(err.code);
        expect(['EL_ERR_UNKNOWN_RECORD', 'EL_ERR_RECORD_TOO_LONG']).toContain(err.code);
        expect(reader.failed).toBe(err);
      } else {
        expect(reader.buffered).toBeLessThanOrEqual(2000 + HEADER_LENGTH);
      }
    }
    // Both failure kinds were actually exercised.
    expect(codes).toEqual(new Set(['EL_ERR_UNKNOWN_RECORD', 'EL_ERR_RECORD_TOO_LONG']));
  });
});
