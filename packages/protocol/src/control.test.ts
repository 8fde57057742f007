import { describe, it, expect } from 'vitest';
import { encodeControl, parseControl, PROTOCOL_VERSION, type ControlMessage } from './control.js';
import { ElError } from './errors.js';
import { RecordReader } from './record-reader.js';
import { encodeRecord, MAX_CONTROL_PAYLOAD, RecordType } from './records.js';

const examples: ControlMessage[] = [
  { type: 'hello', version: 1, ticket: 'el1.abc.def' },
  { type: 'hello', version: 1, ticket: 'el1.abc.def', mac: '02:00:5e:10:00:01', hostname: 'phone-17' },
  { type: 'hello', version: 1, ticket: 'el1.abc.def', caps: ['gso', 'some-future-cap'] },
  {
    type: 'welcome',
    session: 's-1f2e',
    node: 'sw-1',
    segment: 'phones',
    mode: 'l2',
    mtu: 1500,
    ipv4: { address: '198.19.0.17/16', gateway: '198.19.0.1' },
    ipv6: { address: 'fd00:e1::17/64' },
    prefix: 'fd00:e1:0:100::/56',
    routes: [{ to: '198.51.100.0/24', via: '198.19.0.1' }, { to: '203.0.113.0/24' }],
    keepalive: { interval: 15, timeout: 45 },
    caps: ['gso'],
  },
  { type: 'welcome', session: 's-2', node: 'sw-2', segment: 'lab', mode: 'l3', mtu: 1280, keepalive: { interval: 0.5, timeout: 2 } },
  { type: 'welcome', session: 's-3', node: 'sw-1', segment: 'lab', mode: 'l2', mtu: 1500, keepalive: { interval: 15, timeout: 45 }, dns: { servers: ['198.19.0.53', 'fd00:e1::53'], search: ['corp.example'] } },
  { type: 'welcome', session: 's-4', node: 'sw-1', segment: 'lab', mode: 'l3', mtu: 1500, keepalive: { interval: 15, timeout: 45 }, dns: { servers: ['198.19.0.53'] } },
  { type: 'ping', id: 7 },
  { type: 'pong', id: 7 },
  { type: 'ping', id: -1 },
  { type: 'redirect', reason: 'drain' },
  { type: 'bye', reason: 'client quit' },
  { type: 'error', code: 'EL_ERR_BAD_TICKET', message: 'ticket signature does not match any trusted broker key' },
];

/** Feeds records through a real RecordReader, as a session would, and parses what comes out. */
function throughReader(records: Buffer): ControlMessage[] {
  const out: ControlMessage[] = [];
  const reader = new RecordReader((type, payload) => {
    expect(type).toBe(RecordType.CONTROL);
    out.push(parseControl(payload));
  }).accept(RecordType.CONTROL, MAX_CONTROL_PAYLOAD);
  // Split into odd chunks so the reassembly path is part of the round trip.
  for (let off = 0; off < records.length; off += 37) expect(reader.push(records.subarray(off, off + 37))).toBeUndefined();
  return out;
}

function badControl(payload: string | Buffer): ElError {
  try {
    parseControl(typeof payload === 'string' ? Buffer.from(payload) : payload);
  } catch (e) {
    expect(e).toBeInstanceOf(ElError);
    expect((e as ElError).code).toBe('EL_ERR_BAD_CONTROL');
    return e as ElError;
  }
  throw new Error(`accepted: ${String(payload).slice(0, 80)}`);
}

describe('control messages', () => {
  it('covers every message type in the round-trip examples', () => {
    expect(new Set(examples.map((m) => m.type))).toEqual(new Set(['hello', 'welcome', 'ping', 'pong', 'redirect', 'bye', 'error']));
    expect(PROTOCOL_VERSION).toBe(1);
  });

  it('round-trips every message through encodeControl → RecordReader → parseControl', () => {
    const stream = Buffer.concat(examples.map((m) => encodeControl(m)));
    expect(throughReader(stream)).toEqual(examples);
  });

  it('encodes a record with the CONTROL type and the JSON length in the header', () => {
    const rec = encodeControl({ type: 'ping', id: 7 });
    const json = '{"type":"ping","id":7}';
    expect(rec[0]).toBe(0x02);
    expect(rec.readUInt16BE(1)).toBe(json.length);
    expect(rec.subarray(3).toString()).toBe(json);
    expect(rec.toString('hex')).toBe('020016' + Buffer.from(json).toString('hex'));
  });

  it('ignores unknown extra fields, at the top level and nested', () => {
    const msg = parseControl(
      Buffer.from(JSON.stringify({ type: 'welcome', session: 's', node: 'n', segment: 'x', mode: 'l2', mtu: 1500, keepalive: { interval: 1, timeout: 3, jitter: 9 }, future: { a: 1 } })),
    );
    expect(msg).toEqual({ type: 'welcome', session: 's', node: 'n', segment: 'x', mode: 'l2', mtu: 1500, keepalive: { interval: 1, timeout: 3 } });
    expect(parseControl(Buffer.from('{"type":"ping","id":3,"sent":12345}'))).toEqual({ type: 'ping', id: 3 });
  });

  it('accepts any non-empty UTF-8 in strings', () => {
    expect(parseControl(Buffer.from(JSON.stringify({ type: 'bye', reason: 'Tschüß ✓ 😀' })))).toEqual({ type: 'bye', reason: 'Tschüß ✓ 😀' });
  });
});

