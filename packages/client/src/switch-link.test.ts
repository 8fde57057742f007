/**
 * SwitchLink against a real TLS server on loopback that speaks EL through
 * @elink/transport (a TlsRecordConn per accepted socket): welcome, frames both ways in
 * one write per batch, ping → pong, superseded, an orderly close, and a switch that
 * stops reading (frames dropped and counted once maxBufferedBytes is reached).
 */
import { once } from 'node:events';
import { createServer, type Server, type TLSSocket } from 'node:tls';
import { pino } from 'pino';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createCertificateAuthority, issueServerCertificate } from '@elink/pki';
import { ALPN, encodeControl, MAX_CONTROL_PAYLOAD, MAX_RECORD_PAYLOAD, parseControl, RecordType, encodeRecord, softwareSegment, VNET_GSO_NONE, VNET_GSO_UDP_L4, type ControlMessage } from '@elink/protocol';
import { TlsRecordConn } from '@elink/transport';
import { udpDatagram, udpRun } from '../../protocol/src/test-datagrams.js';
import { SwitchLink } from './switch-link.js';

const logger = pino({ level: 'silent' });

interface Peer {
  conn: TlsRecordConn;
  records: { type: number; payload: Buffer }[];
  controls: ControlMessage[];
  ended: boolean;
}

