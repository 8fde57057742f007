/**
 * Admission of a client session, as a pure function of its hello and the node's state:
 *
 *   hello → protocol version → ticket (signature, expiry; or a resume proof instead of
 *           the signature and the device proof, below) → revocation → device proof or
 *           replay verdict (single use)
 *         → segment (hosted? same mode as the ticket?) → the segment's plan (MAC or
 *           addresses, their holders) → who is superseded, or a refusal → welcome
 *
 * No socket and no session in it: it returns what the session is to do (supersede these
 * ports, attach by the plan, send this welcome), or the ElError to close it with. Only the
 * replay cache remembers the ticket (its id is used up even if admission fails later, as a
 * ticket is single use).
 *
 * A ticket bound to a device key (claim `dk`) is not single use: it is admitted only with
 * `hello.proof`, the key's signature over this connection's channel binding, which nobody
 * who merely saw the ticket (another node, a log) can make for a connection of their own.
 * So it may be used again within its lifetime, at any node, without the replay cache:
 * that is what lets any node admit a returning device without a broker.
 *
 * Resumption (resume-proof.ts): a node gives such a session the ticket's resume secret S
 * (welcome.resume). A hello with the same ticket and `resume`, S's HMAC over this
 * connection's channel binding, is admitted without the two Ed25519 checks (the
 * ticket's signature and `proof`): only a node of this cluster (K) that checked both
 * hands S out. Anything short of that (no K, no binding, an untrusted kid, no `dk`, a
 * proof that does not verify) takes the full path silently, never a refusal of its own.
 */
import type { KeyObject } from 'node:crypto';
import {
  CAP_GSO,
  CAP_USO,
  ElError,
  PROTOCOL_VERSION,
  resumeSecret,
  verifyHelloProof,
  verifyResumeProof,
  verifyTicket,
  verifyTicketUnsigned,
  type Hello,
  type Revocation,
  type TicketClaims,
  type Welcome,
} from '@elink/protocol';
import type { Segment, SessionPlan } from '../core/segment.js';
import type { Port } from '../core/port.js';
import type { ReplayVerdict } from './replay-cache.js';

/** What admission reads from the node (switch-node.ts implements it). */
export interface AdmissionState {
  readonly nodeId: string;
  /** Sent in welcome as `software` when set (e.g. "elink/0.1.0"). */
  readonly software?: string;
  /** Whether this node accepts the "gso" capability (and with it "uso"). */
  readonly gso: boolean;
  /** Broker public keys. */
  ticketKeys(): readonly KeyObject[];
  /** The cluster's resume key K (resumeKey()); absent: no resumption, and no welcome.resume. */
  readonly resumeKey?: Buffer | undefined;
  /** Single use of tickets: remembers `jti` until `exp` (ReplayCache). */
  readonly replay: { check(jti: string, exp: number): ReplayVerdict };
  /** Device key revocations pushed by the brokers (Revocations). */
  readonly revocations: { refusing(claims: TicketClaims): Revocation | undefined };
  /** A hosted segment by name, or why not. */
  segment(name: string): Segment | string;
  /** The ticket claims of the established session on `port`, if it is one of this node's. */
  claimsOn(port: Port): TicketClaims | undefined;
}

/** How a session was admitted: a single-use ticket, a ticket bound to a device key with
 * its proof (two Ed25519 checks), or a resume proof (two HMACs). */
export type AdmissionWay = 'ticket' | 'device_key' | 'resume';

/** What the session does when admitted. */
export interface Admission {
  readonly claims: TicketClaims;
  readonly way: AdmissionWay;
  readonly segment: Segment;
  /** The client offered "gso" and this node takes it. */
  readonly gso: boolean;
  /** The client offered "gso" and "uso" and this node takes gso: UDP super-frames too. */
  readonly uso: boolean;
  /** Sessions to end with bye "superseded" first: the same user and device, reconnecting. */
  readonly supersede: readonly Port[];
  /** How to attach, the longest FRAME to accept, a warning to log. */
  readonly plan: SessionPlan;
  readonly welcome: Welcome;
}

/**
 * `session`: the new session's id (sent in welcome); `channelBinding`: the connection's
 * (RecordConn.channelBinding), undefined when it has none. Never throws for a bad hello or ticket.
 */
