import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { generateKeyPairSync } from 'node:crypto';
import { ElError, generateTicketKeyPair, rawDeviceKey, resumeKey, resumeProof, resumeSecret, segmentSchema, signHelloProof, signTicket, type Hello, type SegmentInput, type TicketClaims } from '@elink/protocol';
import { Revocations } from './revocations.js';
import { createSegment, type Segment } from '../core/segment.js';
import { L3Router } from '../core/l3/l3-segment.js';
import { MemoryPort } from '../ports/memory-port.js';
import type { Port } from '../core/port.js';
import { ReplayCache } from './replay-cache.js';
import { admit, type Admission, type AdmissionState } from './admit.js';

const keys = generateTicketKeyPair();
const otherKeys = generateTicketKeyPair();

function ticket(over: Partial<Omit<TicketClaims, 'v' | 'kid'>> = {}, key = keys.privateKey): string {
  const now = Math.floor(Date.now() / 1000);
  return signTicket({ jti: randomBytes(12).toString('base64url'), sub: 'alice', dev: 'laptop', seg: 'lan', mode: 'l2', iat: now, exp: now + 60, ...over }, key);
}

function hello(t: string, over: Partial<Hello> = {}): Hello {
  return { type: 'hello', version: 1, ticket: t, ...over };
}

/** A node's admission state over real segments, a real replay cache and a claims map. */
function nodeState(defs: SegmentInput[] = [{ name: 'lan' }, { name: 'rt', mode: 'l3', ipv4: { pool: '198.19.0.0/24' }, delegation: { ipv6: { pool: 'fd00:d0::/48', length: 56 } } }], over: Partial<AdmissionState> = {}) {
  const router = new L3Router();
  const segments = new Map<string, Segment>();
  for (const d of defs) {
    const def = segmentSchema.parse(d);
    segments.set(def.name, createSegment(def, { router, lookup: (n) => segments.get(n) }));
  }
  const claims = new Map<Port, TicketClaims>();
  const state: AdmissionState = {
    nodeId: 'sw-1',
    software: 'elink/test',
    gso: true,
    ticketKeys: () => [keys.publicKey],
    replay: new ReplayCache(100),
    revocations: new Revocations(),
    segment: (name) => segments.get(name) ?? `this node does not host segment "${name}"`,
    claimsOn: (port) => claims.get(port),
    ...over,
  };
  /** Admits and attaches like a session does; the port's claims are remembered. */
  const join = (h: Hello, port: Port = new MemoryPort()): Admission => {
    const a = admit(h, state, 's-test');
    if (a instanceof ElError) throw a;
    for (const p of a.supersede) a.segment.detach(p);
    expect(a.plan.attach(port)).toBeUndefined();
    claims.set(port, a.claims);
    return a;
  };
  return { state, segments, join };
}

function refused(a: Admission | ElError): ElError {
  expect(a).toBeInstanceOf(ElError);
  return a as ElError;
}

