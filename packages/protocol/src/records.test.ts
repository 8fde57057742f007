import { readFileSync } from 'node:fs';
import { describe, it, expect } from 'vitest';
import { encodeControl } from './control.js';
import { ALPN, encodeRecord, HEADER_LENGTH, L2_OVERHEAD, MAX_CONTROL_PAYLOAD, MAX_RECORD_PAYLOAD, RecordType, writeRecordHeader } from './records.js';

const protocolDoc = readFileSync(new URL('../../../docs/protocol.md', import.meta.url), 'utf8');

/** The hex bytes of a fenced example in protocol.md: the first column of each line up to the comment. */
function docExample(firstLine: string): string {
  const start = protocolDoc.indexOf(firstLine);
  expect(start, firstLine).toBeGreaterThan(0);
  const block = protocolDoc.slice(start, protocolDoc.indexOf('```', start));
  return block
    .split('\n')
    .map((line) => line.slice(0, 42).trim())
    .join(' ')
    .replace(/\s+/g, '');
}

describe('records', () => {
  it('has the wire constants docs/protocol.md states', () => {
    expect(RecordType).toEqual({ FRAME: 0x01, CONTROL: 0x02, TRUNK_FRAME: 0x03, TRUNK_CONTROL: 0x04, FRAME_GSO: 0x05, TRUNK_FRAME_GSO: 0x06 });
    expect(HEADER_LENGTH).toBe(3);
    expect(MAX_RECORD_PAYLOAD).toBe(65535);
    expect(MAX_CONTROL_PAYLOAD).toBe(16384);
    expect(L2_OVERHEAD).toBe(18);
    expect(ALPN).toBe('el/1');
  });

  it('writes the header as type, then length big-endian, and returns the next offset', () => {
    const buf = Buffer.alloc(8, 0xee);
    expect(writeRecordHeader(buf, 2, RecordType.CONTROL, 0x1234)).toBe(5);
    expect(buf.toString('hex')).toBe('eeee021234eeeeee');
    expect(writeRecordHeader(buf, 0, RecordType.FRAME, 0xffff)).toBe(3);
    expect(buf.subarray(0, 3).toString('hex')).toBe('01ffff');
  });

  it('encodes header + copy of the payload, and refuses payloads over 65535 bytes', () => {
    const payload = Buffer.from('abc');
    const rec = encodeRecord(RecordType.FRAME, payload);
    payload[0] = 0; // a copy, not a view
    expect(rec.toString('hex')).toBe('010003616263');
    expect(encodeRecord(RecordType.CONTROL, new Uint8Array(0)).toString('hex')).toBe('020000');
    expect(() => encodeRecord(RecordType.FRAME, new Uint8Array(65536))).toThrow(RangeError);
  });

  it('matches the FRAME and CONTROL hex examples in docs/protocol.md byte for byte', () => {
    // ARP who-has 198.19.0.1 tell 198.19.0.17 from 02:00:5e:10:00:01.
    const arp = Buffer.from('ffffffffffff02005e10000108060001080006040001' + '02005e100001c6130011' + '000000000000c6130001', 'hex');
    expect(arp).toHaveLength(42);
    expect(docExample('01 00 2a')).toBe(encodeRecord(RecordType.FRAME, arp).toString('hex'));
    expect(docExample('02 00 16')).toBe(encodeControl({ type: 'ping', id: 7 }).toString('hex'));
  });
});
