/**
 * Property-based tests of trunk control parsing: arbitrary bytes, arbitrary JSON and valid
 * messages with one field replaced by anything either parse to a message that matches its
 * schema or fail with EL_ERR_BAD_CONTROL — never another exception. And every valid
 * update the trunk may send (MAX_UPDATE_ENTRIES entries of the longest keys) fits a record.
 * And the resync request, the replay mark and an add's owner and age parse as docs/protocol.md §9 says.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ElError } from './errors.js';
import { MAX_CONTROL_PAYLOAD } from './records.js';
import { encodeTrunkControlPayload, endpointOwner, MAX_ENDPOINT_AGE_MS, MAX_UPDATE_ENTRIES, OWNER_LENGTH, parseTrunkControl, trunkControlSchema, type TrunkControl } from './trunk-control.js';

const RUNS = { numRuns: 300 };

function expectParsedOrBad(payload: Uint8Array): void {
  let r: TrunkControl | string;
  try {
    r = parseTrunkControl(payload);
  } catch (e) {
    if (!(e instanceof ElError)) throw new Error(`parseTrunkControl threw a non-ElError: ${String(e)}`);
    r = e.code;
  }
  if (typeof r === 'string') expect(r).toBe('EL_ERR_BAD_CONTROL');
  else expect(trunkControlSchema.safeParse(r).success).toBe(true);
}

const key = fc.string({ minLength: 1, maxLength: 64 });
const valid: fc.Arbitrary<Record<string, unknown>> = fc.oneof(
  fc.record({
    type: fc.constant('trunk_hello'),
    version: fc.integer({ min: 1, max: 3 }),
    node: fc.string({ minLength: 1, maxLength: 64 }),
    role: fc.constantFrom('dial', 'accept'),
    proof: fc.base64String({ minLength: 4, maxLength: 64 }),
    segments: fc.array(fc.record({ name: fc.string({ minLength: 1, maxLength: 128 }), id: fc.nat(), mode: fc.constantFrom('l2', 'l3') }), { maxLength: 8 }),
  }),
  fc.record({ type: fc.constant('segments'), segments: fc.array(fc.record({ name: fc.string({ minLength: 1, maxLength: 128 }), id: fc.nat(), mode: fc.constantFrom('l2', 'l3') }), { maxLength: 8 }) }),
  fc.record({ type: fc.constant('update'), segment: fc.nat(), add: fc.array(fc.tuple(key, fc.nat()), { maxLength: 8 }), del: fc.array(key, { maxLength: 8 }) }),
  fc.record({ type: fc.constant('update'), segment: fc.nat(), add: fc.array(fc.tuple(key, fc.nat()), { maxLength: 8 }), replay: fc.boolean() }),
  fc.record({ type: fc.constant('resync'), segment: fc.nat() }),
  fc.record({ type: fc.constantFrom('ping', 'pong'), id: fc.integer() }),
  fc.record({ type: fc.constant('error'), code: fc.string({ maxLength: 64 }), message: fc.string({ maxLength: 1024 }) }),
);

const parse = (o: unknown): TrunkControl => parseTrunkControl(Buffer.from(JSON.stringify(o)));

describe('parseTrunkControl', () => {
  it('arbitrary bytes: a message or EL_ERR_BAD_CONTROL', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 512 }), (b) => expectParsedOrBad(b)), RUNS);
  });

  it('arbitrary JSON: a message or EL_ERR_BAD_CONTROL', () => {
    fc.assert(fc.property(fc.json(), (j) => expectParsedOrBad(Buffer.from(j))), RUNS);
  });

  it('valid messages round-trip; one field replaced by anything parses or is refused', () => {
    fc.assert(
      fc.property(valid, fc.anything(), fc.nat(), (msg, junk, pick) => {
        expect(parseTrunkControl(Buffer.from(JSON.stringify(msg)))).toMatchObject(msg);
        const keys = Object.keys(msg);
        const bent = { ...msg, [keys[pick % keys.length]!]: junk };
        let text: string | undefined;
        try {
          text = JSON.stringify(bent);
        } catch {
          return; // a BigInt or a cycle: not JSON
        }
        if (text !== undefined) expectParsedOrBad(Buffer.from(text));
      }),
      RUNS,
    );
  });

  it('resync: a segment id (0 … 2^32 − 1) and nothing else needed; an update may be marked replay', () => {
    expect(parse({ type: 'resync', segment: 0xffffffff })).toEqual({ type: 'resync', segment: 0xffffffff });
    expect(parse({ type: 'resync', segment: 7, later: 'ignored' })).toEqual({ type: 'resync', segment: 7 });
    for (const bad of [{ type: 'resync' }, { type: 'resync', segment: -1 }, { type: 'resync', segment: 2 ** 32 }, { type: 'resync', segment: 1.5 }, { type: 'resync', segment: '7' }]) {
      expect(() => parse(bad), JSON.stringify(bad)).toThrow(expect.objectContaining({ code: 'EL_ERR_BAD_CONTROL' }));
    }
    expect(parse({ type: 'update', segment: 1, add: [['02:00:00:00:00:01', 3]], replay: true })).toEqual({ type: 'update', segment: 1, add: [['02:00:00:00:00:01', 3]], del: [], replay: true });
    expect(parse({ type: 'update', segment: 1 })).not.toHaveProperty('replay');
    expect(() => parse({ type: 'update', segment: 1, replay: 'yes' })).toThrow(expect.objectContaining({ code: 'EL_ERR_BAD_CONTROL' }));
  });

  it('the largest update the trunk sends fits one control record, owners and ages included', () => {
    const longest = 'f'.repeat(64);
    const add: [string, number, string, number][] = Array.from({ length: MAX_UPDATE_ENTRIES }, () => [longest, Number.MAX_SAFE_INTEGER, endpointOwner('u'.repeat(256), 'd'.repeat(256)), MAX_ENDPOINT_AGE_MS]);
    const payload = encodeTrunkControlPayload({ type: 'update', segment: 0xffffffff, add, del: [], replay: true });
    expect(payload.length).toBeLessThanOrEqual(MAX_CONTROL_PAYLOAD);
    expect(parseTrunkControl(payload)).toMatchObject({ add });
  });

  it('an add takes an owner and an age after key and seq, and nothing else', () => {
    const owner = endpointOwner('alice', 'laptop');
    expect(owner).toHaveLength(OWNER_LENGTH);
    expect(parse({ type: 'update', segment: 1, add: [['198.19.0.5/32', 1, owner, 1500]] })).toMatchObject({ add: [['198.19.0.5/32', 1, owner, 1500]] });
    expect(parse({ type: 'update', segment: 1, add: [['198.19.0.5/32', 1]] })).toMatchObject({ add: [['198.19.0.5/32', 1]] });
    for (const entry of [
      ['198.19.0.5/32', 1, owner, 1500, 'more'],
      ['198.19.0.5/32', 1, 'short', 1500],
      ['198.19.0.5/32', 1, owner, -1],
      ['198.19.0.5/32', 1, owner, MAX_ENDPOINT_AGE_MS + 1],
      ['198.19.0.5/32', 1, owner, 1.5],
      ['198.19.0.5/32', 1, null, 1500],
    ]) {
      expect(() => parse({ type: 'update', segment: 1, add: [entry] }), JSON.stringify(entry)).toThrow(expect.objectContaining({ code: 'EL_ERR_BAD_CONTROL' }));
    }
  });

  it('endpointOwner is one value per user and device, the same on every node', () => {
    // docs/protocol.md §9.3: SHA-256 of ["el-owner",user,device] (null without one), 12 bytes, base64url.
    expect(endpointOwner('alice', 'laptop')).toBe('Wy4hwYuADK_nu7wx');
    expect(endpointOwner('alice', undefined)).toBe('-1xb01nhsyqju_Bc');
    expect(endpointOwner('alice', 'laptop')).toBe(endpointOwner('alice', 'laptop'));
    expect(new Set([endpointOwner('alice', 'laptop'), endpointOwner('alice', 'phone'), endpointOwner('alice', undefined), endpointOwner('bob', 'laptop'), endpointOwner('alicelaptop', ''), endpointOwner('alice', '')]).size).toBe(6);
  });
});