describe('admit', () => {
  it('admits an L2 hello: claims, segment, welcome, the frame limit, nothing to supersede', () => {
    const { state } = nodeState();
    const a = admit(hello(ticket(), { mac: '02:00:00:00:00:01', caps: ['gso'] }), state, 's-1');
    expect(a).not.toBeInstanceOf(ElError);
    const ok = a as Admission;
    expect(ok.claims.sub).toBe('alice');
    expect(ok.segment.name).toBe('lan');
    expect(ok.gso).toBe(true);
    expect(ok.uso).toBe(false);
    expect(ok.supersede).toEqual([]);
    expect(ok.plan.maxFrame).toBe(1500 + 18);
    expect(ok.welcome).toMatchObject({ type: 'welcome', session: 's-1', node: 'sw-1', segment: 'lan', mode: 'l2', mtu: 1500, caps: ['gso'], software: 'elink/test' });
  });

  it('admits an L3 hello with its addresses, prefix and routes in the welcome', () => {
    const { state } = nodeState();
    const a = admit(hello(ticket({ seg: 'rt', mode: 'l3', ipv4: '198.19.0.7/24', prefix: 'fd00:d0:0:100::/56' })), state, 's-2') as Admission;
    expect(a).not.toBeInstanceOf(ElError);
    expect(a.plan.maxFrame).toBe(1500);
    expect(a.welcome).toMatchObject({ mode: 'l3', ipv4: { address: '198.19.0.7/24' }, prefix: 'fd00:d0:0:100::/56', routes: [{ to: 'fd00:d0::/48' }] });
  });

  it('does not offer gso (nor uso) when the node does not take it', () => {
    const { state } = nodeState(undefined, { gso: false });
    const a = admit(hello(ticket(), { caps: ['gso', 'uso'] }), state, 's') as Admission;
    expect(a.gso).toBe(false);
    expect(a.uso).toBe(false);
    expect(a.welcome.caps).toBeUndefined();
  });

  it('takes uso beside gso when the hello names both, never uso alone', () => {
    const { state } = nodeState();
    const both = admit(hello(ticket({ sub: 'u1' }), { caps: ['uso', 'gso'] }), state, 's') as Admission;
    expect(both.uso).toBe(true);
    expect(both.welcome.caps).toEqual(['gso', 'uso']);
    const alone = admit(hello(ticket({ sub: 'u2' }), { caps: ['uso'] }), state, 's') as Admission;
    expect(alone.gso).toBe(false);
    expect(alone.uso).toBe(false);
    expect(alone.welcome.caps).toBeUndefined();
  });

  const cases: Array<[string, string, (n: ReturnType<typeof nodeState>) => Hello]> = [
    ['another protocol version', 'EL_ERR_PROTOCOL', () => hello(ticket(), { version: 2 })],
    ['a ticket signed by an unknown key', 'EL_ERR_BAD_TICKET', () => hello(ticket({}, otherKeys.privateKey))],
    ['a ticket that is not one', 'EL_ERR_BAD_TICKET', () => hello('el1.garbage')],
    ['an expired ticket', 'EL_ERR_TICKET_EXPIRED', () => hello(ticket({ iat: 1, exp: 2 }))],
    ['an unhosted segment', 'EL_ERR_WRONG_SEGMENT', () => hello(ticket({ seg: 'elsewhere' }))],
    ['a ticket of the other mode', 'EL_ERR_WRONG_SEGMENT', () => hello(ticket({ mode: 'l3' }))],
    ['a ticket MAC that is not one', 'EL_ERR_BAD_TICKET', () => hello(ticket({ mac: 'zz' }))],
    ['a hello MAC other than the ticket MAC', 'EL_ERR_PROTOCOL', () => hello(ticket({ mac: '02:00:00:00:00:01' }), { mac: '02:00:00:00:00:02' })],
    ['a multicast session MAC', 'EL_ERR_PROTOCOL', () => hello(ticket(), { mac: '03:00:00:00:00:01' })],
    ['an L3 ticket address that is not one', 'EL_ERR_BAD_TICKET', () => hello(ticket({ seg: 'rt', mode: 'l3', ipv4: 'nope' }))],
  ];
  for (const [what, code, make] of cases) {
    it(`refuses ${what} with ${code}`, () => {
      const n = nodeState();
      expect(refused(admit(make(n), n.state, 's')).code).toBe(code);
    });
  }

  it('refuses a replayed ticket with EL_ERR_TICKET_REPLAYED, and a full replay cache with EL_ERR_UNAVAILABLE', () => {
    const n = nodeState();
    const t = ticket();
    expect(admit(hello(t), n.state, 's')).not.toBeInstanceOf(ElError);
    expect(refused(admit(hello(t), n.state, 's')).code).toBe('EL_ERR_TICKET_REPLAYED');
    const full = nodeState(undefined, { replay: { check: () => 'full' } });
    expect(refused(admit(hello(ticket()), full.state, 's')).code).toBe('EL_ERR_UNAVAILABLE');
  });

  it('L2: supersedes the same user and device holding the MAC, refuses another with EL_ERR_MAC_IN_USE', () => {
    const n = nodeState();
    const mac = '02:00:00:00:00:07';
    const old = new MemoryPort('old');
    n.join(hello(ticket({ mac })), old);
    const again = admit(hello(ticket({ mac })), n.state, 's') as Admission;
    expect(again.supersede).toEqual([old]);
    const other = admit(hello(ticket({ mac, dev: 'phone' })), n.state, 's');
    expect(refused(other).code).toBe('EL_ERR_MAC_IN_USE');
    expect(refused(admit(hello(ticket({ mac, sub: 'bob' })), n.state, 's')).message).toContain(mac);
  });

  it('L3: supersedes the same device holding the address, refuses another with EL_ERR_ADDRESS_IN_USE', () => {
    const n = nodeState();
    const claims = { seg: 'rt', mode: 'l3' as const, ipv4: '198.19.0.9/24' };
    const old = new MemoryPort('old');
    n.join(hello(ticket(claims)), old);
    expect((admit(hello(ticket(claims)), n.state, 's') as Admission).supersede).toEqual([old]);
    const other = refused(admit(hello(ticket({ ...claims, sub: 'bob' })), n.state, 's'));
    expect(other.code).toBe('EL_ERR_ADDRESS_IN_USE');
    expect(other.message).toContain('198.19.0.9/32');
    // After the supersede, the new session attaches where the old one was.
    const a = n.join(hello(ticket(claims)));
    expect(a.supersede).toEqual([old]);
    expect(n.segments.get('rt')!.has(old)).toBe(false);
  });

  it('L3: refuses with EL_ERR_UNAVAILABLE when the segment reached maxRoutes', () => {
    const n = nodeState([{ name: 'rt', mode: 'l3', ipv4: { pool: '198.19.0.0/24' }, maxRoutes: 16 }]);
    for (let i = 0; i < 16; i++) n.join(hello(ticket({ seg: 'rt', mode: 'l3', ipv4: `198.19.0.${i + 2}/24`, dev: `d${i}` })));
    expect(refused(admit(hello(ticket({ seg: 'rt', mode: 'l3', ipv4: '198.19.0.99/24', dev: 'x' })), n.state, 's')).code).toBe('EL_ERR_UNAVAILABLE');
  });

  it('warns about a bridge session that may claim no LAN address', () => {
    const n = nodeState();
    expect((admit(hello(ticket({ macs: 8 })), n.state, 's') as Admission).plan.warning).toMatch(/no LAN ranges/);
    expect((admit(hello(ticket({ macs: 8, lan: ['192.168.7.0/24'] })), n.state, 's') as Admission).plan.warning).toBeUndefined();
  });
});

