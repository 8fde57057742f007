/**
 * Every error Emotion Link reports carries a stable code. The same code goes on the
 * wire (`error` control messages), into logs, and into docs/errors.md.
 */
export const ErrorCodes = {
  /** A record's type byte is not one this side accepts at this point. */
  EL_ERR_UNKNOWN_RECORD: 'unknown record type',
  /** A record's length exceeds the limit for its type (segment MTU, control size). */
  EL_ERR_RECORD_TOO_LONG: 'record longer than allowed',
  /** A control record is not valid UTF-8 JSON or does not match its schema. */
  EL_ERR_BAD_CONTROL: 'malformed control message',
  /** The peer broke the session's order (e.g. a frame before `hello`). */
  EL_ERR_PROTOCOL: 'protocol violation',
  /** No valid `hello` arrived in time. */
  EL_ERR_HELLO_TIMEOUT: 'no hello in time',
  /** The ticket's signature, format or version is invalid. */
  EL_ERR_BAD_TICKET: 'invalid ticket',
  /** The ticket's expiry has passed. */
  EL_ERR_TICKET_EXPIRED: 'ticket expired',
  /** The ticket was already used on this node. */
  EL_ERR_TICKET_REPLAYED: 'ticket already used',
  /** The ticket is for a segment this node does not host or the hello named another. */
  EL_ERR_WRONG_SEGMENT: 'ticket not valid for this segment',
  /** The MAC in `hello` belongs to another live session in the segment. */
  EL_ERR_MAC_IN_USE: 'MAC address in use by another session',
  /** L3: an address or delegated prefix of the ticket is routed to another live session. */
  EL_ERR_ADDRESS_IN_USE: 'address in use by another session',
  /** Nothing heard from the peer within the keepalive timeout. */
  EL_ERR_KEEPALIVE_TIMEOUT: 'keepalive timeout',
  /** The node is at its session capacity or shutting down. */
  EL_ERR_UNAVAILABLE: 'service unavailable',
  /** The peer could not keep up with what was sent to it. */
  EL_ERR_SLOW_PEER: 'peer too slow',
  /** The device's key, or every key of its user, was revoked (an administrator): log in with the password again. */
  EL_ERR_REVOKED: 'device key revoked',
  /** Client: another client with the same user and device took over the session (the switch's `bye` "superseded"). */
  EL_ERR_SUPERSEDED: 'session taken over by another client with the same user and device',
  /** Client: a server's TLS certificate failed verification (untrusted issuer, wrong name, expired). */
  EL_ERR_CERTIFICATE: 'certificate not trusted',
  /** Client: the HTTP proxy refused our credentials or wants some (407 to CONNECT or the broker request). */
  EL_ERR_PROXY_AUTH: 'proxy authentication failed',
  /** Client: the HTTP proxy refused the CONNECT tunnel (403 by policy, 502/503/504 when it cannot reach the destination). */
  EL_ERR_PROXY_REFUSED: 'proxy refused the tunnel',
  /** Client: the HTTP proxy could not be reached or did not answer in time. */
  EL_ERR_PROXY_UNREACHABLE: 'proxy unreachable',
  /** Broker: bad user name or password (deliberately the same for both). */
  EL_ERR_AUTH: 'authentication failed',
  /** Broker: the user may not join the requested segment. */
  EL_ERR_FORBIDDEN: 'segment not allowed',
  /** Broker: no such segment. */
  EL_ERR_NO_SEGMENT: 'no such segment',
  /** Broker: the segment's address pool has no free address. */
  EL_ERR_POOL_EXHAUSTED: 'address pool exhausted',
  /** Broker: the user already holds leases for as many devices as allowed (`broker.maxDevicesPerUser`). */
  EL_ERR_DEVICE_LIMIT: 'too many devices for this user',
  /** Broker: too many attempts. */
  EL_ERR_RATE_LIMITED: 'too many attempts',
  /** Broker: no switch node can take the session. */
  EL_ERR_NO_NODE: 'no switch node available',
  /** Request body or configuration value is invalid. */
  EL_ERR_INVALID: 'invalid input',
  /** Configuration file problem. */
  EL_ERR_CONFIG: 'invalid configuration',
  /** TAP/TUN device problem (missing /dev/net/tun, permission, busy name). */
  EL_ERR_TUNTAP: 'TAP/TUN device error',
  /** A listener could not bind its address and port (in use, not on this host, privileged). */
  EL_ERR_LISTEN: 'cannot listen on the configured address',
  /** Trunk: the peer node did not prove the trunk secret (wrong or missing `switch.trunk.secret`). */
  EL_ERR_TRUNK_AUTH: 'trunk authentication failed',
  EL_ERR_TRUNK_CERT: 'trunk certificate does not name the node',
  /** Console: a state-changing request with the session cookie lacked the session's `x-el-csrf` header. */
  EL_ERR_CSRF: 'missing or wrong CSRF token',
  /** An administrator disabled this user: logins are refused until it is enabled again. */
  EL_ERR_DISABLED: 'user disabled',
  /** Admin API: the session, node or user named in the request does not exist (any more). */
  EL_ERR_NOT_FOUND: 'not found',
  /** Internal error: a bug; the message says where. */
  EL_ERR_INTERNAL: 'internal error',
} as const;

export type ErrorCode = keyof typeof ErrorCodes;

export function isErrorCode(s: unknown): s is ErrorCode {
  return typeof s === 'string' && Object.hasOwn(ErrorCodes, s);
}

export class ElError extends Error {
  override readonly name = 'ElError';
  constructor(
    readonly code: ErrorCode,
    message?: string,
    options?: { cause?: unknown },
  ) {
    super(message ?? ErrorCodes[code], options);
  }
}