async function until(cond: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

describe('SwitchLink over TLS (real sockets, a stand-in switch)', () => {
  let key = '';
  let cert = '';
  let caPem = '';
  let server: Server | undefined;
  let link: SwitchLink | undefined;
  const peers: Peer[] = [];

  beforeAll(async () => {
    const ca = await createCertificateAuthority('switch link test CA');
    ({ keyPem: key, certPem: cert } = await issueServerCertificate(ca, ['127.0.0.1']));
    caPem = ca.certPem;
  });

  afterEach(async () => {
    link?.close();
    link = undefined;
    for (const p of peers) p.conn.destroy();
    peers.length = 0;
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    server = undefined;
  });

  /** A switch stand-in: welcomes the hello (keepalive `interval` s) and records the rest. */
  async function standIn(interval = 30, caps?: string[], behindWelcome?: Buffer): Promise<number> {
    server = createServer({ key, cert, ALPNProtocols: [ALPN] }, (socket: TLSSocket) => {
      const conn = TlsRecordConn.accept(socket);
      const peer: Peer = { conn, records: [], controls: [], ended: false };
      peers.push(peer);
      conn.accept(RecordType.CONTROL, MAX_CONTROL_PAYLOAD);
      conn.accept(RecordType.FRAME, MAX_RECORD_PAYLOAD);
      if (caps?.includes('gso')) conn.accept(RecordType.FRAME_GSO, MAX_RECORD_PAYLOAD);
      conn.start({
        onRecord: (type, payload) => {
          peer.records.push({ type, payload: Buffer.from(payload) });
          if (type !== RecordType.CONTROL) return;
          const msg = parseControl(payload);
          peer.controls.push(msg);
          if (msg.type === 'hello') {
            const welcome = encodeControl({ type: 'welcome', session: 's-test', node: 'n1', segment: 'lab', mode: 'l2', mtu: 1400, keepalive: { interval, timeout: 3 * interval }, ...(caps ? { caps } : {}) });
            // One write: the client reads both in one chunk.
            if (behindWelcome) conn.end(Buffer.concat([welcome, behindWelcome]));
            else conn.write(welcome);
          }
        },
        onError: () => conn.destroy(),
        onEnd: () => {
          peer.ended = true;
        },
        onClose: () => {},
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return (server.address() as { port: number }).port;
  }

  async function connect(port: number, maxBufferedBytes?: number): Promise<SwitchLink> {
    link = await SwitchLink.connect({ server: { node: 'n1', host: '127.0.0.1', port }, ticket: 't', ca: caPem, logger, ...(maxBufferedBytes ? { maxBufferedBytes } : {}) });
    return link;
  }

  it('hello → welcome, then frames both ways; a batch of frames is one write', async () => {
    const port = await standIn();
    const l = await connect(port);
    expect(l.welcome.session).toBe('s-test');
    const peer = peers[0];
    expect(peer.controls[0]).toMatchObject({ type: 'hello', version: 1, ticket: 't' });

    const got: string[] = [];
    l.on('frame', (f: Buffer, gso: boolean) => got.push(`${f.toString()}${gso ? '+gso' : ''}`));
    peer.conn.write(Buffer.concat([encodeRecord(RecordType.FRAME, Buffer.from('down-1')), encodeRecord(RecordType.FRAME, Buffer.from('down-2'))]));
    await until(() => got.length === 2, 'two frames from the switch');
    expect(got).toEqual(['down-1', 'down-2']);

    const writes: number[] = [];
    const socket = (l as unknown as { conn: TlsRecordConn }).conn.socket;
    const write = socket.write.bind(socket);
    socket.write = ((chunk: Buffer, ...rest: never[]) => {
      writes.push(chunk.length);
      return write(chunk, ...rest);
    }) as typeof socket.write;
    l.sendFrames([Buffer.from('up-1'), Buffer.from('up-2'), Buffer.from('up-3')]);
    expect(writes).toEqual([3 * 3 + 12]); // three records, one write, at once
    await until(() => peer.records.filter((r) => r.type === RecordType.FRAME).length === 3, 'three frames at the switch');
    expect(peer.records.filter((r) => r.type === RecordType.FRAME).map((r) => r.payload.toString())).toEqual(['up-1', 'up-2', 'up-3']);
    expect(l.stats).toEqual({ framesIn: 2, framesOut: 3, bytesIn: 12, bytesOut: 12, framesDropped: 0, drops: { queue_full: 0, slow_peer: 0, bad_gso: 0 }, usoFramesOut: 0, usoDatagramsOut: 0 });
  });

  it('with "gso" and "uso" agreed, a read\'s run of one UDP flow leaves as one UDP super-frame; with "gso" alone, datagram by datagram', async () => {
    const run = udpRun(10, { l2: true, size: 64 });
    const other = udpDatagram({ l2: true, srcPort: 1 });
    for (const caps of [['gso', 'uso'], ['gso']]) {
      const port = await standIn(30, caps);
      link = await SwitchLink.connect({ server: { node: 'n1', host: '127.0.0.1', port }, ticket: 't', ca: caPem, logger, gso: true, uso: true });
      const peer = peers[peers.length - 1];
      expect(peer.controls[0]).toMatchObject({ type: 'hello', caps: ['gso', 'uso'] });
      expect(link.uso).toBe(caps.includes('uso'));
      link.sendVnetPackets([...run, other]);
      const gsoRecords = () => peer.records.filter((r) => r.type === RecordType.FRAME_GSO).map((r) => r.payload);
      const want = caps.includes('uso') ? 2 : 11;
      await until(() => gsoRecords().length === want, `${want} FRAME_GSO records`);
      const got = gsoRecords();
      expect(got.map((p) => p[1])).toEqual(caps.includes('uso') ? [VNET_GSO_UDP_L4, VNET_GSO_NONE] : Array(11).fill(VNET_GSO_NONE));
      // What the receiver's kernel makes of them: the same datagrams either way.
      const split = (packets: Buffer[]) => packets.flatMap((p) => softwareSegment(p, true)!.map((f) => Buffer.from(f)));
      expect(split(got)).toEqual(split([...run, other]));
      expect(link.stats).toMatchObject(caps.includes('uso') ? { usoFramesOut: 1, usoDatagramsOut: 10 } : { usoFramesOut: 0, usoDatagramsOut: 0 });
      link.close();
      link = undefined;
      await new Promise<void>((resolve) => server!.close(() => resolve()));
      server = undefined;
    }
  });

  it('answers ping with pong, and pings the switch every keepalive interval', async () => {
    const port = await standIn(0.05);
    const l = await connect(port);
    const peer = peers[0];
    peer.conn.write(encodeControl({ type: 'ping', id: 42 }));
    await until(() => peer.controls.some((m) => m.type === 'pong' && m.id === 42), 'the pong');
    await until(() => peer.controls.some((m) => m.type === 'ping'), 'a keepalive ping');
    expect(l.isClosed).toBe(false);
  });

  it('bye "superseded" closes the link with EL_ERR_SUPERSEDED', async () => {
    const port = await standIn();
    const l = await connect(port);
    const closed = once(l, 'close');
    peers[0].conn.end(encodeControl({ type: 'bye', reason: 'superseded' }));
    const [err] = await closed;
    expect(err.code).toBe('EL_ERR_SUPERSEDED');
  });

  it('a bye in the read that brought the welcome: `ended` holds the close for whoever awaits it after connect() (a listener attached then would wait for ever)', async () => {
    const port = await standIn(30, undefined, encodeControl({ type: 'bye', reason: 'superseded' }));
    const l = await connect(port);
    const heard: unknown[] = [];
    l.once('close', (err) => heard.push(err));
    const err = await Promise.race([l.ended, new Promise((r) => setTimeout(() => r('not ended within 5 s'), 5000))]);
    expect(err).toMatchObject({ code: 'EL_ERR_SUPERSEDED' });
    expect(heard).toEqual([]);
  });

  it('close() sends bye after the frames sent before it, then ends the stream', async () => {
    const port = await standIn();
    const l = await connect(port);
    const peer = peers[0];
    l.sendFrames([Buffer.from('last frame')]);
    l.close('done here');
    link = undefined;
    expect(l.isClosed).toBe(true);
    await until(() => peer.ended, 'the end of the stream');
    expect(peer.records.slice(1).map((r) => r.payload.toString())).toEqual(['last frame', JSON.stringify({ type: 'bye', reason: 'done here' })]);
  });

  it('a switch that reads nothing: once maxBufferedBytes are held, frames are dropped and counted, not queued', async () => {
    const port = await standIn();
    const l = await connect(port, 256 * 1024);
    const peer = peers[0];
    peer.conn.socket.pause();
    const frame = Buffer.alloc(1400, 0x5a);
    const batch = Array.from({ length: 32 }, () => frame);
    const socket = (l as unknown as { conn: TlsRecordConn }).conn.socket;
    let sent = 0;
    await until(() => {
      if (l.stats.framesDropped > 0) return true;
      l.sendFrames(batch);
      sent += batch.length;
      return false;
    }, 'a drop', 30_000);
    expect(socket.writableLength).toBeGreaterThan(256 * 1024);
    const { framesOut, framesDropped } = l.stats;
    expect(framesOut + framesDropped).toBe(sent);
    l.sendFrames(batch);
    expect(l.stats.framesDropped).toBe(framesDropped + batch.length);
    expect(l.stats.framesOut).toBe(framesOut);
    expect(l.isClosed).toBe(false);
  });
});