export function admit(hello: Hello, node: AdmissionState, session: string, nowSeconds?: number, channelBinding?: Uint8Array): Admission | ElError {
  if (hello.version !== PROTOCOL_VERSION) {
    return new ElError('EL_ERR_PROTOCOL', `protocol version ${hello.version} is not supported (this node speaks ${PROTOCOL_VERSION})`);
  }
  let claims: TicketClaims;
  let way: AdmissionWay;
  const key = node.resumeKey;
  // S of this ticket: derived once, checked against hello.resume and sent in welcome.
  let secret = key !== undefined && channelBinding !== undefined && hello.resume !== undefined ? resumeSecret(key, hello.ticket) : undefined;
  const resumed = secret === undefined ? undefined : resumedClaims(hello, node, secret, channelBinding!, nowSeconds);
  if (resumed) {
    claims = resumed;
  } else {
    try {
      claims = verifyTicket(hello.ticket, node.ticketKeys(), nowSeconds);
    } catch (e) {
      if (e instanceof ElError) return e;
      throw e;
    }
  }
  if (node.revocations.refusing(claims)) return new ElError('EL_ERR_REVOKED', `the device key of user "${claims.sub}"${claims.dev === undefined ? '' : ` on device "${claims.dev}"`} was revoked; log in with the password again`);
  if (resumed) {
    way = 'resume';
  } else if (claims.dk !== undefined) {
    if (hello.proof === undefined) return new ElError('EL_ERR_BAD_TICKET', 'this ticket is bound to a device key: hello must carry its proof over the channel binding');
    if (channelBinding === undefined) return new ElError('EL_ERR_PROTOCOL', 'this connection has no channel binding (TLS 1.3 is needed) for a ticket bound to a device key');
    if (!verifyHelloProof(claims.dk, channelBinding, hello.proof)) return new ElError('EL_ERR_BAD_TICKET', 'the device key proof does not verify for this connection');
    way = 'device_key';
  } else {
    const verdict = node.replay.check(claims.jti, claims.exp);
    if (verdict === 'replayed') return new ElError('EL_ERR_TICKET_REPLAYED', 'this ticket was already used; log in again for a new one');
    if (verdict === 'full') return new ElError('EL_ERR_UNAVAILABLE', 'node too busy to accept new sessions (replay cache full); try another node');
    way = 'ticket';
  }
  const segment = node.segment(claims.seg);
  if (typeof segment === 'string') return new ElError('EL_ERR_WRONG_SEGMENT', segment);
  if (claims.mode !== segment.mode) return new ElError('EL_ERR_WRONG_SEGMENT', `ticket is for ${claims.mode} but segment "${segment.name}" is ${segment.mode}`);

  const plan = segment.planSession(claims, hello);
  if (plan instanceof ElError) return plan;
  // Whatever the session claims may be held only by the same device's older session
  // (its TCP connection not dead yet): that one is superseded, anyone else refuses.
  for (const holder of plan.holders) {
    const c = node.claimsOn(holder);
    if (c === undefined || c.sub !== claims.sub || c.dev !== claims.dev) return plan.inUse();
  }

  const gso = node.gso && (hello.caps?.includes(CAP_GSO) ?? false);
  // The node's gso setting covers UDP super-frames too: the switch only passes them on
  // or segments them (gso-egress.ts), as it does TCP ones.
  const uso = gso && (hello.caps?.includes(CAP_USO) ?? false);
  const def = segment.def;
  const welcome: Welcome = {
    type: 'welcome',
    session,
    node: node.nodeId,
    segment: def.name,
    mode: segment.mode,
    mtu: def.mtu,
    keepalive: { interval: def.keepalive.interval, timeout: def.keepalive.timeout },
  };
  if (gso) welcome.caps = uso ? [CAP_GSO, CAP_USO] : [CAP_GSO];
  if (node.software) welcome.software = node.software;
  // Only a ticket bound to a device key and checked over a channel binding (by either path) gets S.
  if (way !== 'ticket' && key !== undefined && channelBinding !== undefined) welcome.resume = secret ??= resumeSecret(key, hello.ticket);
  if (claims.ipv4) welcome.ipv4 = def.ipv4?.gateway ? { address: claims.ipv4, gateway: def.ipv4.gateway } : { address: claims.ipv4 };
  if (claims.ipv6) welcome.ipv6 = def.ipv6?.gateway ? { address: claims.ipv6, gateway: def.ipv6.gateway } : { address: claims.ipv6 };
  // Read at each admission: a reload that changes the segment's dns reaches new sessions.
  if (def.dns && def.dns.servers.length > 0) welcome.dns = def.dns.search.length > 0 ? { servers: [...def.dns.servers], search: [...def.dns.search] } : { servers: [...def.dns.servers] };
  Object.assign(welcome, plan.welcome);
  return { claims, way, segment, gso, uso, supersede: plan.holders, plan, welcome };
}

/** The ticket's claims when hello.resume proves S over this connection: everything of
 * verifyTicket but the signature, and a `dk`. Undefined otherwise (the full path then). */
function resumedClaims(hello: Hello, node: AdmissionState, secret: string, channelBinding: Uint8Array, nowSeconds: number | undefined): TicketClaims | undefined {
  if (hello.resume === undefined) return undefined;
  let claims: TicketClaims;
  try {
    claims = verifyTicketUnsigned(hello.ticket, node.ticketKeys(), nowSeconds);
  } catch {
    return undefined; // the full path says what is wrong with it
  }
  if (claims.dk === undefined) return undefined;
  return verifyResumeProof(secret, channelBinding, hello.resume) ? claims : undefined;
}
