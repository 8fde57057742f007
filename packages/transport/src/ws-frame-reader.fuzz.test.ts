// WsFrameReader against frames made by an independent encoder (ws's Sender.frame): random
// valid streams (masked and not, every length class, fragmented messages with pings and
// pongs between the fragments, then a close) cut into random chunks must yield exactly
// the messages' bytes, the pings' payloads and the close code; and single violations
// must fail with the right close code however the stream is cut.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import * as wsModule from 'ws';
import { mulberry32 as rng } from '../../protocol/src/test-prng.js';
import { OP_BINARY, OP_CLOSE, OP_CONTINUATION, OP_PING, OP_PONG, OP_TEXT, maskInPlace } from './ws-frame.js';
import { WsFrameReader, type WsFrameSink } from './ws-frame-reader.js';

function frame(data: Buffer, opcode: number, fin: boolean, mask: boolean): Buffer {
  return Buffer.concat((wsModule as unknown as { Sender: { frame(d: Buffer, o: object): Buffer[] } }).Sender.frame(data, { fin, opcode, mask, readOnly: true, rsv1: false }));
}

interface Got {
  data: Buffer[];
  pings: string[];
  close: number[];
  fail: number[];
  sink: WsFrameSink;
}

function collect(): Got {
  const g: Got = {
    data: [],
    pings: [],
    close: [],
    fail: [],
    sink: {
      wsData: (c, s, e) => g.data.push(Buffer.from(c.subarray(s, e))),
      wsPing: (p) => g.pings.push(p.toString('hex')),
      wsClose: (code) => g.close.push(code),
      wsFail: (code) => g.fail.push(code),
    },
  };
  return g;
}

/** Feeds `stream` in random chunks, each a copy that is scribbled over after the push (the
 * shared read buffer is reused). */
function feed(reader: WsFrameReader, stream: Buffer, next: () => number): void {
  for (let at = 0; at < stream.length; ) {
    const n = Math.min(stream.length - at, 1 + Math.floor(next() * (next() < 0.3 ? 20 : 70_000)));
    const chunk = Buffer.from(stream.subarray(at, at + n));
    reader.push(chunk);
    chunk.fill(0xee);
    at += n;
  }
}

const SIZES = [0, 1, 3, 4, 5, 125, 126, 127, 1000, 65_535, 65_536, 70_001];

