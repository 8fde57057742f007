import { describe, expect, it } from 'vitest';
import { ElError } from '../errors.js';
import { loginReplySchema, loginRequestSchema } from './login.js';
import { parseReply, parseRequest } from './wire.js';

const challenge = '0123456789abcdef0123456789abcdef';
const reply = {
  ticket: 'eyJ0.sig',
  expiresAt: '2026-11-29T18:00:00.000Z',
  servers: [{ node: 'sw-1', host: '127.0.0.1', port: 4443, fingerprint: 'AB:CD' }],
  segment: 'lan',
  mode: 'l2',
  mac: '02:00:5e:00:00:01',
};

/** The first issue's path and message, or 'ok'. */
function issue(result: { success: boolean; error?: { issues: { path: PropertyKey[]; message: string }[] } }): string {
  if (result.success) return 'ok';
  const i = result.error!.issues[0]!;
  return `${i.path.join('.')}: ${i.message}`;
}

describe('POST /v1/login request', () => {
  it('takes a password login and a challenge–response login, with the optional fields', () => {
    expect(loginRequestSchema.parse({ user: 'alice', password: 'pw', segment: 'lan', device: 'phone', prefix: true, remember: 'r' })).toEqual({ user: 'alice', password: 'pw', segment: 'lan', device: 'phone', prefix: true, remember: 'r' });
    expect(loginRequestSchema.parse({ user: 'alice', challenge, digest: challenge.toUpperCase() })).toEqual({ user: 'alice', challenge, digest: challenge.toUpperCase() });
  });

  it('refuses neither or both credentials, half a challenge, unknown keys and bad names, naming the field', () => {
    expect(issue(loginRequestSchema.safeParse({ user: 'alice' }))).toBe('password: give either password, or challenge and digest');
    expect(issue(loginRequestSchema.safeParse({ user: 'alice', password: 'pw', challenge, digest: challenge }))).toBe('password: give either password, or challenge and digest, not both');
    expect(issue(loginRequestSchema.safeParse({ user: 'alice', challenge }))).toBe('digest: challenge and digest go together');
    expect(issue(loginRequestSchema.safeParse({ user: 'alice', digest: challenge }))).toBe('challenge: challenge and digest go together');
    expect(issue(loginRequestSchema.safeParse({ user: 'alice', password: 'pw', extra: true }))).toMatch(/Unrecognized key: "extra"/);
    expect(issue(loginRequestSchema.safeParse({ user: 'alice', password: 'pw', segment: 'Bad Name' }))).toMatch(/^segment: lower-case letters/);
    expect(issue(loginRequestSchema.safeParse({ user: '', password: 'pw' }))).toMatch(/^user: /);
    expect(issue(loginRequestSchema.safeParse({ user: 'alice', challenge: 'ABCDEF0123456789ABCDEF0123456789', digest: challenge }))).toMatch(/^challenge: 32 lower-case hex digits/);
    expect(issue(loginRequestSchema.safeParse([]))).toMatch(/expected object/);
  });

  it('parseRequest answers EL_ERR_INVALID naming the field', () => {
    expect(() => parseRequest(loginRequestSchema, { user: 42, password: 'pw' })).toThrow(expect.objectContaining({ code: 'EL_ERR_INVALID', message: expect.stringMatching(/^invalid request: field "user": Invalid input: expected string, received number$/) }));
  });
});

describe('POST /v1/login reply', () => {
  it('takes what the broker sends, optional addresses included, and ignores fields it does not know', () => {
    const full = { ...reply, ipv4: '198.19.0.2/24', ipv6: 'fd00::2/64', prefix: 'fd00:1::/56', prefix4: '10.1.0.0/28', remember: 'token' };
    expect(loginReplySchema.parse(full)).toEqual(full);
    expect(loginReplySchema.parse({ ...reply, futureField: 1 })).toEqual(reply);
  });

  it('requires the MAC (the client used to take a reply without one) and at least one server', () => {
    const { mac: _, ...noMac } = reply;
    expect(issue(loginReplySchema.safeParse(noMac))).toMatch(/^mac: /);
    expect(issue(loginReplySchema.safeParse({ ...reply, mac: '02-00-5E-00-00-01' }))).toBe('mac: a MAC like 02:00:5e:00:00:01');
    expect(issue(loginReplySchema.safeParse({ ...reply, servers: [] }))).toMatch(/^servers: Too small/);
    expect(issue(loginReplySchema.safeParse({ ...reply, servers: [{ node: 'sw-1', host: '127.0.0.1', port: 0 }] }))).toMatch(/^servers\.0\.port: Too small/);
    expect(issue(loginReplySchema.safeParse({ ...reply, mode: 'l4' }))).toMatch(/^mode: /);
    expect(issue(loginReplySchema.safeParse({ ...reply, expiresAt: 'tomorrow' }))).toMatch(/^expiresAt: /);
  });

  it('parseReply answers EL_ERR_PROTOCOL naming what and the field', () => {
    let err: unknown;
    try {
      parseReply(loginReplySchema, { ...reply, servers: [{ node: 'sw-1', host: '127.0.0.1', port: '4443' }] }, 'the login reply');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ElError);
    expect((err as ElError).code).toBe('EL_ERR_PROTOCOL');
    expect((err as ElError).message).toMatch(/^the login reply does not match the protocol: field "servers\.0\.port": Invalid input: expected number, received string/);
    expect(() => parseReply(loginReplySchema, undefined, 'the login reply')).toThrow(/field "\(the whole body\)"/);
  });
});
