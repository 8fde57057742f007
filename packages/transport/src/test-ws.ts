// Test helpers: a real WebSocket over TLS on loopback (an HTTPS server upgrading at
// WS_PATH) as a pair of WsRecordConns, and the same with the `ws` library as the peer on
// either side (an independent implementation of RFC 6455). Not part of the package build
// (test-*.ts), not exported by index.ts.
import { once } from 'node:events';
import { createServer, type Server } from 'node:https';
import type { Socket } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { createCertificateAuthority, issueServerCertificate } from '@elink/pki';
import { answerUpgrade, checkUpgrade, WS_PATH, WS_SUBPROTOCOL } from './ws-handshake.js';
import { WS_MAX_MESSAGE, WsRecordConn, type WsRecordConnOptions } from './ws-record-conn.js';

let credentials: Promise<{ key: string; cert: string; ca: string }> | undefined;

export function serverCredentials(): Promise<{ key: string; cert: string; ca: string }> {
  credentials ??= (async () => {
    const ca = await createCertificateAuthority('transport ws test CA');
    const { keyPem: key, certPem: cert } = await issueServerCertificate(ca, ['127.0.0.1']);
    return { key, cert, ca: ca.certPem };
  })();
  return credentials;
}

async function until<T>(get: () => T | undefined, what: string): Promise<T> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const v = get();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`${what} within 5 s`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function listen(https: Server): Promise<number> {
  https.listen(0, '127.0.0.1');
  await once(https, 'listening');
  return (https.address() as { port: number }).port;
}

async function closeServer(https: Server): Promise<void> {
  https.closeAllConnections();
  await new Promise<void>((resolve) => https.close(() => resolve()));
}

/** An HTTPS server whose upgrades at WS_PATH become WsRecordConns (as the switch's WsUpgrade does). */
async function ourServer(opts: WsRecordConnOptions): Promise<{ port: number; accepted: WsRecordConn[]; https: Server }> {
  const { key, cert } = await serverCredentials();
  const https = createServer({ key, cert });
  const accepted: WsRecordConn[] = [];
  https.on('upgrade', (req, socket: Socket, head: Buffer) => {
    if (checkUpgrade(req) !== undefined) return void socket.destroy();
    answerUpgrade(req, socket);
    accepted.push(WsRecordConn.accept(socket, socket, opts, head));
  });
  return { port: await listen(https), accepted, https };
}

export interface WsPair {
  server: WsRecordConn;
  client: WsRecordConn;
  close(): Promise<void>;
}

/** A WebSocket on 127.0.0.1 over TLS, both sides WsRecordConns, neither started yet. */
export async function wsRecordConnPair(opts: WsRecordConnOptions = {}): Promise<WsPair> {
  const { ca } = await serverCredentials();
  const { port, accepted, https } = await ourServer(opts);
  const client = await WsRecordConn.connect(`wss://127.0.0.1:${port}${WS_PATH}`, { ca }, opts);
  const server = await until(() => accepted[0], 'the server to accept');
  return {
    server,
    client,
    close: async () => {
      client.destroy();
      server.destroy();
      await closeServer(https);
    },
  };
}

/** Our client against a `ws` server (maxPayload WS_MAX_MESSAGE, as the switch before). */
export async function clientAgainstWs(opts: WsRecordConnOptions = {}): Promise<{ client: WsRecordConn; peer: WebSocket; close(): Promise<void> }> {
  const { key, cert, ca } = await serverCredentials();
  const https = createServer({ key, cert });
  const wss = new WebSocketServer({ server: https, path: WS_PATH, maxPayload: WS_MAX_MESSAGE, perMessageDeflate: false, handleProtocols: (p) => (p.has(WS_SUBPROTOCOL) ? WS_SUBPROTOCOL : false) });
  const peers: WebSocket[] = [];
  wss.on('connection', (ws: WebSocket) => {
    ws.binaryType = 'nodebuffer';
    peers.push(ws);
  });
  const port = await listen(https);
  const client = await WsRecordConn.connect(`wss://127.0.0.1:${port}${WS_PATH}`, { ca }, opts);
  const peer = await until(() => peers[0], 'the ws server to accept');
  return {
    client,
    peer,
    close: async () => {
      client.destroy();
      peer.terminate();
      wss.close();
      await closeServer(https);
    },
  };
}

/** A `ws` client (as old EL clients were) against our server. */
export async function wsAgainstServer(opts: WsRecordConnOptions = {}): Promise<{ server: WsRecordConn; peer: WebSocket; close(): Promise<void> }> {
  const { ca } = await serverCredentials();
  const { port, accepted, https } = await ourServer(opts);
  const peer = new WebSocket(`wss://127.0.0.1:${port}${WS_PATH}`, [WS_SUBPROTOCOL], { ca, perMessageDeflate: false, maxPayload: WS_MAX_MESSAGE });
  peer.binaryType = 'nodebuffer';
  await once(peer, 'open');
  const server = await until(() => accepted[0], 'the server to accept');
  return {
    server,
    peer,
    close: async () => {
      peer.terminate();
      server.destroy();
      await closeServer(https);
    },
  };
}
