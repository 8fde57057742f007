import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { encodeRecord, RecordType, generateTicketKeyPair } from '@elink/protocol';
import { exchangeFrames, makeFixture, waitUntil, type Fixture, type TestClient } from '../testing/test-client.js';
import { startNode, type TestNode } from '../testing/test-node.js';
import { ethFrame, mac } from '../testing/test-frames.js';

let fx: Fixture;
let t: TestNode;
let a: TestClient;
let b: TestClient;

beforeAll(async () => {
  fx = await makeFixture();
  // Every pre-auth failure logged one by one (the default samples a few per interval).
  // The hello timeout leaves room for a loaded machine: the good clients join within it.
  t = await startNode(fx, { helloTimeoutMs: 1500, logSample: 1000 });
  a = await t.connect();
  b = await t.connect();
  await a.join(fx.ticket({ sub: 'good-a' }), mac(1));
  await b.join(fx.ticket({ sub: 'good-b' }), mac(2));
});

afterAll(async () => {
  a?.destroy();
  b?.destroy();
  await t?.node.stop();
});

/** Runs a hostile client while the good pair exchanges frames; returns its error. */
let hostiles = 0;
async function hostile(act: (c: TestClient) => void | Promise<void>, opts: { join?: string } = {}) {
  const c = await t.connect();
  if (opts.join) await c.join(opts.join, mac(100 + ++hostiles));
  const peer = `127.0.0.1:${c.socket.localPort}`;
  const [err] = await Promise.all([
    (async () => {
      await act(c);
      return c.expectError();
    })(),
    exchangeFrames(a, b),
  ]);
  await exchangeFrames(a, b);
  expect(a.closed || b.closed).toBe(false);
  // Logged once at warn, with the peer address and the code.
  await waitUntil(() => t.logs.some((l) => l.peer === peer && l.level === 40), 'warn log');
  const warns = t.logs.filter((l) => l.peer === peer && l.level === 40);
  expect(warns).toHaveLength(1);
  expect(warns[0].code).toBe(err.code);
  expect(warns[0].msg).toBe(err.message);
  return err;
}

describe('hostile sessions do not disturb good ones', () => {
  it('garbage bytes after TLS → EL_ERR_UNKNOWN_RECORD', async () => {
    const err = await hostile((c) => c.sendRaw(Buffer.from('GET / HTTP/1.1\r\nHost: switch\r\n\r\n')));
    expect(err.code).toBe('EL_ERR_UNKNOWN_RECORD');
  });

  it('a FRAME before hello → EL_ERR_UNKNOWN_RECORD (only CONTROL is accepted yet)', async () => {
    const err = await hostile((c) => c.sendRaw(encodeRecord(RecordType.FRAME, ethFrame(mac(2), mac(9)))));
    expect(err.code).toBe('EL_ERR_UNKNOWN_RECORD');
  });

  it('a control message that is not JSON → EL_ERR_BAD_CONTROL', async () => {
    const err = await hostile((c) => c.sendRaw(encodeRecord(RecordType.CONTROL, Buffer.from('{nope'))));
    expect(err.code).toBe('EL_ERR_BAD_CONTROL');
  });

  it('another message before hello → EL_ERR_PROTOCOL', async () => {
    const err = await hostile((c) => c.send({ type: 'ping', id: 1 }));
    expect(err.code).toBe('EL_ERR_PROTOCOL');
  });

  it('an oversized FRAME record → EL_ERR_RECORD_TOO_LONG', async () => {
    const err = await hostile((c) => c.sendRaw(encodeRecord(RecordType.FRAME, Buffer.alloc(1500 + 18 + 1))), { join: fx.ticket({ sub: 'big' }) });
    expect(err.code).toBe('EL_ERR_RECORD_TOO_LONG');
  });

  it('an unknown record type after welcome → EL_ERR_UNKNOWN_RECORD', async () => {
    const err = await hostile((c) => c.sendRaw(encodeRecord(0x09, Buffer.from('?'))), { join: fx.ticket({ sub: 'unk' }) });
    expect(err.code).toBe('EL_ERR_UNKNOWN_RECORD');
  });

  it('a client-only message after welcome → EL_ERR_PROTOCOL', async () => {
    const err = await hostile((c) => c.send({ type: 'redirect', reason: 'x' }), { join: fx.ticket({ sub: 'redir' }) });
    expect(err.code).toBe('EL_ERR_PROTOCOL');
  });

  it('no hello → EL_ERR_HELLO_TIMEOUT after helloTimeoutMs', async () => {
    const started = Date.now();
    const err = await hostile(() => {});
    expect(err.code).toBe('EL_ERR_HELLO_TIMEOUT');
    expect(Date.now() - started).toBeGreaterThanOrEqual(1490);
  });

  it('a forged ticket (another key) → EL_ERR_BAD_TICKET', async () => {
    const forged = fx.ticket({}, generateTicketKeyPair().privateKey);
    const err = await hostile((c) => c.hello(forged, mac(50)));
    expect(err.code).toBe('EL_ERR_BAD_TICKET');
  });

  it('a replayed ticket → EL_ERR_TICKET_REPLAYED', async () => {
    const ticket = fx.ticket({ sub: 'once' });
    const first = await t.connect();
    await first.join(ticket, mac(51));
    const err = await hostile((c) => c.hello(ticket, mac(52)));
    expect(err.code).toBe('EL_ERR_TICKET_REPLAYED');
    first.destroy();
  });

  it('an expired ticket → EL_ERR_TICKET_EXPIRED', async () => {
    const now = Math.floor(Date.now() / 1000);
    const err = await hostile((c) => c.hello(fx.ticket({ iat: now - 120, exp: now - 60 }), mac(53)));
    expect(err.code).toBe('EL_ERR_TICKET_EXPIRED');
  });

  it('a ticket for a segment this node does not host → EL_ERR_WRONG_SEGMENT', async () => {
    const err = await hostile((c) => c.hello(fx.ticket({ seg: 'elsewhere' }), mac(54)));
    expect(err.code).toBe('EL_ERR_WRONG_SEGMENT');
  });

  it('a hello MAC that differs from the ticket MAC → EL_ERR_PROTOCOL', async () => {
    const err = await hostile((c) => c.hello(fx.ticket({ mac: '02:00:00:00:00:37' }), mac(56)));
    expect(err.code).toBe('EL_ERR_PROTOCOL');
  });

  it("another user's hello with a MAC in use → EL_ERR_MAC_IN_USE", async () => {
    const err = await hostile((c) => c.hello(fx.ticket({ sub: 'mallory' }), mac(1)));
    expect(err.code).toBe('EL_ERR_MAC_IN_USE');
  });

  it('counts every session error by code', async () => {
    const errors = t.node.stats.errors;
    expect(errors.EL_ERR_UNKNOWN_RECORD).toBe(3);
    expect(errors.EL_ERR_HELLO_TIMEOUT).toBe(1);
    expect(errors.EL_ERR_BAD_TICKET).toBe(1);
    expect(errors.EL_ERR_TICKET_REPLAYED).toBe(1);
    const text = await t.registry.metrics();
    expect(text).toContain('el_switch_session_errors_total{code="EL_ERR_RECORD_TOO_LONG"} 1');
    // The good pair never lost anything.
    expect(t.node.stats.drops.queue_full + t.node.stats.drops.slow_peer).toBe(0);
  });
});
