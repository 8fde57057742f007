/**
 * Test helpers (only for tests): a minimal EL client over real TLS, and a fixture
 * with a private CA, a server certificate and a ticket signing key.
 */
import { randomBytes, type KeyObject } from 'node:crypto';
import { connect as tlsConnect, type ConnectionOptions, type TLSSocket } from 'node:tls';
import {
  ALPN,
  encodeControl,
  encodeRecord,
  formatMac,
  generateTicketKeyPair,
  MAX_RECORD_PAYLOAD,
  RecordReader,
  RecordType,
  signTicket,
  type ControlMessage,
  type ErrorMessage,
  type TicketClaims,
  type Welcome,
} from '@elink/protocol';
import { createCertificateAuthority, issueServerCertificate } from '@elink/pki';
import { ethFrame, mac } from './test-frames.js';

export interface Fixture {
  caPem: string;
  certPem: string;
  keyPem: string;
  ticketKey: { privateKey: KeyObject; publicKey: KeyObject };
  /** A fresh signed ticket; `over` replaces claims. */
  ticket(over?: Partial<Omit<TicketClaims, 'v' | 'kid'>>, key?: KeyObject): string;
}

export async function makeFixture(): Promise<Fixture> {
  const ca = await createCertificateAuthority('switch test CA');
  const cert = await issueServerCertificate(ca, ['localhost', '127.0.0.1']);
  const ticketKey = generateTicketKeyPair();
  return {
    caPem: ca.certPem,
    certPem: cert.certPem,
    keyPem: cert.keyPem,
    ticketKey,
    ticket(over = {}, key = ticketKey.privateKey) {
      const now = Math.floor(Date.now() / 1000);
      return signTicket({ jti: randomBytes(12).toString('base64url'), sub: 'alice', seg: 'lan', mode: 'l2', iat: now, exp: now + 60, ...over }, key);
    },
  };
}

