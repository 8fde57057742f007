import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import * as wsModule from 'ws';
import { encodeRecord, RecordType, MAX_RECORD_PAYLOAD, type ElError } from '@elink/protocol';
import type { RecordHandlers } from './record-conn.js';
import { describeRecordConnContractBothEnds } from './test-record-conn-contract.js';
import { until } from './test-frames.js';
import { clientAgainstWs, wsAgainstServer, wsRecordConnPair } from './test-ws.js';
import { OP_BINARY, OP_CONTINUATION } from './ws-frame.js';
import { RecordWriter } from './record-writer.js';
import { WS_HEADROOM, WS_MAX_MESSAGE, WS_SEND_MESSAGE, type WsRecordConn } from './ws-record-conn.js';

describeRecordConnContractBothEnds('WebSocket over TLS', (opts) => wsRecordConnPair(opts), /^127\.0\.0\.1:\d+$/);

interface Seen {
  records: Buffer[];
  errors: ElError[];
  ends: number;
  closes: (Error | undefined)[];
  handlers: RecordHandlers;
}

function seen(): Seen {
  const s: Seen = {
    records: [],
    errors: [],
    ends: 0,
    closes: [],
    handlers: {
      onRecord: (_t, p) => s.records.push(Buffer.from(p)),
      onError: (e) => s.errors.push(e),
      onEnd: () => s.ends++,
      onClose: (c) => s.closes.push(c),
    },
  };
  return s;
}

const frame = (p: Buffer): Buffer => encodeRecord(RecordType.FRAME, p);

/** A raw frame as ws's Sender builds it (masked: as a client sends). */
function rawFrame(data: Buffer, opcode: number, fin: boolean, mask: boolean): Buffer {
  return Buffer.concat((wsModule as unknown as { Sender: { frame(d: Buffer, o: object): Buffer[] } }).Sender.frame(data, { fin, opcode, mask, readOnly: true, rsv1: false }));
}

/** The TLS socket under a ws WebSocket (to write raw frames). */
const socketOf = (ws: WebSocket): Socket => (ws as unknown as { _socket: Socket })._socket;

async function closeOf(ws: WebSocket): Promise<number> {
  const [code] = (await once(ws, 'close')) as [number];
  return code;
}

const hex = (b: Buffer): string => b.toString('hex');

/**
 * `peer` (the ws library) sends `payloads` as records in ONE message cut at `cuts` (the
 * first 0), a ping `p0`, `p1`, … after each fragment but the last, then each of `whole` as
 * a message of its own; `conn`, started here, must deliver every record in order and answer
 * every ping. What `conn` saw, for the checks that follow.
 */
async function fragmentsWithPings(peer: WebSocket, conn: WsRecordConn, payloads: Buffer[], cuts: number[], whole: Buffer[] = []): Promise<Seen> {
  const s = seen();
  conn.start(s.handlers);
  conn.accept(RecordType.FRAME, MAX_RECORD_PAYLOAD);
  const stream = Buffer.concat(payloads.map(frame));
  const pongs: string[] = [];
  peer.on('pong', (p: Buffer) => pongs.push(p.toString()));
  const ends = [...cuts, stream.length];
  const pings = ends.length - 2;
  for (let i = 0; i + 1 < ends.length; i++) {
    peer.send(stream.subarray(ends[i], ends[i + 1]), { binary: true, fin: i === pings });
    if (i < pings) peer.ping(Buffer.from(`p${i}`));
  }
  for (const w of whole) peer.send(frame(w), { binary: true });
  const records = [...payloads, ...whole];
  await until(() => s.records.length === records.length && pongs.length === pings, `${records.length} records and ${pings} pongs`);
  expect(s.records.map(hex)).toEqual(records.map(hex));
  expect(pongs).toEqual(Array.from({ length: pings }, (_, i) => `p${i}`));
  return s;
}

