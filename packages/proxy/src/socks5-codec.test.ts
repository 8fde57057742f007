/**
 * The SOCKS5 parsers: known messages byte by byte, and properties under fast-check —
 * any bytes give "need more", a message within the input, or an error (never a throw);
 * a prefix of a valid message only ever needs more; a message split anywhere parses the
 * same; encode → parse is the identity.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { isIPv6 } from 'node:net';
import {
  AddressType,
  Command,
  encodeReply,
  encodeRequest,
  ipv6Bytes,
  MAX_HANDSHAKE_MESSAGE,
  parseGreeting,
  parseRequest,
  parseUserPass,
  Reply,
  type Parsed,
  type SocksRequest,
} from './socks5-codec.js';

const RUNS = { numRuns: 500 };
const parsers = [parseGreeting, parseUserPass, parseRequest] as const;

function checkShape(r: Parsed<unknown>, length: number): void {
  if ('value' in r) {
    expect(r.used).toBeGreaterThan(0);
    expect(r.used).toBeLessThanOrEqual(length);
    expect(r.used).toBeLessThanOrEqual(MAX_HANDSHAKE_MESSAGE);
  } else if ('error' in r) expect(typeof r.error).toBe('string');
  else expect(r).toEqual({ need: true });
}

const request = fc.oneof(
  fc.record({ command: fc.integer({ min: 0, max: 255 }), addressType: fc.constant(AddressType.IPV4), host: fc.ipV4(), port: fc.integer({ min: 0, max: 65535 }) }),
  fc.record({ command: fc.integer({ min: 0, max: 255 }), addressType: fc.constant(AddressType.IPV6), host: fc.ipV6(), port: fc.integer({ min: 0, max: 65535 }) }),
  fc.record({ command: fc.integer({ min: 0, max: 255 }), addressType: fc.constant(AddressType.DOMAIN), host: fc.domain().filter((d) => d.length <= 255), port: fc.integer({ min: 0, max: 65535 }) }),
);

/** The parsed request is `r` (an IPv6 address compared as its 16 bytes: the text form may differ). */
function expectRequest(got: Parsed<SocksRequest>, r: SocksRequest, used: number): void {
  if (!('value' in got)) throw new Error(`expected a request, got ${JSON.stringify(got)}`);
  expect(got.used).toBe(used);
  const host = (x: SocksRequest) => (x.addressType === AddressType.IPV6 ? ipv6Bytes(x.host) : x.host);
  expect({ ...got.value, host: host(got.value) }).toEqual({ ...r, host: host(r) });
}