/** Waits until `cond()` is true, at most `timeoutMs`; throws naming `what` otherwise. */
export async function waitUntil(cond: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

let exchangeRound = 0;

/**
 * `a` (MAC mac(1)) and `b` (mac(2)) send `n` unicast frames each way; resolves once every
 * one has arrived, and throws unless each side got exactly the other's, in order.
 */
export async function exchangeFrames(a: TestClient, b: TestClient, n = 50, timeoutMs = 10_000): Promise<void> {
  const tag = `x${++exchangeRound}-`;
  const want = (from: string) => Array.from({ length: n }, (_, i) => `${tag}${from}${i}`);
  for (let i = 0; i < n; i++) {
    a.sendFrames([ethFrame(mac(2), mac(1), `${tag}a${i}`)]);
    b.sendFrames([ethFrame(mac(1), mac(2), `${tag}b${i}`)]);
  }
  const got = (c: TestClient) => c.payloads().filter((p) => p.startsWith(tag));
  await waitUntil(() => got(a).length >= n && got(b).length >= n, `exchange ${tag}`, timeoutMs);
  const [atB, atA] = [got(b), got(a)];
  if (JSON.stringify(atB) !== JSON.stringify(want('a')) || JSON.stringify(atA) !== JSON.stringify(want('b'))) {
    throw new Error(`exchange ${tag}: frames lost, duplicated or reordered (b got ${atB.length}, a got ${atA.length} of ${n})`);
  }
}

export interface ConnectOptions {
  host: string;
  port: number;
  ca: string;
  /** ALPN protocols to offer; default ['el/1']. */
  alpn?: string[];
  /** Answer the switch's pings (default true). */
  autoPong?: boolean;
  /** Source address (any of 127.0.0.0/8 stands for another host). */
  localAddress?: string;
}

export class TestClient {
  readonly frames: Buffer[] = [];
  /** FRAME_GSO payloads received (virtio_net_hdr + frame). */
  readonly gsoFrames: Buffer[] = [];
  readonly controls: ControlMessage[] = [];
  closed = false;
  readError: Error | undefined;
  private readonly reader = new RecordReader((type, payload) => this.onRecord(type, payload))
    .accept(RecordType.FRAME, MAX_RECORD_PAYLOAD)
    .accept(RecordType.FRAME_GSO, MAX_RECORD_PAYLOAD)
    .accept(RecordType.CONTROL, MAX_RECORD_PAYLOAD);

  private constructor(
    readonly socket: TLSSocket,
    private readonly autoPong: boolean,
  ) {
    socket.on('data', (chunk: Buffer) => {
      const err = this.reader.push(chunk);
      if (err) this.readError = err;
    });
    socket.on('error', () => {});
    socket.on('close', () => (this.closed = true));
  }

  static connect(opts: ConnectOptions): Promise<TestClient> {
    return new Promise((resolve, reject) => {
      // localAddress reaches net.connect at run time; @types/node leaves it out of tls's options.
      const socket = tlsConnect({ host: opts.host, port: opts.port, ca: opts.ca, servername: 'localhost', ALPNProtocols: opts.alpn ?? [ALPN], localAddress: opts.localAddress } as ConnectionOptions);
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error('TLS connect timed out'));
      }, 5000);
      socket.once('secureConnect', () => {
        clearTimeout(timer);
        resolve(new TestClient(socket, opts.autoPong ?? true));
      });
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
  }

  private onRecord(type: number, payload: Buffer): void {
    if (type === RecordType.FRAME) {
      this.frames.push(Buffer.from(payload));
      return;
    }
    if (type === RecordType.FRAME_GSO) {
      this.gsoFrames.push(Buffer.from(payload));
      return;
    }
    const msg = JSON.parse(payload.toString('utf8')) as ControlMessage;
    this.controls.push(msg);
    if (msg.type === 'ping' && this.autoPong && !this.socket.destroyed) this.socket.write(encodeControl({ type: 'pong', id: msg.id }));
  }

  send(msg: ControlMessage): void {
    this.socket.write(encodeControl(msg));
  }

  hello(ticket: string, mac?: number): void {
    this.send(mac === undefined ? { type: 'hello', version: 1, ticket } : { type: 'hello', version: 1, ticket, mac: formatMac(mac) });
  }

  /** Sends hello and waits for welcome (throws with the error message otherwise). */
  async join(ticket: string, mac?: number): Promise<Welcome> {
    this.hello(ticket, mac);
    await waitUntil(() => this.welcome !== undefined || this.error !== undefined || this.closed, 'welcome');
    if (!this.welcome) throw new Error(`no welcome: ${JSON.stringify(this.error ?? 'closed')}`);
    return this.welcome;
  }

  sendFrames(frames: Buffer[]): void {
    this.socket.write(Buffer.concat(frames.map((f) => encodeRecord(RecordType.FRAME, f))));
  }

  /** FRAME_GSO records: each a virtio_net_hdr + frame. */
  sendGso(packets: Buffer[]): void {
    this.socket.write(Buffer.concat(packets.map((p) => encodeRecord(RecordType.FRAME_GSO, p))));
  }

  sendRaw(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  get welcome(): Welcome | undefined {
    return this.controls.find((c): c is Welcome => c.type === 'welcome');
  }

  get error(): ErrorMessage | undefined {
    return this.controls.find((c): c is ErrorMessage => c.type === 'error');
  }

  /** Waits for an `error` message and the close that follows it. */
  async expectError(timeoutMs = 5000): Promise<ErrorMessage> {
    await waitUntil(() => this.closed, 'the switch to close the session', timeoutMs);
    const e = this.error;
    if (!e) throw new Error(`closed without an error message; got ${JSON.stringify(this.controls)}`);
    return e;
  }

  payloads(): string[] {
    return this.frames.map((f) => f.subarray(14).toString());
  }

  destroy(): void {
    this.socket.destroy();
  }
}
