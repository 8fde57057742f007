/**
 * Property-based tests of control-message parsing: arbitrary bytes, arbitrary JSON and
 * valid messages with one field replaced by anything either parse to a message that
 * matches its schema or fail with EL_ERR_BAD_CONTROL — never another exception.
 * fast-check prints the seed and the shrunk counterexample on failure.
 */
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { ElError } from './errors.js';
import { controlSchema, encodeControl, parseControl, type ControlMessage } from './control.js';
import { HEADER_LENGTH, MAX_CONTROL_PAYLOAD } from './records.js';

const RUNS = { numRuns: 300 };

/** Parses and returns the message, or the error code; anything but an ElError fails the test. */
function outcome(payload: Uint8Array): ControlMessage | string {
  try {
    return parseControl(payload);
  } catch (e) {
    if (!(e instanceof ElError)) throw new Error(`parseControl threw a non-ElError: ${String(e)}`);
    return e.code;
  }
}

function expectParsedOrBad(payload: Uint8Array): void {
  const r = outcome(payload);
  if (typeof r === 'string') expect(r).toBe('EL_ERR_BAD_CONTROL');
  else expect(controlSchema.safeParse(r).success).toBe(true);
}

const mac = fc.tuple(...Array.from({ length: 6 }, () => fc.nat(255))).map((b) => b.map((x) => x.toString(16).padStart(2, '0')).join(':'));

const validMessage: fc.Arbitrary<ControlMessage> = fc.oneof(
  fc.record(
    { type: fc.constant('hello' as const), version: fc.integer({ min: 1, max: 10 }), ticket: fc.string({ minLength: 1, maxLength: 200 }), mac, hostname: fc.string({ maxLength: 253 }), caps: fc.array(fc.string({ maxLength: 32 }), { maxLength: 32 }) },
    { requiredKeys: ['type', 'version', 'ticket'] },
  ),
  fc.record({ type: fc.constant('ping' as const), id: fc.integer() }),
  fc.record({ type: fc.constant('pong' as const), id: fc.integer() }),
  fc.record({ type: fc.constant('bye' as const), reason: fc.string({ maxLength: 256 }) }),
  fc.record({ type: fc.constant('redirect' as const), reason: fc.string({ maxLength: 256 }) }),
  fc.record({ type: fc.constant('error' as const), code: fc.string({ maxLength: 64 }), message: fc.string({ maxLength: 1024 }) }),
  fc.record(
    {
      type: fc.constant('welcome' as const),
      session: fc.string(),
      node: fc.string(),
      segment: fc.string(),
      mode: fc.constantFrom('l2' as const, 'l3' as const),
      mtu: fc.integer({ min: 576, max: 65535 }),
      keepalive: fc.record({ interval: fc.integer({ min: 1, max: 600 }), timeout: fc.integer({ min: 1, max: 600 }) }),
      routes: fc.array(fc.record({ to: fc.string({ maxLength: 64 }) }), { maxLength: 4 }),
    },
    { requiredKeys: ['type', 'session', 'node', 'segment', 'mode', 'mtu', 'keepalive'] },
  ),
);

/** The UTF-8 JSON text of a value, as a peer would send it. */
const encode = (v: unknown): Buffer => Buffer.from(JSON.stringify(v) ?? 'null', 'utf8');

describe('parseControl under arbitrary input (fast-check)', () => {
  it('arbitrary bytes: a message or EL_ERR_BAD_CONTROL', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 512 }), (bytes) => expectParsedOrBad(bytes)), RUNS);
  });

  it('arbitrary JSON values (any Unicode, prototype-looking keys): a message or EL_ERR_BAD_CONTROL', () => {
    const keys = fc.oneof(fc.string(), fc.constantFrom('__proto__', 'constructor', 'prototype', 'type', 'toString'));
    const json = fc.jsonValue({ maxDepth: 4 }).chain((v) => fc.oneof(fc.constant(v), fc.dictionary(keys, fc.constant(v), { maxKeys: 4 })));
    fc.assert(fc.property(json, (v) => expectParsedOrBad(encode(v))), RUNS);
  });

  it('valid messages survive encode and parse unchanged', () => {
    fc.assert(
      fc.property(validMessage, (msg) => {
        const rec = encodeControl(msg);
        expect(parseControl(rec.subarray(HEADER_LENGTH))).toEqual(msg);
      }),
      RUNS,
    );
  });

  it('a valid message with one field replaced by any JSON value, or with a known type swapped in: a message or EL_ERR_BAD_CONTROL', () => {
    const mutated = fc.tuple(validMessage, fc.nat(), fc.jsonValue({ maxDepth: 3 }), fc.constantFrom('hello', 'welcome', 'ping', 'pong', 'bye', 'redirect', 'error', 'HELLO', '', 'x')).map(([msg, i, value, type]) => {
      const o: Record<string, unknown> = { ...msg };
      const keys = Object.keys(o);
      const key = keys[i % keys.length];
      o[key] = key === 'type' ? type : value;
      return o;
    });
    fc.assert(fc.property(mutated, (o) => expectParsedOrBad(encode(o))), RUNS);
  });

  it('valid JSON made invalid UTF-8, or over the size limit: EL_ERR_BAD_CONTROL', () => {
    fc.assert(
      fc.property(validMessage, fc.nat(), fc.constantFrom(0xc0, 0xc1, 0xf5, 0xf8, 0xfe, 0xff), (msg, at, bad) => {
        const bytes = Buffer.from(encode(msg));
        bytes[at % bytes.length] = bad;
        // Bytes that never occur in UTF-8 (overlong leads, above U+10FFFF): always rejected.
        expect(outcome(bytes)).toBe('EL_ERR_BAD_CONTROL');
      }),
      RUNS,
    );
    const big = Buffer.from(JSON.stringify({ type: 'bye', reason: 'x'.repeat(MAX_CONTROL_PAYLOAD) }));
    expect(outcome(big)).toBe('EL_ERR_BAD_CONTROL');
  });
});