describe('WsFrameReader (fuzz against ws Sender.frame)', () => {
  it('yields the exact bytes, pings and close of 200 random valid streams, however they are cut', () => {
    for (let seed = 1; seed <= 200; seed++) {
      const next = rng(seed);
      const fromClient = seed % 2 === 0;
      const parts: Buffer[] = [];
      const messages: Buffer[] = [];
      const pings: string[] = [];
      const count = 1 + Math.floor(next() * 6);
      for (let m = 0; m < count; m++) {
        const size = next() < 0.5 ? SIZES[Math.floor(next() * SIZES.length)]! : Math.floor(next() * 3000);
        const msg = randomBytes(size);
        messages.push(msg);
        const pieces = 1 + Math.floor(next() * 4);
        let at = 0;
        for (let p = 0; p < pieces; p++) {
          const end = p === pieces - 1 ? size : at + Math.floor(next() * (size - at + 1));
          parts.push(frame(msg.subarray(at, end), p === 0 ? OP_BINARY : OP_CONTINUATION, p === pieces - 1, fromClient));
          at = end;
          if (next() < 0.4) {
            const ping = randomBytes(Math.floor(next() * 126));
            pings.push(ping.toString('hex'));
            parts.push(frame(ping, OP_PING, true, fromClient));
          }
          if (next() < 0.2) parts.push(frame(randomBytes(8), OP_PONG, true, fromClient));
        }
      }
      const close = Buffer.alloc(2);
      close.writeUInt16BE(4000 + seed, 0);
      parts.push(frame(close, OP_CLOSE, true, fromClient));
      parts.push(frame(Buffer.from('after the close'), OP_BINARY, true, fromClient)); // ignored
      const g = collect();
      feed(new WsFrameReader(g.sink, fromClient, 1 << 20), Buffer.concat(parts), next);
      expect({ seed, fail: g.fail }).toEqual({ seed, fail: [] });
      expect(Buffer.concat(g.data).equals(Buffer.concat(messages)), `seed ${seed}`).toBe(true);
      expect(g.pings).toEqual(pings);
      expect(g.close).toEqual([4000 + seed]);
    }
  });

  it('fails each violation with its close code, however the stream is cut', () => {
    const goodPayload = randomBytes(300);
    const rsv = frame(randomBytes(10), OP_BINARY, true, true);
    rsv[0]! |= 0x40;
    const cases: { what: string; bytes: Buffer; code: number; fromClient?: boolean; max?: number; delivered?: number }[] = [
      { what: 'reserved bit', bytes: rsv, code: 1002 },
      { what: 'unknown opcode 0x3', bytes: frame(randomBytes(4), 0x3, true, true), code: 1002 },
      { what: 'unknown control opcode 0xb', bytes: frame(randomBytes(4), 0xb, true, true), code: 1002 },
      { what: 'unmasked from a client', bytes: frame(randomBytes(4), OP_BINARY, true, false), code: 1002 },
      { what: 'masked from a server', bytes: frame(randomBytes(4), OP_BINARY, true, true), code: 1002, fromClient: false },
      { what: 'fragmented ping', bytes: frame(randomBytes(4), OP_PING, false, true), code: 1002 },
      { what: 'long ping', bytes: frame(randomBytes(126), OP_PING, true, true), code: 1002 },
      { what: 'continuation outside a message', bytes: frame(randomBytes(4), OP_CONTINUATION, true, true), code: 1002 },
      { what: 'binary inside a message', bytes: Buffer.concat([frame(randomBytes(4), OP_BINARY, false, true), frame(randomBytes(4), OP_BINARY, true, true)]), code: 1002, delivered: 304 },
      { what: 'text', bytes: frame(Buffer.from('{"type":"hello"}'), OP_TEXT, true, true), code: 1003 },
      { what: 'one frame over the limit', bytes: frame(randomBytes(1001), OP_BINARY, true, true), code: 1009, max: 1000 },
      { what: 'fragments over the limit', bytes: Buffer.concat([frame(randomBytes(600), OP_BINARY, false, true), frame(randomBytes(600), OP_CONTINUATION, true, true)]), code: 1009, max: 1000, delivered: 900 },
      { what: 'close code 1005 on the wire', bytes: frame(Buffer.from([0x03, 0xed]), OP_CLOSE, true, true), code: 1002 },
      { what: '1-byte close', bytes: frame(Buffer.from([3]), OP_CLOSE, true, true), code: 1002 },
    ];
    for (const c of cases) {
      for (let seed = 1; seed <= 20; seed++) {
        const g = collect();
        const fromClient = c.fromClient ?? true;
        const good = frame(goodPayload, OP_BINARY, true, fromClient);
        feed(new WsFrameReader(g.sink, fromClient, c.max ?? 1 << 20), Buffer.concat([good, c.bytes, good]), rng(seed));
        expect({ what: c.what, fail: g.fail }).toEqual({ what: c.what, fail: [c.code] });
        expect({ what: c.what, delivered: g.data.reduce((n, d) => n + d.length, 0) }).toEqual({ what: c.what, delivered: c.delivered ?? 300 }); // nothing from the violation on
      }
    }
  });

  it('reads nothing more once the sink stops it from wsData (the records behind it failed), not even a ping in the same chunk', () => {
    const g = collect();
    let reader: WsFrameReader | undefined;
    const sink: WsFrameSink = { ...g.sink, wsData: (c, st, e) => (g.sink.wsData(c, st, e), reader!.stop()) };
    reader = new WsFrameReader(sink, true, 1 << 20);
    reader.push(Buffer.concat([frame(Buffer.from('bad'), OP_BINARY, true, true), frame(Buffer.from('p'), OP_PING, true, true), frame(Buffer.from('more'), OP_BINARY, true, true)]));
    expect(g.data.map((d) => d.toString())).toEqual(['bad']);
    expect(g.pings).toEqual([]);
    expect(reader.done).toBe(true);
  });

  it('masks word-wise at every alignment and phase exactly as byte by byte', () => {
    const next = rng(7);
    const backing = Buffer.allocUnsafeSlow(4096);
    for (let i = 0; i < 500; i++) {
      const off = Math.floor(next() * 4); // the view's own alignment in its ArrayBuffer
      const start = Math.floor(next() * 64);
      const end = start + Math.floor(next() * 3000);
      const key = randomBytes(4);
      const phase = Math.floor(next() * 4);
      randomBytes(backing.length).copy(backing);
      const view = backing.subarray(off, off + end);
      const want = Buffer.from(view);
      for (let j = start; j < end; j++) want[j] = want[j]! ^ key[(phase + j - start) & 3]!;
      expect(maskInPlace(view, start, end, key, phase)).toBe((phase + end - start) & 3);
      expect(view.equals(want)).toBe(true);
    }
  });
});
