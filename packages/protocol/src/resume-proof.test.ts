import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { isResumeText, resumeKey, resumeProof, resumeSecret, verifyResumeProof } from './resume-proof.js';
import { helloSchema, parseControl, welcomeSchema } from './control.js';
import { signHelloProof } from './device-key.js';

const K = resumeKey('a-cluster-secret-of-32-characters');
const ticket = 'el1.eyJ2IjoxfQ.c2lnbmF0dXJl';
const binding = randomBytes(32);

describe('resume proof', () => {
  it('derives the same K from the same cluster secret (every node), another from another', () => {
    expect(K).toHaveLength(32);
    expect(resumeKey('a-cluster-secret-of-32-characters').equals(K)).toBe(true);
    expect(resumeKey('another-cluster-secret-of-32-chars').equals(K)).toBe(false);
  });

  it('gives a 43-character S per ticket, and verifies a proof only for its S and binding', () => {
    const S = resumeSecret(K, ticket);
    expect(isResumeText(S)).toBe(true);
    expect(resumeSecret(K, ticket)).toBe(S);
    const proof = resumeProof(S, binding);
    expect(isResumeText(proof)).toBe(true);
    expect(verifyResumeProof(S, binding, proof)).toBe(true);
    // Another connection's binding: a seen hello is worthless elsewhere.
    expect(verifyResumeProof(S, randomBytes(32), proof)).toBe(false);
    // Another ticket (one character off), or the same ticket under another cluster's K.
    expect(verifyResumeProof(resumeSecret(K, `${ticket}A`), binding, proof)).toBe(false);
    expect(verifyResumeProof(resumeSecret(resumeKey('another-cluster-secret-of-32-chars'), ticket), binding, proof)).toBe(false);
    // S itself is not a proof.
    expect(verifyResumeProof(S, binding, S)).toBe(false);
  });

  it('never takes an Ed25519 hello proof or key material for a resume proof (other context strings)', () => {
    const S = resumeSecret(K, ticket);
    const device = generateKeyPairSync('ed25519');
    expect(verifyResumeProof(S, binding, signHelloProof(device.privateKey, binding))).toBe(false);
    // S as a key with the secret's context (a "secret" of S) is not the proof of S.
    expect(resumeSecret(Buffer.from(S, 'base64url'), '')).not.toBe(resumeProof(S, Buffer.alloc(0)));
  });

  it('refuses malformed proofs and secrets without throwing (constant-time compare on 32 bytes only)', () => {
    const S = resumeSecret(K, ticket);
    const proof = resumeProof(S, binding);
    for (const bad of ['', 'garbage', proof.slice(1), `${proof}A`, `${proof.slice(0, 42)}B` /* spare bits set */, `${proof.slice(0, 41)}+A`, proof.replace(/.$/, '=')]) {
      expect(verifyResumeProof(S, binding, bad)).toBe(false);
    }
    expect(verifyResumeProof('garbage', binding, proof)).toBe(false);
    // One bit off anywhere in the proof's bytes: refused.
    const bytes = Buffer.from(proof, 'base64url');
    for (const at of [0, 15, 31]) {
      const flipped = Buffer.from(bytes);
      flipped[at]! ^= 1;
      expect(verifyResumeProof(S, binding, flipped.toString('base64url'))).toBe(false);
    }
  });

  it('hello.resume and welcome.resume are optional and lenient: a malformed one parses (and is ignored later), an older peer drops them', () => {
    const hello = { type: 'hello', version: 1, ticket };
    expect(parseControl(Buffer.from(JSON.stringify({ ...hello, resume: resumeProof(resumeSecret(K, ticket), binding) })))).toMatchObject({ resume: expect.any(String) });
    expect(parseControl(Buffer.from(JSON.stringify({ ...hello, resume: 'not base64url!' })))).toMatchObject({ resume: 'not base64url!' });
    expect(() => parseControl(Buffer.from(JSON.stringify({ ...hello, resume: 'x'.repeat(129) })))).toThrow(/at resume/);
    // A peer that predates the field: zod objects strip unknown keys, so it reads the rest.
    const older = helloSchema.omit({ resume: true });
    expect(older.parse({ ...hello, resume: 'r' })).toEqual(hello);
    const welcome = { type: 'welcome', session: 's', node: 'n', segment: 'x', mode: 'l2', mtu: 1500, keepalive: { interval: 1, timeout: 3 } };
    expect(welcomeSchema.omit({ resume: true }).parse({ ...welcome, resume: resumeSecret(K, ticket) })).toEqual(welcome);
    expect(parseControl(Buffer.from(JSON.stringify(welcome)))).toEqual(welcome);
  });
});