describe('control messages: rejected with EL_ERR_BAD_CONTROL', () => {
  it('invalid JSON', () => {
    expect(badControl('{"type":"ping",').message).toMatch(/not valid JSON/);
    expect(badControl('').message).toMatch(/not valid JSON/);
    expect(badControl(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"type":"ping","id":1}')])).message).toMatch(/not valid JSON/);
  });

  it('invalid UTF-8', () => {
    const bytes = Buffer.concat([Buffer.from('{"type":"bye","reason":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]);
    expect(badControl(bytes).message).toMatch(/UTF-8/);
  });

  it('JSON that is not an object', () => {
    for (const s of ['null', '[]', '7', '"hello"', 'true']) expect(badControl(s).message).toMatch(/expected object/);
  });

  it('unknown or missing type, naming the type field', () => {
    expect(badControl('{"type":"shutdown"}').message).toMatch(/at type/);
    expect(badControl('{"id":7}').message).toMatch(/at type/);
    expect(badControl('{"type":7}').message).toMatch(/at type/);
  });

  it('missing required fields, naming the field', () => {
    expect(badControl('{"type":"hello","version":1}').message).toMatch(/at ticket/);
    expect(badControl('{"type":"hello","ticket":"el1.a.b"}').message).toMatch(/at version/);
    expect(badControl('{"type":"ping"}').message).toMatch(/at id/);
    expect(badControl('{"type":"error","code":"EL_ERR_PROTOCOL"}').message).toMatch(/at message/);
    expect(badControl('{"type":"welcome","session":"s","node":"n","segment":"x","mode":"l2","mtu":1500}').message).toMatch(/at keepalive/);
    expect(badControl('{"type":"welcome","session":"s","node":"n","segment":"x","mode":"l2","mtu":1500,"keepalive":{"interval":1}}').message).toMatch(/at keepalive\.timeout/);
  });

  it('wrong types and values, naming the field', () => {
    expect(badControl('{"type":"ping","id":"7"}').message).toMatch(/at id/);
    expect(badControl('{"type":"ping","id":1.5}').message).toMatch(/at id/);
    expect(badControl('{"type":"hello","version":0,"ticket":"t"}').message).toMatch(/at version/);
    expect(badControl('{"type":"hello","version":1,"ticket":""}').message).toMatch(/at ticket/);
    expect(badControl('{"type":"hello","version":1,"ticket":"t","mac":"02:00:5e:10:00"}').message).toMatch(/at mac: a MAC address like/);
    expect(badControl('{"type":"hello","version":1,"ticket":"t","caps":"gso"}').message).toMatch(/at caps/);
    expect(badControl(`{"type":"hello","version":1,"ticket":"t","caps":${JSON.stringify(Array(33).fill('x'))}}`).message).toMatch(/at caps/);
    const welcome = { type: 'welcome', session: 's', node: 'n', segment: 'x', mode: 'l2', mtu: 1500, keepalive: { interval: 1, timeout: 3 } };
    expect(badControl(JSON.stringify({ ...welcome, mode: 'l4' })).message).toMatch(/at mode/);
    expect(badControl(JSON.stringify({ ...welcome, mtu: 575 })).message).toMatch(/at mtu/);
    expect(badControl(JSON.stringify({ ...welcome, mtu: 65536 })).message).toMatch(/at mtu/);
    expect(badControl(JSON.stringify({ ...welcome, keepalive: { interval: 0, timeout: 3 } })).message).toMatch(/at keepalive\.interval/);
    expect(badControl(JSON.stringify({ ...welcome, routes: [{ to: 5 }] })).message).toMatch(/at routes\.0\.to/);
    expect(badControl(JSON.stringify({ ...welcome, ipv4: { gateway: '198.19.0.1' } })).message).toMatch(/at ipv4\.address/);
    expect(badControl(JSON.stringify({ ...welcome, dns: { servers: ['dns.example'] } })).message).toMatch(/at dns\.servers\.0: an IPv4 or IPv6 address/);
    expect(badControl(JSON.stringify({ ...welcome, dns: { servers: [] } })).message).toMatch(/at dns\.servers/);
    expect(badControl(JSON.stringify({ ...welcome, dns: { servers: Array(5).fill('198.19.0.53') } })).message).toMatch(/at dns\.servers/);
    expect(badControl(JSON.stringify({ ...welcome, dns: { servers: ['198.19.0.53'], search: ['bad domain'] } })).message).toMatch(/at dns\.search\.0/);
    expect(badControl(JSON.stringify({ ...welcome, dns: { servers: ['198.19.0.53'], search: Array(7).fill('lab') } })).message).toMatch(/at dns\.search/);
  });

  it('welcome.dns is optional and additive: a welcome without it parses as before, unknown keys inside it are ignored', () => {
    const welcome = { type: 'welcome', session: 's', node: 'n', segment: 'x', mode: 'l2', mtu: 1500, keepalive: { interval: 1, timeout: 3 } };
    expect(parseControl(Buffer.from(JSON.stringify(welcome)))).toEqual(welcome);
    expect(parseControl(Buffer.from(JSON.stringify({ ...welcome, dns: { servers: ['fd00:e1::53'], options: ['ndots:2'] } })))).toEqual({ ...welcome, dns: { servers: ['fd00:e1::53'] } });
  });

  it('oversize fields, naming the field', () => {
    expect(badControl(JSON.stringify({ type: 'hello', version: 1, ticket: 'x'.repeat(4097) })).message).toMatch(/at ticket/);
    expect(badControl(JSON.stringify({ type: 'hello', version: 1, ticket: 't', hostname: 'h'.repeat(254) })).message).toMatch(/at hostname/);
    expect(badControl(JSON.stringify({ type: 'bye', reason: 'r'.repeat(257) })).message).toMatch(/at reason/);
    expect(badControl(JSON.stringify({ type: 'redirect', reason: 'r'.repeat(257) })).message).toMatch(/at reason/);
    expect(badControl(JSON.stringify({ type: 'error', code: 'C'.repeat(65), message: 'm' })).message).toMatch(/at code/);
    expect(badControl(JSON.stringify({ type: 'error', code: 'C', message: 'm'.repeat(1025) })).message).toMatch(/at message/);
    // Short entries so the count limit (1024), not the 16 KiB record limit, is what trips.
    const routes = Array.from({ length: 1025 }, () => ({ to: '' }));
    const welcome = { type: 'welcome', session: 's', node: 'n', segment: 'x', mode: 'l2', mtu: 1500, keepalive: { interval: 1, timeout: 3 }, routes };
    expect(badControl(JSON.stringify(welcome)).message).toMatch(/at routes/);
    expect(badControl(JSON.stringify({ ...welcome, routes: [{ to: '1'.repeat(65) }] })).message).toMatch(/at routes\.0\.to/);
  });

  it('a payload over 16 KiB, even when every field is valid', () => {
    const big = Buffer.from(JSON.stringify({ type: 'ping', id: 1, pad: 'p'.repeat(MAX_CONTROL_PAYLOAD) }));
    expect(badControl(big).message).toMatch(/exceeds 16384/);
  });
});

describe('control messages: size limits on the sending and receiving side', () => {
  it('encodeControl refuses a message over 16 KiB (a bug in the sender, not the peer)', () => {
    const routes = Array.from({ length: 1000 }, (_, i) => ({ to: `10.${i >> 8}.${i & 255}.0/24`, via: '198.19.0.1' }));
    const msg: ControlMessage = { type: 'welcome', session: 's', node: 'n', segment: 'x', mode: 'l2', mtu: 1500, keepalive: { interval: 1, timeout: 3 }, routes };
    expect(() => encodeControl(msg)).toThrow(expect.objectContaining({ code: 'EL_ERR_INTERNAL' }));
  });

  it('a reader limited to 16 KiB rejects a longer CONTROL record from its header', () => {
    const reader = new RecordReader(() => {}).accept(RecordType.CONTROL, MAX_CONTROL_PAYLOAD);
    const rec = encodeRecord(RecordType.CONTROL, Buffer.alloc(MAX_CONTROL_PAYLOAD + 1, 0x20));
    expect(reader.push(rec.subarray(0, 3))?.code).toBe('EL_ERR_RECORD_TOO_LONG');
  });
});
