import { constants } from 'node:os';
import { ElError } from '@elink/protocol';

/**
 * Why a TAP/TUN operation failed, as a stable snake_case value (also usable as
 * a metric or log label). The ElError code is always EL_ERR_TUNTAP.
 */
export type TunTapErrorReason = 'no_tun_device' | 'permission' | 'busy' | 'invalid' | 'io';

export class TunTapError extends ElError {
  constructor(
    readonly reason: TunTapErrorReason,
    message: string,
    options?: { cause?: unknown },
  ) {
    super('EL_ERR_TUNTAP', message, options);
  }
}

/** What was being done when the kernel said no; picks the reason and the advice. */
export type TunTapOperation = 'open' | 'set_mtu' | 'set_mac' | 'set_up' | 'start';

const E = constants.errno;

/** The reason for an errno returned by `operation` (exported for tests and callers that map errnos themselves). */
export function reasonForErrno(errno: number, operation: TunTapOperation): TunTapErrorReason {
  switch (errno) {
    case E.ENOENT:
    case E.ENXIO:
      return operation === 'open' ? 'no_tun_device' : 'io';
    case E.ENODEV:
      // From open(/dev/net/tun) ENODEV means the node exists but no driver is loaded.
      return operation === 'open' ? 'no_tun_device' : 'io';
    case E.EPERM:
    case E.EACCES:
      return 'permission';
    case E.EBUSY:
      return 'busy';
    case E.EINVAL:
    case E.EADDRNOTAVAIL:
    case E.ERANGE:
      return 'invalid';
    default:
      return 'io';
  }
}

const ADVICE: Record<TunTapErrorReason, string> = {
  no_tun_device: 'load the tun module (modprobe tun) or run the container with --device /dev/net/tun',
  permission: 'needs root or CAP_NET_ADMIN (in a container: --cap-add NET_ADMIN)',
  busy: "the name is in use by another open TAP/TUN device; choose another name or a pattern such as 'el%d'",
  invalid:
    'check the interface name (max 15 characters, no "/", ":" or spaces, at most one %d; not the name of an interface of another kind), MTU and MAC',
  io: 'see the cause for the system error',
};

/**
 * Turns an error thrown by the addon (an Error with `errno` and `syscall`)
 * into a TunTapError whose message says what failed and what to do.
 */
export function tunTapErrorFromNative(err: unknown, operation: TunTapOperation, what: string): TunTapError {
  const errno = typeof (err as { errno?: unknown })?.errno === 'number' ? (err as { errno: number }).errno : undefined;
  const detail = err instanceof Error ? err.message : String(err);
  const reason = errno === undefined ? 'io' : reasonForErrno(errno, operation);
  return new TunTapError(reason, `${what}: ${detail}; ${ADVICE[reason]}`, { cause: err });
}
