/**
 * Property-based tests of the PROXY header parser: arbitrary bytes never throw and never
 * claim a header longer than the input or beyond the size bounds; valid headers parse to
 * their source whatever follows them, and every strict prefix of one is 'more' (or, for a
 * v2 header with too many TLVs, refused early). fast-check prints the seed on failure.
 */
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { parseProxyHeader, PROXY_V1_MAX, DEFAULT_PROXY_MAX_TLV } from './proxy-header.js';

const RUNS = { numRuns: 500 };
const SIG = [0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a];
const bytes = (max: number) => fc.uint8Array({ maxLength: max }).map((a) => Buffer.from(a));

describe('parseProxyHeader (fuzz)', () => {
  it('arbitrary bytes, with or without a signature in front: no throw, lengths within bounds', () => {
    const prefixes = fc.constantFrom(Buffer.alloc(0), Buffer.from('PROXY '), Buffer.from(SIG), Buffer.from([...SIG, 0x21, 0x11]), Buffer.from([...SIG, 0x21, 0x21, 0x00]));
    fc.assert(
      fc.property(prefixes, bytes(700), (p, tail) => {
        const buf = Buffer.concat([p, tail]);
        const r = parseProxyHeader(buf);
        if (r.kind === 'header') {
          expect(r.length).toBeLessThanOrEqual(buf.length);
          expect(r.length).toBeLessThanOrEqual(r.version === 1 ? PROXY_V1_MAX : 16 + 36 + DEFAULT_PROXY_MAX_TLV);
        }
        if (r.kind === 'more') expect(buf.length).toBeLessThan(16 + 36 + DEFAULT_PROXY_MAX_TLV);
      }),
      RUNS,
    );
  });

  it('valid v1 and v2 TCP4 headers parse to their source whatever follows; strict prefixes are more', () => {
    const ipv4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255));
    fc.assert(
      fc.property(fc.boolean(), ipv4, fc.nat(65535), fc.nat(64), bytes(64), (isV2, ip, port, tlv, tail) => {
        const address = ip.join('.');
        let header: Buffer;
        if (isV2) {
          header = Buffer.alloc(16 + 12 + tlv);
          header.set(SIG);
          header[12] = 0x21;
          header[13] = 0x11;
          header.writeUInt16BE(12 + tlv, 14);
          header.set(ip, 16);
          header.writeUInt16BE(port, 24);
        } else {
          header = Buffer.from(`PROXY TCP4 ${address} 127.0.0.1 ${port} 443\r\n`);
        }
        expect(parseProxyHeader(Buffer.concat([header, tail]))).toEqual({ kind: 'header', version: isV2 ? 2 : 1, length: header.length, source: { address, port, family: 'IPv4' } });
        for (let n = 0; n < header.length; n++) expect(parseProxyHeader(header.subarray(0, n)).kind).toBe('more');
      }),
      RUNS,
    );
  });

  it('a byte changed in a valid v2 header: the address only changes if an address byte did', () => {
    fc.assert(
      fc.property(fc.nat(27), fc.nat(255), (at, value) => {
        const h = Buffer.alloc(28);
        h.set(SIG);
        h[12] = 0x21;
        h[13] = 0x11;
        h.writeUInt16BE(12, 14);
        h.set([127, 0, 0, 77], 16);
        h[at] = value;
        const r = parseProxyHeader(h);
        if (at < 12 && value !== SIG[at]) expect(r.kind).toBe('none');
        if (r.kind === 'header' && r.source && (at < 16 || at > 19)) expect(r.source.address).toBe('127.0.0.77');
        if (r.kind === 'header' && r.source && at >= 16 && at <= 19) expect(r.source.address.split('.')[at - 16]).toBe(String(value));
      }),
      RUNS,
    );
  });
});