describe('admit: tickets bound to a device key', () => {
  const device = generateKeyPairSync('ed25519');
  const dk = rawDeviceKey(device.publicKey);
  const bindingA = randomBytes(32);
  const bindingB = randomBytes(32);

  it('admits a bound ticket with a proof over this connection, again and again (no replay cache), but never without it', () => {
    const { state } = nodeState();
    const t = ticket({ dk });
    for (let i = 0; i < 3; i++) {
      const a = admit(hello(t, { proof: signHelloProof(device.privateKey, bindingA) }), state, 's-test', undefined, bindingA);
      expect(a).not.toBeInstanceOf(ElError);
    }
    expect((state.replay as ReplayCache).size).toBe(0);
    expect(refused(admit(hello(t), state, 's-test', undefined, bindingA)).code).toBe('EL_ERR_BAD_TICKET');
  });

  it('refuses a proof made for another connection: a hello seen at one node is worthless at another', () => {
    const { state } = nodeState();
    const h = hello(ticket({ dk }), { proof: signHelloProof(device.privateKey, bindingA) });
    expect(admit(h, state, 's-test', undefined, bindingA)).not.toBeInstanceOf(ElError);
    const e = refused(admit(h, state, 's-test', undefined, bindingB));
    expect(e.code).toBe('EL_ERR_BAD_TICKET');
    expect(e.message).toMatch(/proof does not verify/);
  });

  it("refuses a proof by another key, and a bound ticket on a connection without channel binding", () => {
    const { state } = nodeState();
    const thief = generateKeyPairSync('ed25519');
    const t = ticket({ dk });
    expect(refused(admit(hello(t, { proof: signHelloProof(thief.privateKey, bindingA) }), state, 's-test', undefined, bindingA)).code).toBe('EL_ERR_BAD_TICKET');
    expect(refused(admit(hello(t, { proof: signHelloProof(device.privateKey, bindingA) }), state, 's-test', undefined, undefined)).code).toBe('EL_ERR_PROTOCOL');
  });

  it('keeps tickets without a device key single use, proof or not', () => {
    const { state } = nodeState();
    const h = hello(ticket(), { proof: signHelloProof(device.privateKey, bindingA) });
    expect(admit(h, state, 's-test', undefined, bindingA)).not.toBeInstanceOf(ElError);
    expect(refused(admit(h, state, 's-test', undefined, bindingA)).code).toBe('EL_ERR_TICKET_REPLAYED');
  });

  it('refuses tickets of a revoked user or device issued up to the revocation, not later ones nor others', () => {
    const { state } = nodeState();
    const now = Math.floor(Date.now() / 1000);
    (state.revocations as Revocations).apply([{ user: 'alice', device: 'laptop', at: now, until: now + 60 }]);
    const proof = signHelloProof(device.privateKey, bindingA);
    expect(refused(admit(hello(ticket({ dk, iat: now })), state, 's-test', undefined, bindingA)).code).toBe('EL_ERR_REVOKED');
    expect(refused(admit(hello(ticket({ iat: now - 5 })), state, 's-test')).code).toBe('EL_ERR_REVOKED');
    expect(admit(hello(ticket({ dk, iat: now + 1 }), { proof }), state, 's-test', undefined, bindingA)).not.toBeInstanceOf(ElError);
    expect(admit(hello(ticket({ dk, dev: 'phone', iat: now }), { proof }), state, 's-test', undefined, bindingA)).not.toBeInstanceOf(ElError);
    (state.revocations as Revocations).apply([{ user: 'alice', at: now, until: now + 60 }]);
    expect(refused(admit(hello(ticket({ dk, dev: 'phone', iat: now }), { proof }), state, 's-test', undefined, bindingA)).code).toBe('EL_ERR_REVOKED');
  });
});

