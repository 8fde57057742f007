/**
 * The exit status of `elink connect` (and `elink bridge`) for each permanent failure, and
 * what to change, in the command's own flags. One status per thing to fix, so that a
 * supervisor can tell "restart me" (1) from "a person must act" (2–7): a systemd unit
 * sets RestartPreventExitStatus=2 3 4 5 6 7.
 */
import { hostname } from 'node:os';
import type { ElError, ErrorCode } from '@elink/protocol';

interface ExitStatus {
  status: number;
  codes: readonly ErrorCode[];
  /** For --help. */
  meaning: string;
  /** What to do, after the error's own message. */
  hint: (err: ElError) => string;
}

export const CONNECT_EXIT_STATUSES: readonly ExitStatus[] = [
  {
    status: 2,
    codes: ['EL_ERR_INVALID'],
    meaning: 'bad usage, or a login the broker calls invalid',
    hint: () => 'see elink connect --help',
  },
  {
    status: 3,
    codes: ['EL_ERR_CERTIFICATE'],
    meaning: 'server certificate not trusted: check --ca',
    hint: (err) => {
      const tls = (err.cause as { code?: unknown } | undefined)?.code;
      if (tls === 'ERR_TLS_CERT_ALTNAME_INVALID' || tls === 'HOSTNAME_MISMATCH')
        return 'connect by a name or address the certificate holds: in --broker for the broker; for a switch node, the address the broker hands out (`elink up --advertise NAME` adds NAME to its certificate)';
      if (tls === 'CERT_HAS_EXPIRED' || tls === 'CERT_NOT_YET_VALID') return "the server's certificate must be renewed, or this host's clock is wrong";
      return "--ca must name the CA certificate that issued the broker's and switch nodes' certificates (for a server started with `elink up`: ca.pem in its state directory, as the connect line it prints shows); without --ca only the system's CAs are trusted";
    },
  },
  {
    status: 4,
    codes: ['EL_ERR_AUTH', 'EL_ERR_PROXY_AUTH', 'EL_ERR_DISABLED'],
    meaning: 'wrong user or password, or the user is disabled: check --user, --password-file (or the proxy\'s in --proxy)',
    hint: (err) =>
      err.code === 'EL_ERR_DISABLED'
        ? 'an administrator disabled this user (--user); it can enable it again (elink admin user-enable NAME, or the web console)'
        : err.code === 'EL_ERR_PROXY_AUTH'
        ? 'the HTTP proxy refused the credentials: give http://user:password@host:port in --proxy (or HTTPS_PROXY), or add the host to NO_PROXY if it is reachable directly'
        : 'check --user and the first line of --password-file; an administrator can set a new password with `elink user passwd NAME`',
  },
  {
    status: 5,
    codes: ['EL_ERR_FORBIDDEN', 'EL_ERR_NO_SEGMENT'],
    meaning: 'segment unknown or not allowed: check --segment',
    hint: () => "check --segment (without it: the user's first segment); an administrator can add the segment to the user",
  },
  {
    status: 6,
    codes: ['EL_ERR_DEVICE_LIMIT'],
    meaning: 'too many devices for this user: reuse a --device id',
    hint: () => 'keep one --device id per device (each new id takes a lease of its own); an administrator can free an old device or raise broker.maxDevicesPerUser',
  },
  {
    status: 7,
    codes: ['EL_ERR_SUPERSEDED'],
    meaning: 'another client with this user and --device took over',
    hint: () => `give each client its own --device NAME; the default, the host name "${hostname()}", is the same in every network namespace and cloned VM`,
  },
];

/** The exit status and hint for a failure that ended the client; 1 and no hint for the rest. */
export function connectExit(err: ElError): { status: number; hint?: string } {
  const s = CONNECT_EXIT_STATUSES.find((e) => e.codes.includes(err.code));
  return s ? { status: s.status, hint: s.hint(err) } : { status: 1 };
}

/** The "Exit status" section of elink connect --help. */
export function exitStatusHelp(): string {
  return [
    'Exit status:',
    '      0  stopped by SIGINT or SIGTERM',
    '      1  any other error (TAP/TUN device, the --metrics address cannot be bound, internal)',
    ...CONNECT_EXIT_STATUSES.map((e) => `      ${e.status}  ${e.meaning} (${e.codes.join(', ')})`),
    'Statuses 2-7 end the client at the first login and after days connected alike: retrying',
    'cannot fix them. Everything else (broker or switch unreachable, 5xx, node full or draining,',
    'a lost session) is retried with exponential backoff and full jitter, honouring Retry-After.',
  ].join('\n');
}