describe('SOCKS5 codec: known messages', () => {
  it('greeting: methods, need more, wrong version, no methods', () => {
    expect(parseGreeting(Buffer.from([5, 2, 0, 2, 9]))).toEqual({ value: { methods: [0, 2] }, used: 4 });
    expect(parseGreeting(Buffer.from([5, 2, 0]))).toEqual({ need: true });
    expect(parseGreeting(Buffer.from([4, 1, 0]))).toHaveProperty('error');
    expect(parseGreeting(Buffer.from([5, 0]))).toHaveProperty('error');
  });

  it('username/password (RFC 1929)', () => {
    const r = parseUserPass(Buffer.from([1, 3, ...Buffer.from('bob'), 2, ...Buffer.from('pw')]));
    expect(r).toEqual({ value: { user: Buffer.from('bob'), password: Buffer.from('pw') }, used: 8 });
    expect(parseUserPass(Buffer.from([1, 3, 98]))).toEqual({ need: true });
    expect(parseUserPass(Buffer.from([5, 1, 1, 1, 1]))).toHaveProperty('error');
  });

  it('requests for IPv4, IPv6 and a name; port in network order', () => {
    expect(parseRequest(Buffer.from([5, 1, 0, 1, 127, 0, 0, 1, 0x1f, 0x90]))).toEqual({ value: { command: 1, addressType: 1, host: '127.0.0.1', port: 8080 }, used: 10 });
    const v6 = parseRequest(Buffer.from([5, 1, 0, 4, ...ipv6Bytes('fd00:e1::5')!, 0, 80]));
    expect(v6).toEqual({ value: { command: 1, addressType: 4, host: 'fd00:e1:0:0:0:0:0:5', port: 80 }, used: 22 });
    expect(parseRequest(Buffer.from([5, 1, 0, 3, 9, ...Buffer.from('localhost'), 1, 187]))).toEqual({ value: { command: 1, addressType: 3, host: 'localhost', port: 443 }, used: 16 });
  });

  it('errors carry the reply a server sends: unknown address type 8, bad name 4, wrong version 1', () => {
    expect(parseRequest(Buffer.from([5, 1, 0, 9, 0, 0]))).toMatchObject({ reply: Reply.ADDRESS_TYPE_NOT_SUPPORTED });
    expect(parseRequest(Buffer.from([5, 1, 0, 3, 0, 0, 80]))).toMatchObject({ reply: Reply.HOST_UNREACHABLE });
    expect(parseRequest(Buffer.from([5, 1, 0, 3, 3, 0x61, 0x0a, 0x62, 0, 80]))).toMatchObject({ reply: Reply.HOST_UNREACHABLE });
    expect(parseRequest(Buffer.from([4, 1, 0, 1]))).toMatchObject({ reply: Reply.GENERAL_FAILURE });
  });

  it('replies carry the bound address: IPv4, IPv6, or 0.0.0.0:0', () => {
    expect([...encodeReply(Reply.SUCCEEDED, { address: '198.19.0.7', port: 40000 })]).toEqual([5, 0, 0, 1, 198, 19, 0, 7, 0x9c, 0x40]);
    expect([...encodeReply(Reply.CONNECTION_REFUSED)]).toEqual([5, 5, 0, 1, 0, 0, 0, 0, 0, 0]);
    const v6 = encodeReply(Reply.SUCCEEDED, { address: '::ffff:1.2.3.4', port: 1 });
    expect(v6.length).toBe(22);
    expect([...v6.subarray(4, 20)]).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 1, 2, 3, 4]);
  });

  it('ipv6Bytes: compressed forms, embedded IPv4, scope ids; undefined for anything else', () => {
    expect([...ipv6Bytes('::1')!]).toEqual([...Array(15).fill(0), 1]);
    expect([...ipv6Bytes('1::')!]).toEqual([0, 1, ...Array(14).fill(0)]);
    expect(ipv6Bytes('fe80::1%eth0')!.readUInt16BE(0)).toBe(0xfe80);
    expect(ipv6Bytes('1.2.3.4')).toBeUndefined();
    expect(ipv6Bytes('x')).toBeUndefined();
  });
});

describe('SOCKS5 codec under arbitrary input (fast-check)', () => {
  it('any bytes: need, a message inside the input, or an error; never a throw', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
        for (const p of parsers) checkShape(p(bytes), bytes.length);
      }),
      RUNS,
    );
  });

  it('bytes after a valid header byte (the likelier path to bugs): same guarantees', () => {
    fc.assert(
      fc.property(fc.constantFrom(1, 5), fc.uint8Array({ maxLength: 600 }), (v, rest) => {
        const bytes = Buffer.concat([Buffer.from([v]), rest]);
        for (const p of parsers) checkShape(p(bytes), bytes.length);
      }),
      RUNS,
    );
  });

  it('encode → parse is the identity, and every strict prefix needs more', () => {
    fc.assert(
      fc.property(request, (r) => {
        const bytes = encodeRequest(r);
        expectRequest(parseRequest(bytes), r, bytes.length);
        for (let i = 0; i < bytes.length; i++) expect(parseRequest(bytes.subarray(0, i))).toEqual({ need: true });
      }),
      RUNS,
    );
  });

  it('a message followed by any bytes: the same message, the rest left for later', () => {
    fc.assert(
      fc.property(request, fc.uint8Array({ maxLength: 64 }), (r, tail) => {
        const bytes = encodeRequest(r);
        expectRequest(parseRequest(Buffer.concat([bytes, tail])), r, bytes.length);
      }),
      RUNS,
    );
  });

  it('encodeReply round-trips every IPv6 text form the bound address may take', () => {
    fc.assert(
      fc.property(fc.ipV6(), fc.integer({ min: 0, max: 65535 }), (a, port) => {
        expect(isIPv6(a)).toBe(true);
        const reply = encodeReply(Reply.SUCCEEDED, { address: a, port });
        const back = parseRequest(Buffer.concat([Buffer.from([5, Command.CONNECT]), reply.subarray(2)]));
        expect('value' in back && ipv6Bytes(back.value.host)).toEqual(ipv6Bytes(a));
        expect('value' in back && back.value.port).toBe(port);
      }),
      RUNS,
    );
  });
});
