import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { segmentSchema } from '../segment.js';
import { heartbeatReplySchema, heartbeatRequestSchema } from './heartbeat.js';

const beat = { node: 'sw-1', hosts: ['127.0.0.1'], port: 4443, fingerprint: Array(32).fill('AB').join(':'), capacity: 100, sessions: 3, segments: ['lan'], active: ['lan'], draining: false };
const pem = generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }).toString();

function issue(result: { success: boolean; error?: { issues: { path: PropertyKey[]; message: string }[] } }): string {
  if (result.success) return 'ok';
  const i = result.error!.issues[0]!;
  return `${i.path.join('.')}: ${i.message}`;
}

describe('POST /v1/nodes/heartbeat request', () => {
  it('takes what a node sends, the fingerprint optional', () => {
    expect(heartbeatRequestSchema.parse(beat)).toEqual(beat);
    const { fingerprint: _, ...noPin } = beat;
    expect(heartbeatRequestSchema.parse(noPin)).toEqual(noPin);
  });

  it('refuses unknown keys, missing fields and values out of range', () => {
    expect(issue(heartbeatRequestSchema.safeParse({ ...beat, extra: 1 }))).toMatch(/Unrecognized key: "extra"/);
    const { draining: _, ...noDraining } = beat;
    expect(issue(heartbeatRequestSchema.safeParse(noDraining))).toMatch(/^draining: /);
    expect(issue(heartbeatRequestSchema.safeParse({ ...beat, hosts: [] }))).toMatch(/^hosts: Too small/);
    expect(issue(heartbeatRequestSchema.safeParse({ ...beat, port: 65536 }))).toMatch(/^port: Too big/);
    expect(issue(heartbeatRequestSchema.safeParse({ ...beat, capacity: 0 }))).toMatch(/^capacity: Too small/);
    expect(issue(heartbeatRequestSchema.safeParse({ ...beat, fingerprint: 'AB:CD' }))).toMatch(/^fingerprint: a SHA-256 fingerprint/);
  });
});

describe('POST /v1/nodes/heartbeat reply', () => {
  it('carries keys and segment definitions as the broker parsed them, every field kept for the node to parse', () => {
    const segment = segmentSchema.parse({ name: 'lan', mode: 'l3', ipv4: { pool: '198.19.0.0/24' } });
    const parsed = heartbeatReplySchema.parse({ keys: [pem], segments: [segment], heartbeatSeconds: 5 });
    expect(parsed.segments[0]).toEqual(segment);
    expect(segmentSchema.parse(parsed.segments[0])).toEqual(segment);
  });

  it('requires a key, a name on each segment and heartbeatSeconds (the node used to take a reply without it)', () => {
    expect(issue(heartbeatReplySchema.safeParse({ keys: [], segments: [], heartbeatSeconds: 5 }))).toMatch(/^keys: Too small/);
    expect(issue(heartbeatReplySchema.safeParse({ keys: ['not a key'], segments: [], heartbeatSeconds: 5 }))).toBe('keys.0: a PEM public key');
    expect(issue(heartbeatReplySchema.safeParse({ keys: [pem], segments: [{ mode: 'l2' }], heartbeatSeconds: 5 }))).toMatch(/^segments\.0\.name: /);
    expect(issue(heartbeatReplySchema.safeParse({ keys: [pem], segments: [] }))).toMatch(/^heartbeatSeconds: /);
  });
});

describe('heartbeat reply: revocations', () => {
  const reply = { keys: [pem], segments: [], heartbeatSeconds: 5 };
  it('takes a bounded list of revocations, and a reply without one', () => {
    expect(heartbeatReplySchema.parse(reply).revoked).toBeUndefined();
    const revoked = [{ user: 'amy', device: 'laptop', at: 100, until: 700 }, { user: 'bob', at: 100, until: 700 }];
    expect(heartbeatReplySchema.parse({ ...reply, revoked }).revoked).toEqual(revoked);
    const many = Array.from({ length: 1025 }, (_, i) => ({ user: `u${i}`, at: 1, until: 2 }));
    expect(issue(heartbeatReplySchema.safeParse({ ...reply, revoked: many }))).toMatch(/^revoked: Too big/);
    expect(issue(heartbeatReplySchema.safeParse({ ...reply, revoked: [{ user: '', at: 1, until: 2 }] }))).toMatch(/^revoked\.0\.user: /);
  });
});
