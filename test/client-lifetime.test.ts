/**
 * The Connector over a long run, against a real broker (HTTP on loopback, memory store)
 * and a real switch node (TLS on loopback): after having been up it keeps retrying
 * transient failures (the node gone and back); a permanent one (the password changed)
 * ends it at once, without a second try; and the backoff starts again from its base only
 * after a session that lasted, so sessions that end as soon as they start do not spin.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { FastifyInstance } from 'fastify';
import { createBrokerApp, hashPassword, MemoryStore } from '@elink/broker';
import { Connector, type ConnectorOptions } from '@elink/client';
import { createCertificateAuthority, issueServerCertificate, type ServerCertificate } from '@elink/pki';
import { ElError, generateTicketKeyPair, segmentSchema, type SegmentDef } from '@elink/protocol';
import { SwitchNode } from '@elink/switch';

const silent = pino({ level: 'silent' });

async function until(what: string, cond: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A Connector whose log lines are kept, and its events counted. */
function watched(over: Partial<ConnectorOptions> & Pick<ConnectorOptions, 'broker' | 'ca'>) {
  const logs: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString().split('\n')) if (line) logs.push(JSON.parse(line) as Record<string, unknown>);
      cb();
    },
  });
  const connector = new Connector({ credentials: { user: 'alice', password: 'alice-pw1', device: 'laptop' }, logger: pino({ level: 'info' }, sink), ...over });
  const seen = { up: 0, fatal: [] as ElError[] };
  connector.on('up', () => seen.up++);
  connector.on('fatal', (err: ElError) => seen.fatal.push(err));
  return { connector, logs, seen };
}

describe('client over a long run (real broker and switch node on loopback)', () => {
  const segments: SegmentDef[] = [segmentSchema.parse({ name: 'lan', ipv4: { pool: '198.19.0.0/24' } })];
  const ticketKey = generateTicketKeyPair();
  let store: MemoryStore;
  let app: FastifyInstance;
  let brokerUrl: string;
  let caPem: string;
  let cert: ServerCertificate;
  let node: SwitchNode | undefined;
  let switchPort = 0;

  const startNode = async () => {
    node = new SwitchNode({ nodeId: 'sw-1', listen: { host: '127.0.0.1', port: switchPort }, tls: { cert: cert.certPem, key: cert.keyPem }, segments, ticketKeys: () => [ticketKey.publicKey], logger: silent });
    await node.start();
    switchPort = node.address().port;
  };

  beforeAll(async () => {
    const ca = await createCertificateAuthority('lifetime test CA');
    caPem = ca.certPem;
    cert = await issueServerCertificate(ca, ['127.0.0.1']);
    await startNode();
    store = new MemoryStore();
    app = await createBrokerApp({
      segments,
      store,
      signingKey: ticketKey.privateKey,
      nodes: () => [{ node: 'sw-1', host: '127.0.0.1', port: switchPort, fingerprint: cert.fingerprint256 }],
      logger: silent,
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    brokerUrl = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  });

  beforeEach(async () => {
    await store.putUser({ name: 'alice', passwordHash: await hashPassword('alice-pw1'), segments: ['lan'] });
  });

  afterAll(async () => {
    await node?.stop();
    await app?.close();
  });

  it('after having been up, keeps retrying while the switch node is gone, and is up again when it is back', async () => {
    const { connector, logs, seen } = watched({ broker: brokerUrl, ca: caPem, backoff: { baseMs: 50, capMs: 200 } });
    connector.start();
    try {
      await until('first up', () => seen.up === 1);
      await node!.stop();
      await until('three failed attempts', () => logs.filter((l) => l.msg === 'connect attempt failed').length >= 3);
      expect(logs.filter((l) => l.msg === 'connect attempt failed').every((l) => l.code === 'EL_ERR_UNAVAILABLE')).toBe(true);
      await startNode();
      await until('up again', () => seen.up === 2);
      expect(seen.fatal).toEqual([]);
      expect(connector.current).toBeDefined();
    } finally {
      await connector.stop();
    }
  });

  it('after having been up, a permanent failure (the password was changed) ends it at once: one refused login, no retry', async () => {
    const { connector, logs, seen } = watched({ broker: brokerUrl, ca: caPem, backoff: { baseMs: 50, capMs: 200 } });
    connector.start();
    try {
      await until('up', () => seen.up === 1);
      await store.putUser({ name: 'alice', passwordHash: await hashPassword('a-new-password'), segments: ['lan'] });
      // The session is lost (as when the network blinks): the next login meets the new password.
      connector.current!.close('test: session lost');
      await until('fatal', () => seen.fatal.length === 1);
      expect(seen.fatal[0]!.code).toBe('EL_ERR_AUTH');
      expect(logs.find((l) => l.msg === 'giving up: this failure is permanent')).toMatchObject({ code: 'EL_ERR_AUTH', wasUp: true });
      await new Promise((r) => setTimeout(r, 500));
      expect(logs.filter((l) => l.msg === 'reconnecting after backoff')).toHaveLength(1);
      expect(seen.up).toBe(1);
    } finally {
      await connector.stop();
    }
  });

  it('sessions that end as soon as they start keep the backoff growing; ones that lasted start it again from the base', async () => {
    const delays = async (stableMs: number) => {
      // random → 1: each delay is its ceiling, base · 2^attempt.
      const { connector, logs, seen } = watched({ broker: brokerUrl, ca: caPem, backoff: { baseMs: 20, capMs: 10_000, random: () => 0.999999 }, stableMs });
      connector.on('up', () => connector.current?.close('test: ends at once'));
      connector.start();
      try {
        await until('four sessions', () => seen.up >= 4);
      } finally {
        await connector.stop();
      }
      return logs.filter((l) => l.msg === 'reconnecting after backoff').slice(0, 3).map((l) => l.delayMs);
    };
    expect(await delays(60_000)).toEqual([19, 39, 79]);
    expect(await delays(0)).toEqual([19, 19, 19]);
  });
});
