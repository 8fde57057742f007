/**
 * Moves bytes both ways between a client's local socket and its connection through the
 * segment. stream.pipeline gives back-pressure: a side that does not read stops the
 * other side's reads, so a client that never reads holds at most the streams'
 * high-water marks, never more. Half-close passes through; an error, or nothing moving
 * for `idleMs`, closes both.
 */
import type { Socket } from 'node:net';
import { pipeline } from 'node:stream';
import type { NetLikeSocket } from '@elink/protocol';

export function relay(local: Socket, remote: NetLikeSocket, idleMs: number, head?: Buffer): Promise<void> {
  return new Promise<void>((resolve) => {
    let pending = 2;
    const kill = () => {
      local.destroy();
      remote.destroy();
    };
    const done = (err?: Error | null) => {
      if (err) kill();
      if (--pending === 0) resolve();
    };
    // A half-close passes through: each side keeps sending after the other's FIN until its
    // own peer ends too (pipeline ends the other side's writing, never its reading).
    local.allowHalfOpen = true;
    remote.allowHalfOpen = true;
    local.setNoDelay(true);
    remote.setNoDelay(true);
    // node:net resets this on reads and writes of the local socket, i.e. on traffic either way.
    local.setTimeout(idleMs, kill);
    if (head?.length) remote.write(head);
    pipeline(local, remote, done);
    pipeline(remote, local, done);
  });
}
