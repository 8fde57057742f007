// Test helpers: a real TLS connection on loopback as a pair of TlsRecordConns. Not part
// of the package build (test-*.ts), not exported by index.ts.
import { once } from 'node:events';
import { createServer, type Server, type TLSSocket } from 'node:tls';
import { createCertificateAuthority, issueServerCertificate } from '@elink/pki';
import { TlsRecordConn, type TlsRecordConnOptions } from './tls-record-conn.js';

let credentials: Promise<{ key: string; cert: string }> | undefined;

function serverCredentials(): Promise<{ key: string; cert: string }> {
  credentials ??= (async () => {
    const ca = await createCertificateAuthority('transport test CA');
    const { keyPem: key, certPem: cert } = await issueServerCertificate(ca, ['127.0.0.1']);
    return { key, cert };
  })();
  return credentials;
}

export interface TlsPair {
  /** The accepted side (a switch session's). */
  server: TlsRecordConn;
  /** The connecting side (a client's), made with TlsRecordConn.connect. */
  client: TlsRecordConn;
  /** Destroys both and closes the listener. */
  close(): Promise<void>;
}

/** A TLS connection on 127.0.0.1, both sides wrapped, neither started yet: start both
 * before returning to the event loop (nothing is sent before that). */
export async function tlsRecordConnPair(opts: TlsRecordConnOptions & { maxVersion?: 'TLSv1.2' | 'TLSv1.3' } = {}): Promise<TlsPair> {
  const { key, cert } = await serverCredentials();
  const accepted: TLSSocket[] = [];
  const server: Server = createServer({ key, cert, ...(opts.maxVersion ? { maxVersion: opts.maxVersion } : {}) }, (s) => accepted.push(s));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  const client = TlsRecordConn.connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, opts);
  await once(client.socket, 'secureConnect');
  const deadline = Date.now() + 5000;
  while (accepted.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  if (accepted.length === 0) throw new Error('the TLS server accepted nothing within 5 s');
  const serverConn = TlsRecordConn.accept(accepted[0], opts);
  return {
    server: serverConn,
    client,
    close: async () => {
      client.destroy();
      serverConn.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Stops reading on `conn` (a slow peer): TLSSocket.pause(), which also stops the
 * shared-buffer reads. */
export function pauseTls(conn: TlsRecordConn): void {
  conn.socket.pause();
}

export function resumeTls(conn: TlsRecordConn): void {
  conn.socket.resume();
}