describe('WsRecordConn data path', () => {
  it('reads into the shared read buffer on both sides, not a buffer per read', async () => {
    const pair = await wsRecordConnPair();
    try {
      const a = seen();
      const b = seen();
      pair.server.start(a.handlers);
      pair.client.start(b.handlers);
      pair.server.accept(RecordType.FRAME, MAX_RECORD_PAYLOAD);
      pair.client.accept(RecordType.FRAME, MAX_RECORD_PAYLOAD);
      // net.Socket's user-buffer field (what `onread` sets), found as readIntoSharedBuffer finds it.
      const userBuffer = (s: Socket): unknown => (s as unknown as Record<symbol, unknown>)[Object.getOwnPropertySymbols(s).find((k) => k.description === 'kBuffer')!];
      const shared = userBuffer(pair.server.socket);
      expect(Buffer.isBuffer(shared) && (shared as Buffer).length).toBe(64 * 1024);
      expect(userBuffer(pair.client.socket)).toBe(shared);
      pair.client.write(frame(Buffer.from('to server')));
      pair.server.write(frame(Buffer.from('to client')));
      await until(() => a.records.length === 1 && b.records.length === 1, 'a record each way');
      expect([a.records[0]!.toString(), b.records[0]!.toString()]).toEqual(['to server', 'to client']);
    } finally {
      await pair.close();
    }
  });
});

/** Counts `conn`'s socket writes (the real socket's write, called through). */
function countWrites(conn: WsRecordConn): { calls: number; bytes: number[] } {
  const seenWrites = { calls: 0, bytes: [] as number[] };
  const s = conn.socket as Socket & { write: (chunk: Buffer, ...rest: unknown[]) => boolean };
  const write = s.write.bind(s);
  s.write = (chunk: Buffer, ...rest: unknown[]): boolean => {
    seenWrites.calls++;
    seenWrites.bytes.push(chunk.length);
    return write(chunk, ...rest);
  };
  return seenWrites;
}

describe('WsRecordConn Nagle', () => {
  it('the connecting side turns Nagle off on its socket itself (before the upgrade request), not only when a caller does', async () => {
    const pair = await wsRecordConnPair();
    try {
      // net.Socket's noDelay state (what setNoDelay() last applied), found by its description.
      const noDelay = (s: Socket): unknown => (s as unknown as Record<symbol, unknown>)[Object.getOwnPropertySymbols(s).find((k) => k.description === 'kSetNoDelay')!];
      expect(noDelay(pair.client.socket)).toBe(true);
    } finally {
      await pair.close();
    }
  });
});

describe('WsRecordConn framing RecordWriter batches in place (writeFramed)', () => {
  for (const side of ['client', 'server'] as const) {
    it(`the ${side}: a batch leaves in ONE socket write (header in the writer's headroom), when writing through and behind a backlog; records intact, in order`, async () => {
      const pair = await wsRecordConnPair();
      try {
        const from = side === 'client' ? pair.client : pair.server;
        const to = side === 'client' ? pair.server : pair.client;
        const got = seen();
        from.start(seen().handlers);
        to.start(got.handlers);
        to.accept(RecordType.FRAME, MAX_RECORD_PAYLOAD);
        expect(from.headroom).toBe(WS_HEADROOM);
        const writer = new RecordWriter(from);
        const writes = countWrites(from);
        const mask = side === 'client' ? 4 : 0;
        // A lone small record (a ping): one write of header + record.
        expect(from.writesThrough()).toBe(true);
        writer.write([RecordType.FRAME], [Buffer.from('lone ping')], 3 + 9);
        expect(writes).toEqual({ calls: 1, bytes: [2 + mask + 12] });
        // A batch of several records over 125 bytes (a 16-bit length).
        const batch = [randomBytes(700), randomBytes(64), randomBytes(1400)];
        writer.write(batch.map(() => RecordType.FRAME), batch, 3 * 3 + 2164);
        expect(writes).toEqual({ calls: 2, bytes: [2 + mask + 12, 4 + mask + 2173] });
        await until(() => got.records.length === 4, 'the records written through');
        // Behind a backlog: the batch is pooled memory the conn keeps until the write is done.
        to.socket.pause();
        const filler = frame(Buffer.alloc(60_000, 1));
        await until(() => {
          if (from.backlog() > 1024 * 1024) return true;
          for (let i = 0; i < 4; i++) from.write(filler);
          return false;
        }, 'a backlog above 1 MiB', 20_000);
        expect(from.writesThrough()).toBe(false);
        const fillers = writes.calls;
        const late = [randomBytes(30_000), randomBytes(5)];
        writer.write(late.map(() => RecordType.FRAME), late, 6 + 30_005);
        expect(writes.calls - fillers).toBe(1);
        expect(writes.bytes.at(-1)).toBe(4 + mask + 30_011);
        to.socket.resume();
        const want = [Buffer.from('lone ping'), ...batch, ...late].map((b) => b.toString('hex'));
        await until(() => got.records.filter((r) => r.length !== 60_000).length === want.length || got.errors.length > 0, 'every record', 20_000);
        expect(got.errors).toEqual([]);
        expect(got.records.filter((r) => r.length !== 60_000).map((r) => r.toString('hex'))).toEqual(want);
      } finally {
        await pair.close();
      }
    });
  }
});

