/**
 * Port forwards. Local (-L): a connection accepted here is opened through the segment to
 * host:hostport. Remote (-R): a connection accepted on the segment is opened from this
 * host to host:hostport. Either way the two are relayed with back-pressure.
 */
import * as nodeNet from 'node:net';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { formatAuthority } from './authority.js';
import { dial, type DialError } from './dial.js';
import type { ForwardSpec } from './forward-spec.js';
import type { NetLike, NetLikeSocket } from '@elink/protocol';
import { relay } from './relay.js';

export interface ForwardContext {
  connectTimeoutMs: number;
  idleTimeoutMs: number;
  logger: Logger;
}

/** -L: `local` was accepted on this host; its peer is reached through `segment`. */
export function forwardLocal(local: Socket, spec: ForwardSpec, segment: NetLike, ctx: ForwardContext): void {
  local.on('error', () => undefined);
  const target = formatAuthority(spec.host, spec.hostPort);
  const gone = new AbortController();
  const onClose = () => gone.abort();
  local.once('close', onClose);
  dial(segment, spec.host, spec.hostPort, ctx.connectTimeoutMs, gone.signal).then(
    (remote) => {
      local.removeListener('close', onClose);
      if (local.destroyed) return void remote.destroy();
      void relay(local, remote, ctx.idleTimeoutMs);
    },
    (e: DialError) => {
      local.removeListener('close', onClose);
      ctx.logger.info({ forward: '-L', target, kind: e.kind, code: e.code, err: e.message }, 'forward connect failed');
      local.destroy();
    },
  );
}

/** -R: `remote` was accepted on the segment; its peer is reached from this host (node:net). */
export function forwardRemote(remote: NetLikeSocket, spec: ForwardSpec, ctx: ForwardContext): void {
  remote.on('error', () => undefined);
  const target = formatAuthority(spec.host, spec.hostPort);
  const gone = new AbortController();
  const onClose = () => gone.abort();
  remote.once('close', onClose);
  dial(nodeNet, spec.host, spec.hostPort, ctx.connectTimeoutMs, gone.signal).then(
    (local) => {
      remote.removeListener('close', onClose);
      if (remote.destroyed) return void local.destroy();
      // Dialed with node:net: a net.Socket, with setTimeout() for the idle limit.
      void relay(local as Socket, remote, ctx.idleTimeoutMs);
    },
    (e: DialError) => {
      remote.removeListener('close', onClose);
      ctx.logger.info({ forward: '-R', target, kind: e.kind, code: e.code, err: e.message }, 'forward connect failed');
      remote.destroy();
    },
  );
}