describe('admit: resumption (resume proof)', () => {
  const device = generateKeyPairSync('ed25519');
  const dk = rawDeviceKey(device.publicKey);
  const K = resumeKey('cluster-secret-0123456789');
  const bindingA = randomBytes(32);
  const bindingB = randomBytes(32);
  const resumed = (t: string, binding: Uint8Array, over: Partial<Hello> = {}): Hello => hello(t, { resume: resumeProof(resumeSecret(K, t), binding), ...over });

  it('gives S in the welcome of a full-path bound admission, and admits a hello with its proof by resume, with the same S again', () => {
    const { state } = nodeState(undefined, { resumeKey: K });
    const t = ticket({ dk });
    const full = admit(hello(t, { proof: signHelloProof(device.privateKey, bindingA) }), state, 's-test', undefined, bindingA) as Admission;
    expect(full.way).toBe('device_key');
    const S = full.welcome.resume!;
    expect(S).toBe(resumeSecret(K, t));
    const again = admit(hello(t, { proof: signHelloProof(device.privateKey, bindingB), resume: resumeProof(S, bindingB) }), state, 's-test', undefined, bindingB) as Admission;
    expect(again.way).toBe('resume');
    expect(again.welcome.resume).toBe(S);
    expect(again.claims.dk).toBe(dk);
    expect((state.replay as ReplayCache).size).toBe(0);
  });

  it('checks neither the ticket signature nor hello.proof on the resume path (the two Ed25519 verifications)', () => {
    const { state } = nodeState(undefined, { resumeKey: K });
    const t = ticket({ dk });
    // The signature bytes altered: the full path refuses it; S derived for that text (as a
    // node of the cluster would have) admits it, so the signature was not verified.
    const sig = t.split('.')[2]!;
    const altered = `${t.slice(0, t.length - sig.length)}${sig[0] === 'A' ? 'B' : 'A'}${sig.slice(1)}`;
    expect(refused(admit(hello(altered, { proof: signHelloProof(device.privateKey, bindingA) }), state, 's-test', undefined, bindingA)).message).toMatch(/signature/);
    const thief = generateKeyPairSync('ed25519');
    // And hello.proof by another key (or none) is not looked at either.
    for (const proof of [undefined, signHelloProof(thief.privateKey, bindingA)]) {
      const a = admit(resumed(altered, bindingA, proof ? { proof } : {}), state, 's-test', undefined, bindingA) as Admission;
      expect(a.way).toBe('resume');
    }
  });

  it('falls back to the full path silently when the resume proof does not verify; refuses only what the full path refuses', () => {
    const { state } = nodeState(undefined, { resumeKey: K });
    const t = ticket({ dk });
    const proof = signHelloProof(device.privateKey, bindingA);
    const otherK = resumeKey('another-cluster-secret-0123');
    for (const resume of [resumeProof(resumeSecret(K, t), bindingB) /* another connection */, resumeProof(resumeSecret(otherK, t), bindingA) /* another cluster */, resumeProof(resumeSecret(K, ticket({ dk })), bindingA) /* another ticket */, 'garbage', '']) {
      const a = admit(hello(t, { proof, resume }), state, 's-test', undefined, bindingA) as Admission;
      expect(a.way).toBe('device_key');
      expect(a.welcome.resume).toBe(resumeSecret(K, t));
      // Without a good proof the full path says why, as it would without `resume`.
      expect(refused(admit(hello(t, { resume }), state, 's-test', undefined, bindingA)).code).toBe('EL_ERR_BAD_TICKET');
    }
    // A node without the key (or a connection without a binding): the full path, no S handed out.
    const { state: keyless } = nodeState();
    const a = admit(resumed(t, bindingA, { proof }), keyless, 's-test', undefined, bindingA) as Admission;
    expect(a.way).toBe('device_key');
    expect(a.welcome.resume).toBeUndefined();
  });

  it('still refuses an expired ticket, a revoked user or device and an untrusted kid, with the same codes', () => {
    const now = Math.floor(Date.now() / 1000);
    const { state } = nodeState(undefined, { resumeKey: K });
    expect(refused(admit(resumed(ticket({ dk, iat: now - 120, exp: now - 60 }), bindingA), state, 's-test', undefined, bindingA)).code).toBe('EL_ERR_TICKET_EXPIRED');
    const t = ticket({ dk, iat: now });
    expect(refused(admit(resumed(t, bindingA), state, 's-test', now + 60, bindingA)).code).toBe('EL_ERR_TICKET_EXPIRED');
    // The broker key that signed it is no longer trusted (rotated out): BAD_TICKET, as without resume.
    const { state: rotated } = nodeState(undefined, { resumeKey: K, ticketKeys: () => [otherKeys.publicKey] });
    expect(refused(admit(resumed(t, bindingA), rotated, 's-test', undefined, bindingA)).code).toBe('EL_ERR_BAD_TICKET');
    (state.revocations as Revocations).apply([{ user: 'alice', device: 'laptop', at: now, until: now + 60 }]);
    expect(refused(admit(resumed(t, bindingA), state, 's-test', undefined, bindingA)).code).toBe('EL_ERR_REVOKED');
    (state.revocations as Revocations).apply([{ user: 'alice', at: now, until: now + 60 }]);
    expect(refused(admit(resumed(ticket({ dk, dev: 'phone', iat: now }), bindingA), state, 's-test', undefined, bindingA)).code).toBe('EL_ERR_REVOKED');
  });

  it('never gives or takes S for a ticket without dk: it stays single use', () => {
    const { state } = nodeState(undefined, { resumeKey: K });
    const t = ticket();
    const first = admit(resumed(t, bindingA), state, 's-test', undefined, bindingA) as Admission;
    expect(first.way).toBe('ticket');
    expect(first.welcome.resume).toBeUndefined();
    expect(refused(admit(resumed(t, bindingA), state, 's-test', undefined, bindingA)).code).toBe('EL_ERR_TICKET_REPLAYED');
  });

  it('gives no S without a channel binding (nor admits a bound ticket there)', () => {
    const { state } = nodeState(undefined, { resumeKey: K });
    const t = ticket();
    const a = admit(hello(t), state, 's-test') as Admission;
    expect(a.way).toBe('ticket');
    expect(a.welcome.resume).toBeUndefined();
    expect(refused(admit(resumed(ticket({ dk }), bindingA), state, 's-test')).code).toBe('EL_ERR_BAD_TICKET');
  });
});