describe('WsRecordConn against the ws library (an independent RFC 6455 implementation)', () => {
  it('our client → a ws server: one message per batch (large ones cut at record boundaries), masked, also when the caller reuses the batch at once', async () => {
    const t = await clientAgainstWs();
    try {
      const messages: Buffer[] = [];
      t.peer.on('message', (m: Buffer, binary: boolean) => messages.push(binary ? m : Buffer.alloc(0)));
      t.client.start(seen().handlers);
      const small = Buffer.concat([frame(Buffer.from('one')), frame(Buffer.from('two'))]);
      t.client.write(small);
      const one = frame(Buffer.alloc(MAX_RECORD_PAYLOAD, 9));
      const batch = Buffer.concat(Array.from({ length: 40 }, () => one)); // 2.6 MB
      t.client.write(batch);
      batch.fill(0); // the client copied (masked) what it sends
      const perMessage = Math.max(1, Math.floor(WS_SEND_MESSAGE / one.length));
      // A batch RecordWriter frames in place (writeFramed): one message, masked in place.
      const viaWriter = [randomBytes(300), randomBytes(20)];
      new RecordWriter(t.client).write(viaWriter.map(() => RecordType.FRAME), viaWriter, 326);
      await until(() => messages.length === 2 + Math.ceil(40 / perMessage), 'all messages');
      expect(messages.pop()!.equals(Buffer.concat(viaWriter.map(frame)))).toBe(true);
      expect(messages[0]!.equals(small)).toBe(true);
      const rest = messages.slice(1);
      expect(rest.every((m) => m.length <= WS_SEND_MESSAGE && m.length % one.length === 0 && m.every((b, i) => i % one.length < 3 || b === 9))).toBe(true);
      expect(rest.reduce((n, m) => n + m.length, 0)).toBe(40 * one.length);
    } finally {
      await t.close();
    }
  });

  it('a ws server → our client: fragmented messages with pings between the fragments arrive as the records, and the pings are answered', async () => {
    const t = await clientAgainstWs();
    try {
      // One message in four fragments, a ping after each but the last.
      const payloads = Array.from({ length: 6 }, (_, i) => randomBytes(i * 9000 + 1));
      const s = await fragmentsWithPings(t.peer, t.client, payloads, [0, 5, 20_000, 40_000]);
      expect(s.errors).toEqual([]);
      // Its close is our end; we answer with the same code.
      t.peer.close(1000);
      expect(await closeOf(t.peer)).toBe(1000);
      await until(() => s.closes.length === 1, 'our close');
      expect(s.ends).toBe(1);
      expect(s.closes).toEqual([undefined]);
    } finally {
      await t.close();
    }
  });

  it('a ws client (as old EL clients) → our server: fragments, pings between them, records out; our writes arrive as one message each; our end() is close 1000', async () => {
    const t = await wsAgainstServer();
    try {
      // One message in three fragments, a ping after each but the last, then one whole.
      const payloads = Array.from({ length: 5 }, (_, i) => randomBytes(i * 13_000 + 7));
      const s = await fragmentsWithPings(t.peer, t.server, payloads, [0, 3, 30_000], [Buffer.from('whole')]);
      const got: Buffer[] = [];
      t.peer.on('message', (m: Buffer) => got.push(m));
      const batch = Buffer.concat([frame(Buffer.from('x')), frame(randomBytes(60_000)), frame(randomBytes(60_000))]); // a 64-bit length
      t.server.write(batch);
      t.server.write(frame(Buffer.alloc(0)));
      await until(() => got.length === 2, 'two messages');
      expect(got[0]!.equals(batch)).toBe(true);
      expect(got[1]!.equals(frame(Buffer.alloc(0)))).toBe(true);
      const code = closeOf(t.peer);
      t.server.end(frame(Buffer.from('last')));
      expect(await code).toBe(1000);
      expect(got.at(-1)!.equals(frame(Buffer.from('last')))).toBe(true);
      await until(() => s.closes.length === 1, 'our close');
      expect(s.closes).toEqual([undefined]);
      expect(s.errors).toEqual([]);
    } finally {
      await t.close();
    }
  });

  it('does not answer pings while its own output is backed up (a peer that pings and never reads cannot grow the queue)', async () => {
    const t = await wsAgainstServer();
    try {
      const s = seen();
      t.server.start(s.handlers);
      t.server.accept(RecordType.FRAME, MAX_RECORD_PAYLOAD);
      const pongs: string[] = [];
      t.peer.on('pong', (p: Buffer) => pongs.push(p.toString()));
      const messages: Buffer[] = [];
      t.peer.on('message', (m: Buffer) => messages.push(m));
      socketOf(t.peer).pause();
      const chunk = frame(Buffer.alloc(60_000, 5));
      let written = 0;
      await until(() => {
        if (t.server.backlog() > 512 * 1024) return true;
        for (let i = 0; i < 4; i++) t.server.write(chunk);
        written += 4;
        return false;
      }, 'a backlog above 512 KiB', 20_000);
      for (let i = 0; i < 10; i++) t.peer.ping(Buffer.from(`unanswered ${i}`));
      t.peer.send(frame(Buffer.from('after the pings')), { binary: true });
      await until(() => s.records.length === 1, 'the record after the pings'); // the server has read every ping
      socketOf(t.peer).resume();
      await until(() => messages.length === written && t.server.backlog() === 0, 'every message', 20_000);
      t.peer.ping(Buffer.from('answered'));
      await until(() => pongs.length === 1, 'the pong');
      expect(pongs).toEqual(['answered']);
    } finally {
      await t.close();
    }
  });

  const violations: { what: string; send: (peer: WebSocket) => void; code: number; error: RegExp }[] = [
    { what: 'a message over WS_MAX_MESSAGE', send: (p) => p.send(Buffer.alloc(WS_MAX_MESSAGE + 1), { binary: true }), code: 1009, error: /more than/ },
    { what: 'a text message', send: (p) => p.send('{"type":"hello"}'), code: 1003, error: /text WebSocket message/ },
    { what: 'an unknown opcode', send: (p) => socketOf(p).write(rawFrame(Buffer.from('x'), 0x3, true, true)), code: 1002, error: /opcode 0x3/ },
    {
      what: 'a reserved bit',
      send: (p) => {
        const f = rawFrame(Buffer.from('x'), OP_BINARY, true, true);
        f[0]! |= 0x20;
        socketOf(p).write(f);
      },
      code: 1002,
      error: /reserved bits/,
    },
    { what: 'an unmasked frame from a client', send: (p) => socketOf(p).write(rawFrame(Buffer.from('x'), OP_BINARY, true, false)), code: 1002, error: /unmasked/ },
    { what: 'a continuation outside a message', send: (p) => socketOf(p).write(rawFrame(Buffer.from('x'), OP_CONTINUATION, true, true)), code: 1002, error: /continuation/ },
  ];
  for (const v of violations) {
    it(`answers ${v.what} with close ${v.code} and EL_ERR_PROTOCOL`, async () => {
      const t = await wsAgainstServer();
      try {
        const s = seen();
        t.server.start(s.handlers);
        t.server.accept(RecordType.FRAME, MAX_RECORD_PAYLOAD);
        const code = closeOf(t.peer);
        v.send(t.peer);
        expect(await code).toBe(v.code);
        await until(() => s.errors.length === 1, 'the error');
        expect(s.errors[0]!.code).toBe('EL_ERR_PROTOCOL');
        expect(s.errors[0]!.message).toMatch(v.error);
        expect(s.records).toEqual([]);
      } finally {
        await t.close();
      }
    });
  }

  it('our client answers a masked frame from a server with close 1002', async () => {
    const t = await clientAgainstWs();
    try {
      const s = seen();
      t.client.start(s.handlers);
      const code = closeOf(t.peer);
      socketOf(t.peer).write(rawFrame(Buffer.from('x'), OP_BINARY, true, true));
      expect(await code).toBe(1002);
      await until(() => s.errors.length === 1, 'the error');
      expect(s.errors[0]!.message).toMatch(/masked WebSocket frame from a server/);
    } finally {
      await t.close();
    }
  });
});
