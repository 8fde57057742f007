// Test helpers: a real WebSocket over TLS on loopback (an HTTPS server upgrading at
// WS_PATH) as a pair of WsRecordConns. Not part of the package build (test-*.ts), not
// exported by index.ts.
import { once } from 'node:events';
import { createServer } from 'node:https';
import { WebSocketServer, type WebSocket } from 'ws';
import { createCertificateAuthority, issueServerCertificate } from '@elink/pki';
import { WS_MAX_MESSAGE, WS_PATH, WS_SUBPROTOCOL, WsRecordConn, type WsRecordConnOptions } from './ws-record-conn.js';

let credentials: Promise<{ key: string; cert: string; ca: string }> | undefined;

function serverCredentials(): Promise<{ key: string; cert: string; ca: string }> {
  credentials ??= (async () => {
    const ca = await createCertificateAuthority('transport ws test CA');
    const { keyPem: key, certPem: cert } = await issueServerCertificate(ca, ['127.0.0.1']);
    return { key, cert, ca: ca.certPem };
  })();
  return credentials;
}

export interface WsPair {
  server: WsRecordConn;
  client: WsRecordConn;
  close(): Promise<void>;
}

/** A WebSocket on 127.0.0.1 over TLS, both sides wrapped, neither started yet. */
export async function wsRecordConnPair(opts: WsRecordConnOptions = {}): Promise<WsPair> {
  const { key, cert, ca } = await serverCredentials();
  const https = createServer({ key, cert });
  const wss = new WebSocketServer({ server: https, path: WS_PATH, maxPayload: WS_MAX_MESSAGE, perMessageDeflate: false, handleProtocols: (p) => (p.has(WS_SUBPROTOCOL) ? WS_SUBPROTOCOL : false) });
  const accepted: WsRecordConn[] = [];
  wss.on('connection', (ws: WebSocket, req) => accepted.push(WsRecordConn.accept(ws, req.socket, opts)));
  https.listen(0, '127.0.0.1');
  await once(https, 'listening');
  const { port } = https.address() as { port: number };
  const client = await WsRecordConn.connect(`wss://127.0.0.1:${port}${WS_PATH}`, { ca }, opts);
  const deadline = Date.now() + 5000;
  while (accepted.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  if (accepted.length === 0) throw new Error('the WebSocket server accepted nothing within 5 s');
  const server = accepted[0]!;
  return {
    server,
    client,
    close: async () => {
      client.destroy();
      server.destroy();
      wss.close();
      https.closeAllConnections();
      await new Promise<void>((resolve) => https.close(() => resolve()));
    },
  };
}
