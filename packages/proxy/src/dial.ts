/**
 * Opens a connection through the NetLike with a deadline, resolving names with its
 * `lookup` when it has one, and sorts failures into the few kinds proxies report.
 */
import { isIP } from 'node:net';
import type { NetLike, NetLikeSocket } from '@elink/protocol';

export type DialFailure = 'refused' | 'unreachable' | 'network' | 'not_found' | 'timeout' | 'error';

export class DialError extends Error {
  constructor(
    readonly kind: DialFailure,
    message: string,
    readonly code?: string,
  ) {
    super(message);
  }
}

const KINDS: Record<string, DialFailure> = {
  ECONNREFUSED: 'refused',
  EHOSTUNREACH: 'unreachable',
  EHOSTDOWN: 'unreachable',
  ENETUNREACH: 'network',
  ENETDOWN: 'network',
  ENOTFOUND: 'not_found',
  EAI_AGAIN: 'not_found',
  EAI_NONAME: 'not_found',
  EAI_FAIL: 'not_found',
  ETIMEDOUT: 'timeout',
};

export function dialFailure(err: unknown): DialError {
  if (err instanceof DialError) return err;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return new DialError((code && KINDS[code]) || 'error', (err as Error | undefined)?.message ?? String(err), code);
}

/** The literal address to connect to: an IP as it is, a name through lookup() (or as it is without one). */
async function resolve(net: NetLike, host: string): Promise<string> {
  if (isIP(host) || !net.lookup) return host;
  try {
    return await net.lookup(host);
  } catch (e) {
    const err = dialFailure(e);
    throw new DialError(err.kind === 'error' ? 'not_found' : err.kind, `cannot resolve ${host}: ${err.message}`, err.code);
  }
}

/**
 * Connects to host:port within `timeoutMs` (name resolution included). Rejects with a
 * DialError; a socket that missed the deadline is destroyed, never leaked.
 */
export function dial(net: NetLike, host: string, port: number, timeoutMs: number, signal?: AbortSignal): Promise<NetLikeSocket> {
  return new Promise<NetLikeSocket>((resolvePromise, reject) => {
    let socket: NetLikeSocket | undefined;
    let done = false;
    const finish = (err?: DialError) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      if (!socket) return void reject(err);
      socket.removeListener('error', onError);
      if (err) {
        socket.destroy();
        reject(err);
      } else resolvePromise(socket);
    };
    const onError = (e: Error) => finish(dialFailure(e));
    const onAbort = () => finish(new DialError('error', 'client went away'));
    const timer = setTimeout(() => finish(new DialError('timeout', `no connection to ${host}:${port} within ${timeoutMs / 1000} s`, 'ETIMEDOUT')), timeoutMs);
    signal?.addEventListener('abort', onAbort);
    resolve(net, host).then(
      (address) => {
        if (done) return;
        try {
          socket = net.connect({ host: address, port }, () => finish());
        } catch (e) {
          return finish(dialFailure(e));
        }
        socket.on('error', onError);
      },
      (e: unknown) => finish(dialFailure(e)),
    );
  });
}
