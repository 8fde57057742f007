/**
 * A minimal EL session for load generation: TLS, hello with a ticket, welcome, pongs;
 * counts the FRAME records it receives (without copying them).
 */
import type { KeyObject } from 'node:crypto';
import { connect as tcpConnect } from 'node:net';
import { connect, type TLSSocket } from 'node:tls';
import { clientTlsContext } from '@elink/client';
import { ALPN, CHANNEL_BINDING_LABEL, CHANNEL_BINDING_LENGTH, encodeControl, MAX_RECORD_PAYLOAD, RecordReader, RecordType, resumeProof, signHelloProof, type ControlMessage } from '@elink/protocol';

export interface BenchSession {
  socket: TLSSocket;
  framesIn: number;
  bytesIn: number;
  /** welcome.resume: the resume secret the node gave for the ticket, if any. */
  resumeSecret?: string;
}

/** `deviceKey`: hello carries its proof over the channel binding (a ticket bound to it);
 * `resume`: with it, the resume proof of this resume secret (welcome.resume of an earlier
 * session with the ticket) beside the device proof, as the client does;
 * `session`: a TLS session to resume; `onSession`: where the node's new TLS session goes. */
export function openSession(opts: { port: number; ca: string; ticket: string; localAddress?: string; timeoutMs?: number; deviceKey?: KeyObject; resume?: string; session?: Buffer; onSession?: (s: Buffer) => void }): Promise<BenchSession> {
  return new Promise((resolve, reject) => {
    // Several loopback source addresses keep thousands of sessions clear of port exhaustion.
    const tcp = tcpConnect({ host: '127.0.0.1', port: opts.port, ...(opts.localAddress ? { localAddress: opts.localAddress } : {}) });
    // One TLS context per CA for the process, as the client library does (tls-context.ts).
    const socket = connect({ socket: tcp, secureContext: clientTlsContext({ ca: opts.ca }), servername: 'localhost', ALPNProtocols: [ALPN], ...(opts.session ? { session: opts.session } : {}) });
    if (opts.onSession) socket.on('session', opts.onSession);
    const s: BenchSession = { socket, framesIn: 0, bytesIn: 0 };
    let welcomed = false;
    const timer = setTimeout(() => fail(new Error('no welcome in time')), opts.timeoutMs ?? 30_000);
    const fail = (err: Error) => {
      clearTimeout(timer);
      socket.destroy();
      reject(err);
    };
    const reader = new RecordReader((type, payload) => {
      if (type === RecordType.FRAME) {
        s.framesIn++;
        s.bytesIn += payload.length;
        return;
      }
      const msg = JSON.parse(payload.toString('utf8')) as ControlMessage;
      if (msg.type === 'welcome') {
        welcomed = true;
        if (msg.resume !== undefined) s.resumeSecret = msg.resume;
        clearTimeout(timer);
        resolve(s);
      } else if (msg.type === 'ping') socket.write(encodeControl({ type: 'pong', id: msg.id }));
      else if (msg.type === 'error' && !welcomed) fail(new Error(`switch refused: ${msg.code} ${msg.message}`));
    })
      .accept(RecordType.FRAME, MAX_RECORD_PAYLOAD)
      .accept(RecordType.CONTROL, MAX_RECORD_PAYLOAD);
    socket.setNoDelay(true);
    socket.once('secureConnect', () => {
      const binding = opts.deviceKey ? socket.exportKeyingMaterial(CHANNEL_BINDING_LENGTH, CHANNEL_BINDING_LABEL, Buffer.alloc(0)) : undefined;
      const proof = opts.deviceKey && binding ? signHelloProof(opts.deviceKey, binding) : undefined;
      const resume = opts.resume && binding ? resumeProof(opts.resume, binding) : undefined;
      socket.write(encodeControl({ type: 'hello', version: 1, ticket: opts.ticket, ...(proof ? { proof } : {}), ...(resume ? { resume } : {}) }));
    });
    socket.on('data', (chunk: Buffer) => {
      const err = reader.push(chunk);
      if (err) fail(err);
    });
    socket.on('error', (err) => !welcomed && fail(err));
    socket.on('close', () => !welcomed && fail(new Error('closed before welcome')));
  });
}
