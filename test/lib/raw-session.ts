/**
 * A bare EL peer for end-to-end tests: opens TLS to a switch node and lets a test send
 * whatever bytes it wants (good or hostile), collecting the control messages the switch
 * sends back and noticing when it closes.
 */
import { connect, type TLSSocket } from 'node:tls';
import { ALPN, MAX_CONTROL_PAYLOAD, parseControl, RecordReader, RecordType, type ControlMessage } from '@elink/protocol';

export interface RawSession {
  socket: TLSSocket;
  controls: ControlMessage[];
  frames: Buffer[];
  /** Resolves when the switch has closed the connection (or it broke). */
  closed: Promise<void>;
  /** Resolves with the first control message of `type`. */
  next(type: string, timeoutMs?: number): Promise<ControlMessage>;
}

/** `localAddress`: the source address to connect from (e.g. another loopback address). */
export function openRaw(host: string, port: number, ca: string | Buffer, localAddress?: string): Promise<RawSession> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, ca, ALPNProtocols: [ALPN], checkServerIdentity: () => undefined, ...(localAddress ? { localAddress } : {}) });
    const controls: ControlMessage[] = [];
    const frames: Buffer[] = [];
    const waiters = new Set<() => void>();
    const reader = new RecordReader((type, payload) => {
      if (type === RecordType.CONTROL) {
        try {
          controls.push(parseControl(payload));
        } catch {
          /* a test peer records only what it can read */
        }
      } else frames.push(Buffer.from(payload));
      for (const w of waiters) w();
    })
      .accept(RecordType.CONTROL, MAX_CONTROL_PAYLOAD)
      .accept(RecordType.FRAME, 0xffff);
    socket.on('data', (c: Buffer) => reader.push(c));
    const closed = new Promise<void>((r) => socket.on('close', () => r()));
    socket.on('error', () => undefined);
    socket.once('secureConnect', () =>
      resolve({
        socket,
        controls,
        frames,
        closed,
        next(type, timeoutMs = 10_000) {
          return new Promise((res, rej) => {
            const check = () => {
              const hit = controls.find((c) => c.type === type);
              if (hit) {
                waiters.delete(check);
                clearTimeout(t);
                res(hit);
              }
            };
            const t = setTimeout(() => {
              waiters.delete(check);
              rej(new Error(`no ${type} within ${timeoutMs} ms; got ${JSON.stringify(controls)}`));
            }, timeoutMs);
            waiters.add(check);
            check();
          });
        },
      }),
    );
    socket.once('error', reject);
  });
}
