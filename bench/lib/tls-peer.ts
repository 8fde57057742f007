/**
 * The peer of the setups benchmark: a bare Node.js TLS server that does only what every
 * session setup of a switch needs from Node — a TLS 1.3 handshake (the same certificate,
 * ALPN and session ticket keys from the same cluster secret, resumed by the clients) and
 * one record each way of the sizes of an EL hello and welcome — and keeps the connection
 * open, as a switch keeps its sessions. What a switch spends beyond it is EL's.
 *
 *   node tls-peer.js server   (config: JSON in EL_BENCH_PEER; prints {"port": n}, runs until killed)
 *   node tls-peer.js clients  (config: JSON in EL_BENCH_CLIENTS; prints {"up", "failed"} lines
 *                              and {"done": true, …}, as idle-clients.js does, then idles)
 *
 * The reconnect storm runs the server too, as the peer of its surviving switches (storm.ts,
 * mode `bare`): three such servers with one cluster secret, so a client's TLS session from
 * the first resumes at the others; its clients use openPeerSession.
 */
import { connect as tcpConnect } from 'node:net';
import { connect, createServer, type TLSSocket } from 'node:tls';
import { clientTlsContext } from '@elink/client';
import { ALPN } from '@elink/protocol';
import { sessionTicketKeys } from '@elink/switch';
import { openAll } from './open-all.js';

/** Bytes of the first record each way: an EL hello with a device-key ticket, its proof
 * and a resume proof (~0.9 KB), and a welcome with addresses and a resume secret. */
export const PEER_HELLO_BYTES = 900;
export const PEER_WELCOME_BYTES = 300;

export interface PeerServerConfig {
  certPem: string;
  keyPem: string;
  clusterSecret: string;
  /** Default: a free one. */
  port?: number;
}

export interface PeerClientsConfig {
  port: number;
  caPem: string;
  count: number;
  sources: string[];
  concurrency: number;
}

function serve(cfg: PeerServerConfig): void {
  const welcome = Buffer.alloc(PEER_WELCOME_BYTES, 0x77);
  const srv = createServer({ cert: cfg.certPem, key: cfg.keyPem, minVersion: 'TLSv1.3', ALPNProtocols: [ALPN], ticketKeys: sessionTicketKeys(cfg.clusterSecret) }, (s: TLSSocket) => {
    s.on('error', () => {});
    s.setNoDelay(true);
    let got = 0;
    const onData = (chunk: Buffer) => {
      got += chunk.length;
      if (got < PEER_HELLO_BYTES) return;
      s.off('data', onData);
      s.write(welcome);
    };
    s.on('data', onData);
  });
  srv.listen(cfg.port ?? 0, '127.0.0.1', () => process.stdout.write(JSON.stringify({ port: (srv.address() as { port: number }).port }) + '\n'));
  process.on('SIGTERM', () => process.exit(0));
}

/** One connection as a peer client makes it: TLS (resuming `session` if given), the
 * hello-sized record, and resolved once the welcome-sized answer is in. */
export function openPeerSession(opts: { port: number; caPem: string; localAddress: string; session?: Buffer; onSession?: (t: Buffer) => void; timeoutMs?: number }): Promise<TLSSocket> {
  return new Promise<TLSSocket>((resolve, reject) => {
    const tcp = tcpConnect({ host: '127.0.0.1', port: opts.port, localAddress: opts.localAddress });
    const socket = connect({ socket: tcp, secureContext: clientTlsContext({ ca: opts.caPem }), servername: 'localhost', ALPNProtocols: [ALPN], ...(opts.session ? { session: opts.session } : {}) });
    if (opts.onSession) socket.on('session', opts.onSession);
    socket.setNoDelay(true);
    let answered = false;
    const fail = (err: Error) => {
      clearTimeout(timeout);
      socket.destroy();
      reject(err);
    };
    const timeout = setTimeout(() => fail(new Error('no answer in time')), opts.timeoutMs ?? 30_000);
    let got = 0;
    socket.once('secureConnect', () => socket.write(PEER_HELLO));
    socket.on('data', (chunk: Buffer) => {
      got += chunk.length;
      if (!answered && got >= PEER_WELCOME_BYTES) {
        answered = true;
        clearTimeout(timeout);
        resolve(socket);
      }
    });
    socket.on('error', (err) => !answered && fail(err));
    socket.on('close', () => !answered && fail(new Error('closed before the answer')));
  });
}

const PEER_HELLO = Buffer.alloc(PEER_HELLO_BYTES, 0x68);

/** Opens the connections and keeps them (the returned sockets) until killed. */
async function clients(cfg: PeerClientsConfig): Promise<TLSSocket[]> {
  let tlsSession: Buffer | undefined;
  return openAll(cfg.count, cfg.concurrency, (n) =>
    openPeerSession({ port: cfg.port, caPem: cfg.caPem, localAddress: cfg.sources[n % cfg.sources.length]!, ...(tlsSession ? { session: tlsSession } : {}), onSession: (t) => (tlsSession = t) }),
  );
}

/** The clients' connections, held until the process is killed. */
export const held: TLSSocket[] = [];
if (process.argv[2] === 'server') serve(JSON.parse(process.env.EL_BENCH_PEER ?? '{}') as PeerServerConfig);
else if (process.argv[2] === 'clients') held.push(...(await clients(JSON.parse(process.env.EL_BENCH_CLIENTS ?? '{}') as PeerClientsConfig)));
