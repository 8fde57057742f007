/**
 * Counts the client connections of every listener together, so one limit bounds the
 * whole process: a connection over it is turned away at accept, the others go on.
 */
import type { Duplex } from 'node:stream';

export class ConnectionGate {
  private readonly open = new Set<Duplex>();

  constructor(readonly max: number) {}

  /** True, and the connection is counted until its 'close'; false when the limit is reached. */
  enter(socket: Duplex): boolean {
    if (this.open.size >= this.max) return false;
    this.open.add(socket);
    socket.once('close', () => this.open.delete(socket));
    return true;
  }

  get size(): number {
    return this.open.size;
  }

  destroyAll(): void {
    for (const s of this.open) s.destroy();
  }
}
